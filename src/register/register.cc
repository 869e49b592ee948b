#include "register/register.h"

#include <algorithm>
#include <cmath>
#include <exception>

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "policy/decision.h"
#include "s2/s2cell.h"
#include "s2/s2latlng.h"
#include "transform/field_transform.h"

namespace privacity::registry {
namespace {

using nlohmann::json;

constexpr char kAddedKey[] = "register.sensors";
constexpr char kCommentsPrefix[] = "register.comments.";
constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxTextLength = 200;

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

// Printable UTF-8 without control characters (newline and tab allowed
// where `multiline`).
bool CleanText(std::string_view text, bool multiline) {
  if (!IsValidUtf8(absl::string_view(text.data(), text.size()))) return false;
  for (unsigned char c : text) {
    if (c == 0x7f) return false;
    if (c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) return false;
  }
  return true;
}

std::string Describe(const config::Transform& t) {
  const std::string kind(config::ToString(t.kind));
  switch (t.kind) {
    case config::TransformKind::kTimeBucket:
      return absl::StrCat(kind, " ", FormatDurationSpec(t.bucket));
    case config::TransformKind::kCell:
      return absl::StrCat(kind, " level ", t.cell_level);
    case config::TransformKind::kRound:
      return absl::StrCat(kind, " to ", t.step);
    case config::TransformKind::kClamp:
      return absl::StrCat(kind, " [", t.min ? absl::StrCat(*t.min) : "", ", ",
                          t.max ? absl::StrCat(*t.max) : "", "]");
    case config::TransformKind::kTruncate:
      return absl::StrCat(kind, " to ", t.length, " characters");
    case config::TransformKind::kMap:
      return absl::StrCat(kind, " level ", t.level);
    default:
      return kind;
  }
}

json SensorToJson(const config::Sensor& s) {
  json j = {{"id", s.id},
            {"stream", s.stream},
            {"name", s.name},
            {"owner", s.owner},
            {"contact", s.contact}};
  if (s.latitude) j["lat"] = *s.latitude;
  if (s.longitude) j["lon"] = *s.longitude;
  if (s.comments_until) j["comments_until"] = FormatTimestamp(*s.comments_until);
  return j;
}

absl::StatusOr<config::Sensor> SensorFromJson(const json& j) {
  if (!j.is_object())
    return absl::DataLossError("register: a stored sensor is not an object");
  config::Sensor s;
  try {
    s.id = j.at("id").get<std::string>();
    s.stream = j.at("stream").get<std::string>();
    s.name = j.at("name").get<std::string>();
    s.owner = j.value("owner", "");
    s.contact = j.value("contact", "");
    if (j.contains("lat")) s.latitude = j.at("lat").get<double>();
    if (j.contains("lon")) s.longitude = j.at("lon").get<double>();
    if (j.contains("comments_until")) {
      ASSIGN_OR_RETURN(s.comments_until,
                       ParseTimestamp(j.at("comments_until").get<std::string>()));
    }
  } catch (const std::exception&) {
    return absl::DataLossError("register: a stored sensor is malformed");
  }
  return s;
}

absl::StatusOr<json> ReadJsonMeta(store::Store& store, const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<std::string> text, store.GetMeta(key));
  if (!text.has_value()) return json::array();
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array())
    return absl::DataLossError(absl::StrCat("register: ", key, " is malformed"));
  return j;
}

}  // namespace

std::string_view ToString(SensorStatus s) {
  return s == SensorStatus::kProposed ? "proposed" : "live";
}
std::string_view ToString(CommentKind k) {
  return k == CommentKind::kObjection ? "objection" : "comment";
}

