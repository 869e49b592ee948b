// privacity subject: the controller's side of citizens' rights.
//   claim-code  the code to print on a bill or device for (stream, id)
//   erase       erase a subject (crypto-shredding); prints the receipt
//   requests    the requests desk, without identifiers
//   sweep       one retention sweep (the server runs one hourly)
#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/status_macros.h"
#include "rights/claim.h"
#include "rights/erasure.h"
#include "rights/requests.h"
#include "rights/retention.h"
#include "server/me_routes.h"
#include "transform/pipeline.h"

namespace privacity::cli {
namespace {

struct SubjectOptions {
  TrustOptions trust;
  std::string stream;
  std::string id;
};

// The stream must exist and have subjects.
absl::Status CheckSubjectStream(const server::Trust& trust, const std::string& stream) {
  const config::Stream* s = trust.config().FindStream(stream);
  if (s == nullptr) {
    return absl::NotFoundError(absl::StrCat("unknown stream '", stream, "'"));
  }
  if (!s->personal()) {
    return absl::FailedPreconditionError(
        absl::StrCat("stream '", stream, "' has no data subjects"));
  }
  return absl::OkStatus();
}

absl::Status RunClaimCode(const SubjectOptions& options) {
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(std::unique_ptr<server::Trust> trust,
                   OpenTrust(options.trust, clock, random));
  RETURN_IF_ERROR(CheckSubjectStream(*trust, options.stream));
  ASSIGN_OR_RETURN(std::unique_ptr<rights::ClaimCodes> codes,
                   rights::ClaimCodes::Create(trust->keyring()));
  ASSIGN_OR_RETURN(std::string code, codes->Compute(options.stream, options.id));
  std::cout << code << "\n";
  return absl::OkStatus();
}

absl::Status RunErase(const SubjectOptions& options) {
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(std::unique_ptr<server::Trust> trust,
                   OpenTrust(options.trust, clock, random));
  RETURN_IF_ERROR(CheckSubjectStream(*trust, options.stream));
  if (transform::NormalizeIdentifier(options.id).empty()) {
    return absl::InvalidArgumentError("--id is empty");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<transform::SubjectIndexer> indexer,
                   transform::SubjectIndexer::Create(trust->keyring()));
  server::AuditRightsLog log(trust->audit());
  rights::RequestsDesk desk(trust->store().rights(), clock, random, log);
  ASSIGN_OR_RETURN(rights::ErasureReceipt receipt,
                   rights::EraseSubject(trust->store(), trust->keyring(), desk, clock,
                                        indexer->BlindIndex(options.id)));
  std::cout << rights::ErasureReceiptJson(receipt) << "\n";
  if (!receipt.compacted) {
    std::cerr << "privacity: the data is unreadable now; the physical delete finishes at "
                 "the next compaction (another process holds the database)\n";
  }
  return absl::OkStatus();
}

absl::Status RunRequests(const TrustOptions& options, const std::string& status) {
  SystemClock clock;
  CryptoRandom random;
  store::RightsRequestFilter filter;
  if (!status.empty()) {
    filter.status = store::ParseRightsRequestStatus(status);
    if (!filter.status.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--status must be open, completed or refused, not '", status, "'"));
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<server::Trust> trust,
                   OpenTrust(options, clock, random));
  server::AuditRightsLog log(trust->audit());
  rights::RequestsDesk desk(trust->store().rights(), clock, random, log);
  ASSIGN_OR_RETURN(std::vector<store::RightsRequest> requests, desk.List(filter));
  std::cout << rights::FormatRequestsTable(requests, clock.Now());
  return absl::OkStatus();
}

absl::Status RunSweep(const TrustOptions& options) {
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(std::unique_ptr<server::Trust> trust,
                   OpenTrust(options, clock, random));
  ASSIGN_OR_RETURN(rights::SweepResult result, server::RunRetentionSweep(*trust));
  for (const rights::RetentionReceipt& receipt : result.streams) {
    std::cout << rights::RetentionReceiptJson(receipt) << "\n";
  }
  if (!result.compacted) {
    std::cerr << "privacity: deletions are durable; the physical delete finishes at the "
                 "next compaction (another process holds the database)\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddSubjectCommand(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "subject", "citizens' rights: claim codes, erasure, requests, retention sweep");
  cmd->require_subcommand(1);

  auto claim = std::make_shared<SubjectOptions>();
  CLI::App* claim_cmd = cmd->add_subcommand(
      "claim-code", "print the claim code of an identifier (for a bill or a device)");
  AddTrustOptions(*claim_cmd, claim->trust);
  claim_cmd->add_option("--stream", claim->stream, "stream id")->required();
  claim_cmd->add_option("--id", claim->id, "the subject's identifier")->required();
  claim_cmd->callback([claim, &exit_code] {
    const absl::Status s = RunClaimCode(*claim);
    if (!s.ok()) exit_code = ReportError(s);
  });

  auto erase = std::make_shared<SubjectOptions>();
  CLI::App* erase_cmd = cmd->add_subcommand(
      "erase",
      "erase a subject: destroy their data keys, delete their records and consent; "
      "prints the receipt (JSON)");
  AddTrustOptions(*erase_cmd, erase->trust);
  erase_cmd->add_option("--stream", erase->stream, "stream id the identifier belongs to")
      ->required();
  erase_cmd->add_option("--id", erase->id, "the subject's identifier")->required();
  erase_cmd->callback([erase, &exit_code] {
    const absl::Status s = RunErase(*erase);
    if (!s.ok()) exit_code = ReportError(s);
  });

  auto requests = std::make_shared<TrustOptions>();
  auto status = std::make_shared<std::string>();
  CLI::App* requests_cmd =
      cmd->add_subcommand("requests", "list rights requests (no identifiers shown)");
  AddTrustOptions(*requests_cmd, *requests);
  requests_cmd->add_option("--status", *status,
                           "only open, completed or refused requests");
  requests_cmd->callback([requests, status, &exit_code] {
    const absl::Status s = RunRequests(*requests, *status);
    if (!s.ok()) exit_code = ReportError(s);
  });

  auto sweep = std::make_shared<TrustOptions>();
  CLI::App* sweep_cmd = cmd->add_subcommand(
      "sweep",
      "run one retention sweep: delete records past retention, destroy pseudonym keys "
      "and unlink epochs past the linkability window; prints one receipt per stream");
  AddTrustOptions(*sweep_cmd, *sweep);
  sweep_cmd->callback([sweep, &exit_code] {
    const absl::Status s = RunSweep(*sweep);
    if (!s.ok()) exit_code = ReportError(s);
  });
}

}  // namespace privacity::cli
