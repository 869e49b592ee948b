#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "server/auth.h"

namespace privacity::cli {
namespace {

struct TokenCommandOptions {
  TrustOptions trust;
  std::string party;
  std::string stream;
  std::string label;
  int64_t id = 0;
  std::string token;  // "-" reads it from stdin
};

absl::Status RunIssue(const TokenCommandOptions& o) {
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(std::unique_ptr<server::Trust> trust,
                   OpenTrust(o.trust, clock, random));
  ASSIGN_OR_RETURN(server::IssuedToken issued,
                   server::IssueToken(trust->config(), trust->store().tokens(), clock,
                                      random, o.party, o.stream, o.label));
  std::cerr << "token " << issued.id << " for party " << o.party
            << (o.stream.empty() ? std::string() : " (sensor of stream " + o.stream + ")")
            << ": shown once, only its hash is kept\n";
  std::cout << issued.token << std::endl;
  return absl::OkStatus();
}

absl::Status RunRevoke(const TokenCommandOptions& o) {
  if ((o.id > 0) == !o.token.empty()) {
    return absl::InvalidArgumentError(
        "token revoke: give exactly one of --id and --token");
  }
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(std::unique_ptr<server::Trust> trust,
                   OpenTrust(o.trust, clock, random));
  if (o.id > 0) {
    RETURN_IF_ERROR(
        trust->store().tokens().RevokeToken(o.id, absl::ToUnixMicros(clock.Now())));
  } else {
    std::string token = o.token;
    if (token == "-") std::getline(std::cin, token);
    RETURN_IF_ERROR(server::RevokeTokenByValue(trust->store().tokens(), clock, token));
  }
  std::cout << "revoked\n";
  return absl::OkStatus();
}

absl::Status RunList(const TokenCommandOptions& o) {
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(std::unique_ptr<server::Trust> trust,
                   OpenTrust(o.trust, clock, random));
  ASSIGN_OR_RETURN(std::vector<store::TokenRecord> tokens,
                   trust->store().tokens().ListTokens());
  std::cout << absl::StrFormat("%-5s %-20s %-24s %-20s %-21s %s\n", "id", "party",
                               "stream", "label", "created", "revoked");
  for (const store::TokenRecord& t : tokens) {
    std::cout << absl::StrFormat(
        "%-5d %-20s %-24s %-20s %-21s %s\n", t.id, t.party,
        t.stream.empty() ? "-" : t.stream, t.label.empty() ? "-" : t.label,
        FormatTimestamp(absl::FromUnixMicros(t.created_us)),
        t.revoked() ? FormatTimestamp(absl::FromUnixMicros(*t.revoked_us)) : "-");
  }
  return absl::OkStatus();
}

}  // namespace

void AddTokenCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TokenCommandOptions>();
  CLI::App* cmd = app.add_subcommand("token", "issue, revoke and list bearer tokens");
  cmd->require_subcommand(1);

  CLI::App* issue = cmd->add_subcommand(
      "issue",
      "print a new bearer token once (party token, or sensor token with --stream)");
  AddTrustOptions(*issue, o->trust);
  issue->add_option("--party", o->party, "the party the token acts as")->required();
  issue->add_option("--stream", o->stream,
                    "bind the token to this stream (a sensor token)");
  issue->add_option("--label", o->label, "a note for the list, e.g. the sensor id");
  issue->callback([o, &exit_code] {
    const absl::Status s = RunIssue(*o);
    if (!s.ok()) exit_code = ReportError(s);
  });

  CLI::App* revoke = cmd->add_subcommand("revoke", "revoke a token by id or by value");
  AddTrustOptions(*revoke, o->trust);
  revoke->add_option("--id", o->id, "the token's id (from token list)");
  revoke->add_option("--token", o->token, "the token itself ('-' reads it from stdin)");
  revoke->callback([o, &exit_code] {
    const absl::Status s = RunRevoke(*o);
    if (!s.ok()) exit_code = ReportError(s);
  });

  CLI::App* list = cmd->add_subcommand("list", "list tokens (never their values)");
  AddTrustOptions(*list, o->trust);
  list->callback([o, &exit_code] {
    const absl::Status s = RunList(*o);
    if (!s.ok()) exit_code = ReportError(s);
  });
}

}  // namespace privacity::cli
