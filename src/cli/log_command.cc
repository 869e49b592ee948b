// `privacity log ...`: the transparency log from the command line.
//   check-proof FILE   checks an inclusion or consistency proof given as JSON
//                      (exit 0 holds, 1 does not hold, 2 unreadable input).
//   verify             checks the latest checkpoint's signature, consistency
//                      with an earlier checkpoint (--since), and rebuilds the
//                      tree from the stored entries and tiles (exit 0 / 1).
//   prove --index I    prints an inclusion proof as check-proof reads it.
//   checkpoint         signs a checkpoint now and prints it.
// verify, prove and checkpoint work on a data directory (--config,
// --data-dir); reading a remote log (--url) comes with the HTTP server.
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "audit/checkpoint.h"
#include "audit/leaves.h"
#include "audit/log.h"
#include "audit/merkle.h"
#include "audit/proof_check.h"
#include "audit/tiles.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "server/audit_trail.h"
#include "server/log_routes.h"
#include "server/trust.h"

namespace privacity::cli {
namespace {

struct VerifyOptions {
  TrustOptions trust;
  std::string since;
};

struct ProveOptions {
  TrustOptions trust;
  uint64_t index = 0;
  std::optional<uint64_t> size;
};

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the file"));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": cannot read the file"));
  return text;
}

// The latest checkpoint, its signature checked against the log's key.
absl::StatusOr<audit::Checkpoint> LatestCheckpoint(server::AuditTrail& trail) {
  absl::StatusOr<std::string> note = trail.LatestCheckpoint();
  if (absl::IsNotFound(note.status())) {
    return absl::NotFoundError(
        "no checkpoint has been signed yet (run `privacity log checkpoint`)");
  }
  RETURN_IF_ERROR(note.status());
  absl::StatusOr<audit::Checkpoint> checkpoint =
      audit::OpenCheckpoint(*note, trail.verifier(), trail.origin());
  if (!checkpoint.ok()) {
    return absl::Status(
        checkpoint.status().code(),
        absl::StrCat("latest checkpoint: ", checkpoint.status().message()));
  }
  return checkpoint;
}

// Every check of `log verify`; OK when all hold, else the first failure.
absl::StatusOr<audit::Checkpoint> VerifyLog(server::Trust& trust,
                                            const std::string& since) {
  server::AuditTrail& trail = trust.audit();
  ASSIGN_OR_RETURN(audit::Checkpoint latest, LatestCheckpoint(trail));
  audit::LogStorage& storage = trail.storage();
  if (!since.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(since));
    absl::StatusOr<audit::Checkpoint> earlier =
        audit::OpenCheckpoint(text, trail.verifier(), trail.origin());
    if (!earlier.ok()) {
      return absl::Status(earlier.status().code(),
                          absl::StrCat(since, ": ", earlier.status().message()));
    }
    if (earlier->size > latest.size) {
      return absl::DataLossError(absl::StrCat("checkpoint ", earlier->size, " in ", since,
                                              " is larger than the latest, ",
                                              latest.size));
    }
    ASSIGN_OR_RETURN(std::vector<audit::Hash> proof,
                     audit::ConsistencyProof(storage, earlier->size, latest.size));
    if (absl::Status s = audit::VerifyConsistency(earlier->size, latest.size, proof,
                                                  earlier->root, latest.root);
        !s.ok()) {
      return absl::DataLossError(absl::StrCat("checkpoint ", latest.size,
                                              " is not consistent with checkpoint ",
                                              earlier->size, ": ", s.message()));
    }
  }
  RETURN_IF_ERROR(audit::VerifyStorage(storage));
  audit::StorageTileSource tiles(storage, latest.size);
  audit::TileVerifyOptions options;
  options.entries = audit::EntryCheck::kHashEntries;
  options.on_entry = [](uint64_t index, absl::string_view entry) -> absl::Status {
    if (absl::Status s = audit::ParseLeaf(entry).status(); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat("entry ", index, " is not a leaf: ", s.message()));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(audit::VerifyTiles(tiles, latest.size, latest.root, options));
  return latest;
}

}  // namespace

