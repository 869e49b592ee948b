// ValidateField: one input value checked against its declared field.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "nlohmann/json.hpp"
#include "transform/field_transform.h"

namespace privacity::transform {
namespace {

using config::Field;
using config::FieldType;

// Unix seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years
// ParseTimestamp accepts.
constexpr int64_t kMinUnixSeconds = -62135596800;
constexpr int64_t kMaxUnixSeconds = 253402300799;
// A point is a few dozen bytes; anything far larger is not one.
constexpr size_t kMaxPointJsonBytes = 4096;
// 2^63 as a double: the first double above every int64.
constexpr double kTwoTo63 = 9223372036854775808.0;

// value.h carries std::string_view; this abseil's string_view is its own type.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Reason(absl::string_view reason) {
  return absl::InvalidArgumentError(reason);
}

absl::Status Expected(absl::string_view what, absl::string_view got) {
  return absl::InvalidArgumentError(absl::StrCat("expected ", what, ", got ", got));
}

// What a JSON value is, for "expected ..., got ..." (never the value).
absl::string_view Describe(const InputValue& v) {
  switch (v.kind) {
    case InputValue::Kind::kNull:
      return "null";
    case InputValue::Kind::kBool:
      return "a boolean";
    case InputValue::Kind::kInteger:
      return "a number";
    case InputValue::Kind::kNumber:
      return std::isfinite(v.number) && std::floor(v.number) == v.number
                 ? "a number"
                 : "a fractional number";
    case InputValue::Kind::kString:
      return "a string";
    case InputValue::Kind::kComposite: {
      const absl::string_view t = absl::StripLeadingAsciiWhitespace(Av(v.text));
      return !t.empty() && t.front() == '[' ? "an array" : "an object";
    }
  }
  return "an unknown value";
}

absl::string_view Expectation(FieldType type) {
  switch (type) {
    case FieldType::kString:
    case FieldType::kEnum:
      return "a string";
    case FieldType::kInt:
      return "an integer";
    case FieldType::kNumber:
      return "a number";
    case FieldType::kBool:
      return "a boolean";
    case FieldType::kTime:
      return "a timestamp";
    case FieldType::kPoint:
      return "a point";
  }
  return "a value";
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [+-]?digits, trimmed.
absl::StatusOr<int64_t> ParseIntText(absl::string_view raw) {
  const absl::string_view s = absl::StripAsciiWhitespace(raw);
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) return Reason("expected an integer, got text that is not one");
  for (; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return Reason("expected an integer, got text that is not one");
  }
  int64_t v;
  if (!absl::SimpleAtoi(s[0] == '+' ? s.substr(1) : s, &v)) {
    return Reason("integer is out of range");
  }
  return v;
}

// [+-]?digits[.digits][(e|E)[+-]?digits], trimmed, with at least one digit
// in the mantissa: no nan, inf, hex or empty text.
absl::StatusOr<double> ParseNumberText(absl::string_view raw) {
  absl::string_view s = absl::StripAsciiWhitespace(raw);
  const absl::Status bad =
      Reason("expected a number, got text that is not a decimal number");
  if (s.empty()) return Reason("expected a number, got empty text");
  if (s[0] == '+') s.remove_prefix(1);
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  size_t mantissa_digits = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i) ++mantissa_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    for (; i < s.size() && IsDigit(s[i]); ++i) ++mantissa_digits;
  }
  if (mantissa_digits == 0) return bad;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exponent_digits = 0;
    for (; i < s.size() && IsDigit(s[i]); ++i) ++exponent_digits;
    if (exponent_digits == 0) return bad;
  }
  if (i != s.size()) return bad;
  double v;
  if (!absl::SimpleAtod(s, &v) || !std::isfinite(v))
    return Reason("number is out of range");
  return v;
}

absl::StatusOr<double> NumberOf(const InputValue& v, bool parse_text) {
  if (parse_text) return ParseNumberText(Av(v.text));
  if (v.kind == InputValue::Kind::kInteger) return static_cast<double>(v.integer);
  if (v.kind == InputValue::Kind::kNumber) {
    if (!std::isfinite(v.number)) return Reason("number is not finite");
    return v.number;
  }
  return Expected("a number", Describe(v));
}