DtprElements DeriveDtpr(const config::CityConfig& config, const config::Stream& stream) {
  DtprElements d;
  for (const std::string& id : stream.purposes) {
    DtprElements::PurposeElement p{id, "",
                                   std::string(config::ToString(stream.legal_basis))};
    if (const config::Purpose* purpose = config.FindPurpose(id)) {
      p.description = purpose->description;
      p.legal_basis = std::string(config::ToString(purpose->legal_basis));
    }
    d.purposes.push_back(std::move(p));
  }
  d.accountable = config.city.controller;
  d.contact = config.city.contact;
  d.data_type = stream.personal() ? "personal" : "non-personal";
  for (const config::Field& f : stream.fields) {
    const std::string label =
        absl::StrCat(f.name, " (", std::string(config::ToString(f.category)), ")");
    if (f.dropped()) {
      d.dropped.push_back(label);
      continue;
    }
    d.collected.push_back(label);
    for (const config::Transform& t : f.transforms) {
      if (t.kind == config::TransformKind::kPseudonymize) {
        d.pseudonymised.push_back(f.name);
      } else if (t.kind != config::TransformKind::kKeep) {
        d.generalised.push_back(absl::StrCat(f.name, ": ", Describe(t)));
      }
    }
  }
  if (!d.pseudonymised.empty()) d.pseudonym_epoch = stream.epoch;
  d.sealed = stream.personal();
  d.retention = stream.retention;
  d.linkability = stream.linkability;
  for (const config::Agreement& a : config.agreements) {
    if (a.stream != stream.id) continue;
    DtprElements::AccessElement e;
    e.agreement = a.id;
    e.party = a.party;
    if (const config::Party* p = config.FindParty(a.party)) e.party_name = p->name;
    e.level = std::string(config::ToString(a.level));
    e.purposes = a.purposes;
    e.fields = policy::ReleasedFields(stream, a);
    d.access.push_back(std::move(e));
    if (a.level == config::AccessLevel::kAggregate ||
        a.level == config::AccessLevel::kPublic) {
      d.aggregated = true;
      if (a.budget.has_value()) d.differential_privacy = true;
    }
    if (a.level == config::AccessLevel::kExtract && a.k_threshold > 0) {
      d.k_anonymity =
          d.k_anonymity ? std::min(*d.k_anonymity, a.k_threshold) : a.k_threshold;
    }
  }
  return d;
}

json ToJson(const DtprElements& d) {
  json purposes = json::array();
  for (const auto& p : d.purposes) {
    purposes.push_back(
        {{"id", p.id}, {"description", p.description}, {"legal_basis", p.legal_basis}});
  }
  json access = json::array();
  for (const auto& a : d.access) {
    access.push_back({{"agreement", a.agreement},
                      {"party", a.party},
                      {"party_name", a.party_name},
                      {"level", a.level},
                      {"purposes", a.purposes},
                      {"fields", a.fields}});
  }
  return {{"purpose", purposes},
          {"accountable", {{"organisation", d.accountable}, {"contact", d.contact}}},
          {"data_type",
           {{"kind", d.data_type}, {"collected", d.collected}, {"dropped", d.dropped}}},
          {"processing",
           {{"pseudonymised", d.pseudonymised},
            {"pseudonym_epoch", d.pseudonym_epoch
                                    ? json(FormatDurationSpec(*d.pseudonym_epoch))
                                    : json(nullptr)},
            {"generalised", d.generalised},
            {"encrypted_per_subject", d.sealed},
            {"aggregated", d.aggregated},
            {"differential_privacy", d.differential_privacy},
            {"k_anonymity", d.k_anonymity ? json(*d.k_anonymity) : json(nullptr)},
            {"retention", FormatDurationSpec(d.retention)},
            {"linkability", FormatDurationSpec(d.linkability)}}},
          {"access", access}};
}

