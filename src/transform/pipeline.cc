#include "transform/pipeline.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "common/time_util.h"

namespace privacity::transform {
namespace {

constexpr size_t kMaxCachedKeys = 1 << 14;
constexpr size_t kPseudonymBytes = 15;  // 120 bits, 24 base32 characters

bool HasPseudonymize(const config::Field& field) {
  for (const config::Transform& t : field.transforms) {
    if (t.kind == config::TransformKind::kPseudonymize) return true;
  }
  return false;
}

// The identifier text of a validated value (strings, or integers written
// as decimal).
absl::StatusOr<std::string> IdentifierText(const config::Field& field, const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return absl::StrCat(*i);
  return absl::InvalidArgumentError(absl::StrCat(
      "field '", field.name, "': cannot be pseudonymized (not a string or integer)"));
}

}  // namespace

std::string NormalizeIdentifier(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '-') continue;
    out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<SubjectIndexer>> SubjectIndexer::Create(
    crypto::Keyring& keyring) {
  ASSIGN_OR_RETURN(crypto::UnwrappedKey key,
                   keyring.GetOrCreate(crypto::KeyName{.kind = crypto::KeyKind::kIndex}));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::HmacSha256> mac,
                   crypto::HmacSha256::Create(key.key));
  return std::unique_ptr<SubjectIndexer>(new SubjectIndexer(std::move(mac)));
}

std::string SubjectIndexer::BlindIndex(std::string_view raw_identifier) const {
  return mac_->Mac(NormalizeIdentifier(raw_identifier));
}

std::string PayloadAssociatedData(std::string_view stream, int64_t record_id) {
  std::string ad = absl::StrCat("privacity-record-v1\n",
                                absl::string_view(stream.data(), stream.size()), "\n");
  char id[8];
  for (int i = 0; i < 8; ++i)
    id[i] = static_cast<char>(static_cast<uint64_t>(record_id) >> (56 - 8 * i));
  ad.append(id, 8);
  return ad;
}

void AppendJsonString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (u < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void AppendJsonValue(const Value& value, std::string& out) {
  char buf[64];
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out.append("null");
        } else if constexpr (std::is_same_v<T, std::string>) {
          AppendJsonString(v, out);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          auto r = std::to_chars(buf, buf + sizeof(buf), v);
          out.append(buf, r.ptr);
        } else if constexpr (std::is_same_v<T, double>) {
          if (!std::isfinite(v)) {
            out.append("null");
          } else {
            auto r = std::to_chars(buf, buf + sizeof(buf), v);
            out.append(buf, r.ptr);
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out.append(v ? "true" : "false");
        } else if constexpr (std::is_same_v<T, absl::Time>) {
          AppendJsonString(FormatTimestamp(v), out);
        } else if constexpr (std::is_same_v<T, GeoPoint>) {
          out.append("{\"lat\":");
          auto r = std::to_chars(buf, buf + sizeof(buf), v.latitude);
          out.append(buf, r.ptr);
          out.append(",\"lon\":");
          r = std::to_chars(buf, buf + sizeof(buf), v.longitude);
          out.append(buf, r.ptr);
          out.push_back('}');
        } else if constexpr (std::is_same_v<T, CellId>) {
          AppendJsonString(CellToken(v), out);
        }
      },
      value);
}

StreamPipeline::StreamPipeline(const config::Stream& stream, crypto::Keyring& keyring,
                               RandomSource& random,
                               std::unique_ptr<SubjectIndexer> indexer)
    : stream_(stream), keyring_(keyring), random_(random), indexer_(std::move(indexer)) {}