// An integral double as int64, or an error.
absl::StatusOr<int64_t> IntegralDouble(double x, absl::string_view expected) {
  if (!std::isfinite(x) || std::floor(x) != x)
    return Expected(expected, "a fractional number");
  if (x < -kTwoTo63 || x >= kTwoTo63) return Reason("integer is out of range");
  return static_cast<int64_t>(x);
}

absl::StatusOr<int64_t> IntOf(const InputValue& v, bool parse_text) {
  if (parse_text) return ParseIntText(Av(v.text));
  if (v.kind == InputValue::Kind::kInteger) return v.integer;
  if (v.kind == InputValue::Kind::kNumber) return IntegralDouble(v.number, "an integer");
  return Expected("an integer", Describe(v));
}

absl::StatusOr<bool> BoolOf(const InputValue& v, bool parse_text) {
  if (!parse_text) {
    if (v.kind == InputValue::Kind::kBool) return v.boolean;
    return Expected("a boolean", Describe(v));
  }
  const absl::string_view s = absl::StripAsciiWhitespace(Av(v.text));
  if (s == "1" || absl::EqualsIgnoreCase(s, "true")) return true;
  if (s == "0" || absl::EqualsIgnoreCase(s, "false")) return false;
  return Reason("expected a boolean (true, false, 1 or 0), got text that is not one");
}

absl::StatusOr<absl::Time> FromUnixSeconds(int64_t seconds) {
  if (seconds < kMinUnixSeconds || seconds > kMaxUnixSeconds) {
    return Reason("timestamp is out of range (years 1 to 9999)");
  }
  return absl::FromUnixSeconds(seconds);
}

bool LooksLikeInteger(absl::string_view s) {
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return false;
  }
  return true;
}

absl::StatusOr<absl::Time> TimeOf(const InputValue& v, bool parse_text) {
  if (parse_text || v.kind == InputValue::Kind::kString) {
    const absl::string_view s = absl::StripAsciiWhitespace(Av(v.text));
    if (parse_text && LooksLikeInteger(s)) {
      ASSIGN_OR_RETURN(const int64_t seconds, ParseIntText(s));
      return FromUnixSeconds(seconds);
    }
    // ParseTimestamp's messages describe the form, never the text.
    return ParseTimestamp(s);
  }
  if (v.kind == InputValue::Kind::kInteger) return FromUnixSeconds(v.integer);
  if (v.kind == InputValue::Kind::kNumber) {
    ASSIGN_OR_RETURN(const int64_t seconds, IntegralDouble(v.number, "a timestamp"));
    return FromUnixSeconds(seconds);
  }
  return Expected("a timestamp (RFC 3339 string or Unix seconds)", Describe(v));
}

absl::StatusOr<GeoPoint> CheckedPoint(double latitude, double longitude) {
  if (!std::isfinite(latitude) || latitude < -90 || latitude > 90) {
    return Reason("latitude is out of range [-90, 90]");
  }
  if (!std::isfinite(longitude) || longitude < -180 || longitude > 180) {
    return Reason("longitude is out of range [-180, 180]");
  }
  return GeoPoint{latitude, longitude};
}

