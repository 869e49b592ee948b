// `privacity log ...`: the transparency log from the command line.
//   check-proof FILE   checks an inclusion or consistency proof given as JSON
//                      (exit 0 holds, 1 does not hold, 2 unreadable input).
//   verify             checks the latest checkpoint's signature, consistency
//                      with an earlier checkpoint (--since), and rebuilds the
//                      tree from the entries and tiles (exit 0 / 1), reading
//                      a data directory (--config, --data-dir) or a server
//                      (--url, with the log's key from --key or --key-file).
//   prove --index I    prints an inclusion proof as check-proof reads it.
//   checkpoint         signs a checkpoint now and prints it.
// prove and checkpoint work on a data directory.
#include <sys/stat.h>

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
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "audit/checkpoint.h"
#include "audit/leaves.h"
#include "audit/log.h"
#include "audit/log_verifier.h"
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
#include "server/http/http_client.h"
#include "server/log_routes.h"
#include "server/trust.h"

namespace privacity::cli {
namespace {

struct VerifyOptions {
  TrustOptions trust;
  std::string since;
  std::string url;
  std::string key;
  std::string key_file;
  bool trust_on_first_use = false;
  std::string ca_file;
  double timeout_seconds = 30;
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

absl::StatusOr<std::optional<std::string>> ReadSince(const std::string& since) {
  if (since.empty()) return std::nullopt;
  return ReadFile(since);
}

// `log verify --data-dir`: every check of the shared procedure
// (audit/log_verifier.h) on tiles read from the store, the consistency
// proof from the store, and before that every stored node (VerifyStorage,
// which also checks the levels tiles do not carry).
absl::StatusOr<audit::Checkpoint> VerifyLocalLog(server::Trust& trust,
                                                 const std::string& since) {
  server::AuditTrail& trail = trust.audit();
  audit::LogVerifyRequest request;
  {
    absl::StatusOr<std::string> note = trail.LatestCheckpoint();
    if (absl::IsNotFound(note.status())) {
      return absl::NotFoundError(
          "no checkpoint has been signed yet (run `privacity log checkpoint`)");
    }
    RETURN_IF_ERROR(note.status());
    request.latest_note = *std::move(note);
  }
  ASSIGN_OR_RETURN(request.since_note, ReadSince(since));
  request.since_label = since;
  audit::LogStorage& storage = trail.storage();
  request.consistency_proof = [&storage](uint64_t size1, uint64_t size2) {
    return audit::ConsistencyProof(storage, size1, size2);
  };
  RETURN_IF_ERROR(audit::VerifyStorage(storage));
  // The stored checkpoint names a size; reads past the stored log fail, and
  // a checkpoint larger than the log is a loss the verifier names.
  ASSIGN_OR_RETURN(const audit::LogFrontier frontier, storage.ReadFrontier());
  absl::StatusOr<audit::Checkpoint> latest =
      audit::OpenCheckpoint(request.latest_note, trail.verifier(), trail.origin());
  if (latest.ok() && latest->size > frontier.size) {
    return absl::DataLossError(absl::StrCat("the latest checkpoint signs ", latest->size,
                                            " entries but the stored log has ",
                                            frontier.size));
  }
  audit::StorageTileSource tiles(storage, frontier.size);
  ASSIGN_OR_RETURN(audit::VerifiedLog verified,
                   audit::VerifyLog(request, trail.verifier(), tiles));
  return verified.latest;
}

// The log of a server: "<url>/log" unless the URL already ends in "/log".
std::string LogBase(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!absl::EndsWith(url, "/log")) url += "/log";
  return url;
}

constexpr size_t kMaxHashTileBytes = audit::kTileWidth * audit::kHashSize;
constexpr size_t kMaxBundleBytes = audit::kTileWidth * (2 + audit::kMaxEntrySize);
constexpr size_t kMaxSmallResponse = size_t{1} << 20;

// Tiles and proofs fetched from a server's /log/ routes (C2SP tlog-tiles).
class HttpLogSource final : public audit::TileSource {
 public:
  HttpLogSource(std::string base, server::HttpClientOptions options)
      : base_(std::move(base)), options_(std::move(options)) {}

