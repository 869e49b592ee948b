#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "config/loader.h"

namespace privacity::cli {

void AddInitCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<TrustOptions>();
  CLI::App* cmd = app.add_subcommand(
      "init", "create the master key (mode 0600), the store and the trust-wide keys");
  AddTrustOptions(*cmd, *options);
  cmd->callback([options, &exit_code] {
    auto config = config::LoadConfigFile(options->config_path);
    if (!config.ok()) {
      exit_code = ReportError(config.status());
      return;
    }
    SystemClock clock;
    CryptoRandom random;
    const absl::Status s =
        server::Trust::Initialize(*config, options->data_dir, clock, random);
    if (!s.ok()) {
      exit_code = ReportError(s);
      return;
    }
    std::cout << "initialised " << options->data_dir << " (master key in "
              << options->data_dir << "/" << server::kMasterKeyFile
              << ", mode 0600: back it up; without it the data cannot be read)\n";
  });
}

}  // namespace privacity::cli