// Reads a number member of a JSON object; nullptr when absent.
const nlohmann::json* Member(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// {"lat":..,"lon":..}, {"latitude":..,"longitude":..} or a GeoJSON Point
// {"type":"Point","coordinates":[lon,lat(,alt)]}.
absl::StatusOr<GeoPoint> ParsePointJson(absl::string_view text) {
  if (text.size() > kMaxPointJsonBytes) return Reason("point is too long");
  const nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                                                 /*allow_exceptions=*/false);
  if (j.is_discarded()) return Reason("point is not valid JSON");
  if (!j.is_object()) {
    return Expected("a point object", j.is_array() ? "an array" : "a scalar");
  }
  if (const nlohmann::json* type = Member(j, "type")) {
    if (!type->is_string() || type->get_ref<const std::string&>() != "Point") {
      return Reason("GeoJSON geometry is not a Point");
    }
    const nlohmann::json* coordinates = Member(j, "coordinates");
    if (coordinates == nullptr || !coordinates->is_array() || coordinates->size() < 2 ||
        coordinates->size() > 3) {
      return Reason("GeoJSON Point needs coordinates [longitude, latitude]");
    }
    for (const nlohmann::json& c : *coordinates) {
      if (!c.is_number()) return Reason("GeoJSON Point coordinates must be numbers");
    }
    return CheckedPoint((*coordinates)[1].get<double>(), (*coordinates)[0].get<double>());
  }
  const nlohmann::json* lat = Member(j, "lat");
  const nlohmann::json* lon = Member(j, "lon");
  if (lat == nullptr && lon == nullptr) {
    lat = Member(j, "latitude");
    lon = Member(j, "longitude");
  }
  if (lat == nullptr || lon == nullptr) {
    return Reason("point object needs lat and lon (or latitude and longitude)");
  }
  if (!lat->is_number() || !lon->is_number()) {
    return Reason("point latitude and longitude must be numbers");
  }
  return CheckedPoint(lat->get<double>(), lon->get<double>());
}

absl::StatusOr<GeoPoint> PointOf(const InputValue& v, bool parse_text) {
  if (v.kind == InputValue::Kind::kComposite) return ParsePointJson(Av(v.text));
  if (!parse_text) return Expected("a point", Describe(v));
  // Text: a JSON point, or "latitude,longitude".
  const absl::string_view s = absl::StripAsciiWhitespace(Av(v.text));
  if (!s.empty() && s.front() == '{') return ParsePointJson(s);
  const size_t comma = s.find(',');
  if (comma == absl::string_view::npos) {
    return Reason(
        "expected a point (JSON or \"latitude,longitude\"), got text that is not one");
  }
  ASSIGN_OR_RETURN(const double lat, ParseNumberText(s.substr(0, comma)));
  ASSIGN_OR_RETURN(const double lon, ParseNumberText(s.substr(comma + 1)));
  return CheckedPoint(lat, lon);
}

absl::StatusOr<std::string> StringOf(const InputValue& v, bool parse_text) {
  if (!parse_text && v.kind != InputValue::Kind::kString) {
    return Expected("a string", Describe(v));
  }
  if (!IsValidUtf8(Av(v.text))) return Reason("text is not valid UTF-8");
  return std::string(v.text);
}

// Whether a value counts as absent: missing, JSON null, or (text input)
// an empty cell of a non-string field.
bool Absent(const InputValue* v, bool text_origin, FieldType type) {
  if (v == nullptr || v->kind == InputValue::Kind::kNull) return true;
  return text_origin && v->kind == InputValue::Kind::kString &&
         type != FieldType::kString && absl::StripAsciiWhitespace(Av(v->text)).empty();
}

bool HasClamp(const Field& field) {
  for (const config::Transform& t : field.transforms) {
    if (t.kind == config::TransformKind::kClamp) return true;
  }
  return false;
}

// Smallest int64 >= x and largest int64 <= x, saturating.
int64_t CeilToInt64(double x) {
  if (x <= -kTwoTo63) return std::numeric_limits<int64_t>::min();
  if (x >= kTwoTo63) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(std::ceil(x));
}
int64_t FloorToInt64(double x) {
  if (x <= -kTwoTo63) return std::numeric_limits<int64_t>::min();
  if (x >= kTwoTo63) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(std::floor(x));
}

// Declared bounds: out-of-bounds values are errors, unless the field is
// clamped (top and bottom coding), in which case they are clamped here.
absl::StatusOr<Value> ApplyBounds(const Field& field, Value value) {
  if (!field.min.has_value() && !field.max.has_value()) return value;
  const bool clamp = HasClamp(field);
  if (auto* i = std::get_if<int64_t>(&value)) {
    const double x = static_cast<double>(*i);
    if (field.min.has_value() && x < *field.min) {
      if (!clamp)
        return Reason(absl::StrCat("value is below the declared minimum ", *field.min));
      *i = CeilToInt64(*field.min);
    }
    if (field.max.has_value() && x > *field.max) {
      if (!clamp)
        return Reason(absl::StrCat("value is above the declared maximum ", *field.max));
      *i = FloorToInt64(*field.max);
    }
  } else if (auto* d = std::get_if<double>(&value)) {
    if (field.min.has_value() && *d < *field.min) {
      if (!clamp)
        return Reason(absl::StrCat("value is below the declared minimum ", *field.min));
      *d = *field.min;
    }
    if (field.max.has_value() && *d > *field.max) {
      if (!clamp)
        return Reason(absl::StrCat("value is above the declared maximum ", *field.max));
      *d = *field.max;
    }
  }
  return value;
}

