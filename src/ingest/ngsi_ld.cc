#include "ingest/ngsi_ld.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "nlohmann/json.hpp"

namespace privacity::ingest {
namespace {

using nlohmann::json;
using transform::InputRecord;
using transform::InputValue;

constexpr char kCodePayload[] = "type.privacity/error-code";
constexpr char kContextRel[] = "http://www.w3.org/ns/json-ld#context";
constexpr size_t kMaxNamedLength = 64;

// Debian's abseil has its own string_view.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Fail(absl::StatusCode code, std::string_view error_code,
                  std::string_view message) {
  absl::Status s(code, absl::string_view(message.data(), message.size()));
  s.SetPayload(kCodePayload,
               absl::Cord(absl::string_view(error_code.data(), error_code.size())));
  return s;
}

absl::Status Invalid(std::string_view message) {
  return Fail(absl::StatusCode::kInvalidArgument, "invalid-ngsi-ld", message);
}

// The short name of a term or IRI: what follows the last '#', '/' or ':'.
std::string_view ShortName(std::string_view iri) {
  const size_t cut = iri.find_last_of("#/:");
  if (cut == std::string_view::npos || cut + 1 == iri.size()) return iri;
  return iri.substr(cut + 1);
}

// Whether `name` may be quoted in an error: a plausible NGSI-LD name, never
// an arbitrary payload string.
bool Nameable(std::string_view name) {
  if (name.empty() || name.size() > kMaxNamedLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// Term definitions from inline @context objects; remote contexts (strings)
// are accepted but never fetched.
using Terms = absl::flat_hash_map<std::string, std::string>;

absl::Status ReadContext(const json& context, Terms& terms, bool nested = false) {
  if (context.is_string()) return absl::OkStatus();
  if (context.is_object()) {
    for (const auto& [term, definition] : context.items()) {
      if (term.empty() || term.front() == '@') continue;
      if (definition.is_string()) {
        terms[term] = definition.get<std::string>();
      } else if (definition.is_object()) {
        auto id = definition.find("@id");
        if (id != definition.end() && id->is_string())
          terms[term] = id->get<std::string>();
      }
    }
    return absl::OkStatus();
  }
  if (context.is_array() && !nested) {
    for (const json& item : context) RETURN_IF_ERROR(ReadContext(item, terms, true));
    return absl::OkStatus();
  }
  return Invalid(
      "@context must be a URL, an object of term definitions, or a list of them");
}

std::string_view Resolve(const std::string& key, const Terms& terms) {
  auto it = terms.find(key);
  return ShortName(it != terms.end() ? std::string_view(it->second)
                                     : std::string_view(key));
}

// Finds the JSON-LD context link in a Link header. nullopt when the header
// has none; InvalidArgument when the header cannot be read.
absl::StatusOr<std::optional<std::string>> ContextLink(std::string_view header) {
  std::optional<std::string> found;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
  };
  const absl::Status malformed = Invalid(
      "the Link header is malformed (expected <URL>; rel=\"http://www.w3.org/ns/"
      "json-ld#context\")");
  while (true) {
    skip_space();
    if (i >= header.size()) break;
    if (header[i] != '<') return malformed;
    const size_t close = header.find('>', i);
    if (close == std::string_view::npos) return malformed;
    const std::string_view url = header.substr(i + 1, close - i - 1);
    i = close + 1;
    bool context = false;
    // Parameters up to the next ',' outside quotes.
    while (true) {
      skip_space();
      if (i >= header.size() || header[i] == ',') break;
      if (header[i] != ';') return malformed;
      ++i;
      skip_space();
      const size_t eq = header.find('=', i);
      if (eq == std::string_view::npos) return malformed;
      std::string name(absl::StripAsciiWhitespace(Av(header.substr(i, eq - i))));
      absl::AsciiStrToLower(&name);
      i = eq + 1;
      skip_space();
      std::string_view value;
      if (i < header.size() && header[i] == '"') {
        const size_t end = header.find('"', i + 1);
        if (end == std::string_view::npos) return malformed;
        value = header.substr(i + 1, end - i - 1);
        i = end + 1;
      } else {
        const size_t end = header.find_first_of(";,", i);
        value = header.substr(i, end == std::string_view::npos ? end : end - i);
        i = end == std::string_view::npos ? header.size() : end;
      }
      if (name == "rel" && absl::StripAsciiWhitespace(Av(value)) == kContextRel)
        context = true;
    }
    if (context) {
      if (found.has_value()) {
        return Invalid("the Link header names more than one JSON-LD context");
      }
      if (url.empty()) return malformed;
      found = std::string(url);
    }
    if (i < header.size()) ++i;  // the ','
  }
  return found;
}

// Parse callback limit: thrown out of nlohmann's parser, caught at the edge.
struct TooDeep {};

bool IsAttributeType(const json& j, std::string_view* type) {
  if (!j.is_object()) return false;
  auto t = j.find("type");
  if (t == j.end() || !t->is_string()) return false;
  const std::string_view s = ShortName(t->get_ref<const std::string&>());
  for (std::string_view known :
       {"Property", "GeoProperty", "Relationship", "LanguageProperty", "VocabProperty",
        "ListProperty", "ListRelationship", "JsonProperty"}) {
    if (s == known) {
      *type = known;
      return true;
    }
  }
  return false;
}

std::string_view ValueMember(std::string_view type) {
  if (type == "Relationship") return "object";
  if (type == "LanguageProperty") return "languageMap";
  if (type == "VocabProperty") return "vocab";
  if (type == "ListProperty") return "valueList";
  if (type == "ListRelationship") return "objectList";
  if (type == "JsonProperty") return "json";
  return "value";
}

struct Resolved {
  const json* value = nullptr;
  const json* observed_at = nullptr;  // a string, when given
};

// The value of one attribute in either form.
absl::StatusOr<Resolved> ResolveAttribute(const json& v, NgsiLdForm form,
                                          std::string_view name) {
  Resolved out;
  out.value = &v;
  std::string_view type;
  if (form == NgsiLdForm::kAuto) {
    const json* instance = &v;
    if (v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), [&](const json& e) {
          return IsAttributeType(e, &type);
        })) {
      instance = nullptr;
      for (const json& e : v) {
        if (!e.contains("datasetId")) {
          instance = &e;
          break;
        }
      }
      if (instance == nullptr) {
        return Invalid(absl::StrCat("attribute '", Av(name),
                                    "' has several instances and none is the default "
                                    "(without datasetId)"));
      }
    }
    if (IsAttributeType(*instance, &type)) {
      const std::string_view member = ValueMember(type);
      auto it = instance->find(std::string(member));
      if (it == instance->end()) {
        return Invalid(absl::StrCat("attribute '", Av(name), "': a ", Av(type),
                                    " needs '", Av(member), "'"));
      }
      out.value = &*it;
      auto observed = instance->find("observedAt");
      if (observed != instance->end()) {
        if (!observed->is_string()) {
          return Invalid(
              absl::StrCat("attribute '", Av(name), "': observedAt must be a string"));
        }
        out.observed_at = &*observed;
      }
    }
  }
  // A typed literal ({"@type":"DateTime","@value":..}) stands for its value.
  if (out.value->is_object()) {
    auto literal = out.value->find("@value");
    if (literal != out.value->end()) out.value = &*literal;
  }
  return out;
}

