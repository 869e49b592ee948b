#include "server/audit_trail.h"

#include <cctype>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace privacity::server {
namespace {

// Appends that lose the race to another writer this many times in a row
// give up (Aborted); each retry means someone else made progress.
constexpr int kMaxAppendAttempts = 100;

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
         c == ':' || c == '/' || c == '-';
}

// `value` when the config knows it and it is a token; "-" otherwise.
std::string KnownToken(const std::string& value, bool known) {
  if (!known || value.empty() || value.size() > audit::kMaxTokenSize) return "-";
  for (char c : value) {
    if (!IsTokenChar(c)) return "-";
  }
  return value;
}

audit::AccessLevel LeafLevel(config::AccessLevel level) {
  switch (level) {
    case config::AccessLevel::kPublic:
      return audit::AccessLevel::kPublic;
    case config::AccessLevel::kAggregate:
      return audit::AccessLevel::kAggregate;
    case config::AccessLevel::kExtract:
      return audit::AccessLevel::kExtract;
    case config::AccessLevel::kRecords:
      return audit::AccessLevel::kRecords;
  }
  return audit::AccessLevel::kRecords;
}

}  // namespace

std::string LogOrigin(const config::City& city) {
  std::string slug;
  bool dash = false;
  for (char c : city.name) {
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::isalnum(static_cast<unsigned char>(lower)) &&
        static_cast<unsigned char>(c) < 0x80) {
      slug.push_back(lower);
      dash = false;
    } else if (lower == '.' || lower == '-') {
      slug.push_back(lower);
      dash = false;
    } else if (!dash && !slug.empty()) {
      slug.push_back('-');
      dash = true;
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.empty()) return "privacity-log";
  return absl::StrCat(slug, "/privacity-log");
}

absl::StatusOr<std::unique_ptr<AuditTrail>> AuditTrail::Open(store::Store& store,
                                                             crypto::Keyring& keyring,
                                                             Clock& clock,
                                                             std::string origin) {
  RETURN_IF_ERROR(audit::ValidateKeyName(origin));
  std::unique_ptr<AuditTrail> trail(new AuditTrail(store, clock, std::move(origin)));
  ASSIGN_OR_RETURN(
      crypto::UnwrappedKey key,
      keyring.GetOrCreate(crypto::KeyName{.kind = crypto::KeyKind::kLogSigning}));
  if (key.key.size() != audit::kEd25519SeedSize) {
    return absl::DataLossError("the log signing key is not 32 bytes");
  }
  ASSIGN_OR_RETURN(trail->signer_,
                   audit::NoteSigner::Create(trail->origin_, key.key.view()));
  ASSIGN_OR_RETURN(trail->verifier_, trail->signer_->Verifier());
  trail->storage_ = std::make_unique<audit::StoreLogStorage>(store.log());
  ASSIGN_OR_RETURN(trail->log_, audit::Log::Open(*trail->storage_));
  return trail;
}

absl::StatusOr<uint64_t> AuditTrail::AppendEncoded(absl::StatusOr<std::string> entry) {
  RETURN_IF_ERROR(entry.status());
  absl::Status last;
  for (int attempt = 0; attempt < kMaxAppendAttempts; ++attempt) {
    absl::StatusOr<uint64_t> index = log_->Append({*entry});
    if (index.ok() || !absl::IsAborted(index.status())) return index;
    last = index.status();
    RETURN_IF_ERROR(log_->Reload());
  }
  return last;
}

absl::StatusOr<uint64_t> AuditTrail::Append(const audit::IngestBatchLeaf& leaf) {
  return AppendEncoded(audit::EncodeLeaf(leaf));
}
absl::StatusOr<uint64_t> AuditTrail::Append(const audit::DecisionLeaf& leaf) {
  return AppendEncoded(audit::EncodeLeaf(leaf));
}
absl::StatusOr<uint64_t> AuditTrail::Append(const audit::ReleaseLeaf& leaf) {
  return AppendEncoded(audit::EncodeLeaf(leaf));
}
absl::StatusOr<uint64_t> AuditTrail::Append(const audit::RightsActionLeaf& leaf) {
  return AppendEncoded(audit::EncodeLeaf(leaf));
}
absl::StatusOr<uint64_t> AuditTrail::Append(const audit::RetentionLeaf& leaf) {
  return AppendEncoded(audit::EncodeLeaf(leaf));
}
absl::StatusOr<uint64_t> AuditTrail::Append(const audit::ConfigChangeLeaf& leaf) {
  return AppendEncoded(audit::EncodeLeaf(leaf));
}
absl::StatusOr<uint64_t> AuditTrail::Append(const audit::KeyEventLeaf& leaf) {
  return AppendEncoded(audit::EncodeLeaf(leaf));
}
absl::StatusOr<uint64_t> AuditTrail::Append(const audit::RegisterChangeLeaf& leaf) {
  return AppendEncoded(audit::EncodeLeaf(leaf));
}
absl::StatusOr<uint64_t> AuditTrail::Append(const audit::DpiaAlertLeaf& leaf) {
  return AppendEncoded(audit::EncodeLeaf(leaf));
}