absl::StatusOr<SensorProposal> ParseProposal(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("the body is not valid JSON");
  if (!j.is_object()) return absl::InvalidArgumentError("the body must be a JSON object");
  static constexpr std::string_view kKeys[] = {
      "id", "stream", "name", "lat", "lon", "owner", "contact", "comments_until"};
  for (const auto& [key, value] : j.items()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      return absl::InvalidArgumentError("the body has an unknown member");
    }
  }
  SensorProposal p;
  auto text = [&j](const char* key, std::string& out, bool required) -> absl::Status {
    auto it = j.find(key);
    if (it == j.end()) {
      return required
                 ? absl::InvalidArgumentError(absl::StrCat("'", key, "' is required"))
                 : absl::OkStatus();
    }
    if (!it->is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("'", key, "' must be a string"));
    }
    out = it->get<std::string>();
    return absl::OkStatus();
  };
  auto number = [&j](const char* key, std::optional<double>& out) -> absl::Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return absl::OkStatus();
    if (!it->is_number()) {
      return absl::InvalidArgumentError(absl::StrCat("'", key, "' must be a number"));
    }
    out = it->get<double>();
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(text("id", p.id, true));
  RETURN_IF_ERROR(text("stream", p.stream, true));
  RETURN_IF_ERROR(text("name", p.name, true));
  RETURN_IF_ERROR(text("owner", p.owner, false));
  RETURN_IF_ERROR(text("contact", p.contact, false));
  RETURN_IF_ERROR(number("lat", p.latitude));
  RETURN_IF_ERROR(number("lon", p.longitude));
  std::string until;
  RETURN_IF_ERROR(text("comments_until", until, false));
  if (!until.empty()) {
    absl::StatusOr<absl::Time> t = ParseTimestamp(until);
    if (!t.ok()) {
      return absl::InvalidArgumentError(
          "'comments_until' must be a date (YYYY-MM-DD) or an RFC 3339 time");
    }
    p.comments_until = until.size() == 10 ? *t + absl::Hours(24) : *t;
  }
  return p;
}