InputValue FromJson(const json& v, std::deque<std::string>& arena) {
  InputValue in;
  switch (v.type()) {
    case json::value_t::boolean:
      in.kind = InputValue::Kind::kBool;
      in.boolean = v.get<bool>();
      break;
    case json::value_t::number_integer:
      in.kind = InputValue::Kind::kInteger;
      in.integer = v.get<int64_t>();
      break;
    case json::value_t::number_unsigned: {
      const uint64_t u = v.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        in.kind = InputValue::Kind::kInteger;
        in.integer = static_cast<int64_t>(u);
      } else {
        in.kind = InputValue::Kind::kNumber;
        in.number = static_cast<double>(u);
      }
      break;
    }
    case json::value_t::number_float:
      in.kind = InputValue::Kind::kNumber;
      in.number = v.get<double>();
      break;
    case json::value_t::string:
      in.kind = InputValue::Kind::kString;
      in.text = v.get_ref<const std::string&>();
      break;
    case json::value_t::object:
    case json::value_t::array:
      in.kind = InputValue::Kind::kComposite;
      in.text =
          arena.emplace_back(v.dump(-1, ' ', false, json::error_handler_t::replace));
      break;
    default:
      in.kind = InputValue::Kind::kNull;
      break;
  }
  return in;
}