absl::StatusOr<uint64_t> AuditTrail::AppendIngest(const std::string& stream,
                                                  int64_t accepted, int64_t rejected,
                                                  const std::string& digest) {
  audit::IngestBatchLeaf leaf;
  leaf.time = clock_.Now();
  leaf.stream = stream;
  leaf.accepted = accepted;
  leaf.rejected = rejected;
  ASSIGN_OR_RETURN(leaf.digest, audit::HashFromBytes(digest));
  return Append(leaf);
}

absl::StatusOr<uint64_t> AuditTrail::AppendDecision(const config::CityConfig& config,
                                                    const policy::AccessRequest& request,
                                                    const policy::Decision& decision,
                                                    int64_t rows) {
  audit::DecisionLeaf leaf;
  leaf.time = clock_.Now();
  leaf.party = KnownToken(request.party, request.party == policy::kPublicParty ||
                                             config.FindParty(request.party) != nullptr);
  leaf.purpose =
      KnownToken(request.purpose, config.FindPurpose(request.purpose) != nullptr);
  const config::Stream* stream = config.FindStream(request.stream);
  leaf.stream = KnownToken(request.stream, stream != nullptr);
  leaf.level = LeafLevel(request.level);
  for (const std::string& field : request.fields) {
    leaf.fields.push_back(
        KnownToken(field, stream != nullptr && stream->FindField(field) != nullptr));
  }
  leaf.from = request.from;
  leaf.to = request.to;
  if (decision.permitted()) {
    leaf.result = audit::DecisionResult::kPermit;
    leaf.rows = rows;
  } else {
    leaf.result = audit::DecisionResult::kDeny;
    leaf.reason = std::string(policy::ReasonCode(decision.reason));
    leaf.rows = 0;
  }
  return Append(leaf);
}

absl::StatusOr<std::string> AuditTrail::LatestCheckpoint() {
  ASSIGN_OR_RETURN(std::optional<store::LogCheckpointRow> latest,
                   store_.log().LatestCheckpoint());
  if (!latest.has_value())
    return absl::NotFoundError("no checkpoint has been signed yet");
  return latest->note;
}

absl::StatusOr<std::string> AuditTrail::Checkpoint() {
  absl::MutexLock lock(&checkpoint_mu_);
  // The checkpoint first, then the log: another node may append and sign
  // in between, and the log read second is then at least as large as the
  // checkpoint read first (the log only grows).
  ASSIGN_OR_RETURN(std::optional<store::LogCheckpointRow> latest,
                   store_.log().LatestCheckpoint());
  RETURN_IF_ERROR(log_->Reload());
  const audit::TreeHead head = log_->head();
  if (latest.has_value()) {
    ASSIGN_OR_RETURN(audit::Checkpoint previous,
                     audit::OpenCheckpoint(latest->note, *verifier_, origin_));
    if (previous.size != latest->size) {
      return absl::DataLossError(
          absl::StrCat("stored checkpoint ", latest->size, " names another size"));
    }
    if (head.size < previous.size) {
      return absl::DataLossError(absl::StrCat("the stored log has ", head.size,
                                              " entries, fewer than checkpoint ",
                                              previous.size, " signed"));
    }
    ASSIGN_OR_RETURN(std::vector<audit::Hash> proof,
                     log_->ConsistencyProof(previous.size, head.size));
    if (!audit::VerifyConsistency(previous.size, head.size, proof, previous.root,
                                  head.root)
             .ok()) {
      return absl::DataLossError(
          absl::StrCat("the log is not consistent with checkpoint ", previous.size,
                       ": refusing to sign"));
    }
    if (head.size == previous.size) return latest->note;
  }
  audit::Checkpoint checkpoint{.origin = origin_, .size = head.size, .root = head.root};
  ASSIGN_OR_RETURN(std::string note, audit::SignCheckpoint(checkpoint, *signer_));
  store::LogCheckpointRow row{
      .size = head.size, .note = note, .created_us = absl::ToUnixMicros(clock_.Now())};
  const absl::Status put = store_.log().PutCheckpoint(row);
  if (absl::IsAlreadyExists(put)) {
    // Another process signed this size: same tree, same key, same note.
    ASSIGN_OR_RETURN(std::optional<store::LogCheckpointRow> stored,
                     store_.log().GetCheckpoint(head.size));
    if (!stored.has_value() || stored->note != note) {
      return absl::DataLossError(
          absl::StrCat("a different checkpoint of size ", head.size, " is stored"));
    }
    return note;
  }
  RETURN_IF_ERROR(put);
  return note;
}

}  // namespace privacity::server