absl::StatusOr<Value> Typed(const Field& field, const InputValue& v, bool parse_text) {
  switch (field.type) {
    case FieldType::kString:
      return StringOf(v, parse_text);
    case FieldType::kInt:
      return IntOf(v, parse_text);
    case FieldType::kNumber:
      return NumberOf(v, parse_text);
    case FieldType::kBool:
      return BoolOf(v, parse_text);
    case FieldType::kTime:
      return TimeOf(v, parse_text);
    case FieldType::kPoint:
      return PointOf(v, parse_text);
    case FieldType::kEnum: {
      ASSIGN_OR_RETURN(std::string s, StringOf(v, parse_text));
      for (const std::string& allowed : field.values) {
        if (s == allowed) return s;
      }
      return Reason("value is not one of the declared enum values");
    }
  }
  return Expected(Expectation(field.type), Describe(v));
}

// A point read from two inputs, [latitude, longitude].
absl::StatusOr<Value> TwoSourcePoint(const Field& field, const InputRecord& record) {
  const bool text_origin = record.origin == InputRecord::Origin::kText;
  const InputValue* in[2] = {record.Find(field.source[0]), record.Find(field.source[1])};
  const bool absent[2] = {Absent(in[0], text_origin, FieldType::kNumber),
                          Absent(in[1], text_origin, FieldType::kNumber)};
  if (absent[0] && absent[1]) {
    if (field.required) return Reason("missing required field");
    return std::monostate{};
  }
  double coordinate[2];
  for (int k = 0; k < 2; ++k) {
    const absl::string_view what = k == 0 ? "latitude" : "longitude";
    if (absent[k]) {
      return Reason(absl::StrCat(what, " (source '", field.source[k], "') is missing"));
    }
    const bool parse_text = text_origin && in[k]->kind == InputValue::Kind::kString;
    absl::StatusOr<double> c = NumberOf(*in[k], parse_text);
    if (!c.ok()) {
      return Reason(absl::StrCat(what, " (source '", field.source[k],
                                 "'): ", c.status().message()));
    }
    coordinate[k] = *c;
  }
  return CheckedPoint(coordinate[0], coordinate[1]);
}

absl::StatusOr<Value> ValidateUnnamed(const Field& field, const InputRecord& record) {
  if (field.type == FieldType::kPoint && field.source.size() == 2) {
    return TwoSourcePoint(field, record);
  }
  if (field.source.size() > 1) {
    return Reason(absl::StrCat("lists ", field.source.size(),
                               " sources; only a point reads two (latitude, longitude)"));
  }
  const std::string& name = field.source.empty() ? field.name : field.source.front();
  const bool text_origin = record.origin == InputRecord::Origin::kText;
  const InputValue* v = record.Find(name);
  if (Absent(v, text_origin, field.type)) {
    if (field.required) return Reason("missing required field");
    return std::monostate{};
  }
  // Text records carry strings; anything else a text parser hands over is
  // taken as typed.
  const bool parse_text = text_origin && v->kind == InputValue::Kind::kString;
  ASSIGN_OR_RETURN(Value value, Typed(field, *v, parse_text));
  return ApplyBounds(field, std::move(value));
}

}  // namespace

absl::StatusOr<Value> ValidateField(const config::Field& field,
                                    const InputRecord& record) {
  absl::StatusOr<Value> value = ValidateUnnamed(field, record);
  if (!value.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", field.name, "': ", value.status().message()));
  }
  return value;
}

}  // namespace privacity::transform
