// ToYaml and DescribeConfig: the model written back as city.yaml text.
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "config/loader.h"
#include "config/model.h"

namespace privacity::config {
namespace {

// Shortest text that reads back as the same double.
std::string Number(double v) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, result.ptr);
}

// Free text and ids are always quoted, so no value can read back as a
// number, a boolean or null.
void Text(YAML::Emitter& out, std::string_view key, const std::string& value) {
  out << YAML::Key << std::string(key) << YAML::Value << YAML::DoubleQuoted << value;
}

void Plain(YAML::Emitter& out, std::string_view key, std::string_view value) {
  out << YAML::Key << std::string(key) << YAML::Value << std::string(value);
}

void Bool(YAML::Emitter& out, std::string_view key, bool value) {
  out << YAML::Key << std::string(key) << YAML::Value << value;
}

void TextList(YAML::Emitter& out, std::string_view key,
              const std::vector<std::string>& values) {
  out << YAML::Key << std::string(key) << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& v : values) out << YAML::DoubleQuoted << v;
  out << YAML::EndSeq;
}

void WriteStep(YAML::Emitter& out, const Transform& t) {
  out << YAML::Flow << YAML::BeginMap;
  const std::string name(ToString(t.kind));
  switch (t.kind) {
    case TransformKind::kTimeBucket:
      Plain(out, name, FormatDurationSpec(t.bucket));
      break;
    case TransformKind::kCell:
      Plain(out, name, absl::StrCat(t.cell_level));
      break;
    case TransformKind::kRound:
      Plain(out, name, Number(t.step));
      break;
    case TransformKind::kClamp:
      out << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginSeq
          << (t.min ? Number(*t.min) : std::string("~"))
          << (t.max ? Number(*t.max) : std::string("~")) << YAML::EndSeq;
      break;
    case TransformKind::kTruncate:
      Plain(out, name, absl::StrCat(t.length));
      break;
    case TransformKind::kMap:
      Text(out, name, t.table_path);
      Plain(out, "level", absl::StrCat(t.level));
      break;
    case TransformKind::kRedact: {
      out << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (RedactPattern p : t.patterns) out << std::string(ToString(p));
      out << YAML::EndSeq;
      break;
    }
    case TransformKind::kDrop:
    case TransformKind::kKeep:
    case TransformKind::kPseudonymize:
      break;  // written as scalars by WriteField
  }
  out << YAML::EndMap;
}

