// Subcommands of the `privacity` binary. Each Add*Command registers one
// subcommand (with its own subcommands) on `app`; when it runs, it stores
// the process exit code in `exit_code` (0 success, 1 failure or "no", 2 bad
// usage). Commands print results on stdout and errors on stderr; neither
// ever carries personal data except where the command's purpose is to show
// it to its owner.
#ifndef PRIVACITY_CLI_COMMANDS_H_
#define PRIVACITY_CLI_COMMANDS_H_

namespace CLI {
class App;
}

namespace privacity::cli {

void AddInitCommand(CLI::App& app, int& exit_code);
void AddConfigCommand(CLI::App& app, int& exit_code);
void AddIngestCommand(CLI::App& app, int& exit_code);
void AddQueryCommand(CLI::App& app, int& exit_code);
// `query aggregate`, added by AddQueryCommand to its `query` subcommand.
void AddQueryAggregateCommand(CLI::App& query, int& exit_code);
void AddDemoCommand(CLI::App& app, int& exit_code);
void AddAnonymizeCommand(CLI::App& app, int& exit_code);
void AddLogCommand(CLI::App& app, int& exit_code);
void AddSubjectCommand(CLI::App& app, int& exit_code);
void AddServeCommand(CLI::App& app, int& exit_code);
void AddTokenCommand(CLI::App& app, int& exit_code);
void AddRegisterCommand(CLI::App& app, int& exit_code);
void AddDpiaCommand(CLI::App& app, int& exit_code);
void AddMigrateCommand(CLI::App& app, int& exit_code);
void AddReleaseCommand(CLI::App& app, int& exit_code);

}  // namespace privacity::cli

#endif  // PRIVACITY_CLI_COMMANDS_H_
