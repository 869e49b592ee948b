#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/commands.h"
#include "config/loader.h"

namespace privacity::cli {

void AddConfigCommand(CLI::App& app, int& exit_code) {
  CLI::App* config_cmd = app.add_subcommand("config", "work with city.yaml");
  config_cmd->require_subcommand(1);
  auto path = std::make_shared<std::string>();
  CLI::App* check = config_cmd->add_subcommand(
      "check", "validate a config; every mistake is reported with line:column");
  check->add_option("file", *path, "the config file")->required();
  check->callback([path, &exit_code] {
    auto config = config::LoadConfigFile(*path);
    if (!config.ok()) {
      std::cerr << config.status().message() << "\n";
      exit_code = 1;
      return;
    }
    std::cout << config::DescribeConfig(*config) << "\n";
  });
}

}  // namespace privacity::cli
