#include "config/loader.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/time_util.h"
#include "config/hierarchy_table.h"
#include "s2/s2latlng.h"
#include "s2/s2loop.h"

namespace privacity::config {
namespace {

constexpr size_t kMaxErrors = 200;
constexpr size_t kMaxConfigBytes = 16 << 20;
constexpr size_t kMaxIdLength = 64;

using KeyList = std::span<const absl::string_view>;

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Why `vertices` (latitude, longitude) do not form a simple loop on the
// sphere (self-intersecting, duplicate or antipodal vertices), or "".
std::string PolygonError(const std::vector<std::pair<double, double>>& vertices) {
  std::vector<S2Point> points;
  points.reserve(vertices.size());
  for (const auto& [lat, lon] : vertices) {
    points.push_back(S2LatLng::FromDegrees(lat, lon).ToPoint());
  }
  S2Loop loop(points, S2Debug::DISABLE);
  S2Error error;
  if (loop.FindValidationError(&error)) return error.text();
  return "";
}

constexpr absl::string_view kRootKeys[] = {"city",    "store",      "purposes", "streams",
                                           "parties", "agreements", "sensors",  "dpia",
                                           "oidc",    "limits",     "mqtt"};
constexpr absl::string_view kCityKeys[] = {"name", "controller", "contact", "area"};
constexpr absl::string_view kAreaKeys[] = {"min_lat", "min_lon", "max_lat", "max_lon",
                                           "polygon"};
constexpr absl::string_view kPurposeKeys[] = {"id", "description", "legal_basis",
                                              "prohibited", "mandatory"};
constexpr absl::string_view kStreamKeys[] = {
    "id",          "description", "subject",  "time",   "location", "epoch", "retention",
    "linkability", "legal_basis", "purposes", "fields", "mqtt",     "area",  "ngsi_ld"};
constexpr absl::string_view kMqttFeedKeys[] = {"topics", "qos", "format"};
constexpr absl::string_view kMqttKeys[] = {
    "broker", "client_id",  "username",       "password_file",  "password_env",
    "tls",    "keep_alive", "batch_messages", "batch_delay_ms", "dedupe_window"};
constexpr absl::string_view kMqttTlsKeys[] = {"ca_file", "cert_file", "key_file"};
constexpr absl::string_view kNgsiLdKeys[] = {"entity_type", "attributes", "id_field",
                                             "observed_at"};
constexpr absl::string_view kFieldKeys[] = {"name",   "type",     "category",
                                            "source", "required", "values",
                                            "min",    "max",      "transform"};
constexpr absl::string_view kStepKeys[] = {"time_bucket", "cell", "round", "clamp",
                                           "truncate",    "map",  "level", "redact"};
constexpr absl::string_view kPartyKeys[] = {"id", "name", "kind", "contact"};
constexpr absl::string_view kAgreementKeys[] = {
    "id",         "party",       "stream",           "level",      "purposes", "fields",
    "valid_from", "valid_until", "time_granularity", "cell_level", "k",        "budget",
    "duties"};
constexpr absl::string_view kBudgetKeys[] = {"epsilon", "delta", "period"};
constexpr absl::string_view kDutyKeys[] = {"delete_after", "no_onward_sharing"};
constexpr absl::string_view kSensorKeys[] = {
    "id", "stream", "name", "lat", "lon", "owner", "contact", "comments_until"};
constexpr absl::string_view kDpiaKeys[] = {"k", "unicity_threshold", "k_share_threshold",
                                           "interval"};
constexpr absl::string_view kOidcKeys[] = {
    "issuer", "audience",    "jwks_file", "jwks_url",         "jwks_refresh",
    "leeway", "party_claim", "parties",   "identifiers_claim"};
constexpr absl::string_view kLimitsKeys[] = {"per_principal", "per_address", "parties"};
constexpr absl::string_view kRateLimitKeys[] = {"requests_per_second", "burst"};
constexpr size_t kMaxJwksFileBytes = size_t{1} << 20;

constexpr absl::string_view kLegalBasisNames =
    "consent, contract, legal-obligation, vital-interest, public-task, "
    "legitimate-interest";
constexpr absl::string_view kFieldTypeNames =
    "string, int, number, bool, time, point, enum";
constexpr absl::string_view kCategoryNames =
    "direct-identifier, subject-identifier, quasi-identifier, location, "
    "time, measurement, sensitive, free-text, other";
constexpr absl::string_view kPartyKindNames =
    "department, partner, researcher, public, controller";
constexpr absl::string_view kAccessLevelNames = "public, aggregate, extract, records";
constexpr absl::string_view kRedactNames = "plate, email, phone, mac";

// ---------------------------------------------------------------------------
// Text helpers.

// Config text quoted in a message: escaped and short.
std::string Quote(absl::string_view text) {
  constexpr size_t kMax = 60;
  std::string out =
      absl::StrCat("'", absl::CHexEscape(text.substr(0, std::min(text.size(), kMax))));
  if (text.size() > kMax) out += "...";
  out += "'";
  return out;
}

bool IsId(absl::string_view s) {
  if (s.empty() || s.size() > kMaxIdLength) return false;
  if (!absl::ascii_isalnum(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

// An NGSI-LD short name (entity type or attribute): 1-64 letters, digits,
// '_' or '-', starting with a letter or '_'. Expanded IRIs are matched by
// their last segment, so the config names only that.
bool IsNgsiLdName(absl::string_view s) {
  if (s.empty() || s.size() > kMaxIdLength) return false;
  if (!absl::ascii_isalpha(static_cast<unsigned char>(s[0])) && s[0] != '_') {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsFieldName(absl::string_view s) {
  if (s.empty() || s.size() > kMaxIdLength) return false;
  if (!absl::ascii_isalpha(static_cast<unsigned char>(s[0])) && s[0] != '_') {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  return true;
}

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min(
          {row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean 'x'?)" when one of `candidates` is a likely typo target.
template <typename Range>
std::string Suggestion(absl::string_view word, const Range& candidates) {
  if (word.size() > 100) return "";
  absl::string_view best;
  size_t best_distance = 3;
  for (const auto& c : candidates) {
    const absl::string_view candidate(c);
    const size_t d = EditDistance(word, candidate);
    if (d < best_distance && d < std::max<size_t>(candidate.size(), 2)) {
      best = candidate;
      best_distance = d;
    }
  }
  if (best.empty()) return "";
  return absl::StrCat(" (did you mean '", best, "'?)");
}

SourceLocation LocationOf(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

// `node`'s position, or `fallback` when yaml-cpp has none (empty values).
SourceLocation LocationOf(const YAML::Node& node, SourceLocation fallback) {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  const SourceLocation loc = LocationOf(node.Mark());
  return loc.line == 0 ? fallback : loc;
}

absl::string_view Shape(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

// Quoted scalars carry the non-specific tag "!"; they are strings, never
// numbers or booleans.
bool IsQuoted(const YAML::Node& node) { return node.Tag() == "!"; }

std::string PluralLevels(int n) { return absl::StrCat(n, n == 1 ? " level" : " levels"); }

// ---------------------------------------------------------------------------
// Map entries with their positions.

struct Entry {
  std::string key;
  SourceLocation key_location;
  YAML::Node value;
  SourceLocation location;  // of the value; the key's when the value is empty
  std::string Label() const { return absl::StrCat("'", key, "'"); }
};

struct MapView {
  SourceLocation location;
  std::vector<Entry> entries;

  const Entry* Find(absl::string_view key) const {
    for (const Entry& e : entries) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
};

// A string read from a list, with its position.
struct ListItem {
  std::string text;
  SourceLocation location;
};

// Where a value sits in the kinds of value a transform step sees.
enum class ValueKind { kString, kInt, kNumber, kBool, kTime, kPoint, kCell, kEnum };

ValueKind KindOf(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return ValueKind::kString;
    case FieldType::kInt:
      return ValueKind::kInt;
    case FieldType::kNumber:
      return ValueKind::kNumber;
    case FieldType::kBool:
      return ValueKind::kBool;
    case FieldType::kTime:
      return ValueKind::kTime;
    case FieldType::kPoint:
      return ValueKind::kPoint;
    case FieldType::kEnum:
      return ValueKind::kEnum;
  }
  return ValueKind::kString;
}

absl::string_view NameOf(ValueKind kind) {
  switch (kind) {
    case ValueKind::kString:
      return "string";
    case ValueKind::kInt:
      return "int";
    case ValueKind::kNumber:
      return "number";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kTime:
      return "time";
    case ValueKind::kPoint:
      return "point";
    case ValueKind::kCell:
      return "cell";
    case ValueKind::kEnum:
      return "enum";
  }
  return "?";
}

// The kind of value `step` leaves, or nullopt when it does not apply.
std::optional<ValueKind> After(TransformKind step, ValueKind in) {
  using K = ValueKind;
  switch (step) {
    case TransformKind::kDrop:
    case TransformKind::kKeep:
      return in;
    case TransformKind::kPseudonymize:
      if (in == K::kString || in == K::kInt || in == K::kEnum) return K::kString;
      return std::nullopt;
    case TransformKind::kTimeBucket:
      if (in == K::kTime) return K::kTime;
      return std::nullopt;
    case TransformKind::kCell:
      if (in == K::kPoint || in == K::kCell) return K::kCell;
      return std::nullopt;
    case TransformKind::kRound:
    case TransformKind::kClamp:
      if (in == K::kInt || in == K::kNumber) return in;
      return std::nullopt;
    case TransformKind::kTruncate:
      if (in == K::kString || in == K::kEnum) return K::kString;
      return std::nullopt;
    case TransformKind::kMap:
      if (in == K::kString || in == K::kEnum || in == K::kInt) return K::kString;
      return std::nullopt;
    case TransformKind::kRedact:
      if (in == K::kString) return K::kString;
      return std::nullopt;
  }
  return std::nullopt;
}

absl::string_view AppliesTo(TransformKind step) {
  switch (step) {
    case TransformKind::kPseudonymize:
      return "string, int and enum fields";
    case TransformKind::kTimeBucket:
      return "time fields";
    case TransformKind::kCell:
      return "point fields";
    case TransformKind::kRound:
    case TransformKind::kClamp:
      return "int and number fields";
    case TransformKind::kTruncate:
      return "string and enum fields";
    case TransformKind::kMap:
      return "string, enum and int fields";
    case TransformKind::kRedact:
      return "string fields";
    default:
      return "every field";
  }
}

absl::string_view StepExample(TransformKind step) {
  switch (step) {
    case TransformKind::kTimeBucket:
      return "time_bucket: 15m";
    case TransformKind::kCell:
      return "cell: 13";
    case TransformKind::kRound:
      return "round: 0.01";
    case TransformKind::kClamp:
      return "clamp: [0, 100]";
    case TransformKind::kTruncate:
      return "truncate: 3";
    case TransformKind::kMap:
      return "map: table.csv";
    case TransformKind::kRedact:
      return "redact: [plate, email, phone, mac]";
    default:
      return "";
  }
}

bool IsIdentifierSafe(const Field& field) {
  return field.transforms.size() == 1 &&
         (field.transforms[0].kind == TransformKind::kDrop ||
          field.transforms[0].kind == TransformKind::kPseudonymize);
}

bool IsPseudonymized(const Field& field) {
  return field.transforms.size() == 1 &&
         field.transforms[0].kind == TransformKind::kPseudonymize;
}

// Records events only to find what YAML::Load would silently accept:
// aliases (which would let a small file expand into a huge config) and more
// than one document.
class EventScanner : public YAML::EventHandler {
 public:
  std::vector<SourceLocation> aliases;
  SourceLocation document_start;

  void OnDocumentStart(const YAML::Mark& mark) override {
    document_start = LocationOf(mark);
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    if (aliases.size() < kMaxErrors) aliases.push_back(LocationOf(mark));
  }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// ---------------------------------------------------------------------------
// The parser: walks the YAML tree once, fills a CityConfig and collects
// every mistake.

class ConfigParser {
 public:
  explicit ConfigParser(std::string base_dir) : base_dir_(std::move(base_dir)) {}

  void Parse(absl::string_view text) {
    const std::optional<YAML::Node> root = LoadYaml(text);
    if (!root.has_value()) return;
    try {
      ParseRoot(*root);
    } catch (const YAML::Exception& e) {
      Error(LocationOf(e.mark), "", absl::StrCat("YAML error: ", e.msg));
    } catch (const std::exception&) {
      Error({}, "", "the config could not be read (internal error)");
    }
  }

  std::vector<ConfigError> TakeErrors() {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const ConfigError& a, const ConfigError& b) {
                       return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                     });
    if (dropped_errors_ > 0) {
      errors_.push_back(
          {0, 0, absl::StrCat("too many errors; ", dropped_errors_, " more not shown")});
    }
    return std::move(errors_);
  }

  CityConfig TakeConfig() { return std::move(config_); }

 private:
  // -- errors ---------------------------------------------------------------

  void Error(SourceLocation at, absl::string_view what, absl::string_view detail) {
    if (errors_.size() >= kMaxErrors) {
      ++dropped_errors_;
      return;
    }
    errors_.push_back(
        {at.line, at.column,
         what.empty() ? std::string(detail) : absl::StrCat(what, ": ", detail)});
  }

  // -- YAML -----------------------------------------------------------------

  std::optional<YAML::Node> LoadYaml(absl::string_view text) {
    if (text.size() > kMaxConfigBytes) {
      Error({}, "",
            absl::StrCat("the config is larger than ", kMaxConfigBytes >> 20, " MiB"));
      return std::nullopt;
    }
    const std::string copy(text);
    try {
      std::istringstream in(copy);
      YAML::Parser parser(in);
      EventScanner scanner;
      int documents = 0;
      while (parser.HandleNextDocument(scanner)) {
        if (++documents > 1) {
          Error(scanner.document_start, "",
                "a second YAML document starts here; city.yaml holds exactly "
                "one");
          break;
        }
      }
      for (const SourceLocation& at : scanner.aliases) {
        Error(at, "",
              "aliases (*name) are not supported in city.yaml; write each "
              "element out in full");
      }
      if (!errors_.empty()) return std::nullopt;
      return YAML::Load(copy);
    } catch (const YAML::Exception& e) {
      Error(LocationOf(e.mark), "", absl::StrCat("YAML syntax error: ", e.msg));
    } catch (const std::exception&) {
      Error({}, "", "the config is not valid YAML");
    }
    return std::nullopt;
  }

  // Reads a mapping; reports a non-mapping, non-scalar keys and repeated keys
  // (only the first of a repeated key is kept).
  std::optional<MapView> AsMap(const YAML::Node& node, SourceLocation at,
                               absl::string_view what) {
    if (!node.IsMap()) {
      Error(at, what, absl::StrCat("expected a mapping of keys, found ", Shape(node)));
      return std::nullopt;
    }
    MapView view;
    view.location = LocationOf(node, at);
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies: the iterator's pair is a temporary.
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      const SourceLocation key_at = LocationOf(key, view.location);
      if (!key.IsScalar()) {
        Error(key_at, what, "keys must be plain names");
        continue;
      }
      if (const Entry* first = view.Find(key.Scalar())) {
        Error(key_at, what,
              absl::StrCat("key ", Quote(key.Scalar()), " appears twice (first at line ",
                           first->key_location.line, ")"));
        continue;
      }
      view.entries.push_back({key.Scalar(), key_at, value, LocationOf(value, key_at)});
    }
    return view;
  }

  void CheckKeys(const MapView& view, absl::string_view what, KeyList allowed) {
    for (const Entry& e : view.entries) {
      if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) {
        continue;
      }
      std::string hint = Suggestion(e.key, allowed);
      if (hint.empty()) {
        hint = absl::StrCat(" (expected one of: ", absl::StrJoin(allowed, ", "), ")");
      }
      Error(e.key_location, what, absl::StrCat("unknown key ", Quote(e.key), hint));
    }
  }

  const Entry* Required(const MapView& view, absl::string_view key,
                        absl::string_view what) {
    const Entry* e = view.Find(key);
    if (e == nullptr) {
      Error(view.location, what, absl::StrCat("missing required key '", key, "'"));
    }
    return e;
  }

  // Names a list element by its id when it has a usable one:
  // "stream 'energy.meter_readings'", else "stream #3".
  static std::string ElementName(const YAML::Node& node, absl::string_view kind,
                                 absl::string_view id_key, size_t index) {
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node key = it->first;
        const YAML::Node value = it->second;
        if (key.IsScalar() && key.Scalar() == id_key && value.IsScalar() &&
            !value.Scalar().empty()) {
          return absl::StrCat(kind, " ", Quote(value.Scalar()));
        }
      }
    }
    return absl::StrCat(kind, " #", index);
  }

  template <typename F>
  void ForEachItem(const Entry* e, absl::string_view what, F&& parse_item) {
    if (e == nullptr) return;
    if (!e->value.IsSequence()) {
      Error(e->location, what,
            absl::StrCat(e->Label(), " must be a list, found ", Shape(e->value)));
      return;
    }
    size_t index = 0;
    for (const YAML::Node& item : e->value) {
      parse_item(item, LocationOf(item, e->location), ++index);
    }
  }

  // -- scalars --------------------------------------------------------------

  std::optional<std::string> String(const Entry& e, absl::string_view what) {
    if (!e.value.IsScalar()) {
      Error(e.location, what,
            absl::StrCat(e.Label(), " must be a string, found ", Shape(e.value)));
      return std::nullopt;
    }
    return e.value.Scalar();
  }

  std::optional<std::string> NonEmptyString(const Entry& e, absl::string_view what) {
    std::optional<std::string> s = String(e, what);
    if (s.has_value() && absl::StripAsciiWhitespace(*s).empty()) {
      Error(e.location, what, absl::StrCat(e.Label(), " must not be empty"));
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> Id(const Entry& e, absl::string_view what) {
    std::optional<std::string> s = String(e, what);
    if (s.has_value() && !IsId(*s)) {
      Error(e.location, what,
            absl::StrCat(e.Label(), " ", Quote(*s),
                         " is not a valid id (1 to 64 letters, digits, '.', "
                         "'_' or '-', starting with a letter or digit)"));
      return std::nullopt;
    }
    return s;
  }

  std::optional<bool> Bool(const Entry& e, absl::string_view what) {
    if (e.value.IsScalar() && !IsQuoted(e.value)) {
      const std::string& s = e.value.Scalar();
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    Error(e.location, what, absl::StrCat(e.Label(), " must be true or false"));
    return std::nullopt;
  }

  std::optional<int64_t> Int(const YAML::Node& node, SourceLocation at,
                             absl::string_view what, absl::string_view label, int64_t min,
                             int64_t max) {
    int64_t v = 0;
    if (!node.IsScalar() || IsQuoted(node) || !absl::SimpleAtoi(node.Scalar(), &v)) {
      Error(at, what, absl::StrCat(label, " must be a whole number"));
      return std::nullopt;
    }
    if (v < min || v > max) {
      Error(at, what, absl::StrCat(label, " must be between ", min, " and ", max));
      return std::nullopt;
    }
    return v;
  }

  std::optional<int64_t> Int(const Entry& e, absl::string_view what, int64_t min,
                             int64_t max) {
    return Int(e.value, e.location, what, e.Label(), min, max);
  }

  std::optional<double> Number(const YAML::Node& node, SourceLocation at,
                               absl::string_view what, absl::string_view label) {
    double v = 0;
    if (!node.IsScalar() || IsQuoted(node) || !absl::SimpleAtod(node.Scalar(), &v) ||
        !std::isfinite(v)) {
      Error(at, what, absl::StrCat(label, " must be a finite number"));
      return std::nullopt;
    }
    return v;
  }

  std::optional<double> Number(const Entry& e, absl::string_view what) {
    return Number(e.value, e.location, what, e.Label());
  }

  // A duration longer than zero ("15m", "30d").
  std::optional<absl::Duration> Duration(const Entry& e, absl::string_view what) {
    if (!e.value.IsScalar()) {
      Error(e.location, what,
            absl::StrCat(e.Label(), " must be a duration such as 15m, 1h or 30d"));
      return std::nullopt;
    }
    const absl::StatusOr<absl::Duration> d = ParseDurationSpec(e.value.Scalar());
    if (!d.ok()) {
      Error(e.location, what, absl::StrCat(e.Label(), ": ", d.status().message()));
      return std::nullopt;
    }
    if (*d <= absl::ZeroDuration()) {
      Error(e.location, what, absl::StrCat(e.Label(), " must be longer than 0"));
      return std::nullopt;
    }
    return *d;
  }

  // A date (YYYY-MM-DD, midnight UTC) or RFC 3339 time. With kEndOfDay a
  // bare date means the end of that day (the next midnight).
  enum class DateMeaning { kStartOfDay, kEndOfDay };
  std::optional<absl::Time> Timestamp(const Entry& e, absl::string_view what,
                                      DateMeaning meaning) {
    if (!e.value.IsScalar()) {
      Error(e.location, what,
            absl::StrCat(e.Label(), " must be a date (YYYY-MM-DD) or an RFC 3339 time"));
      return std::nullopt;
    }
    const std::string text(absl::StripAsciiWhitespace(e.value.Scalar()));
    const absl::StatusOr<absl::Time> t = ParseTimestamp(text);
    if (!t.ok()) {
      Error(e.location, what,
            absl::StrCat(e.Label(), " must be a date (YYYY-MM-DD) or an RFC 3339 time: ",
                         t.status().message()));
      return std::nullopt;
    }
    if (meaning == DateMeaning::kEndOfDay && text.size() == 10) {
      return *t + absl::Hours(24);
    }
    return *t;
  }

  template <typename E>
  std::optional<E> Enum(const Entry& e, absl::string_view what,
                        std::optional<E> (*parse)(std::string_view),
                        absl::string_view names) {
    if (e.value.IsScalar()) {
      if (std::optional<E> v = parse(e.value.Scalar())) return v;
      Error(e.location, what,
            absl::StrCat(e.Label(), " ", Quote(e.value.Scalar()),
                         " is not one of: ", names));
      return std::nullopt;
    }
    Error(
        e.location, what,
        absl::StrCat(e.Label(), " must be one of: ", names, "; found ", Shape(e.value)));
    return std::nullopt;
  }

  // A list of strings; `empty` says whether [] is acceptable. Repeated items
  // are reported and dropped.
  enum class EmptyList { kAllowed, kRejected };
  std::optional<std::vector<ListItem>> StringList(const Entry& e, absl::string_view what,
                                                  EmptyList empty) {
    if (!e.value.IsSequence()) {
      Error(e.location, what,
            absl::StrCat(e.Label(), " must be a list such as [a, b], found ",
                         Shape(e.value)));
      return std::nullopt;
    }
    std::vector<ListItem> items;
    for (const YAML::Node& item : e.value) {
      const SourceLocation at = LocationOf(item, e.location);
      if (!item.IsScalar()) {
        Error(at, what,
              absl::StrCat("each item of ", e.Label(), " must be a string, found ",
                           Shape(item)));
        continue;
      }
      const auto repeated =
          std::find_if(items.begin(), items.end(),
                       [&](const ListItem& i) { return i.text == item.Scalar(); });
      if (repeated != items.end()) {
        Error(at, what,
              absl::StrCat(e.Label(), " lists ", Quote(item.Scalar()), " twice"));
        continue;
      }
      items.push_back({item.Scalar(), at});
    }
    if (empty == EmptyList::kRejected && e.value.size() == 0) {
      Error(e.location, what, absl::StrCat(e.Label(), " must not be empty"));
    }
    return items;
  }

  // Claims `id` for a new element; false (with an error) if it is taken.
  // `noun` names what is unique ("stream id", "field name").
  bool Register(absl::flat_hash_map<std::string, SourceLocation>& ids,
                const std::string& id, SourceLocation at, absl::string_view what,
                absl::string_view noun) {
    const auto [it, inserted] = ids.emplace(id, at);
    if (!inserted) {
      Error(at, what,
            absl::StrCat("duplicate ", noun, " ", Quote(id), " (first declared at line ",
                         it->second.line, ")"));
    }
    return inserted;
  }

  // -- sections -------------------------------------------------------------

  void ParseRoot(const YAML::Node& root) {
    if (!root.IsDefined() || root.IsNull()) {
      Error({1, 1}, "", "the config is empty; it needs at least a 'city' section");
      return;
    }
    const std::optional<MapView> view = AsMap(root, {1, 1}, "the config");
    if (!view.has_value()) return;
    CheckKeys(*view, "top level", kRootKeys);
    if (const Entry* e = Required(*view, "city", "the config")) ParseCity(*e);
    if (const Entry* e = view->Find("store")) ParseStore(*e);
    // Sections are read in dependency order, wherever they are written.
    ForEachItem(view->Find("purposes"), "",
                [&](const YAML::Node& n, SourceLocation at, size_t i) {
                  ParsePurpose(n, at, i);
                });
    ForEachItem(
        view->Find("parties"), "",
        [&](const YAML::Node& n, SourceLocation at, size_t i) { ParseParty(n, at, i); });
    ForEachItem(
        view->Find("streams"), "",
        [&](const YAML::Node& n, SourceLocation at, size_t i) { ParseStream(n, at, i); });
    ForEachItem(view->Find("agreements"), "",
                [&](const YAML::Node& n, SourceLocation at, size_t i) {
                  ParseAgreement(n, at, i);
                });
    ForEachItem(
        view->Find("sensors"), "",
        [&](const YAML::Node& n, SourceLocation at, size_t i) { ParseSensor(n, at, i); });
    ParseMqtt(view->Find("mqtt"));
    if (const Entry* e = view->Find("dpia")) ParseDpia(*e);
    if (const Entry* e = view->Find("oidc")) ParseOidc(*e);
    if (const Entry* e = view->Find("limits")) ParseLimits(*e);
  }

  void ParseDpia(const Entry& entry) {
    constexpr absl::string_view what = "dpia";
    const std::optional<MapView> view = AsMap(entry.value, entry.location, what);
    if (!view.has_value()) return;
    CheckKeys(*view, what, kDpiaKeys);
    DpiaSettings& d = config_.dpia;
    if (const Entry* e = view->Find("k")) {
      if (auto v = Int(*e, what, 2, 1000)) d.k = static_cast<int>(*v);
    }
    for (auto [key, out] : {std::pair{"unicity_threshold", &d.unicity_threshold},
                            std::pair{"k_share_threshold", &d.k_share_threshold}}) {
      if (const Entry* e = view->Find(key)) {
        if (auto v = Number(*e, what)) {
          if (*v < 0 || *v > 1) {
            Error(e->location, what, absl::StrCat("'", key, "' must be between 0 and 1"));
          } else {
            *out = *v;
          }
        }
      }
    }
    if (const Entry* e = view->Find("interval")) {
      if (auto v = Duration(*e, what)) d.interval = *v;
    }
  }

  void ParseCity(const Entry& entry) {
    constexpr absl::string_view what = "city";
    const std::optional<MapView> view = AsMap(entry.value, entry.location, what);
    if (!view.has_value()) return;
    CheckKeys(*view, what, kCityKeys);
    City& city = config_.city;
    if (const Entry* e = Required(*view, "name", what)) {
      if (auto v = NonEmptyString(*e, what)) city.name = *v;
    }
    if (const Entry* e = Required(*view, "controller", what)) {
      if (auto v = NonEmptyString(*e, what)) city.controller = *v;
    }
    if (const Entry* e = Required(*view, "contact", what)) {
      if (auto v = NonEmptyString(*e, what)) city.contact = *v;
    }
    if (const Entry* e = view->Find("area")) ParseArea(*e);
  }

  void ParseArea(const Entry& entry) {
    if (std::optional<Area> area = ParseAreaOf(entry, "city area"))
      config_.city.area = *area;
  }

  // An area: {min_lat, min_lon, max_lat, max_lon} or {polygon: [[lat, lon],
  // ...]} (at least three vertices, a simple loop).
  std::optional<Area> ParseAreaOf(const Entry& entry, absl::string_view what) {
    const std::optional<MapView> view = AsMap(entry.value, entry.location, what);
    if (!view.has_value()) return std::nullopt;
    CheckKeys(*view, what, kAreaKeys);
    Area area;
    if (const Entry* poly = view->Find("polygon")) {
      for (absl::string_view key : {"min_lat", "min_lon", "max_lat", "max_lon"}) {
        if (const Entry* e = view->Find(key)) {
          Error(e->location, what,
                absl::StrCat("'", key, "' cannot be combined with 'polygon'"));
          return std::nullopt;
        }
      }
      return ParsePolygon(*poly, what);
    }
    bool ok = true;
    const auto coordinate = [&](absl::string_view key, double limit, double& out) {
      const Entry* e = Required(*view, key, what);
      std::optional<double> v = e ? Number(*e, what) : std::nullopt;
      if (v.has_value() && std::abs(*v) > limit) {
        Error(e->location, what,
              absl::StrCat(e->Label(), " must be between ", -limit, " and ", limit));
        v.reset();
      }
      ok &= v.has_value();
      if (v) out = *v;
    };
    coordinate("min_lat", 90, area.min_latitude);
    coordinate("min_lon", 180, area.min_longitude);
    coordinate("max_lat", 90, area.max_latitude);
    coordinate("max_lon", 180, area.max_longitude);
    if (!ok) return std::nullopt;
    if (area.min_latitude >= area.max_latitude) {
      Error(view->Find("max_lat")->location, what,
            "'max_lat' must be greater than 'min_lat'");
      ok = false;
    }
    if (area.min_longitude >= area.max_longitude) {
      Error(view->Find("max_lon")->location, what,
            "'max_lon' must be greater than 'min_lon'");
      ok = false;
    }
    if (!ok) return std::nullopt;
    return area;
  }

  std::optional<Area> ParsePolygon(const Entry& e, absl::string_view what) {
    if (!e.value.IsSequence() || e.value.size() < 3) {
      Error(e.location, what,
            "'polygon' must be a list of at least three [lat, lon] vertices");
      return std::nullopt;
    }
    Area area;
    area.min_latitude = area.min_longitude = 1000;
    area.max_latitude = area.max_longitude = -1000;
    size_t index = 0;
    for (const YAML::Node& item : e.value) {
      ++index;
      const SourceLocation at = LocationOf(item, e.location);
      const std::string label = absl::StrCat("polygon vertex #", index);
      if (!item.IsSequence() || item.size() != 2) {
        Error(at, what, absl::StrCat(label, " must be a pair [lat, lon]"));
        return std::nullopt;
      }
      std::optional<double> lat = Number(item[0], at, what, label);
      std::optional<double> lon = Number(item[1], at, what, label);
      if (!lat || !lon) return std::nullopt;
      if (std::abs(*lat) > 90 || std::abs(*lon) > 180) {
        Error(at, what,
              absl::StrCat(label,
                           " must have a latitude in -90..90 and a longitude in "
                           "-180..180"));
        return std::nullopt;
      }
      area.polygon.emplace_back(*lat, *lon);
      area.min_latitude = std::min(area.min_latitude, *lat);
      area.max_latitude = std::max(area.max_latitude, *lat);
      area.min_longitude = std::min(area.min_longitude, *lon);
      area.max_longitude = std::max(area.max_longitude, *lon);
    }
    if (std::string why = PolygonError(area.polygon); !why.empty()) {
      Error(e.location, what, absl::StrCat("'polygon' is not a simple polygon: ", why));
      return std::nullopt;
    }
    return area;
  }

  void ParseStore(const Entry& e) {
    const std::optional<std::string> uri = String(e, "store");
    if (!uri.has_value()) return;
    const bool sqlite = uri->starts_with("sqlite:") && uri->size() > 7;
    const bool postgres = (uri->starts_with("postgresql://") && uri->size() > 13) ||
                          (uri->starts_with("postgres://") && uri->size() > 11);
    if (!sqlite && !postgres) {
      Error(e.location, "store", "must be 'sqlite:PATH' or a 'postgresql://' URI");
      return;
    }
    config_.store = *uri;
  }

  void ParsePurpose(const YAML::Node& node, SourceLocation at, size_t index) {
    const std::string what = ElementName(node, "purpose", "id", index);
    const std::optional<MapView> view = AsMap(node, at, what);
    if (!view.has_value()) return;
    CheckKeys(*view, what, kPurposeKeys);
    Purpose purpose;
    purpose.location = view->location;
    const Entry* id_entry = Required(*view, "id", what);
    const std::optional<std::string> id = id_entry ? Id(*id_entry, what) : std::nullopt;
    if (const Entry* e = view->Find("description")) {
      if (auto v = String(*e, what)) purpose.description = *v;
    }
    if (const Entry* e = Required(*view, "legal_basis", what)) {
      if (auto v = Enum(*e, what, ParseLegalBasis, kLegalBasisNames))
        purpose.legal_basis = *v;
    }
    if (const Entry* e = view->Find("prohibited")) {
      if (auto v = Bool(*e, what)) purpose.prohibited = *v;
    }
    const Entry* mandatory = view->Find("mandatory");
    if (mandatory != nullptr) {
      if (auto v = Bool(*mandatory, what)) purpose.mandatory = *v;
    }
    if (purpose.mandatory && purpose.prohibited) {
      Error(mandatory->location, what,
            "a purpose cannot be both prohibited and mandatory");
    }
    if (purpose.mandatory && purpose.legal_basis == LegalBasis::kConsent) {
      Error(mandatory->location, what,
            "a mandatory purpose cannot rest on consent (consent can always be "
            "refused)");
    }
    if (id.has_value() &&
        Register(purpose_ids_, *id, id_entry->location, "", "purpose id")) {
      purpose.id = *id;
      config_.purposes.push_back(std::move(purpose));
    }
  }

  void ParseParty(const YAML::Node& node, SourceLocation at, size_t index) {
    const std::string what = ElementName(node, "party", "id", index);
    const std::optional<MapView> view = AsMap(node, at, what);
    if (!view.has_value()) return;
    CheckKeys(*view, what, kPartyKeys);
    Party party;
    party.location = view->location;
    const Entry* id_entry = Required(*view, "id", what);
    const std::optional<std::string> id = id_entry ? Id(*id_entry, what) : std::nullopt;
    if (const Entry* e = Required(*view, "name", what)) {
      if (auto v = NonEmptyString(*e, what)) party.name = *v;
    }
    if (const Entry* e = Required(*view, "kind", what)) {
      if (auto v = Enum(*e, what, ParsePartyKind, kPartyKindNames)) party.kind = *v;
    }
    if (const Entry* e = view->Find("contact")) {
      if (auto v = String(*e, what)) party.contact = *v;
    }
    if (id.has_value() && Register(party_ids_, *id, id_entry->location, "", "party id")) {
      party.id = *id;
      config_.parties.push_back(std::move(party));
    }
  }

  // -- streams and fields ---------------------------------------------------

  void ParseStream(const YAML::Node& node, SourceLocation at, size_t index) {
    const std::string what = ElementName(node, "stream", "id", index);
    const std::optional<MapView> view = AsMap(node, at, what);
    if (!view.has_value()) return;
    CheckKeys(*view, what, kStreamKeys);
    Stream stream;
    stream.location = view->location;
    const Entry* id_entry = Required(*view, "id", what);
    const std::optional<std::string> id = id_entry ? Id(*id_entry, what) : std::nullopt;
    if (const Entry* e = view->Find("description")) {
      if (auto v = String(*e, what)) stream.description = *v;
    }

    // Fields first: the stream's other keys refer to them.
    if (const Entry* e = Required(*view, "fields", what)) {
      if (e->value.IsSequence() && e->value.size() == 0) {
        Error(e->location, what, "'fields' must not be empty");
      }
      absl::flat_hash_map<std::string, SourceLocation> names;
      ForEachItem(e, what, [&](const YAML::Node& n, SourceLocation item_at, size_t i) {
        std::optional<Field> field = ParseField(n, item_at, i, what);
        if (field.has_value() &&
            Register(names, field->name, field->location, what, "field name")) {
          stream.fields.push_back(std::move(*field));
        }
      });
    }

    const Entry* subject = view->Find("subject");
    if (subject != nullptr && !subject->value.IsNull()) {
      if (auto v = NonEmptyString(*subject, what)) stream.subject_field = *v;
    }
    const Entry* time = Required(*view, "time", what);
    if (time != nullptr) {
      if (auto v = NonEmptyString(*time, what)) stream.time_field = *v;
    }
    const Entry* location = view->Find("location");
    if (location != nullptr && !location->value.IsNull()) {
      if (auto v = NonEmptyString(*location, what)) stream.location_field = *v;
    }
    const Entry* epoch = view->Find("epoch");
    bool durations_ok = true;
    const auto duration = [&](const Entry* e, absl::Duration& out) {
      if (e == nullptr) return;
      std::optional<absl::Duration> d = Duration(*e, what);
      durations_ok &= d.has_value();
      if (d) out = *d;
    };
    duration(epoch, stream.epoch);
    duration(view->Find("retention"), stream.retention);
    const Entry* linkability = view->Find("linkability");
    duration(linkability, stream.linkability);
    if (const Entry* e = view->Find("legal_basis")) {
      if (auto v = Enum(*e, what, ParseLegalBasis, kLegalBasisNames))
        stream.legal_basis = *v;
    }
    if (const Entry* e = Required(*view, "purposes", what)) {
      if (auto items = StringList(*e, what, EmptyList::kRejected)) {
        for (const ListItem& item : *items) {
          const Purpose* purpose = config_.FindPurpose(item.text);
          if (purpose == nullptr) {
            Error(item.location, what, UnknownPurpose(item.text));
          } else if (purpose->prohibited) {
            Error(item.location, what,
                  absl::StrCat("purpose ", Quote(item.text), " is prohibited city-wide"));
          }
          stream.purposes.push_back(item.text);
        }
      }
    }

    if (const Entry* e = view->Find("mqtt")) stream.mqtt = ParseMqttFeed(*e, what);
    if (const Entry* e = view->Find("area")) {
      stream.area = ParseAreaOf(*e, what);
      if (stream.area && (location == nullptr || location->value.IsNull())) {
        Error(e->location, what, "'area' needs a 'location' field");
      }
    }
    if (const Entry* e = view->Find("ngsi_ld")) ParseNgsiLd(*e, stream, what);

    // References from the stream to its fields.
    if (!stream.subject_field.empty()) {
      CheckSubject(stream, *subject, what);
    }
    if (!stream.time_field.empty()) {
      CheckFieldRef(stream, stream.time_field, FieldType::kTime, *time, "time", what);
    }
    if (!stream.location_field.empty()) {
      CheckFieldRef(stream, stream.location_field, FieldType::kPoint, *location,
                    "location", what);
    }
    for (const Field& f : stream.fields) {
      if (stream.subject_field.empty() &&
          f.category == FieldCategory::kSubjectIdentifier) {
        Error(
            f.location, what,
            absl::StrCat("field '", f.name,
                         "' is a subject-identifier but the stream names no 'subject'"));
      }
    }
    if (durations_ok && stream.linkability < stream.epoch) {
      const Entry* at_entry = linkability != nullptr ? linkability : epoch;
      Error(
          at_entry != nullptr ? at_entry->location : stream.location, what,
          absl::StrCat("linkability (", FormatDurationSpec(stream.linkability),
                       linkability == nullptr ? ", the default" : "",
                       ") is shorter than the epoch (", FormatDurationSpec(stream.epoch),
                       "): pseudonyms must stay linkable for at least one epoch"));
    }
    if (id.has_value() &&
        Register(stream_ids_, *id, id_entry->location, "", "stream id")) {
      stream.id = *id;
      config_.streams.push_back(std::move(stream));
    }
  }

  // `ngsi_ld`: one mapping or a list of them, each taking one entity type
  // to this stream. REQUIRES: stream.fields and stream.time_field are parsed.
  void ParseNgsiLd(const Entry& e, Stream& stream, absl::string_view stream_what) {
    const std::string what = absl::StrCat(stream_what, " ngsi_ld");
    auto parse_one = [&](const YAML::Node& node, SourceLocation at) {
      const std::optional<MapView> view = AsMap(node, at, what);
      if (!view.has_value()) return;
      CheckKeys(*view, what, kNgsiLdKeys);
      NgsiLdMapping m;
      m.location = view->location;
      if (const Entry* t = Required(*view, "entity_type", what)) {
        if (auto v = String(*t, what)) {
          if (!IsNgsiLdName(*v)) {
            Error(t->location, what,
                  absl::StrCat("'entity_type' ", Quote(*v),
                               " is not an NGSI-LD short name (1 to 64 letters, digits, "
                               "'_' or '-', starting with a letter or '_')"));
          } else if (Register(ngsi_types_, *v, t->location, what,
                              "NGSI-LD entity type")) {
            m.entity_type = *v;
          }
        }
      }
      // A field may receive one input only.
      absl::flat_hash_map<std::string, SourceLocation> targets;
      auto target = [&](const Entry& ref, const std::string& field,
                        absl::string_view role) {
        const Field* f = stream.FindField(field);
        if (f == nullptr) {
          Error(ref.location, what, UndeclaredField(role, stream, field));
          return false;
        }
        return Register(targets, field, ref.location, what, "target field");
      };
      if (const Entry* a = view->Find("attributes")) {
        if (std::optional<MapView> attrs = AsMap(a->value, a->location, what)) {
          for (const Entry& attr : attrs->entries) {
            if (!IsNgsiLdName(attr.key)) {
              Error(attr.key_location, what,
                    absl::StrCat("attribute ", Quote(attr.key),
                                 " is not an NGSI-LD short name (write the last segment "
                                 "of an expanded IRI)"));
              continue;
            }
            std::optional<std::string> field = String(attr, what);
            if (!field.has_value()) continue;
            if (target(attr, *field, "target"))
              m.attributes.emplace_back(attr.key, *field);
          }
        }
      }
      if (const Entry* f = view->Find("id_field")) {
        if (auto v = NonEmptyString(*f, what); v && target(*f, *v, "id")) {
          const Field* field = stream.FindField(*v);
          if (field->type != FieldType::kString) {
            Error(f->location, what,
                  absl::StrCat("the id field '", *v, "' must be of type string, not ",
                               Sv(ToString(field->type))));
          }
          m.id_field = *v;
        }
      }
      m.observed_at = stream.time_field;
      if (const Entry* o = view->Find("observed_at")) {
        if (auto v = NonEmptyString(*o, what)) {
          m.observed_at = *v;
          CheckFieldRef(stream, *v, FieldType::kTime, *o, "observed_at", what);
        }
      }
      if (m.attributes.empty() && m.id_field.empty()) {
        Error(m.location, what, "maps no attribute: give 'attributes' or 'id_field'");
      }
      stream.ngsi_ld.push_back(std::move(m));
    };
    if (e.value.IsSequence()) {
      if (e.value.size() == 0) Error(e.location, what, "'ngsi_ld' must not be empty");
      for (const YAML::Node& item : e.value)
        parse_one(item, LocationOf(item, e.location));
    } else {
      parse_one(e.value, e.location);
    }
  }

  void CheckSubject(const Stream& stream, const Entry& ref, absl::string_view what) {
    const Field* f = stream.FindField(stream.subject_field);
    if (f == nullptr) {
      Error(ref.location, what, UndeclaredField("subject", stream, stream.subject_field));
      return;
    }
    if (f->category != FieldCategory::kSubjectIdentifier) {
      Error(ref.location, what,
            absl::StrCat("the subject field '", f->name,
                         "' must have category subject-identifier, not ",
                         Sv(ToString(f->category))));
    }
    // An identifier category that is neither dropped nor pseudonymized was
    // already reported at the field.
    const bool reported = (f->category == FieldCategory::kSubjectIdentifier ||
                           f->category == FieldCategory::kDirectIdentifier) &&
                          !IsIdentifierSafe(*f);
    if (!IsPseudonymized(*f) && !reported) {
      Error(ref.location, what,
            absl::StrCat("the subject field '", f->name,
                         "' must have 'transform: pseudonymize' (raw identifiers "
                         "never reach disk)"));
    }
  }

  void CheckFieldRef(const Stream& stream, const std::string& name, FieldType type,
                     const Entry& ref, absl::string_view role, absl::string_view what) {
    const Field* f = stream.FindField(name);
    if (f == nullptr) {
      Error(ref.location, what, UndeclaredField(role, stream, name));
      return;
    }
    if (f->type != type) {
      Error(ref.location, what,
            absl::StrCat("the ", role, " field '", name, "' must be of type ",
                         Sv(ToString(type)), ", not ", Sv(ToString(f->type))));
    }
    if (f->dropped()) {
      Error(ref.location, what,
            absl::StrCat("the ", role, " field '", name, "' cannot be dropped"));
    }
  }

  static std::string UndeclaredField(absl::string_view role, const Stream& stream,
                                     absl::string_view name) {
    std::vector<absl::string_view> names;
    for (const Field& f : stream.fields) names.push_back(f.name);
    return absl::StrCat("the ", role, " field ", Quote(name),
                        " is not declared in 'fields'", Suggestion(name, names));
  }

  std::string UnknownPurpose(absl::string_view id) const {
    std::vector<absl::string_view> ids;
    for (const Purpose& p : config_.purposes) ids.push_back(p.id);
    return absl::StrCat("unknown purpose ", Quote(id), Suggestion(id, ids));
  }

  std::optional<Field> ParseField(const YAML::Node& node, SourceLocation at, size_t index,
                                  absl::string_view stream_what) {
    const std::string what =
        absl::StrCat(stream_what, " ", ElementName(node, "field", "name", index));
    const std::optional<MapView> view = AsMap(node, at, what);
    if (!view.has_value()) return std::nullopt;
    CheckKeys(*view, what, kFieldKeys);
    Field field;
    field.location = view->location;
    bool named = false;
    if (const Entry* e = Required(*view, "name", what)) {
      if (auto v = String(*e, what)) {
        if (IsFieldName(*v)) {
          field.name = *v;
          named = true;
        } else {
          Error(e->location, what,
                absl::StrCat("field name ", Quote(*v),
                             " is not valid (1 to 64 letters, digits or '_', not "
                             "starting with a digit)"));
        }
      }
    }
    std::optional<FieldType> type;
    if (const Entry* e = Required(*view, "type", what)) {
      type = Enum(*e, what, ParseFieldType, kFieldTypeNames);
      if (type) field.type = *type;
    }
    if (const Entry* e = Required(*view, "category", what)) {
      if (auto v = Enum(*e, what, ParseFieldCategory, kCategoryNames))
        field.category = *v;
    }
    if (const Entry* e = view->Find("source")) {
      ParseSource(*e, type, what, field);
    } else {
      field.source = {field.name};
    }
    if (const Entry* e = view->Find("required")) {
      if (auto v = Bool(*e, what)) field.required = *v;
    }
    const Entry* values = view->Find("values");
    if (values != nullptr) {
      if (type.has_value() && *type != FieldType::kEnum) {
        Error(values->key_location, what, "'values' only applies to enum fields");
      } else if (auto items = StringList(*values, what, EmptyList::kRejected)) {
        for (ListItem& item : *items) field.values.push_back(std::move(item.text));
      }
    } else if (type == FieldType::kEnum) {
      Error(field.location, what, "an enum field needs 'values'");
    }
    for (const absl::string_view key : {"min", "max"}) {
      const Entry* e = view->Find(key);
      if (e == nullptr) continue;
      if (type.has_value() && *type != FieldType::kInt && *type != FieldType::kNumber) {
        Error(e->key_location, what,
              absl::StrCat("'", key, "' only applies to int and number fields"));
        continue;
      }
      (key == "min" ? field.min : field.max) = Number(*e, what);
    }
    if (field.min && field.max && *field.min > *field.max) {
      Error(view->Find("max")->location, what, "'max' is below 'min'");
    }
    const Entry* transform = view->Find("transform");
    if (transform != nullptr) {
      field.transforms = ParseTransforms(*transform, type, what);
    }
    if ((field.category == FieldCategory::kDirectIdentifier ||
         field.category == FieldCategory::kSubjectIdentifier) &&
        !IsIdentifierSafe(field)) {
      Error(transform != nullptr ? transform->location : field.location, what,
            absl::StrCat("a ", Sv(ToString(field.category)),
                         " must have 'transform: drop' or 'transform: pseudonymize'",
                         transform == nullptr ? " (it has no transform, so it would be "
                                                "kept as is)"
                                              : ""));
    }
    if (!named) return std::nullopt;
    return field;
  }

  void ParseSource(const Entry& e, std::optional<FieldType> type, absl::string_view what,
                   Field& field) {
    if (e.value.IsSequence()) {
      if (type.has_value() && *type != FieldType::kPoint) {
        Error(e.location, what,
              "only a point field can be read from two columns; 'source' must be a "
              "string");
        return;
      }
      std::optional<std::vector<ListItem>> items =
          StringList(e, what, EmptyList::kRejected);
      if (!items.has_value()) return;
      if (items->size() != 2) {
        Error(e.location, what,
              "a point read from columns lists exactly two: [latitude, longitude]");
        return;
      }
      for (const ListItem& item : *items) {
        if (item.text.empty()) {
          Error(item.location, what, "a 'source' column name must not be empty");
          return;
        }
        field.source.push_back(item.text);
      }
      return;
    }
    if (std::optional<std::string> s = String(e, what)) {
      if (s->empty()) {
        Error(e.location, what, "'source' must not be empty");
        return;
      }
      field.source = {*s};
    }
  }

  // -- transforms -------------------------------------------------------------

  std::vector<Transform> ParseTransforms(const Entry& e, std::optional<FieldType> type,
                                         absl::string_view what) {
    std::vector<Transform> steps;
    const YAML::Node& value = e.value;
    if (value.IsScalar()) {
      const std::string& name = value.Scalar();
      const std::optional<TransformKind> kind = ParseTransformKind(name);
      if (!kind.has_value()) {
        std::string hint = Suggestion(
            name, std::vector<absl::string_view>{"drop", "keep", "pseudonymize"});
        Error(e.location, what,
              absl::StrCat("unknown transform ", Quote(name),
                           hint.empty() ? " (expected drop, keep, pseudonymize or a "
                                          "mapping of steps such as 'round: 5')"
                                        : hint));
      } else if (*kind == TransformKind::kDrop || *kind == TransformKind::kKeep ||
                 *kind == TransformKind::kPseudonymize) {
        Transform t;
        t.kind = *kind;
        t.location = e.location;
        steps.push_back(std::move(t));
      } else {
        Error(e.location, what,
              absl::StrCat("transform '", name, "' needs a parameter, e.g. '",
                           StepExample(*kind), "'"));
      }
    } else if (value.IsMap()) {
      ParseStepMap(value, e.location, what, steps);
    } else if (value.IsSequence()) {
      if (value.size() == 0) Error(e.location, what, "the transform list is empty");
      for (const YAML::Node& item : value) {
        const SourceLocation at = LocationOf(item, e.location);
        if (item.IsMap()) {
          ParseStepMap(item, at, what, steps);
        } else {
          Error(at, what,
                "each item of a transform list is a mapping of steps, e.g. "
                "'- round: 5'; drop, keep and pseudonymize stand alone");
        }
      }
    } else {
      Error(e.location, what,
            "'transform' is empty; write drop, keep, pseudonymize or a mapping of "
            "steps");
    }
    if (type.has_value()) CheckApplicable(steps, *type, what);
    return steps;
  }

  void CheckApplicable(const std::vector<Transform>& steps, FieldType type,
                       absl::string_view what) {
    ValueKind current = KindOf(type);
    absl::string_view producer;  // the step that made `current`, if any
    for (const Transform& t : steps) {
      const std::optional<ValueKind> next = After(t.kind, current);
      if (!next.has_value()) {
        if (producer.empty()) {
          Error(t.location, what,
                absl::StrCat("transform '", Sv(ToString(t.kind)),
                             "' does not apply to a ", Sv(ToString(type)),
                             " field (it applies to ", AppliesTo(t.kind), ")"));
        } else {
          Error(t.location, what,
                absl::StrCat("transform '", Sv(ToString(t.kind)),
                             "' does not apply to the ", NameOf(current),
                             " value left by '", producer, "'"));
        }
        continue;
      }
      if (current == ValueKind::kInt) CheckIntStep(t, what);
      if (*next != current) producer = Sv(ToString(t.kind));
      current = *next;
    }
  }

  // Steps on int values must keep them whole.
  void CheckIntStep(const Transform& t, absl::string_view what) {
    constexpr double kMaxIntStep = 4611686018427387904.0;  // 2^62
    if (t.kind == TransformKind::kRound && t.step > 0 &&
        (std::floor(t.step) != t.step || t.step > kMaxIntStep)) {
      Error(t.location, what, "'round' on an int value needs a whole-number step");
    }
    if (t.kind == TransformKind::kClamp && t.min && t.max && *t.min <= *t.max &&
        std::ceil(*t.min) > std::floor(*t.max)) {
      Error(t.location, what,
            "'clamp' range holds no whole number, but the value is an int");
    }
  }

  // One mapping of steps, applied in the order written.
  void ParseStepMap(const YAML::Node& node, SourceLocation at, absl::string_view what,
                    std::vector<Transform>& steps) {
    const std::optional<MapView> view = AsMap(node, at, what);
    if (!view.has_value()) return;
    const Entry* level = view->Find("level");
    if (level != nullptr && view->Find("map") == nullptr) {
      Error(level->key_location, what,
            "'level' belongs to a 'map' step, and there is none");
    }
    for (const Entry& e : view->entries) {
      if (e.key == "level") continue;
      const std::optional<TransformKind> kind = ParseTransformKind(e.key);
      if (!kind.has_value()) {
        Error(e.key_location, what,
              absl::StrCat("unknown transform ", Quote(e.key),
                           Suggestion(e.key, kStepKeys)));
        continue;
      }
      Transform t;
      t.kind = *kind;
      t.location = e.key_location;
      switch (*kind) {
        case TransformKind::kDrop:
        case TransformKind::kKeep:
        case TransformKind::kPseudonymize:
          Error(e.key_location, what,
                absl::StrCat("transform '", e.key,
                             "' takes no parameter and stands "
                             "alone: write 'transform: ",
                             e.key, "'"));
          continue;
        case TransformKind::kTimeBucket:
          if (auto d = Duration(e, what)) t.bucket = *d;
          break;
        case TransformKind::kCell:
          if (auto v = Int(e, what, 0, 30)) t.cell_level = static_cast<int>(*v);
          break;
        case TransformKind::kRound:
          if (auto v = Number(e, what)) {
            if (*v <= 0) {
              Error(e.location, what, "'round' must be a step greater than 0");
            } else {
              t.step = *v;
            }
          }
          break;
        case TransformKind::kClamp:
          ParseClamp(e, what, t);
          break;
        case TransformKind::kTruncate:
          if (auto v = Int(e, what, 1, 1'000'000)) t.length = static_cast<int>(*v);
          break;
        case TransformKind::kMap:
          ParseMapStep(e, level, what, t);
          break;
        case TransformKind::kRedact:
          if (auto items = StringList(e, what, EmptyList::kRejected)) {
            for (const ListItem& item : *items) {
              if (auto p = ParseRedactPattern(item.text)) {
                t.patterns.push_back(*p);
              } else {
                Error(item.location, what,
                      absl::StrCat("unknown redact pattern ", Quote(item.text),
                                   " (expected ", kRedactNames, ")"));
              }
            }
          }
          break;
      }
      steps.push_back(std::move(t));
    }
  }

  void ParseClamp(const Entry& e, absl::string_view what, Transform& t) {
    if (!e.value.IsSequence() || e.value.size() != 2) {
      Error(e.location, what,
            "'clamp' must be a list [min, max] (either may be ~ for no bound)");
      return;
    }
    std::optional<double>* bounds[] = {&t.min, &t.max};
    int i = 0;
    for (const YAML::Node& item : e.value) {
      if (!item.IsNull()) {
        *bounds[i] =
            Number(item, LocationOf(item, e.location), what, "each 'clamp' bound");
      }
      ++i;
    }
    const bool both_null = std::all_of(e.value.begin(), e.value.end(),
                                       [](const YAML::Node& n) { return n.IsNull(); });
    if (both_null) {
      Error(e.location, what, "'clamp' needs at least one bound");
    } else if (t.min && t.max && *t.min > *t.max) {
      Error(e.location, what, "'clamp' has its minimum above its maximum");
    }
  }

  void ParseMapStep(const Entry& e, const Entry* level, absl::string_view what,
                    Transform& t) {
    if (level != nullptr) {
      if (auto v = Int(*level, what, 1, 1000)) {
        t.level = static_cast<int>(*v);
      } else {
        return;
      }
    }
    const std::optional<std::string> path = NonEmptyString(e, what);
    if (!path.has_value()) return;
    t.table_path = *path;
    std::filesystem::path resolved(*path);
    if (resolved.is_relative() && !base_dir_.empty()) {
      resolved = std::filesystem::path(base_dir_) / resolved;
    }
    const std::string key = resolved.lexically_normal().string();
    auto it = tables_.find(key);
    if (it == tables_.end()) {
      it = tables_.emplace(key, ReadHierarchyTable(key)).first;
    }
    const absl::StatusOr<HierarchyTable>& table = it->second;
    if (!table.ok()) {
      Error(e.location, what,
            absl::StrCat("map table ", Quote(*path),
                         " cannot be read: ", table.status().message()));
      return;
    }
    if (t.level > table->depth) {
      Error(level != nullptr ? level->location : e.location, what,
            absl::StrCat("level ", t.level, " is beyond the depth of map table ",
                         Quote(*path), " (", PluralLevels(table->depth), ")"));
      return;
    }
    t.table = table->AtLevel(t.level);
  }

  // -- agreements -------------------------------------------------------------

  void ParseAgreement(const YAML::Node& node, SourceLocation at, size_t index) {
    const std::string what = ElementName(node, "agreement", "id", index);
    const std::optional<MapView> view = AsMap(node, at, what);
    if (!view.has_value()) return;
    CheckKeys(*view, what, kAgreementKeys);
    Agreement agreement;
    agreement.location = view->location;
    const Entry* id_entry = Required(*view, "id", what);
    const std::optional<std::string> id = id_entry ? Id(*id_entry, what) : std::nullopt;

    const Party* party = nullptr;
    if (const Entry* e = Required(*view, "party", what)) {
      if (auto v = String(*e, what)) {
        agreement.party = *v;
        party = config_.FindParty(*v);
        if (party == nullptr) {
          std::vector<absl::string_view> ids;
          for (const Party& p : config_.parties) ids.push_back(p.id);
          Error(e->location, what,
                absl::StrCat("unknown party ", Quote(*v), Suggestion(*v, ids)));
        }
      }
    }
    const Stream* stream = nullptr;
    if (const Entry* e = Required(*view, "stream", what)) {
      if (auto v = String(*e, what)) {
        agreement.stream = *v;
        stream = config_.FindStream(*v);
        if (stream == nullptr) {
          std::vector<absl::string_view> ids;
          for (const Stream& s : config_.streams) ids.push_back(s.id);
          Error(e->location, what,
                absl::StrCat("unknown stream ", Quote(*v), Suggestion(*v, ids)));
        }
      }
    }
    std::optional<AccessLevel> level;
    const Entry* level_entry = Required(*view, "level", what);
    if (level_entry != nullptr) {
      level = Enum(*level_entry, what, ParseAccessLevel, kAccessLevelNames);
      if (level) agreement.level = *level;
    }
    if (party != nullptr && party->kind == PartyKind::kPublic && level.has_value() &&
        *level != AccessLevel::kPublic) {
      Error(
          level_entry->location, what,
          absl::StrCat("party '", party->id,
                       "' is of kind public and can only hold public-level agreements"));
    }

    if (const Entry* e = Required(*view, "purposes", what)) {
      if (auto items = StringList(*e, what, EmptyList::kRejected)) {
        for (const ListItem& item : *items) {
          const Purpose* purpose = config_.FindPurpose(item.text);
          if (purpose == nullptr) {
            Error(item.location, what, UnknownPurpose(item.text));
          } else if (purpose->prohibited) {
            Error(item.location, what,
                  absl::StrCat("purpose ", Quote(item.text),
                               " is prohibited city-wide; no agreement may grant it"));
          } else if (stream != nullptr &&
                     std::find(stream->purposes.begin(), stream->purposes.end(),
                               item.text) == stream->purposes.end()) {
            Error(
                item.location, what,
                absl::StrCat("purpose ", Quote(item.text),
                             " is not among the purposes of stream '", stream->id, "'"));
          }
          agreement.purposes.push_back(item.text);
        }
      }
    }

    const bool microdata =
        level == AccessLevel::kRecords || level == AccessLevel::kExtract;
    const Entry* fields = view->Find("fields");
    if (fields != nullptr) {
      if (auto items = StringList(
              *fields, what, microdata ? EmptyList::kRejected : EmptyList::kAllowed)) {
        for (const ListItem& item : *items) {
          CheckGrantedField(stream, level, item, what);
          agreement.fields.push_back(item.text);
        }
      }
    } else if (microdata) {
      Error(view->location, what,
            absl::StrCat("a ", Sv(ToString(*level)),
                         " agreement must list the granted 'fields'"));
    }

    const Entry* from = view->Find("valid_from");
    if (from != nullptr)
      agreement.valid_from = Timestamp(*from, what, DateMeaning::kStartOfDay);
    const Entry* until = view->Find("valid_until");
    if (until != nullptr)
      agreement.valid_until = Timestamp(*until, what, DateMeaning::kEndOfDay);
    if (agreement.valid_from && agreement.valid_until &&
        *agreement.valid_until <= *agreement.valid_from) {
      Error(until->location, what, "'valid_until' is not after 'valid_from'");
    }
    if (const Entry* e = view->Find("time_granularity")) {
      agreement.time_granularity = Duration(*e, what);
    }
    if (const Entry* e = view->Find("cell_level")) {
      if (auto v = Int(*e, what, 0, 30)) agreement.cell_level = static_cast<int>(*v);
    }

    const Entry* k = view->Find("k");
    if (k != nullptr) {
      if (level.has_value() && *level != AccessLevel::kExtract) {
        Error(k->key_location, what, "'k' applies only to extract agreements");
      } else if (auto v = Int(*k, what, 0, 1'000'000'000)) {
        agreement.k_threshold = static_cast<int>(*v);
        if (*v < 2) {
          Error(k->location, what,
                "an extract needs k of at least 2 (k = 1 hides no one)");
        }
      }
    } else if (level == AccessLevel::kExtract) {
      Error(view->location, what, "an extract agreement needs 'k' (at least 2)");
    }

    const bool noisy = level == AccessLevel::kAggregate || level == AccessLevel::kPublic;
    const Entry* budget = view->Find("budget");
    if (budget != nullptr) {
      if (level.has_value() && !noisy) {
        Error(budget->key_location, what,
              "'budget' applies only to aggregate and public agreements");
      } else {
        agreement.budget = ParseBudget(*budget, what);
      }
    } else if (noisy) {
      Error(view->location, what,
            absl::StrCat("a ", Sv(ToString(*level)),
                         " agreement needs a 'budget' (epsilon per period)"));
    }
    if (const Entry* e = view->Find("duties")) ParseDuties(*e, what, agreement);

    if (id.has_value() &&
        Register(agreement_ids_, *id, id_entry->location, "", "agreement id")) {
      agreement.id = *id;
      config_.agreements.push_back(std::move(agreement));
    }
  }

  void CheckGrantedField(const Stream* stream, std::optional<AccessLevel> level,
                         const ListItem& item, absl::string_view what) {
    if (stream == nullptr) return;
    const Field* f = stream->FindField(item.text);
    if (f == nullptr) {
      std::vector<absl::string_view> names;
      for (const Field& field : stream->fields) names.push_back(field.name);
      Error(item.location, what,
            absl::StrCat("field ", Quote(item.text), " is not declared in stream '",
                         stream->id, "'", Suggestion(item.text, names)));
    } else if (f->dropped()) {
      Error(item.location, what,
            absl::StrCat("field '", f->name,
                         "' is dropped at ingest and cannot be granted"));
    } else if (level == AccessLevel::kExtract && f->name == stream->subject_field) {
      Error(item.location, what,
            absl::StrCat("an extract cannot include the subject field '", f->name,
                         "' (pseudonyms single people out)"));
    }
  }

  std::optional<Budget> ParseBudget(const Entry& entry,
                                    absl::string_view agreement_what) {
    const std::string what = absl::StrCat(agreement_what, " budget");
    const std::optional<MapView> view = AsMap(entry.value, entry.location, what);
    if (!view.has_value()) return std::nullopt;
    CheckKeys(*view, what, kBudgetKeys);
    Budget budget;
    bool ok = true;
    if (const Entry* e = Required(*view, "epsilon", what)) {
      std::optional<double> v = Number(*e, what);
      if (v.has_value() && *v <= 0) {
        Error(e->location, what, "'epsilon' must be greater than 0");
        v.reset();
      }
      ok &= v.has_value();
      if (v) budget.epsilon = *v;
    } else {
      ok = false;
    }
    if (const Entry* e = view->Find("delta")) {
      std::optional<double> v = Number(*e, what);
      if (v.has_value() && (*v < 0 || *v >= 1)) {
        Error(e->location, what, "'delta' must be at least 0 and below 1");
        v.reset();
      }
      ok &= v.has_value();
      if (v) budget.delta = *v;
    }
    if (const Entry* e = view->Find("period")) {
      std::optional<absl::Duration> d = Duration(*e, what);
      ok &= d.has_value();
      if (d) budget.period = *d;
    }
    if (!ok) return std::nullopt;
    return budget;
  }

  void ParseDuties(const Entry& entry, absl::string_view agreement_what,
                   Agreement& agreement) {
    const std::string what = absl::StrCat(agreement_what, " duties");
    const std::optional<MapView> view = AsMap(entry.value, entry.location, what);
    if (!view.has_value()) return;
    CheckKeys(*view, what, kDutyKeys);
    if (const Entry* e = view->Find("delete_after"))
      agreement.delete_after = Duration(*e, what);
    if (const Entry* e = view->Find("no_onward_sharing")) {
      if (auto v = Bool(*e, what)) agreement.no_onward_sharing = *v;
    }
  }

  // -- sensors ----------------------------------------------------------------

  void ParseSensor(const YAML::Node& node, SourceLocation at, size_t index) {
    const std::string what = ElementName(node, "sensor", "id", index);
    const std::optional<MapView> view = AsMap(node, at, what);
    if (!view.has_value()) return;
    CheckKeys(*view, what, kSensorKeys);
    Sensor sensor;
    sensor.location = view->location;
    const Entry* id_entry = Required(*view, "id", what);
    const std::optional<std::string> id = id_entry ? Id(*id_entry, what) : std::nullopt;
    if (const Entry* e = Required(*view, "stream", what)) {
      if (auto v = String(*e, what)) {
        sensor.stream = *v;
        if (config_.FindStream(*v) == nullptr) {
          std::vector<absl::string_view> ids;
          for (const Stream& s : config_.streams) ids.push_back(s.id);
          Error(e->location, what,
                absl::StrCat("unknown stream ", Quote(*v), Suggestion(*v, ids)));
        }
      }
    }
    if (const Entry* e = Required(*view, "name", what)) {
      if (auto v = NonEmptyString(*e, what)) sensor.name = *v;
    }
    const Entry* lat = view->Find("lat");
    const Entry* lon = view->Find("lon");
    if (lat != nullptr) {
      sensor.latitude = Number(*lat, what);
      if (sensor.latitude && std::abs(*sensor.latitude) > 90) {
        Error(lat->location, what, "'lat' must be between -90 and 90");
      }
    }
    if (lon != nullptr) {
      sensor.longitude = Number(*lon, what);
      if (sensor.longitude && std::abs(*sensor.longitude) > 180) {
        Error(lon->location, what, "'lon' must be between -180 and 180");
      }
    }
    if ((lat == nullptr) != (lon == nullptr)) {
      Error(view->location, what, "a sensor has both 'lat' and 'lon', or neither");
    }
    if (const Entry* e = view->Find("owner")) {
      if (auto v = String(*e, what)) sensor.owner = *v;
    }
    if (const Entry* e = view->Find("contact")) {
      if (auto v = String(*e, what)) sensor.contact = *v;
    }
    if (const Entry* e = view->Find("comments_until")) {
      sensor.comments_until = Timestamp(*e, what, DateMeaning::kEndOfDay);
    }
    if (id.has_value() &&
        Register(sensor_ids_, *id, id_entry->location, "", "sensor id")) {
      sensor.id = *id;
      config_.sensors.push_back(std::move(sensor));
    }
  }

  // -- oidc and limits ----------------------------------------------------------

  void ParseOidc(const Entry& entry) {
    constexpr absl::string_view what = "oidc";
    const std::optional<MapView> view = AsMap(entry.value, entry.location, what);
    if (!view.has_value()) return;
    CheckKeys(*view, what, kOidcKeys);
    Oidc oidc;
    oidc.location = view->location;
    bool ok = true;
    const auto text = [&](const Entry* e, std::string& out) {
      if (e == nullptr) return;
      if (auto v = NonEmptyString(*e, what)) {
        out = *v;
      } else {
        ok = false;
      }
    };
    text(Required(*view, "issuer", what), oidc.issuer);
    text(Required(*view, "audience", what), oidc.audience);
    ok &= oidc.issuer.size() > 0 && oidc.audience.size() > 0;
    const Entry* file = view->Find("jwks_file");
    const Entry* url = view->Find("jwks_url");
    if ((file == nullptr) == (url == nullptr)) {
      Error(view->location, what, "give exactly one of 'jwks_file' and 'jwks_url'");
      ok = false;
    }
    if (file != nullptr) {
      text(file, oidc.jwks_file);
      if (!oidc.jwks_file.empty()) ok &= ReadJwksFile(*file, oidc);
    }
    if (url != nullptr) {
      text(url, oidc.jwks_url);
      if (!oidc.jwks_url.empty() && !oidc.jwks_url.starts_with("https://") &&
          !oidc.jwks_url.starts_with("http://")) {
        Error(url->location, what, "'jwks_url' must be an https:// (or http://) URL");
        ok = false;
      }
    }
    if (const Entry* e = view->Find("jwks_refresh")) {
      if (url == nullptr) {
        Error(e->location, what, "'jwks_refresh' applies only with 'jwks_url'");
        ok = false;
      } else if (auto v = Duration(*e, what)) {
        if (*v < absl::Minutes(1)) {
          Error(e->location, what, "'jwks_refresh' must be at least 1m");
          ok = false;
        }
        oidc.jwks_refresh = *v;
      } else {
        ok = false;
      }
    }
    if (const Entry* e = view->Find("leeway")) {
      const absl::StatusOr<absl::Duration> d =
          e->value.IsScalar() ? ParseDurationSpec(e->value.Scalar())
                              : absl::InvalidArgumentError("not a duration");
      if (!d.ok() || *d < absl::ZeroDuration() || *d > absl::Minutes(5)) {
        Error(e->location, what, "'leeway' must be a duration from 0s to 5m");
        ok = false;
      } else {
        oidc.leeway = *d;
      }
    }
    const Entry* claim = view->Find("party_claim");
    const Entry* parties = view->Find("parties");
    text(claim, oidc.party_claim);
    if ((claim == nullptr) != (parties == nullptr)) {
      Error(view->location, what, "'party_claim' and 'parties' go together");
      ok = false;
    }
    if (parties != nullptr) ok &= ParseOidcParties(*parties, oidc);
    text(view->Find("identifiers_claim"), oidc.identifiers_claim);
    if (claim == nullptr && view->Find("identifiers_claim") == nullptr) {
      Error(view->location, what,
            "maps no token to anyone: set 'party_claim' with 'parties', "
            "'identifiers_claim', or both");
      ok = false;
    }
    if (ok) config_.oidc = std::move(oidc);
  }

  bool ReadJwksFile(const Entry& e, Oidc& oidc) {
    std::filesystem::path resolved(oidc.jwks_file);
    if (resolved.is_relative() && !base_dir_.empty()) {
      resolved = std::filesystem::path(base_dir_) / resolved;
    }
    std::ifstream in(resolved, std::ios::binary);
    std::string contents;
    if (in) {
      contents.assign(std::istreambuf_iterator<char>(in),
                      std::istreambuf_iterator<char>());
    }
    if (!in.good() && !in.eof()) {
      Error(e.location, "oidc",
            absl::StrCat("'jwks_file' ", Quote(oidc.jwks_file), " cannot be read"));
      return false;
    }
    if (contents.size() > kMaxJwksFileBytes) {
      Error(e.location, "oidc",
            absl::StrCat("'jwks_file' ", Quote(oidc.jwks_file), " is larger than 1 MiB"));
      return false;
    }
    oidc.jwks_json = std::move(contents);
    return true;
  }

  bool ParseOidcParties(const Entry& entry, Oidc& oidc) {
    constexpr absl::string_view what = "oidc parties";
    const std::optional<MapView> view = AsMap(entry.value, entry.location, what);
    if (!view.has_value()) return false;
    bool ok = true;
    if (view->entries.empty()) {
      Error(entry.location, what, "must map at least one claim value to a party");
      return false;
    }
    for (const Entry& e : view->entries) {
      const std::optional<std::string> party = Id(e, what);
      if (!party.has_value()) {
        ok = false;
        continue;
      }
      const Party* found = config_.FindParty(*party);
      if (found == nullptr) {
        Error(e.location, what,
              absl::StrCat("claim value ", Quote(e.key), " maps to undeclared party ",
                           Quote(*party)));
        ok = false;
      } else if (found->kind == PartyKind::kPublic) {
        Error(e.location, what,
              absl::StrCat("party ", Quote(*party),
                           " is the public: it needs no token, so no claim maps to it"));
        ok = false;
      } else {
        oidc.parties[e.key] = *party;
      }
    }
    return ok;
  }

  void ParseLimits(const Entry& entry) {
    constexpr absl::string_view what = "limits";
    const std::optional<MapView> view = AsMap(entry.value, entry.location, what);
    if (!view.has_value()) return;
    CheckKeys(*view, what, kLimitsKeys);
    Limits limits;
    limits.location = view->location;
    bool ok = true;
    if (const Entry* e = view->Find("per_principal")) {
      limits.per_principal = ParseRateLimit(*e, "limits per_principal");
      ok &= limits.per_principal.has_value();
    }
    if (const Entry* e = view->Find("per_address")) {
      limits.per_address = ParseRateLimit(*e, "limits per_address");
      ok &= limits.per_address.has_value();
    }
    if (const Entry* e = view->Find("parties")) {
      constexpr absl::string_view parties_what = "limits parties";
      if (const std::optional<MapView> parties =
              AsMap(e->value, e->location, parties_what)) {
        for (const Entry& p : parties->entries) {
          if (config_.FindParty(p.key) == nullptr) {
            Error(p.key_location, parties_what,
                  absl::StrCat("party ", Quote(p.key), " is not declared"));
            ok = false;
            continue;
          }
          const std::optional<RateLimit> limit =
              ParseRateLimit(p, absl::StrCat(parties_what, " ", Quote(p.key)));
          if (limit.has_value()) {
            limits.parties[p.key] = *limit;
          } else {
            ok = false;
          }
        }
      } else {
        ok = false;
      }
    }
    if (ok) config_.limits = std::move(limits);
  }

  std::optional<RateLimit> ParseRateLimit(const Entry& entry, absl::string_view what) {
    const std::optional<MapView> view = AsMap(entry.value, entry.location, what);
    if (!view.has_value()) return std::nullopt;
    CheckKeys(*view, what, kRateLimitKeys);
    RateLimit limit;
    bool ok = true;
    if (const Entry* e = Required(*view, "requests_per_second", what)) {
      std::optional<double> rate = Number(*e, what);
      if (rate.has_value() && (*rate <= 0 || *rate > 1e6)) {
        Error(e->location, what,
              "'requests_per_second' must be above 0 and at most 1000000");
        rate.reset();
      }
      ok &= rate.has_value();
      if (rate) limit.rate = *rate;
    } else {
      ok = false;
    }
    if (const Entry* e = Required(*view, "burst", what)) {
      std::optional<int64_t> burst = Int(*e, what, 1, 1000000);
      ok &= burst.has_value();
      if (burst) limit.burst = *burst;
    } else {
      ok = false;
    }
    if (!ok) return std::nullopt;
    return limit;
  }

  // -- MQTT -----------------------------------------------------------------

  // A topic filter as MQTT 3.1.1 section 4.7 allows it: 1 to 65535 bytes
  // of UTF-8 without NUL, '+' and '#' each filling a whole level, '#' last.
  static std::optional<std::string> BadTopicFilter(absl::string_view filter) {
    if (filter.empty() || filter.size() > 65535) return "must be 1 to 65535 bytes";
    if (filter.find('\0') != absl::string_view::npos) return "must not contain NUL";
    const std::vector<absl::string_view> levels = absl::StrSplit(filter, '/');
    for (size_t i = 0; i < levels.size(); ++i) {
      const absl::string_view level = levels[i];
      if (level.find_first_of("+#") == absl::string_view::npos) continue;
      if (level == "+") continue;
      if (level == "#" && i + 1 == levels.size()) continue;
      return "'+' and '#' must fill a whole level, and '#' must be the last";
    }
    return std::nullopt;
  }

  std::optional<MqttFeed> ParseMqttFeed(const Entry& entry, absl::string_view stream) {
    const std::string what = absl::StrCat(stream, " mqtt");
    const std::optional<MapView> view = AsMap(entry.value, entry.location, what);
    if (!view.has_value()) return std::nullopt;
    CheckKeys(*view, what, kMqttFeedKeys);
    MqttFeed feed;
    feed.location = view->location;
    bool ok = true;
    if (const Entry* e = Required(*view, "topics", what)) {
      if (auto items = StringList(*e, what, EmptyList::kRejected)) {
        for (const ListItem& item : *items) {
          if (std::optional<std::string> bad = BadTopicFilter(item.text)) {
            Error(item.location, what, absl::StrCat("topic filter ", *bad));
            ok = false;
            continue;
          }
          const auto [it, inserted] = topic_filters_.emplace(item.text, item.location);
          if (!inserted) {
            Error(item.location, what,
                  absl::StrCat("topic filter ", Quote(item.text),
                               " already feeds another stream (line ", it->second.line,
                               ")"));
            ok = false;
            continue;
          }
          feed.topics.push_back(item.text);
        }
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (const Entry* e = view->Find("qos")) {
      if (auto v = Int(*e, what, 1, 2)) {
        feed.qos = static_cast<int>(*v);
      } else {
        ok = false;
      }
    }
    if (const Entry* e = view->Find("format")) {
      const std::optional<std::string> v = String(*e, what);
      if (v == "json") {
        feed.format = MqttPayloadFormat::kJson;
      } else if (v == "ndjson") {
        feed.format = MqttPayloadFormat::kNdjson;
      } else {
        if (v.has_value()) {
          Error(e->location, what,
                absl::StrCat("'format' ", Quote(*v), " is not one of: json, ndjson"));
        }
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    mqtt_feed_at_ = feed.location;
    return feed;
  }

  void ParseMqtt(const Entry* entry) {
    constexpr absl::string_view what = "mqtt";
    if (entry == nullptr) {
      if (mqtt_feed_at_.has_value()) {
        Error(*mqtt_feed_at_, what,
              "a stream has mqtt topics but the config has no top-level 'mqtt' broker");
      }
      return;
    }
    const std::optional<MapView> view = AsMap(entry->value, entry->location, what);
    if (!view.has_value()) return;
    CheckKeys(*view, what, kMqttKeys);
    MqttBroker broker;
    broker.location = view->location;
    bool tls_scheme = false;
    if (const Entry* e = Required(*view, "broker", what)) {
      if (auto v = String(*e, what)) {
        const size_t sep = v->find("://");
        const std::string scheme = sep == std::string::npos ? "" : v->substr(0, sep);
        const std::string rest = sep == std::string::npos ? "" : v->substr(sep + 3);
        const size_t colon = rest.rfind(':');
        int port = 0;
        if ((scheme != "tcp" && scheme != "ssl") || colon == std::string::npos ||
            colon == 0 || !absl::SimpleAtoi(rest.substr(colon + 1), &port) || port < 1 ||
            port > 65535 || rest.find_first_of("/ ") != std::string::npos) {
          Error(e->location, what, "'broker' must be tcp://HOST:PORT or ssl://HOST:PORT");
        } else {
          broker.uri = *v;
          tls_scheme = scheme == "ssl";
        }
      }
    }
    if (const Entry* e = Required(*view, "client_id", what)) {
      if (auto v = String(*e, what)) {
        const bool valid = !v->empty() && v->size() <= 128 &&
                           std::all_of(v->begin(), v->end(), [](char c) {
                             return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                                    c == '-' || c == '_' || c == '.';
                           });
        if (valid) {
          broker.client_id = *v;
        } else {
          Error(e->location, what,
                "'client_id' must be 1 to 128 letters, digits, '-', '_' or '.'");
        }
      }
    }
    if (const Entry* e = view->Find("username")) {
      if (auto v = NonEmptyString(*e, what)) broker.username = *v;
    }
    const Entry* password_file = view->Find("password_file");
    const Entry* password_env = view->Find("password_env");
    if (password_file != nullptr) {
      if (auto v = NonEmptyString(*password_file, what)) broker.password_file = *v;
    }
    if (password_env != nullptr) {
      if (auto v = NonEmptyString(*password_env, what)) broker.password_env = *v;
    }
    if (password_file != nullptr && password_env != nullptr) {
      Error(password_env->location, what,
            "give the password in 'password_file' or 'password_env', not both");
    }
    if ((password_file != nullptr || password_env != nullptr) &&
        view->Find("username") == nullptr) {
      Error(view->location, what, "a password needs a 'username'");
    }
    if (const Entry* e = view->Find("tls")) {
      if (!tls_scheme) {
        Error(e->location, what, "'tls' needs an ssl:// broker");
      }
      if (const std::optional<MapView> tls = AsMap(e->value, e->location, "mqtt tls")) {
        CheckKeys(*tls, "mqtt tls", kMqttTlsKeys);
        const auto path = [&](absl::string_view key, std::string& out) {
          if (const Entry* p = tls->Find(key)) {
            if (auto v = NonEmptyString(*p, "mqtt tls")) out = *v;
          }
        };
        path("ca_file", broker.ca_file);
        path("cert_file", broker.cert_file);
        path("key_file", broker.key_file);
        if (broker.cert_file.empty() != broker.key_file.empty()) {
          Error(tls->location, "mqtt tls",
                "a client certificate needs both 'cert_file' and 'key_file'");
        }
      }
    }
    const auto duration = [&](absl::string_view key, absl::Duration& out) {
      if (const Entry* e = view->Find(key)) {
        if (auto d = Duration(*e, what)) out = *d;
      }
    };
    duration("keep_alive", broker.keep_alive);
    duration("dedupe_window", broker.dedupe_window);
    if (broker.keep_alive < absl::Seconds(1) || broker.keep_alive > absl::Hours(18)) {
      Error(view->Find("keep_alive")->location, what,
            "'keep_alive' must be between 1s and 18h");
    }
    if (const Entry* e = view->Find("batch_delay_ms")) {
      if (auto v = Int(*e, what, 1, 10000)) broker.batch_delay = absl::Milliseconds(*v);
    }
    if (const Entry* e = view->Find("batch_messages")) {
      if (auto v = Int(*e, what, 1, 100000)) broker.batch_messages = static_cast<int>(*v);
    }
    if (!mqtt_feed_at_.has_value()) {
      Error(view->location, what,
            "no stream declares 'mqtt' topics; add them to a stream or remove 'mqtt'");
    }
    config_.mqtt = std::move(broker);
  }

  const std::string base_dir_;
  CityConfig config_;
  std::vector<ConfigError> errors_;
  size_t dropped_errors_ = 0;
  absl::flat_hash_map<std::string, SourceLocation> purpose_ids_, party_ids_, stream_ids_,
      agreement_ids_, sensor_ids_, ngsi_types_;
  // MQTT topic filters already claimed by a stream; where a feed was declared.
  absl::flat_hash_map<std::string, SourceLocation> topic_filters_;
  std::optional<SourceLocation> mqtt_feed_at_;
  // Tables read once per parse, by resolved path.
  absl::flat_hash_map<std::string, absl::StatusOr<HierarchyTable>> tables_;
};

}  // namespace

std::string FormatConfigError(std::string_view source_name, const ConfigError& error) {
  if (error.line <= 0) return absl::StrCat(Sv(source_name), ": ", error.message);
  return absl::StrCat(Sv(source_name), ":", error.line, ":", error.column, ": ",
                      error.message);
}

std::vector<ConfigError> CheckConfig(std::string_view yaml_text,
                                     const std::string& base_dir) {
  ConfigParser parser(base_dir);
  parser.Parse(Sv(yaml_text));
  return parser.TakeErrors();
}

absl::StatusOr<CityConfig> ParseConfig(std::string_view yaml_text,
                                       const std::string& source_name,
                                       const std::string& base_dir) {
  ConfigParser parser(base_dir);
  parser.Parse(Sv(yaml_text));
  const std::vector<ConfigError> errors = parser.TakeErrors();
  if (!errors.empty()) {
    std::vector<std::string> lines;
    lines.reserve(errors.size());
    for (const ConfigError& e : errors)
      lines.push_back(FormatConfigError(source_name, e));
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }
  CityConfig config = parser.TakeConfig();
  config.source_path = source_name;
  return config;
}

absl::StatusOr<CityConfig> LoadConfigFile(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return absl::NotFoundError(absl::StrCat(path, ": the config file does not exist"));
  }
  if (!std::filesystem::is_regular_file(status)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": the config file cannot be opened"));
  }
  std::string text;
  char buffer[8192];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigBytes) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": the config is larger than ",
                                                     kMaxConfigBytes >> 20, " MiB"));
    }
  }
  if (in.bad())
    return absl::DataLossError(absl::StrCat(path, ": reading the file failed"));
  const std::string base_dir = std::filesystem::path(path).parent_path().string();
  return ParseConfig(text, path, base_dir);
}

}  // namespace privacity::config