absl::StatusOr<std::unique_ptr<StreamPipeline>> StreamPipeline::Create(
    const config::Stream& stream, crypto::Keyring& keyring, RandomSource& random) {
  ASSIGN_OR_RETURN(std::unique_ptr<SubjectIndexer> indexer,
                   SubjectIndexer::Create(keyring));
  std::unique_ptr<StreamPipeline> p(
      new StreamPipeline(stream, keyring, random, std::move(indexer)));
  ASSIGN_OR_RETURN(p->key_changes_, keyring.KeyChanges());
  for (const config::Field& field : stream.fields) {
    if (field.dropped()) continue;
    ASSIGN_OR_RETURN(std::unique_ptr<FieldTransformer> transformer,
                     FieldTransformer::Create(field));
    const int index = static_cast<int>(p->plan_.size());
    if (field.name == stream.time_field) p->time_index_ = index;
    if (field.name == stream.subject_field) p->subject_index_ = index;
    if (field.name == stream.location_field) p->location_index_ = index;
    p->plan_.push_back(FieldPlan{&field, std::move(transformer), HasPseudonymize(field)});
  }
  if (p->time_index_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("stream '", stream.id, "' has no stored time field"));
  }
  if (stream.personal() &&
      (p->subject_index_ < 0 || !p->plan_[p->subject_index_].pseudonymize)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stream '", stream.id, "': the subject field must be stored pseudonymized"));
  }
  return p;
}

absl::Status StreamPipeline::DropCachedKeysIfChanged() {
  ASSIGN_OR_RETURN(const int64_t changes, keyring_.KeyChanges());
  if (changes != key_changes_) {
    pseudonym_keys_.clear();
    data_keys_.clear();
    key_changes_ = changes;
  }
  return absl::OkStatus();
}

absl::StatusOr<const crypto::HmacSha256*> StreamPipeline::PseudonymKey(int64_t epoch) {
  auto it = pseudonym_keys_.find(epoch);
  if (it != pseudonym_keys_.end()) return it->second.get();
  if (pseudonym_keys_.size() >= kMaxCachedKeys) pseudonym_keys_.clear();
  ASSIGN_OR_RETURN(
      crypto::UnwrappedKey key,
      keyring_.GetOrCreate(crypto::KeyName{
          .kind = crypto::KeyKind::kPseudonym, .scope = stream_.id, .epoch = epoch}));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::HmacSha256> mac,
                   crypto::HmacSha256::Create(key.key));
  const crypto::HmacSha256* raw = mac.get();
  pseudonym_keys_.emplace(epoch, std::move(mac));
  return raw;
}

namespace {

// The data key cache's key: blind index and epoch.
std::string DataKeyCacheKey(const std::string& blind_index, int64_t epoch) {
  std::string key = blind_index;
  key.append(reinterpret_cast<const char*>(&epoch), sizeof(epoch));
  return key;
}

}  // namespace

absl::Status StreamPipeline::LoadSubjectKeys(absl::Span<const SealedRecord> records) {
  // The names of the uncached keys, each once.
  std::vector<crypto::KeyName> missing;
  std::vector<std::string> missing_cache_keys;
  auto collect = [&] {
    missing.clear();
    missing_cache_keys.clear();
    absl::flat_hash_set<std::string> seen;
    for (const SealedRecord& r : records) {
      std::string cache_key = DataKeyCacheKey(r.blind_index, r.epoch);
      if (data_keys_.contains(cache_key) || !seen.insert(cache_key).second) continue;
      missing.push_back(crypto::KeyName{.kind = crypto::KeyKind::kSubjectDek,
                                        .scope = stream_.id,
                                        .epoch = r.epoch,
                                        .subject = r.blind_index});
      missing_cache_keys.push_back(std::move(cache_key));
    }
  };
  collect();
  if (missing.empty()) return absl::OkStatus();
  // Room for the whole batch, so none of its keys is evicted before use.
  if (data_keys_.size() + missing.size() > kMaxCachedKeys) {
    data_keys_.clear();
    collect();
  }
  ASSIGN_OR_RETURN(std::vector<crypto::UnwrappedKey> keys,
                   keyring_.GetOrCreateAll(missing));
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<crypto::Aead> aead,
                     crypto::Aead::Create(keys[i].key));
    data_keys_.insert_or_assign(std::move(missing_cache_keys[i]),
                                DataKey{keys[i].id, std::move(aead)});
  }
  return absl::OkStatus();
}

