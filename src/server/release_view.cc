#include "server/release_view.h"

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "audit/leaves.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "config/model.h"
#include "crypto/crypto.h"
#include "policy/decision.h"
#include "s2/s2cell.h"
#include "s2/s2cell_id.h"
#include "s2/s2latlng.h"

namespace privacity::server {
namespace {

using json = nlohmann::ordered_json;

// Keys of a release's summary, in order (the rest of the body is
// "columns" and "rows").
constexpr const char* kSummaryKeys[] = {
    "id",        "title",  "stream", "metric", "value",  "group_by",        "window",
    "epsilon",   "delta",  "rho",    "bounds", "method", "unit_of_privacy", "rows_count",
    "agreement", "created"};

// The public agreement for `stream`: party "public", level public, with a
// budget. Null when there is none.
const config::Agreement* PublicAgreement(const config::CityConfig& config,
                                         const std::string& stream) {
  for (const config::Agreement& a : config.agreements) {
    if (a.party == policy::kPublicParty && a.stream == stream &&
        a.level == config::AccessLevel::kPublic && a.budget.has_value()) {
      return &a;
    }
  }
  return nullptr;
}

absl::StatusOr<ReleaseSpec> SpecFromJson(const nlohmann::json& doc) {
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("release spec: must be a JSON object");
  }
  nlohmann::json query = doc;
  ReleaseSpec spec;
  auto title = query.find("title");
  if (title == query.end() || !title->is_string() ||
      title->get_ref<const std::string&>().empty()) {
    return absl::InvalidArgumentError(
        "release spec: \"title\" must be a non-empty string");
  }
  spec.title = title->get<std::string>();
  if (spec.title.size() > kMaxReleaseTitle) {
    return absl::InvalidArgumentError(absl::StrCat(
        "release spec: \"title\" is longer than ", kMaxReleaseTitle, " characters"));
  }
  if (std::any_of(spec.title.begin(), spec.title.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return absl::InvalidArgumentError("release spec: \"title\" has control characters");
  }
  query.erase("title");
  auto stream = query.find("stream");
  if (stream == query.end() || !stream->is_string() ||
      stream->get_ref<const std::string&>().empty()) {
    return absl::InvalidArgumentError(
        "release spec: \"stream\" must be a non-empty string");
  }
  // The purpose defaults to the public agreement's; a placeholder lets the
  // request parser check everything else.
  const bool default_purpose = !query.contains("purpose");
  if (default_purpose) query["purpose"] = "-";
  auto request = ParseAggregateRequest(query.dump());
  if (!request.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("release spec: ", request.status().message()));
  }
  spec.query = std::move(*request);
  if (default_purpose) spec.query.purpose.clear();
  spec.query.party = std::string(policy::kPublicParty);
  return spec;
}

json Summary(const json& body) {
  json s = json::object();
  for (const char* key : kSummaryKeys) {
    auto it = body.find(key);
    if (it != body.end()) s[key] = *it;
  }
  return s;
}

std::string CsvField(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string CsvValue(const json& v) {
  if (v.is_string()) return CsvField(v.get<std::string>());
  if (v.is_null()) return "";
  return v.dump();
}

// The first cell:LEVEL key column, or "".
std::string CellColumn(const json& body) {
  for (const json& c : body.value("columns", json::array())) {
    if (c.is_string() && c.get_ref<const std::string&>().rfind("cell:", 0) == 0) {
      return c.get<std::string>();
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<ReleaseSpec> ParseReleaseSpec(std::string_view body) {
  const nlohmann::json doc = nlohmann::json::parse(body.begin(), body.end(), nullptr,
                                                   /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return absl::InvalidArgumentError("release spec: malformed JSON");
  return SpecFromJson(doc);
}

absl::StatusOr<std::vector<ReleaseSpec>> ParseReleaseSpecs(std::string_view body) {
  const nlohmann::json doc = nlohmann::json::parse(body.begin(), body.end(), nullptr,
                                                   /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return absl::InvalidArgumentError("release spec: malformed JSON");
  std::vector<ReleaseSpec> specs;
  if (!doc.is_array()) {
    ASSIGN_OR_RETURN(ReleaseSpec spec, SpecFromJson(doc));
    specs.push_back(std::move(spec));
    return specs;
  }
  if (doc.empty()) return absl::InvalidArgumentError("release spec: the list is empty");
  size_t index = 0;
  for (const nlohmann::json& item : doc) {
    ++index;
    auto spec = SpecFromJson(item);
    if (!spec.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec #", index, ": ", spec.status().message()));
    }
    specs.push_back(std::move(*spec));
  }
  return specs;
}

absl::StatusOr<PublishedRelease> PublishRelease(Trust& trust, const ReleaseSpec& spec) {
  dp::ExactNoise noise(trust.random());
  return PublishReleaseWithNoise(trust, spec, noise);
}

absl::StatusOr<PublishedRelease> PublishReleaseWithNoise(Trust& trust,
                                                         const ReleaseSpec& spec,
                                                         dp::NoiseSource& noise) {
  AggregateRequest query = spec.query;
  query.party = std::string(policy::kPublicParty);
  const config::Agreement* agreement = PublicAgreement(trust.config(), query.stream);
  if (query.purpose.empty()) {
    if (agreement == nullptr || agreement->purposes.empty()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "no-agreement: no public agreement with a budget for stream ",
          trust.config().FindStream(query.stream) != nullptr ? query.stream
                                                             : std::string("-")));
    }
    query.purpose = agreement->purposes.front();
  }
  ASSIGN_OR_RETURN(
      AggregateResult result,
      RunAggregateAtLevel(trust, query, config::AccessLevel::kPublic, noise));
  if (!result.decision.permitted()) {
    return absl::PermissionDeniedError(
        absl::StrCat(std::string(policy::ReasonCode(result.decision.reason)), ": ",
                     result.decision.detail));
  }
  const json& answer = result.answer;
  const std::string agreement_id = answer.value("agreement", "");
  const config::Agreement* charged = nullptr;
  for (const config::Agreement& a : trust.config().agreements) {
    if (a.id == agreement_id) charged = &a;
  }
  if (charged == nullptr || !charged->budget) {
    return absl::InternalError("release charged to an unknown agreement");
  }
  // The answer's random release id is stored with the charge, so the
  // identical query in the same period gets the same release id back.
  const std::string release_id = answer.value("release_id", "");
  if (release_id.size() < 20) return absl::InternalError("release without an id");
  const std::string id = absl::StrCat("rel-", release_id.substr(0, 20));

  PublishedRelease out;
  out.id = id;
  if (result.cached) {
    // The identical query was charged before this period: the release it
    // produced is the one to return.
    ASSIGN_OR_RETURN(std::optional<store::ReleaseRow> row,
                     trust.store().releases().FindRelease(id));
    if (row.has_value()) {
      out.body = json::parse(row->body, nullptr, false);
      if (!out.body.is_object()) return absl::DataLossError("stored release is corrupt");
      out.summary = Summary(out.body);
      out.existing = true;
      return out;
    }
  }

  const absl::Time created = trust.clock().Now();
  json body = json::object();
  body["id"] = id;
  body["title"] = spec.title;
  body["stream"] = query.stream;
  body["metric"] = answer.value("metric", "");
  body["value"] = query.value.empty() ? json(nullptr) : json(query.value);
  body["group_by"] = query.group_by;
  body["window"] = {{"from", answer.value("from", json(nullptr))},
                    {"to", answer.value("to", json(nullptr))}};
  body["epsilon"] = answer.value("epsilon", 0.0);
  body["delta"] = answer.value("delta", 0.0);
  if (answer.contains("rho")) body["rho"] = answer["rho"];
  body["bounds"] = answer.contains("lower")
                       ? json{{"lower", answer["lower"]}, {"upper", answer["upper"]}}
                       : json(nullptr);
  json method = json::object();
  method["mechanism"] = answer.value("mechanism", "laplace");
  method["noise"] = method["mechanism"] == "gaussian" ? "discrete gaussian (exact)"
                                                      : "discrete laplace (exact)";
  method["partitions"] = answer.value("partition_selection", false)
                             ? "dp-partition-selection"
                             : "public-domain";
  method["max_partitions"] = query.max_partitions;
  method["max_records_per_partition"] = query.max_records_per_partition;
  method["accounting"] = method["mechanism"] == "gaussian" ? "zcdp" : "pure-dp";
  body["method"] = std::move(method);
  body["unit_of_privacy"] = answer.value("unit_of_privacy", "record");
  body["rows_count"] = answer.contains("rows") ? answer["rows"].size() : 0;
  body["agreement"] = agreement_id;
  body["created"] = FormatTimestamp(created);
  body["columns"] = answer.value("columns", json::array());
  body["rows"] = answer.value("rows", json::array());

  store::ReleaseRow row;
  row.id = id;
  row.agreement = agreement_id;
  row.stream = query.stream;
  row.title = spec.title;
  row.created = created;
  out.summary = Summary(body);
  row.summary = out.summary.dump();
  row.body = body.dump();
  const absl::Status inserted = trust.store().releases().InsertRelease(row);
  if (absl::IsAlreadyExists(inserted)) {
    // A concurrent publisher of the identical query won the race.
    ASSIGN_OR_RETURN(json existing, GetRelease(trust, id));
    out.body = std::move(existing);
    out.summary = Summary(out.body);
    out.existing = true;
    return out;
  }
  RETURN_IF_ERROR(inserted);

  audit::ReleaseLeaf leaf;
  leaf.time = created;
  leaf.release = id;
  leaf.stream = query.stream;
  leaf.party = std::string(policy::kPublicParty);
  leaf.kind = audit::ReleaseKind::kDpPublic;
  leaf.epsilon = body["epsilon"].get<double>();
  leaf.delta = body["delta"].get<double>();
  leaf.rows = body["rows_count"].get<int64_t>();
  const std::string digest = crypto::Sha256(row.body);
  std::memcpy(leaf.digest.data(), digest.data(), leaf.digest.size());
  RETURN_IF_ERROR(trust.audit().Append(leaf).status());
  out.body = std::move(body);
  return out;
}

absl::StatusOr<json> ListReleases(Trust& trust) {
  ASSIGN_OR_RETURN(std::vector<store::ReleaseRow> rows,
                   trust.store().releases().ListReleases());
  json list = json::array();
  for (const store::ReleaseRow& r : rows) {
    json s = json::parse(r.summary, nullptr, false);
    if (!s.is_object()) return absl::DataLossError("stored release summary is corrupt");
    list.push_back(std::move(s));
  }
  json out = json::object();
  out["releases"] = std::move(list);
  return out;
}

absl::StatusOr<json> GetRelease(Trust& trust, const std::string& id) {
  ASSIGN_OR_RETURN(std::optional<store::ReleaseRow> row,
                   trust.store().releases().FindRelease(id));
  if (!row.has_value()) return absl::NotFoundError("no release of this id");
  json body = json::parse(row->body, nullptr, false);
  if (!body.is_object()) return absl::DataLossError("stored release is corrupt");
  return body;
}

std::string ReleaseCsv(const json& body) {
  std::string out;
  auto meta = [&](const std::string& key, const json& v) {
    out += absl::StrCat("# ", key, ": ", v.is_string() ? v.get<std::string>() : v.dump(),
                        "\r\n");
  };
  for (const char* key :
       {"id", "title", "stream", "metric", "value", "window", "epsilon", "delta", "rho",
        "bounds", "method", "unit_of_privacy", "created"}) {
    auto it = body.find(key);
    if (it != body.end()) meta(key, *it);
  }
  const json columns = body.value("columns", json::array());
  const json rows = body.value("rows", json::array());
  // The value column: one column per member when values are objects
  // (quantiles).
  const std::string value_column =
      columns.empty() ? std::string("value") : columns.back().get<std::string>();
  std::vector<std::string> keys;
  for (size_t i = 0; i + 1 < columns.size(); ++i) keys.push_back(columns[i]);
  std::vector<std::string> members;
  if (!rows.empty() && rows[0].contains(value_column) &&
      rows[0][value_column].is_object()) {
    for (const auto& [k, v] : rows[0][value_column].items()) members.push_back(k);
  }
  std::vector<std::string> header = keys;
  if (members.empty()) {
    header.push_back(value_column);
  } else {
    for (const std::string& m : members) header.push_back(value_column + "_" + m);
  }
  for (size_t i = 0; i < header.size(); ++i) {
    if (i > 0) out += ',';
    out += CsvField(header[i]);
  }
  out += "\r\n";
  for (const json& row : rows) {
    std::string line;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) line += ',';
      line += CsvValue(row.value(keys[i], json(nullptr)));
    }
    const json v = row.value(value_column, json(nullptr));
    if (members.empty()) {
      if (!keys.empty()) line += ',';
      line += CsvValue(v);
    } else {
      for (size_t i = 0; i < members.size(); ++i) {
        if (!keys.empty() || i > 0) line += ',';
        line +=
            CsvValue(v.is_object() ? v.value(members[i], json(nullptr)) : json(nullptr));
      }
    }
    out += line;
    out += "\r\n";
  }
  return out;
}

json ReleaseGeoJson(const json& body) {
  json fc = json::object();
  fc["type"] = "FeatureCollection";
  for (const char* key :
       {"id", "title", "stream", "metric", "value", "group_by", "window", "epsilon",
        "delta", "rho", "bounds", "method", "unit_of_privacy", "created"}) {
    auto it = body.find(key);
    if (it != body.end()) fc[key] = *it;
  }
  const std::string cell_column = CellColumn(body);
  json features = json::array();
  for (const json& row : body.value("rows", json::array())) {
    json f = json::object();
    f["type"] = "Feature";
    json props = row;
    json geometry = nullptr;
    if (!cell_column.empty() && row.contains(cell_column) &&
        row[cell_column].is_string()) {
      const S2CellId id = S2CellId::FromToken(row[cell_column].get<std::string>());
      if (id.is_valid()) {
        const S2Cell cell(id);
        json ring = json::array();
        for (int k = 0; k <= 4; ++k) {  // closed ring: the first vertex again
          const S2LatLng v(cell.GetVertex(k % 4));
          ring.push_back(json::array({v.lng().degrees(), v.lat().degrees()}));
        }
        geometry = {{"type", "Polygon"}, {"coordinates", json::array({ring})}};
        const S2LatLng c(id.ToPoint());
        props["centroid"] = json::array({c.lng().degrees(), c.lat().degrees()});
      }
    }
    f["geometry"] = std::move(geometry);
    f["properties"] = std::move(props);
    features.push_back(std::move(f));
  }
  fc["features"] = std::move(features);
  return fc;
}

}  // namespace privacity::server
