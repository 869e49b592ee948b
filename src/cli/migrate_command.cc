// privacity migrate: moves the SQLite store named by city.yaml into an
// empty PostgreSQL database (store::MigrateStore). Keys stay wrapped under
// the same master key; the transparency log moves byte for byte, so it
// verifies afterwards. Then point `store:` in city.yaml at the new URI.
#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/status_macros.h"
#include "config/loader.h"
#include "nlohmann/json.hpp"
#include "store/store.h"

namespace privacity::cli {
namespace {

struct MigrateOptions {
  TrustOptions trust;
  std::string to;
};

absl::Status RunMigrate(const MigrateOptions& o) {
  ASSIGN_OR_RETURN(config::CityConfig config,
                   config::LoadConfigFile(o.trust.config_path));
  ASSIGN_OR_RETURN(store::MigrationSummary summary,
                   store::MigrateStore(config.store, o.to, o.trust.data_dir));
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [table, rows] : summary.tables) out[table] = rows;
  std::cout << out.dump() << std::endl;
  std::cerr << "migrated; set `store:` in " << o.trust.config_path
            << " to the PostgreSQL URI to use it\n";
  return absl::OkStatus();
}

}  // namespace

void AddMigrateCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<MigrateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "migrate", "move the SQLite store into an empty PostgreSQL database");
  AddTrustOptions(*cmd, o->trust);
  cmd->add_option("--to", o->to, "the target store, postgresql://...")->required();
  cmd->callback([o, &exit_code] {
    const absl::Status s = RunMigrate(*o);
    if (!s.ok()) exit_code = ReportError(s);
  });
}

}  // namespace privacity::cli
