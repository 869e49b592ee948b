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
  return AppendWithCounts(*std::move(entry));
}

absl::StatusOr<uint64_t> AuditTrail::AppendWithCounts(
    std::optional<std::string> entry, const ingest::LastBatchWriter* write) {
  std::map<KeyCountKey, int64_t> counts;
  {
    absl::MutexLock lock(&counts_mu_);
    counts.swap(pending_counts_);
  }
  // On failure the counts go back, to be appended with a later leaf.
  auto restore = [&] {
    absl::MutexLock lock(&counts_mu_);
    for (const auto& [key, n] : counts) pending_counts_[key] += n;
  };
  std::vector<std::string> entries;
  if (entry.has_value()) entries.push_back(*std::move(entry));
  const absl::Time now = clock_.Now();
  for (const auto& [key, n] : counts) {
    const auto& [action, stream, epoch] = key;
    const audit::KeyCountLeaf leaf{
        .time = now, .action = action, .stream = stream, .epoch = epoch, .count = n};
    absl::StatusOr<std::string> encoded = audit::EncodeLeaf(leaf);
    if (!encoded.ok()) {
      restore();
      return encoded.status();
    }
    entries.push_back(*std::move(encoded));
  }
  if (entries.empty()) return log_->head().size;
  absl::Status last;
  for (int attempt = 0; attempt < kMaxAppendAttempts; ++attempt) {
    absl::StatusOr<uint64_t> index =
        write == nullptr
            ? log_->Append(entries)
            : log_->AppendWith(entries, [write](audit::Log::BatchBuilder build) {
                return (*write)([&build](const store::LogFrontierRow& stored)
                                    -> absl::StatusOr<store::LogBatch> {
                  ASSIGN_OR_RETURN(const audit::LogFrontier frontier,
                                   audit::FromStoreFrontier(stored));
                  ASSIGN_OR_RETURN(const audit::LogAppend batch, build(frontier));
                  return audit::ToStoreBatch(batch);
                });
              });
    if (index.ok()) return index;
    last = index.status();
    if (!absl::IsAborted(last)) break;
    if (absl::Status reloaded = log_->Reload(); !reloaded.ok()) {
      last = reloaded;
      break;
    }
  }
  restore();
  return last;
}

absl::Status AuditTrail::FlushKeyCounts() {
  return AppendWithCounts(std::nullopt).status();
}

absl::Status AuditTrail::OnKeyEvent(Event event, const crypto::KeyName& name,
                                    int64_t id) {
  const audit::KeyAction action =
      event == Event::kCreated ? audit::KeyAction::kCreate : audit::KeyAction::kDestroy;
  if (name.kind == crypto::KeyKind::kSubjectDek) {
    // Counted, never named: the name holds the subject's blind index.
    absl::MutexLock lock(&counts_mu_);
    std::optional<int64_t> epoch;
    if (action == audit::KeyAction::kCreate) epoch = name.epoch;
    ++pending_counts_[KeyCountKey{action, KnownToken(name.scope, true), epoch}];
    return absl::OkStatus();
  }
  audit::KeyEventLeaf leaf{.time = clock_.Now(), .action = action, .key_id = id};
  switch (name.kind) {
    case crypto::KeyKind::kIndex:
      leaf.kind = audit::LoggedKeyKind::kIndex;
      break;
    case crypto::KeyKind::kClaim:
      leaf.kind = audit::LoggedKeyKind::kClaim;
      break;
    case crypto::KeyKind::kLogSigning:
      leaf.kind = audit::LoggedKeyKind::kLogSigning;
      break;
    case crypto::KeyKind::kPseudonym:
      leaf.kind = audit::LoggedKeyKind::kPseudonym;
      leaf.scope = KnownToken(name.scope, true);
      leaf.epoch = name.epoch;
      break;
    default:
      leaf.kind = audit::LoggedKeyKind::kOther;
      break;
  }
  return Append(leaf).status();
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
                                                  const std::string& digest,
                                                  ingest::LastBatchWriter write) {
  audit::IngestBatchLeaf leaf;
  leaf.time = clock_.Now();
  leaf.stream = stream;
  leaf.accepted = accepted;
  leaf.rejected = rejected;
  ASSIGN_OR_RETURN(leaf.digest, audit::HashFromBytes(digest));
  ASSIGN_OR_RETURN(std::string entry, audit::EncodeLeaf(leaf));
  return AppendWithCounts(std::move(entry), &write);
}

ingest::IngestLogger AuditTrail::LoggerFor(const std::string& stream) {
  return [this, stream](const ingest::IngestSummary& summary, const std::string& digest,
                        ingest::LastBatchWriter write) {
    return AppendIngest(stream, summary.accepted, summary.rejected, digest, write)
        .status();
  };
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
  RETURN_IF_ERROR(FlushKeyCounts());
  absl::MutexLock lock(&checkpoint_mu_);
  // Each attempt checks the tree against the latest stored checkpoint, signs,
  // and stores only if that checkpoint is still the latest (a compare-and-set
  // in the store). Losing the race to another signer means re-checking
  // against the one it stored.
  absl::Status last;
  for (int attempt = 0; attempt < kMaxAppendAttempts; ++attempt) {
    // The latest checkpoint first, then the head: the log only grows, so
    // the head read after it is at least its size (unless the store lost
    // entries).
    ASSIGN_OR_RETURN(std::optional<store::LogCheckpointRow> latest,
                     store_.log().LatestCheckpoint());
    RETURN_IF_ERROR(log_->Reload());
    const audit::TreeHead head = log_->head();
    std::optional<uint64_t> previous_size;
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
      previous_size = previous.size;
    }
    audit::Checkpoint checkpoint{.origin = origin_, .size = head.size, .root = head.root};
    ASSIGN_OR_RETURN(std::string note, audit::SignCheckpoint(checkpoint, *signer_));
    store::LogCheckpointRow row{
        .size = head.size, .note = note, .created_us = absl::ToUnixMicros(clock_.Now())};
    last = store_.log().PutNextCheckpoint(row, previous_size);
    if (last.ok()) return note;
    if (!absl::IsAborted(last)) return last;
  }
  return last;
}

}  // namespace privacity::server
