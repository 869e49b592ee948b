#include "cli/cli_util.h"

#include <iostream>

#include "CLI/CLI.hpp"
#include "common/status_macros.h"
#include "config/loader.h"
#include "nlohmann/json.hpp"
#include "server/static_files.h"

namespace privacity::cli {

void AddTrustOptions(CLI::App& command, TrustOptions& options) {
  command.add_option("--config", options.config_path, "the city's config file")
      ->capture_default_str();
  command.add_option("--data-dir", options.data_dir, "the trust's data directory")
      ->capture_default_str();
}

absl::StatusOr<std::unique_ptr<server::Trust>> OpenTrust(const TrustOptions& options,
                                                         Clock& clock,
                                                         RandomSource& random) {
  ASSIGN_OR_RETURN(config::CityConfig config,
                   config::LoadConfigFile(options.config_path));
  return server::Trust::Open(std::move(config), options.data_dir, clock, random);
}

int ReportDenial(const policy::Decision& decision) {
  const nlohmann::json error = {
      {"error",
       {{"code", std::string(policy::ReasonCode(decision.reason))},
        {"message", decision.detail}}}};
  std::cerr << error.dump() << '\n';
  return 1;
}

int ReportError(const absl::Status& status) {
  std::cerr << "privacity: " << status.message() << "\n";
  return 1;
}

std::string ResolveWebDir(const std::string& given) {
  if (given == "none") return "";
  if (!given.empty()) return given;
  return server::FindWebDir();
}

}  // namespace privacity::cli