absl::Status StreamPipeline::SealAll(absl::Span<SealedRecord> records) {
  if (!stream_.personal() || records.empty()) return absl::OkStatus();
  for (const SealedRecord& r : records) {
    if (r.blind_index.empty() || r.key_id != 0) {
      return absl::InternalError("sealing a record that was not prepared for sealing");
    }
  }
  RETURN_IF_ERROR(LoadSubjectKeys(records));
  for (SealedRecord& r : records) {
    auto it = data_keys_.find(DataKeyCacheKey(r.blind_index, r.epoch));
    if (it == data_keys_.end()) {
      return absl::InternalError("a data key fetched for sealing is not cached");
    }
    const DataKey& key = it->second;
    ASSIGN_OR_RETURN(
        std::string sealed,
        key.aead->Seal(r.payload, PayloadAssociatedData(stream_.id, r.id), random_));
    r.payload = std::move(sealed);
    r.key_id = key.key_id;
  }
  return absl::OkStatus();
}

absl::StatusOr<SealedRecord> StreamPipeline::Process(const InputRecord& input,
                                                     int64_t id) {
  ASSIGN_OR_RETURN(SealedRecord out, Prepare(input, id));
  RETURN_IF_ERROR(SealAll(absl::MakeSpan(&out, 1)));
  return out;
}

absl::StatusOr<SealedRecord> StreamPipeline::Prepare(const InputRecord& input,
                                                     int64_t id) {
  SealedRecord out;
  out.id = id;

  // The event time decides the epoch, so it is read first.
  const FieldPlan& time_plan = plan_[time_index_];
  ASSIGN_OR_RETURN(Value raw_time, ValidateField(*time_plan.field, input));
  const absl::Time* event_time = std::get_if<absl::Time>(&raw_time);
  if (event_time == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", time_plan.field->name, "': missing event time"));
  }
  out.epoch = EpochNumber(*event_time, stream_.epoch);

  std::string json;
  json.reserve(128);
  json.push_back('{');
  bool first = true;
  for (size_t i = 0; i < plan_.size(); ++i) {
    const FieldPlan& plan = plan_[i];
    Value value;
    if (static_cast<int>(i) == time_index_) {
      value = raw_time;
    } else {
      ASSIGN_OR_RETURN(value, ValidateField(*plan.field, input));
    }
    if (plan.pseudonymize) {
      if (std::holds_alternative<std::monostate>(value)) {
        if (static_cast<int>(i) == subject_index_) {
          return absl::InvalidArgumentError(
              absl::StrCat("field '", plan.field->name, "': missing subject identifier"));
        }
      } else {
        ASSIGN_OR_RETURN(std::string raw, IdentifierText(*plan.field, value));
        const std::string normalized = NormalizeIdentifier(raw);
        if (normalized.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat("field '", plan.field->name, "': empty identifier"));
        }
        if (static_cast<int>(i) == subject_index_) {
          out.blind_index = indexer_->BlindIndex(normalized);
        }
        ASSIGN_OR_RETURN(const crypto::HmacSha256* key, PseudonymKey(out.epoch));
        const std::string mac = key->Mac(normalized);
        value = absl::StrCat(
            "ps_", Base32Encode(absl::string_view(mac).substr(0, kPseudonymBytes)));
      }
    } else {
      ASSIGN_OR_RETURN(value, plan.transformer->Apply(std::move(value)));
    }
    if (static_cast<int>(i) == time_index_) {
      const absl::Time* t = std::get_if<absl::Time>(&value);
      if (t == nullptr) {
        return absl::InternalError("time transform did not yield a time");
      }
      out.time_us = absl::ToUnixMicros(*t);
    }
    if (static_cast<int>(i) == location_index_) {
      if (const auto* cell = std::get_if<CellId>(&value)) {
        out.cell = cell->id;
      } else if (const auto* point = std::get_if<GeoPoint>(&value)) {
        out.cell = CellOf(*point, 30).id;
      }
    }
    if (std::holds_alternative<std::monostate>(value)) continue;
    if (!first) json.push_back(',');
    first = false;
    AppendJsonString(plan.field->name, json);
    json.push_back(':');
    AppendJsonValue(value, json);
  }
  json.push_back('}');
  // Sealed by SealAll on personal streams.
  out.payload = std::move(json);
  return out;
}

}  // namespace privacity::transform