// Adds every position ([lon, lat, ...]) nested in `coordinates`.
bool CollectPositions(const json& coordinates, int depth, double& lat_sum,
                      double& lon_sum, int64_t& n) {
  if (!coordinates.is_array() || coordinates.empty() || depth > 4) return false;
  if (coordinates[0].is_number()) {
    if (coordinates.size() < 2 || !coordinates[1].is_number()) return false;
    lon_sum += coordinates[0].get<double>();
    lat_sum += coordinates[1].get<double>();
    ++n;
    return true;
  }
  for (const json& c : coordinates) {
    if (!CollectPositions(c, depth + 1, lat_sum, lon_sum, n)) return false;
  }
  return true;
}

// A GeoJSON geometry as one point: a Point as is, any other geometry with
// coordinates as the mean of its positions. nullopt when `v` is not GeoJSON
// (the validator then judges it as written); an error for broken GeoJSON.
absl::StatusOr<std::optional<std::pair<double, double>>> GeometryPoint(
    const json& v, std::string_view name) {
  if (!v.is_object()) return std::nullopt;
  auto type = v.find("type");
  auto coordinates = v.find("coordinates");
  if (type == v.end() || !type->is_string()) return std::nullopt;
  const std::string& t = type->get_ref<const std::string&>();
  if (t != "Point" && t != "MultiPoint" && t != "LineString" && t != "MultiLineString" &&
      t != "Polygon" && t != "MultiPolygon") {
    return Invalid(absl::StrCat("attribute '", Av(name),
                                "': the geometry must be a GeoJSON Point, MultiPoint, "
                                "LineString, MultiLineString, Polygon or MultiPolygon"));
  }
  double lat = 0, lon = 0;
  int64_t n = 0;
  if (coordinates == v.end() || !CollectPositions(*coordinates, 0, lat, lon, n) ||
      n == 0 || (t == "Point" && n != 1)) {
    return Invalid(absl::StrCat("attribute '", Av(name),
                                "': GeoJSON coordinates must be [longitude, latitude] "
                                "positions"));
  }
  return std::make_pair(lat / n, lon / n);
}

const std::string& InputName(const config::Field& field) {
  return field.source.empty() ? field.name : field.source.front();
}

}  // namespace

std::string NgsiLdErrorCode(const absl::Status& status) {
  auto code = status.GetPayload(kCodePayload);
  return code.has_value() ? std::string(*code) : std::string();
}

struct NgsiLdBatch::Storage {
  json document;
  std::deque<std::string> arena;
};

NgsiLdBatch::NgsiLdBatch() : storage_(std::make_unique<Storage>()) {}
NgsiLdBatch::~NgsiLdBatch() = default;
NgsiLdBatch::NgsiLdBatch(NgsiLdBatch&&) noexcept = default;
NgsiLdBatch& NgsiLdBatch::operator=(NgsiLdBatch&&) noexcept = default;

NgsiLdAdapter::NgsiLdAdapter(const config::CityConfig& config, NgsiLdLimits limits)
    : config_(config), limits_(limits) {}

absl::StatusOr<std::unique_ptr<NgsiLdAdapter>> NgsiLdAdapter::Create(
    const config::CityConfig& config, NgsiLdLimits limits) {
  if (limits.max_body_bytes == 0 || limits.max_entities == 0 || limits.max_depth == 0) {
    return absl::InvalidArgumentError("NGSI-LD limits must be positive");
  }
  std::unique_ptr<NgsiLdAdapter> adapter(new NgsiLdAdapter(config, limits));
  for (const config::Stream& stream : config.streams) {
    for (const config::NgsiLdMapping& m : stream.ngsi_ld) {
      adapter->types_.emplace_back(m.entity_type, TypeMapping{&stream, &m});
    }
  }
  return adapter;
}

const config::Stream* NgsiLdAdapter::StreamFor(std::string_view type) const {
  const std::string_view name = ShortName(type);
  for (const auto& [t, m] : types_) {
    if (t == name) return m.stream;
  }
  return nullptr;
}