  absl::StatusOr<std::string> Get(const std::string& path, size_t cap) {
    server::HttpClientOptions options = options_;
    options.max_response_bytes = cap;
    return server::HttpGetOk(absl::StrCat(base_, "/", path), options);
  }

  absl::StatusOr<std::string> Fetch(const audit::TileId& tile) override {
    return Get(audit::TilePath(tile), tile.kind == audit::TileKind::kEntries
                                          ? kMaxBundleBytes
                                          : kMaxHashTileBytes);
  }

  // GET proof/consistency, checked to be about the sizes asked for.
  absl::StatusOr<std::vector<audit::Hash>> ConsistencyProof(uint64_t size1,
                                                            uint64_t size2) {
    ASSIGN_OR_RETURN(std::string body,
                     Get(absl::StrCat("proof/consistency?from=", size1, "&to=", size2),
                         kMaxSmallResponse));
    const nlohmann::json j =
        nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("size1") || !j.contains("size2") ||
        !j["size1"].is_number_unsigned() || !j["size2"].is_number_unsigned() ||
        j["size1"].get<uint64_t>() != size1 || j["size2"].get<uint64_t>() != size2) {
      return absl::DataLossError(
          "the server's answer is not a proof between those sizes");
    }
    std::vector<audit::Hash> proof;
    if (j.contains("proof") && !j["proof"].is_null()) {
      if (!j["proof"].is_array()) {
        return absl::DataLossError("the server's proof is not a list of hashes");
      }
      for (const auto& h : j["proof"]) {
        absl::StatusOr<audit::Hash> hash =
            h.is_string() ? audit::HashFromBase64(h.get<std::string>())
                          : absl::InvalidArgumentError("not a string");
        if (!hash.ok()) {
          return absl::DataLossError(
              absl::StrCat("the server's proof holds a value that is "
                           "not a base64 32-byte hash"));
        }
        proof.push_back(*hash);
      }
    }
    return proof;
  }

 private:
  const std::string base_;
  const server::HttpClientOptions options_;
};

// Writes the verifier key fetched on first use, never replacing a file.
absl::Status PinKey(const std::string& path, const std::string& key) {
  std::FILE* f = std::fopen(path.c_str(), "wx");
  if (f == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": cannot create the key file"));
  }
  const bool ok = std::fputs((key + "\n").c_str(), f) >= 0;
  if (std::fclose(f) != 0 || !ok) {
    return absl::DataLossError(absl::StrCat(path, ": cannot write the key file"));
  }
  return absl::OkStatus();
}