void WriteField(YAML::Emitter& out, const Field& f) {
  out << YAML::BeginMap;
  Text(out, "name", f.name);
  Plain(out, "type", ToString(f.type));
  Plain(out, "category", ToString(f.category));
  if (f.source.size() == 1) {
    Text(out, "source", f.source[0]);
  } else if (!f.source.empty()) {
    TextList(out, "source", f.source);
  }
  Bool(out, "required", f.required);
  if (f.type == FieldType::kEnum) TextList(out, "values", f.values);
  if (f.min) Plain(out, "min", Number(*f.min));
  if (f.max) Plain(out, "max", Number(*f.max));
  if (f.transforms.size() == 1 &&
      (f.transforms[0].kind == TransformKind::kDrop ||
       f.transforms[0].kind == TransformKind::kKeep ||
       f.transforms[0].kind == TransformKind::kPseudonymize)) {
    Plain(out, "transform", ToString(f.transforms[0].kind));
  } else if (!f.transforms.empty()) {
    out << YAML::Key << "transform" << YAML::Value << YAML::BeginSeq;
    for (const Transform& t : f.transforms) WriteStep(out, t);
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
}

void WriteArea(YAML::Emitter& out, const Area& area) {
  out << YAML::Key << "area" << YAML::Value << YAML::Flow << YAML::BeginMap;
  if (!area.polygon.empty()) {
    out << YAML::Key << "polygon" << YAML::Value << YAML::BeginSeq;
    for (const auto& [lat, lon] : area.polygon) {
      out << YAML::BeginSeq << Number(lat) << Number(lon) << YAML::EndSeq;
    }
    out << YAML::EndSeq;
  } else {
    Plain(out, "min_lat", Number(area.min_latitude));
    Plain(out, "min_lon", Number(area.min_longitude));
    Plain(out, "max_lat", Number(area.max_latitude));
    Plain(out, "max_lon", Number(area.max_longitude));
  }
  out << YAML::EndMap;
}

void WriteStream(YAML::Emitter& out, const Stream& s) {
  out << YAML::BeginMap;
  Text(out, "id", s.id);
  Text(out, "description", s.description);
  if (!s.subject_field.empty()) Text(out, "subject", s.subject_field);
  Text(out, "time", s.time_field);
  if (!s.location_field.empty()) Text(out, "location", s.location_field);
  Plain(out, "epoch", FormatDurationSpec(s.epoch));
  Plain(out, "retention", FormatDurationSpec(s.retention));
  Plain(out, "linkability", FormatDurationSpec(s.linkability));
  Plain(out, "legal_basis", ToString(s.legal_basis));
  TextList(out, "purposes", s.purposes);
  if (s.mqtt.has_value()) {
    out << YAML::Key << "mqtt" << YAML::Value << YAML::BeginMap;
    TextList(out, "topics", s.mqtt->topics);
    Plain(out, "qos", std::to_string(s.mqtt->qos));
    Plain(out, "format", ToString(s.mqtt->format));
    out << YAML::EndMap;
  }
  if (s.area) WriteArea(out, *s.area);
  out << YAML::Key << "fields" << YAML::Value << YAML::BeginSeq;
  for (const Field& f : s.fields) WriteField(out, f);
  out << YAML::EndSeq;
  if (!s.ngsi_ld.empty()) {
    out << YAML::Key << "ngsi_ld" << YAML::Value << YAML::BeginSeq;
    for (const NgsiLdMapping& m : s.ngsi_ld) {
      out << YAML::BeginMap;
      Text(out, "entity_type", m.entity_type);
      if (!m.attributes.empty()) {
        out << YAML::Key << "attributes" << YAML::Value << YAML::BeginMap;
        for (const auto& [attribute, field] : m.attributes) Text(out, attribute, field);
        out << YAML::EndMap;
      }
      if (!m.id_field.empty()) Text(out, "id_field", m.id_field);
      Text(out, "observed_at", m.observed_at);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
}

void WriteMqtt(YAML::Emitter& out, const MqttBroker& m) {
  out << YAML::Key << "mqtt" << YAML::Value << YAML::BeginMap;
  Text(out, "broker", m.uri);
  Text(out, "client_id", m.client_id);
  if (!m.username.empty()) Text(out, "username", m.username);
  if (!m.password_file.empty()) Text(out, "password_file", m.password_file);
  if (!m.password_env.empty()) Text(out, "password_env", m.password_env);
  if (!m.ca_file.empty() || !m.cert_file.empty()) {
    out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
    if (!m.ca_file.empty()) Text(out, "ca_file", m.ca_file);
    if (!m.cert_file.empty()) Text(out, "cert_file", m.cert_file);
    if (!m.key_file.empty()) Text(out, "key_file", m.key_file);
    out << YAML::EndMap;
  }
  Plain(out, "keep_alive", FormatDurationSpec(m.keep_alive));
  Plain(out, "batch_messages", std::to_string(m.batch_messages));
  Plain(out, "batch_delay_ms", std::to_string(absl::ToInt64Milliseconds(m.batch_delay)));
  Plain(out, "dedupe_window", FormatDurationSpec(m.dedupe_window));
  out << YAML::EndMap;
}

void WriteAgreement(YAML::Emitter& out, const Agreement& a) {
  out << YAML::BeginMap;
  Text(out, "id", a.id);
  Text(out, "party", a.party);
  Text(out, "stream", a.stream);
  Plain(out, "level", ToString(a.level));
  TextList(out, "purposes", a.purposes);
  if (!a.fields.empty() || a.level == AccessLevel::kRecords ||
      a.level == AccessLevel::kExtract) {
    TextList(out, "fields", a.fields);
  }
  if (a.valid_from) Plain(out, "valid_from", FormatTimestamp(*a.valid_from));
  if (a.valid_until) Plain(out, "valid_until", FormatTimestamp(*a.valid_until));
  if (a.time_granularity) {
    Plain(out, "time_granularity", FormatDurationSpec(*a.time_granularity));
  }
  if (a.cell_level) Plain(out, "cell_level", absl::StrCat(*a.cell_level));
  if (a.level == AccessLevel::kExtract) Plain(out, "k", absl::StrCat(a.k_threshold));
  if (a.budget) {
    out << YAML::Key << "budget" << YAML::Value << YAML::Flow << YAML::BeginMap;
    Plain(out, "epsilon", Number(a.budget->epsilon));
    Plain(out, "delta", Number(a.budget->delta));
    Plain(out, "period", FormatDurationSpec(a.budget->period));
    out << YAML::EndMap;
  }
  if (a.delete_after || a.no_onward_sharing) {
    out << YAML::Key << "duties" << YAML::Value << YAML::BeginMap;
    if (a.delete_after) Plain(out, "delete_after", FormatDurationSpec(*a.delete_after));
    Bool(out, "no_onward_sharing", a.no_onward_sharing);
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

void WriteOidc(YAML::Emitter& out, const Oidc& o) {
  out << YAML::Key << "oidc" << YAML::Value << YAML::BeginMap;
  Text(out, "issuer", o.issuer);
  Text(out, "audience", o.audience);
  if (!o.jwks_file.empty()) Text(out, "jwks_file", o.jwks_file);
  if (!o.jwks_url.empty()) {
    Text(out, "jwks_url", o.jwks_url);
    Plain(out, "jwks_refresh", FormatDurationSpec(o.jwks_refresh));
  }
  Plain(out, "leeway", FormatDurationSpec(o.leeway));
  if (!o.party_claim.empty()) {
    Text(out, "party_claim", o.party_claim);
    out << YAML::Key << "parties" << YAML::Value << YAML::BeginMap;
    for (const auto& [value, party] : o.parties) Text(out, value, party);
    out << YAML::EndMap;
  }
  if (!o.identifiers_claim.empty()) Text(out, "identifiers_claim", o.identifiers_claim);
  out << YAML::EndMap;
}

void WriteRateLimit(YAML::Emitter& out, std::string_view key, const RateLimit& r) {
  out << YAML::Key << std::string(key) << YAML::Value << YAML::Flow << YAML::BeginMap;
  Plain(out, "requests_per_second", Number(r.rate));
  Plain(out, "burst", std::to_string(r.burst));
  out << YAML::EndMap;
}

void WriteLimits(YAML::Emitter& out, const Limits& l) {
  out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
  if (l.per_principal) WriteRateLimit(out, "per_principal", *l.per_principal);
  if (l.per_address) WriteRateLimit(out, "per_address", *l.per_address);
  if (!l.parties.empty()) {
    out << YAML::Key << "parties" << YAML::Value << YAML::BeginMap;
    for (const auto& [party, limit] : l.parties) WriteRateLimit(out, party, limit);
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

}  // namespace

std::string ToYaml(const CityConfig& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;

  out << YAML::Key << "city" << YAML::Value << YAML::BeginMap;
  Text(out, "name", config.city.name);
  Text(out, "controller", config.city.controller);
  Text(out, "contact", config.city.contact);
  if (const auto& area = config.city.area) WriteArea(out, *area);
  out << YAML::EndMap;
  Text(out, "store", config.store);

  out << YAML::Key << "purposes" << YAML::Value << YAML::BeginSeq;
  for (const Purpose& p : config.purposes) {
    out << YAML::BeginMap;
    Text(out, "id", p.id);
    Text(out, "description", p.description);
    Plain(out, "legal_basis", ToString(p.legal_basis));
    Bool(out, "prohibited", p.prohibited);
    Bool(out, "mandatory", p.mandatory);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "parties" << YAML::Value << YAML::BeginSeq;
  for (const Party& p : config.parties) {
    out << YAML::BeginMap;
    Text(out, "id", p.id);
    Text(out, "name", p.name);
    Plain(out, "kind", ToString(p.kind));
    Text(out, "contact", p.contact);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "streams" << YAML::Value << YAML::BeginSeq;
  for (const Stream& s : config.streams) WriteStream(out, s);
  out << YAML::EndSeq;

  out << YAML::Key << "agreements" << YAML::Value << YAML::BeginSeq;
  for (const Agreement& a : config.agreements) WriteAgreement(out, a);
  out << YAML::EndSeq;

  out << YAML::Key << "sensors" << YAML::Value << YAML::BeginSeq;
  for (const Sensor& s : config.sensors) {
    out << YAML::BeginMap;
    Text(out, "id", s.id);
    Text(out, "stream", s.stream);
    Text(out, "name", s.name);
    if (s.latitude) Plain(out, "lat", Number(*s.latitude));
    if (s.longitude) Plain(out, "lon", Number(*s.longitude));
    Text(out, "owner", s.owner);
    Text(out, "contact", s.contact);
    if (s.comments_until) Text(out, "comments_until", FormatTimestamp(*s.comments_until));
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  if (config.mqtt.has_value()) WriteMqtt(out, *config.mqtt);

  // Written only when set, so configs without it keep their digest.
  const DpiaSettings defaults;
  const DpiaSettings& d = config.dpia;
  if (d.k != defaults.k || d.unicity_threshold != defaults.unicity_threshold ||
      d.k_share_threshold != defaults.k_share_threshold ||
      d.interval != defaults.interval) {
    out << YAML::Key << "dpia" << YAML::Value << YAML::BeginMap;
    Plain(out, "k", absl::StrCat(d.k));
    Plain(out, "unicity_threshold", Number(d.unicity_threshold));
    Plain(out, "k_share_threshold", Number(d.k_share_threshold));
    Plain(out, "interval", FormatDurationSpec(d.interval));
    out << YAML::EndMap;
  }
  if (const auto& oidc = config.oidc) WriteOidc(out, *oidc);
  if (const auto& limits = config.limits) WriteLimits(out, *limits);

  out << YAML::EndMap;
  return absl::StrCat(out.c_str(), "\n");
}

std::string DescribeConfig(const CityConfig& config) {
  return absl::StrCat(config.source_path.empty() ? "config" : config.source_path,
                      ": ok (", config.city.name, ": ", config.purposes.size(),
                      " purposes, ", config.streams.size(), " streams, ",
                      config.parties.size(), " parties, ", config.agreements.size(),
                      " agreements, ", config.sensors.size(), " sensors)");
}

}  // namespace privacity::config