void AddLogCommand(CLI::App& app, int& exit_code) {
  CLI::App* log = app.add_subcommand(
      "log", "the transparency log: check proofs, verify the log, prove entries");
  log->require_subcommand(1);

  auto file = std::make_shared<std::string>();
  CLI::App* check = log->add_subcommand(
      "check-proof",
      "check an inclusion proof (leafIdx, treeSize, root, leafHash, proof) or a "
      "consistency proof (size1, size2, root1, root2, proof) given as JSON with "
      "base64 hashes; exit 0 when it holds, 1 when not, 2 when unreadable");
  check->add_option("file", *file, "the proof as a JSON file")->required();
  check->callback([file, &exit_code] {
    const audit::ProofCheck result = audit::CheckProofFile(*file);
    if (result.verdict == audit::ProofVerdict::kMalformed) {
      std::cerr << "privacity: " << *file << ": " << result.message << "\n";
    } else {
      std::cout << result.message << "\n";
    }
    exit_code = audit::ExitCode(result.verdict);
  });

  auto verify_options = std::make_shared<VerifyOptions>();
  CLI::App* verify = log->add_subcommand(
      "verify",
      "check the latest checkpoint's signature, its consistency with an earlier "
      "checkpoint, and rebuild the tree from the stored entries and tiles; exit 0 "
      "when all holds, 1 when not");
  AddTrustOptions(*verify, verify_options->trust);
  verify->add_option("--since", verify_options->since, "an earlier checkpoint file");
  verify->callback([verify_options, &exit_code] {
    SystemClock clock;
    CryptoRandom random;
    auto trust = OpenTrust(verify_options->trust, clock, random);
    if (!trust.ok()) {
      exit_code = ReportError(trust.status());
      return;
    }
    absl::StatusOr<audit::Checkpoint> verified =
        VerifyLog(**trust, verify_options->since);
    if (!verified.ok()) {
      std::cout << "log does not verify: " << verified.status().message() << "\n";
      exit_code = 1;
      return;
    }
    std::cout << "log verifies: " << verified->size << " entries, root "
              << audit::HashToBase64(verified->root) << "\n";
    exit_code = 0;
  });

  auto prove_options = std::make_shared<ProveOptions>();
  CLI::App* prove = log->add_subcommand(
      "prove",
      "print the inclusion proof of an entry as JSON (the layout check-proof reads), "
      "in the tree of the latest checkpoint unless --size is given");
  AddTrustOptions(*prove, prove_options->trust);
  prove->add_option("--index", prove_options->index, "the entry's index")->required();
  prove->add_option("--size", prove_options->size, "the tree size");
  prove->callback([prove_options, &exit_code] {
    SystemClock clock;
    CryptoRandom random;
    auto trust = OpenTrust(prove_options->trust, clock, random);
    if (!trust.ok()) {
      exit_code = ReportError(trust.status());
      return;
    }
    server::AuditTrail& trail = (*trust)->audit();
    uint64_t size = 0;
    if (prove_options->size.has_value()) {
      size = *prove_options->size;
    } else {
      absl::StatusOr<audit::Checkpoint> latest = LatestCheckpoint(trail);
      if (!latest.ok()) {
        exit_code = ReportError(latest.status());
        return;
      }
      size = latest->size;
    }
    absl::StatusOr<std::string> proof =
        server::InclusionProofJson(trail.storage(), prove_options->index, size);
    if (!proof.ok()) {
      exit_code = ReportError(proof.status());
      return;
    }
    std::cout << *proof << "\n";
    exit_code = 0;
  });

  auto checkpoint_options = std::make_shared<TrustOptions>();
  CLI::App* checkpoint = log->add_subcommand(
      "checkpoint", "sign a checkpoint of the log now (when it grew) and print it");
  AddTrustOptions(*checkpoint, *checkpoint_options);
  checkpoint->callback([checkpoint_options, &exit_code] {
    SystemClock clock;
    CryptoRandom random;
    auto trust = OpenTrust(*checkpoint_options, clock, random);
    if (!trust.ok()) {
      exit_code = ReportError(trust.status());
      return;
    }
    absl::StatusOr<std::string> note = (*trust)->audit().Checkpoint();
    if (!note.ok()) {
      exit_code = ReportError(note.status());
      return;
    }
    std::cout << *note;
    exit_code = 0;
  });
}

}  // namespace privacity::cli