// The log's verifier key for `log verify --url`. It comes from the
// operator (--key, or --key-file holding it), never from the server being
// checked: a server that could choose the key could sign any history. Only
// with --trust-on-first-use and a --key-file that does not exist yet is the
// server's GET /log/key taken, with a warning, and pinned in that file for
// every later run.
absl::StatusOr<std::unique_ptr<audit::NoteVerifier>> VerifierKeyFor(
    const VerifyOptions& options, HttpLogSource& source) {
  std::string key = options.key;
  if (key.empty() && options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "log verify --url needs the log's verifier key: --key KEY or --key-file FILE, "
        "obtained from the log's operator (or, trusting the server, "
        "--key-file FILE --trust-on-first-use)");
  }
  if (!options.key.empty() && !options.key_file.empty()) {
    return absl::InvalidArgumentError("give --key or --key-file, not both");
  }
  if (!options.key_file.empty()) {
    struct stat st;
    if (::stat(options.key_file.c_str(), &st) != 0 && options.trust_on_first_use) {
      ASSIGN_OR_RETURN(std::string served, source.Get("key", kMaxSmallResponse));
      key = std::string(absl::StripAsciiWhitespace(served));
      ASSIGN_OR_RETURN(auto verifier, audit::NoteVerifier::FromVerifierKey(key));
      std::cerr << "privacity: WARNING: trusting the key the server sent, unchecked: "
                << key << "\n"
                << "privacity: it is now pinned in " << options.key_file
                << "; compare it with the key the log's operator publishes.\n";
      RETURN_IF_ERROR(PinKey(options.key_file, key));
      return verifier;
    }
    ASSIGN_OR_RETURN(std::string text, ReadFile(options.key_file));
    key = std::string(absl::StripAsciiWhitespace(text));
  }
  absl::StatusOr<std::unique_ptr<audit::NoteVerifier>> verifier =
      audit::NoteVerifier::FromVerifierKey(key);
  if (!verifier.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the verifier key is malformed: ", verifier.status().message()));
  }
  return verifier;
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
      "checkpoint, and rebuild the tree from the entries and tiles, of a data "
      "directory or of a server (--url); exit 0 when all holds, 1 when not");
  AddTrustOptions(*verify, verify_options->trust);
  verify->add_option("--since", verify_options->since, "an earlier checkpoint file");
  CLI::Option* url = verify->add_option(
      "--url", verify_options->url, "the server to verify (its log is under URL/log/)");
  url->excludes("--data-dir")->excludes("--config");
  verify->add_option(
      "--key", verify_options->key,
      "with --url: the log's verifier key (name+id+key), from its operator");
  verify->add_option("--key-file", verify_options->key_file,
                     "with --url: a file holding the log's verifier key");
  verify->add_flag("--trust-on-first-use", verify_options->trust_on_first_use,
                   "with --key-file: when the file does not exist, take the server's key "
                   "(with a warning) and pin it there");
  verify->add_option(
      "--ca-file", verify_options->ca_file,
      "with an https URL: trust only the CA certificates in this PEM file");
  verify
      ->add_option("--timeout", verify_options->timeout_seconds,
                   "with --url: seconds allowed for each request")
      ->capture_default_str();
  verify->callback([verify_options, &exit_code] {
    const VerifyOptions& o = *verify_options;
    absl::StatusOr<audit::Checkpoint> verified;
    if (!o.url.empty()) {
      if (absl::Status s = server::ParseHttpUrl(o.url).status(); !s.ok()) {
        exit_code =
            ReportError(absl::InvalidArgumentError(absl::StrCat("--url: ", s.message())));
        return;
      }
      if (!(o.timeout_seconds > 0)) {
        exit_code = ReportError(absl::InvalidArgumentError("--timeout must be positive"));
        return;
      }
      server::HttpClientOptions http;
      http.ca_file = o.ca_file;
      http.timeout = absl::Seconds(o.timeout_seconds);
      HttpLogSource source(LogBase(o.url), http);
      absl::StatusOr<std::unique_ptr<audit::NoteVerifier>> key =
          VerifierKeyFor(o, source);
      if (!key.ok()) {
        exit_code = ReportError(key.status());
        return;
      }
      verified = [&]() -> absl::StatusOr<audit::Checkpoint> {
        audit::LogVerifyRequest request;
        absl::StatusOr<std::string> note = source.Get("checkpoint", kMaxSmallResponse);
        if (!note.ok()) {
          return absl::Status(
              note.status().code(),
              absl::StrCat("fetching the checkpoint: ", note.status().message()));
        }
        request.latest_note = *std::move(note);
        ASSIGN_OR_RETURN(request.since_note, ReadSince(o.since));
        request.since_label = o.since;
        request.consistency_proof = [&source](uint64_t size1, uint64_t size2) {
          return source.ConsistencyProof(size1, size2);
        };
        ASSIGN_OR_RETURN(audit::VerifiedLog log,
                         audit::VerifyLog(request, **key, source));
        return log.latest;
      }();
    } else {
      if (!o.key.empty() || !o.key_file.empty() || o.trust_on_first_use ||
          !o.ca_file.empty()) {
        exit_code = ReportError(absl::InvalidArgumentError(
            "--key, --key-file, --trust-on-first-use and --ca-file go with --url"));
        return;
      }
      SystemClock clock;
      CryptoRandom random;
      auto trust = OpenTrust(o.trust, clock, random);
      if (!trust.ok()) {
        exit_code = ReportError(trust.status());
        return;
      }
      verified = VerifyLocalLog(**trust, o.since);
    }
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