absl::StatusOr<NgsiLdBatch> NgsiLdAdapter::Parse(const NgsiLdInput& input,
                                                 absl::Time received) const {
  if (input.body.size() > limits_.max_body_bytes) {
    return Fail(
        absl::StatusCode::kResourceExhausted, "body-too-large",
        absl::StrCat("the body is larger than ", limits_.max_body_bytes, " bytes"));
  }
  std::string media = input.content_type.substr(0, input.content_type.find(';'));
  absl::AsciiStrToLower(&media);
  absl::StripAsciiWhitespace(&media);
  const bool ld = media == "application/ld+json";
  if (!ld && !media.empty() && media != "application/json") {
    return Fail(absl::StatusCode::kInvalidArgument, "unsupported-media-type",
                "unsupported Content-Type: send application/json (with the @context in "
                "a Link header) or application/ld+json (with the @context in the body)");
  }
  std::optional<std::string> link;
  if (!input.link.empty()) {
    ASSIGN_OR_RETURN(link, ContextLink(input.link));
  }
  if (ld && link.has_value()) {
    return Invalid(
        "a JSON-LD context Link header cannot come with application/ld+json: put the "
        "@context in the body, or send application/json");
  }
  if (input.body.empty()) return Invalid("the request body is empty");

  NgsiLdBatch batch;
  json& doc = batch.storage_->document;
  const size_t max_depth = limits_.max_depth;
  try {
    doc = json::parse(input.body.begin(), input.body.end(),
                      [max_depth](int depth, json::parse_event_t, json&) {
                        if (static_cast<size_t>(depth) > max_depth) throw TooDeep{};
                        return true;
                      });
  } catch (const json::parse_error& e) {
    return Fail(
        absl::StatusCode::kInvalidArgument, "malformed-json",
        absl::StrCat("the body is not valid JSON (first error at byte ", e.byte, ")"));
  } catch (const TooDeep&) {
    return Invalid(absl::StrCat("the body nests deeper than ", max_depth, " levels"));
  } catch (const std::exception&) {
    return Fail(absl::StatusCode::kInvalidArgument, "malformed-json",
                "the body is not valid JSON");
  }

  // The entities, and what a notification adds to them.
  const json* entities = nullptr;
  json single = json::array();
  Terms base_terms;
  bool base_context = false;
  std::optional<absl::Time> notified_at;
  switch (input.operation) {
    case NgsiLdOperation::kCreate:
      if (!doc.is_object()) return Invalid("the body must be one entity (a JSON object)");
      single.push_back(std::move(doc));
      doc = std::move(single);
      entities = &doc;
      break;
    case NgsiLdOperation::kUpsert:
      if (!doc.is_array()) return Invalid("the body must be a JSON array of entities");
      entities = &doc;
      break;
    case NgsiLdOperation::kNotify: {
      if (!doc.is_object()) return Invalid("a notification must be a JSON object");
      auto type = doc.find("type");
      if (type != doc.end() &&
          (!type->is_string() ||
           ShortName(type->get_ref<const std::string&>()) != "Notification")) {
        return Invalid("a notification's 'type' must be \"Notification\"");
      }
      auto data = doc.find("data");
      if (data == doc.end() || !data->is_array()) {
        return Invalid("a notification needs 'data', an array of entities");
      }
      auto at = doc.find("notifiedAt");
      if (at != doc.end()) {
        absl::StatusOr<absl::Time> t =
            at->is_string() ? ParseTimestamp(at->get_ref<const std::string&>())
                            : absl::InvalidArgumentError("");
        if (!t.ok()) return Invalid("the notification's 'notifiedAt' is not a date-time");
        notified_at = *t;
      }
      auto context = doc.find("@context");
      if (context != doc.end()) {
        if (!ld) {
          return Invalid(
              "the notification carries @context in the body: send Content-Type "
              "application/ld+json, or the context in a Link header");
        }
        RETURN_IF_ERROR(ReadContext(*context, base_terms));
        base_context = true;
      }
      entities = &*data;
      break;
    }
  }
  if (entities->empty()) return Invalid("the request holds no entities");
  if (entities->size() > limits_.max_entities) {
    return Fail(
        absl::StatusCode::kResourceExhausted, "body-too-large",
        absl::StrCat("the request holds more than ", limits_.max_entities, " entities"));
  }

  // First the request as a whole: every entity well-formed and mapped.
  struct Planned {
    const json* entity;
    Terms terms;
    TypeMapping mapping;
    std::string type;
  };
  std::vector<Planned> plan;
  plan.reserve(entities->size());
  for (size_t i = 0; i < entities->size(); ++i) {
    const json& e = (*entities)[i];
    const std::string at = absl::StrCat("entity ", i + 1);
    if (!e.is_object()) return Invalid(absl::StrCat(at, " is not a JSON object"));
    auto id = e.find("id");
    if (id == e.end()) id = e.find("@id");
    if (id == e.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
      return Invalid(absl::StrCat(at, " needs 'id', a non-empty string"));
    }
    auto type = e.find("type");
    if (type == e.end()) type = e.find("@type");
    if (type == e.end() || !type->is_string()) {
      return Invalid(
          absl::StrCat(at, type != e.end() && type->is_array()
                               ? " has several types; privacity maps entities of one type"
                               : " needs 'type', a string"));
    }
    Planned p{&e, base_terms, {}, {}};
    auto context = e.find("@context");
    if (context != e.end()) {
      if (!ld) {
        return Invalid(absl::StrCat(
            at,
            " carries @context in the body: send Content-Type application/ld+json, or "
            "the context in a Link header"));
      }
      RETURN_IF_ERROR(ReadContext(*context, p.terms));
    } else if (ld && !base_context) {
      return Invalid(absl::StrCat(
          at, " has no @context: with application/ld+json the context goes in the body"));
    }
    p.type = std::string(Resolve(type->get_ref<const std::string&>(), p.terms));
    const TypeMapping* found = nullptr;
    for (const auto& [t, m] : types_) {
      if (t == p.type) found = &m;
    }
    if (found == nullptr) {
      return Fail(
          absl::StatusCode::kNotFound, "unknown-entity-type",
          Nameable(p.type)
              ? absl::StrCat(at, ": no stream maps the entity type '", p.type, "'")
              : absl::StrCat(at,
                             ": no stream maps its entity type (not a valid "
                             "NGSI-LD type name)"));
    }
    p.mapping = *found;
    plan.push_back(std::move(p));
  }

  // Then each entity into a record of its stream.
  std::deque<std::string>& arena = batch.storage_->arena;
  batch.entities_ = static_cast<int64_t>(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    const Planned& p = plan[i];
    const config::Stream& stream = *p.mapping.stream;
    const config::NgsiLdMapping& m = *p.mapping.mapping;
    auto group = std::find_if(batch.groups_.begin(), batch.groups_.end(),
                              [&](const NgsiLdGroup& g) { return g.stream == &stream; });
    if (group == batch.groups_.end()) {
      batch.groups_.push_back(NgsiLdGroup{&stream, {}, {}, {}});
      group = batch.groups_.end() - 1;
    }
    if (std::find(group->entity_types.begin(), group->entity_types.end(), p.type) ==
        group->entity_types.end()) {
      group->entity_types.push_back(p.type);
    }
    const int64_t line = static_cast<int64_t>(i) + 1;
    InputRecord record;
    record.origin = InputRecord::Origin::kJson;
    record.line = line;

    auto convert = [&]() -> absl::Status {
      // Which entity attribute answers which mapping entry.
      std::vector<const json*> found(m.attributes.size(), nullptr);
      for (const auto& [key, value] : p.entity->items()) {
        if (key == "id" || key == "@id" || key == "type" || key == "@type" ||
            key == "@context") {
          continue;
        }
        const std::string_view name = Resolve(key, p.terms);
        for (size_t j = 0; j < m.attributes.size(); ++j) {
          if (m.attributes[j].first != name) continue;
          if (found[j] != nullptr) {
            return Invalid(absl::StrCat("attribute '", m.attributes[j].first,
                                        "' appears more than once (as a short name and "
                                        "as an IRI)"));
          }
          found[j] = &value;
        }
      }
      bool time_given = false;
      const json* first_observed = nullptr;
      for (size_t j = 0; j < m.attributes.size(); ++j) {
        if (found[j] == nullptr) continue;
        const std::string& name = m.attributes[j].first;
        const config::Field* field = stream.FindField(m.attributes[j].second);
        if (field == nullptr) return absl::InternalError("mapped field is not declared");
        ASSIGN_OR_RETURN(Resolved r, ResolveAttribute(*found[j], input.form, name));
        if (first_observed == nullptr) first_observed = r.observed_at;
        if (field->name == m.observed_at && !r.value->is_null()) time_given = true;
        if (field->type == config::FieldType::kPoint) {
          ASSIGN_OR_RETURN(auto point, GeometryPoint(*r.value, name));
          if (point.has_value()) {
            if (field->source.size() == 2) {
              InputValue lat, lon;
              lat.kind = lon.kind = InputValue::Kind::kNumber;
              lat.number = point->first;
              lon.number = point->second;
              record.fields.emplace_back(field->source[0], lat);
              record.fields.emplace_back(field->source[1], lon);
            } else {
              InputValue v;
              v.kind = InputValue::Kind::kComposite;
              v.text = arena.emplace_back(
                  json{{"lat", point->first}, {"lon", point->second}}.dump());
              record.fields.emplace_back(InputName(*field), v);
            }
            continue;
          }
        }
        record.fields.emplace_back(InputName(*field), FromJson(*r.value, arena));
      }
      if (!m.id_field.empty()) {
        const config::Field* field = stream.FindField(m.id_field);
        if (field == nullptr) return absl::InternalError("id field is not declared");
        auto id = p.entity->find("id");
        if (id == p.entity->end()) id = p.entity->find("@id");
        record.fields.emplace_back(InputName(*field), FromJson(*id, arena));
      }
      if (!time_given) {
        const config::Field* field = stream.FindField(m.observed_at);
        if (field == nullptr) return absl::InternalError("time field is not declared");
        InputValue v;
        v.kind = InputValue::Kind::kString;
        if (first_observed != nullptr) {
          v.text = first_observed->get_ref<const std::string&>();
        } else {
          v.text = arena.emplace_back(FormatTimestamp(notified_at.value_or(received)));
        }
        // A mapped attribute that was null leaves its own entry; replace it.
        const std::string& name = InputName(*field);
        record.fields.erase(
            std::remove_if(record.fields.begin(), record.fields.end(),
                           [&](const auto& kv) { return kv.first == name; }),
            record.fields.end());
        record.fields.emplace_back(name, v);
      }
      return absl::OkStatus();
    };
    const absl::Status converted = convert();
    if (converted.ok()) {
      group->records.push_back(std::move(record));
    } else if (absl::IsInvalidArgument(converted)) {
      group->errors.push_back(RecordError{line, std::string(converted.message())});
    } else {
      return converted;
    }
  }
  return batch;
}

