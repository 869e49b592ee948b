// privacity: the city's data trust. One binary, subcommands in
// src/cli/*_command.cc.
#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/commands.h"
#include "common/logging.h"

int main(int argc, char** argv) {
  CLI::App app{"privacity: a privacy-by-design data trust for cities"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "privacity 0.1.0");
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "log debug messages on stderr");

  int exit_code = 0;
  privacity::cli::AddInitCommand(app, exit_code);
  privacity::cli::AddConfigCommand(app, exit_code);
  privacity::cli::AddIngestCommand(app, exit_code);
  privacity::cli::AddQueryCommand(app, exit_code);
  privacity::cli::AddDemoCommand(app, exit_code);
  privacity::cli::AddAnonymizeCommand(app, exit_code);
  privacity::cli::AddLogCommand(app, exit_code);
  privacity::cli::AddSubjectCommand(app, exit_code);
  privacity::cli::AddServeCommand(app, exit_code);
  privacity::cli::AddTokenCommand(app, exit_code);
  privacity::cli::AddRegisterCommand(app, exit_code);
  privacity::cli::AddDpiaCommand(app, exit_code);
  privacity::cli::AddMigrateCommand(app, exit_code);
  privacity::cli::AddReleaseCommand(app, exit_code);

  app.parse_complete_callback([&] {
    privacity::InitLogging(verbose ? privacity::LogLevel::kDebug
                                   : privacity::LogLevel::kInfo);
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