absl::StatusOr<std::vector<config::Sensor>> SensorRegister::AddedLocked() {
  ASSIGN_OR_RETURN(json added, ReadJsonMeta(store_, kAddedKey));
  std::vector<config::Sensor> out;
  for (const json& j : added) {
    ASSIGN_OR_RETURN(config::Sensor s, SensorFromJson(j));
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<std::vector<Comment>> SensorRegister::CommentsLocked(
    const std::string& sensor) {
  ASSIGN_OR_RETURN(json stored, ReadJsonMeta(store_, kCommentsPrefix + sensor));
  std::vector<Comment> out;
  for (const json& j : stored) {
    Comment c;
    try {
      ASSIGN_OR_RETURN(c.time, ParseTimestamp(j.at("time").get<std::string>()));
      c.kind = j.at("kind").get<std::string>() == "objection" ? CommentKind::kObjection
                                                              : CommentKind::kComment;
      c.text = j.at("text").get<std::string>();
    } catch (const std::exception&) {
      return absl::DataLossError("register: a stored comment is malformed");
    }
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<RegisterEntry> SensorRegister::EntryLocked(const config::Sensor& sensor,
                                                          SensorOrigin origin) {
  RegisterEntry e;
  e.sensor = sensor;
  e.origin = origin;
  e.status = sensor.comments_until.has_value() && clock_.Now() < *sensor.comments_until
                 ? SensorStatus::kProposed
                 : SensorStatus::kLive;
  if (sensor.comments_until.has_value()) {
    ASSIGN_OR_RETURN(std::vector<Comment> comments, CommentsLocked(sensor.id));
    for (const Comment& c : comments) {
      ++e.comments;
      if (c.kind == CommentKind::kObjection) ++e.objections;
    }
  }
  return e;
}

absl::StatusOr<std::vector<RegisterEntry>> SensorRegister::List() {
  absl::MutexLock lock(&mu_);
  std::vector<RegisterEntry> out;
  for (const config::Sensor& s : config_.sensors) {
    ASSIGN_OR_RETURN(RegisterEntry e, EntryLocked(s, SensorOrigin::kConfig));
    out.push_back(std::move(e));
  }
  ASSIGN_OR_RETURN(std::vector<config::Sensor> added, AddedLocked());
  for (const config::Sensor& s : added) {
    // A sensor later declared in city.yaml is listed once, from the config.
    if (std::any_of(config_.sensors.begin(), config_.sensors.end(),
                    [&s](const config::Sensor& c) { return c.id == s.id; })) {
      continue;
    }
    ASSIGN_OR_RETURN(RegisterEntry e, EntryLocked(s, SensorOrigin::kAdmin));
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<RegisterEntry> SensorRegister::Find(const std::string& id) {
  ASSIGN_OR_RETURN(std::vector<RegisterEntry> all, List());
  for (RegisterEntry& e : all) {
    if (e.sensor.id == id) return std::move(e);
  }
  return absl::NotFoundError("no sensor of this id is in the register");
}

absl::StatusOr<RegisterEntry> SensorRegister::Add(const SensorProposal& p) {
  if (!ValidId(p.id)) {
    return absl::InvalidArgumentError(
        "'id' must be 1 to 64 characters of [A-Za-z0-9._-]");
  }
  if (config_.FindStream(p.stream) == nullptr) {
    return absl::InvalidArgumentError("'stream' names no configured stream");
  }
  for (const auto& [key, value] :
       {std::pair{"name", &p.name}, std::pair{"owner", &p.owner},
        std::pair{"contact", &p.contact}}) {
    if (value->size() > kMaxTextLength || !CleanText(*value, /*multiline=*/false)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", key, "' must be at most 200 bytes of UTF-8 without control characters"));
    }
  }
  if (p.name.empty()) return absl::InvalidArgumentError("'name' must not be empty");
  if (p.latitude.has_value() != p.longitude.has_value()) {
    return absl::InvalidArgumentError("give both 'lat' and 'lon', or neither");
  }
  if (p.latitude && (!std::isfinite(*p.latitude) || std::abs(*p.latitude) > 90)) {
    return absl::InvalidArgumentError("'lat' must be between -90 and 90");
  }
  if (p.longitude && (!std::isfinite(*p.longitude) || std::abs(*p.longitude) > 180)) {
    return absl::InvalidArgumentError("'lon' must be between -180 and 180");
  }
  if (p.comments_until && *p.comments_until <= clock_.Now()) {
    return absl::InvalidArgumentError("'comments_until' is not in the future");
  }
  absl::MutexLock lock(&mu_);
  for (const config::Sensor& s : config_.sensors) {
    if (s.id == p.id)
      return absl::AlreadyExistsError("a sensor of this id is registered");
  }
  ASSIGN_OR_RETURN(std::vector<config::Sensor> added, AddedLocked());
  for (const config::Sensor& s : added) {
    if (s.id == p.id)
      return absl::AlreadyExistsError("a sensor of this id is registered");
  }
  config::Sensor s;
  s.id = p.id;
  s.stream = p.stream;
  s.name = p.name;
  s.latitude = p.latitude;
  s.longitude = p.longitude;
  s.owner = p.owner;
  s.contact = p.contact;
  s.comments_until = p.comments_until;
  json all = json::array();
  for (const config::Sensor& a : added) all.push_back(SensorToJson(a));
  all.push_back(SensorToJson(s));
  RETURN_IF_ERROR(store_.PutMeta(kAddedKey, all.dump()));
  return EntryLocked(s, SensorOrigin::kAdmin);
}

absl::StatusOr<RegisterEntry> SensorRegister::AddComment(const std::string& sensor,
                                                         CommentKind kind,
                                                         const std::string& text) {
  if (text.empty()) return absl::InvalidArgumentError("the comment is empty");
  if (text.size() > kMaxCommentBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the comment is over ", kMaxCommentBytes, " bytes"));
  }
  if (!CleanText(text, /*multiline=*/true)) {
    return absl::InvalidArgumentError(
        "the comment must be UTF-8 text without control characters");
  }
  ASSIGN_OR_RETURN(RegisterEntry entry, Find(sensor));
  if (entry.status != SensorStatus::kProposed) {
    return absl::FailedPreconditionError("this sensor is not open for comments");
  }
  absl::MutexLock lock(&mu_);
  const std::string key = kCommentsPrefix + sensor;
  ASSIGN_OR_RETURN(json stored, ReadJsonMeta(store_, key));
  if (stored.size() >= kMaxCommentsPerSensor) {
    return absl::ResourceExhaustedError(
        "this sensor has received the most comments kept");
  }
  stored.push_back({{"time", FormatTimestamp(clock_.Now())},
                    {"kind", std::string(ToString(kind))},
                    {"text", text}});
  RETURN_IF_ERROR(store_.PutMeta(key, stored.dump()));
  return EntryLocked(entry.sensor, entry.origin);
}

absl::StatusOr<std::vector<Comment>> SensorRegister::Comments(const std::string& sensor) {
  ASSIGN_OR_RETURN(RegisterEntry entry, Find(sensor));
  absl::MutexLock lock(&mu_);
  return CommentsLocked(entry.sensor.id);
}

namespace {

// The S2 cell the sensor's stream blurs its position to, with the cell's
// outline as [lon, lat] pairs; null without a position or cell transform.
json SensorCell(const config::CityConfig& config, const config::Sensor& s) {
  const config::Stream* stream = config.FindStream(s.stream);
  if (stream == nullptr || !s.latitude || !s.longitude) return nullptr;
  const config::Field* field = stream->FindField(stream->location_field);
  if (field == nullptr) return nullptr;
  std::optional<int> level;
  for (const config::Transform& t : field->transforms) {
    if (t.kind == config::TransformKind::kCell) level = t.cell_level;
  }
  if (!level) return nullptr;
  const transform::CellId cell = transform::CellOf({*s.latitude, *s.longitude}, *level);
  if (!transform::IsValidCell(cell)) return nullptr;
  const S2Cell s2(S2CellId(cell.id));
  json polygon = json::array();
  for (int i = 0; i <= 4; ++i) {
    const S2LatLng v(s2.GetVertex(i % 4));
    polygon.push_back({v.lng().degrees(), v.lat().degrees()});
  }
  return {{"token", transform::CellToken(cell)}, {"level", *level}, {"polygon", polygon}};
}

json EntryProperties(const config::CityConfig& config, const RegisterEntry& e) {
  json j = {{"id", e.sensor.id},
            {"stream", e.sensor.stream},
            {"name", e.sensor.name},
            {"owner", e.sensor.owner},
            {"contact", e.sensor.contact},
            {"origin", e.origin == SensorOrigin::kConfig ? "config" : "admin"},
            {"status", std::string(ToString(e.status))},
            {"comments_until", e.sensor.comments_until
                                   ? json(FormatTimestamp(*e.sensor.comments_until))
                                   : json(nullptr)},
            {"comment_count", e.comments},
            {"objection_count", e.objections},
            {"cell", SensorCell(config, e.sensor)}};
  if (const config::Stream* s = config.FindStream(e.sensor.stream)) {
    j["dtpr"] = ToJson(DeriveDtpr(config, *s));
  }
  return j;
}
}  // namespace

json RegisterJson(const config::CityConfig& config,
                  const std::vector<RegisterEntry>& entries) {
  json sensors = json::array();
  for (const RegisterEntry& e : entries) {
    json j = EntryProperties(config, e);
    j["latitude"] = e.sensor.latitude ? json(*e.sensor.latitude) : json(nullptr);
    j["longitude"] = e.sensor.longitude ? json(*e.sensor.longitude) : json(nullptr);
    sensors.push_back(std::move(j));
  }
  return {{"city", config.city.name}, {"sensors", sensors}};
}

json RegisterGeoJson(const config::CityConfig& config,
                     const std::vector<RegisterEntry>& entries) {
  json features = json::array();
  for (const RegisterEntry& e : entries) {
    const bool located = e.sensor.latitude && e.sensor.longitude;
    features.push_back(
        {{"type", "Feature"},
         {"id", e.sensor.id},
         {"geometry",
          located ? json{{"type", "Point"},
                         {"coordinates", {*e.sensor.longitude, *e.sensor.latitude}}}
                  : json(nullptr)},
         {"properties", EntryProperties(config, e)}});
  }
  json out = {{"type", "FeatureCollection"}, {"features", features}};
  if (config.city.area) {
    const config::Area& a = *config.city.area;
    out["bbox"] = {a.min_longitude, a.min_latitude, a.max_longitude, a.max_latitude};
  }
  return out;
}

}  // namespace privacity::registry