absl::StatusOr<IngestSummary> IngestNgsiLdGroup(const NgsiLdGroup& group,
                                                store::Store& store,
                                                crypto::Keyring& keyring,
                                                RandomSource& random,
                                                const IngestOptions& options) {
  if (group.stream == nullptr)
    return absl::InvalidArgumentError("group without a stream");
  ASSIGN_OR_RETURN(std::unique_ptr<Ingester> ingester,
                   Ingester::Create(*group.stream, store, keyring, random, options));
  size_t e = 0;
  absl::Status added = absl::OkStatus();
  for (const InputRecord& r : group.records) {
    while (e < group.errors.size() && group.errors[e].line < r.line) {
      ingester->Reject(group.errors[e].line, group.errors[e].message);
      ++e;
    }
    added = ingester->Add(r);
    if (!added.ok()) break;
  }
  for (; added.ok() && e < group.errors.size(); ++e) {
    ingester->Reject(group.errors[e].line, group.errors[e].message);
  }
  // What was added is stored even when the trust failed part way.
  const absl::Status finished = ingester->Finish();
  RETURN_IF_ERROR(added);
  RETURN_IF_ERROR(finished);
  return ingester->summary();
}

std::string NgsiLdSummaryJson(const IngestSummary& summary) {
  nlohmann::ordered_json errors = nlohmann::ordered_json::array();
  for (const RecordError& e : summary.errors) {
    errors.push_back({{"entity", e.line}, {"message", e.message}});
  }
  nlohmann::ordered_json j = {
      {"accepted", summary.accepted}, {"rejected", summary.rejected}, {"errors", errors}};
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace privacity::ingest
