#include <cstdint>
#include <limits>
#include <string>
#include <variant>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "transform/field_transform.h"
#include "transform/test_util.h"

namespace privacity::transform {
namespace {

using config::Field;
using config::FieldType;
using testing::Bool;
using testing::Composite;
using ::testing::HasSubstr;
using testing::Int;
using testing::JsonRecord;
using testing::MakeField;
using ::testing::Not;
using testing::Null;
using testing::Num;
using testing::Str;
using testing::TextRecord;

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

// Validates a JSON record holding `v` under the field's name.
absl::StatusOr<Value> Json(const Field& f, InputValue v) {
  InputRecord r = JsonRecord({});
  r.fields.emplace_back(f.name, v);
  return ValidateField(f, r);
}
absl::StatusOr<Value> Text(const Field& f, std::string_view text) {
  InputRecord r = TextRecord({});
  r.fields.emplace_back(f.name, Str(text));
  return ValidateField(f, r);
}

// An InvalidArgument naming the field and the reason.
void ExpectError(const absl::StatusOr<Value>& r, const Field& f,
                 std::string_view reason) {
  ASSERT_FALSE(r.ok()) << "expected an error: " << reason;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("'" + f.name + "'"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(std::string(reason)));
}

template <typename T>
T Get(const absl::StatusOr<Value>& r) {
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok() || !std::holds_alternative<T>(*r)) {
    ADD_FAILURE() << "value does not hold the expected type";
    return T{};
  }
  return std::get<T>(*r);
}

// ---- string ----

TEST(ValidateString, Json) {
  const Field f = MakeField("note", FieldType::kString);
  EXPECT_EQ(Get<std::string>(Json(f, Str("hello"))), "hello");
  EXPECT_EQ(Get<std::string>(Json(f, Str(""))), "");
  EXPECT_EQ(Get<std::string>(Json(f, Str("Zo\xC3\xAB \xE2\x82\xAC"))),
            "Zo\xC3\xAB \xE2\x82\xAC");
  ExpectError(Json(f, Int(5)), f, "expected a string, got a number");
  ExpectError(Json(f, Num(5.5)), f, "expected a string, got a fractional number");
  ExpectError(Json(f, Bool(true)), f, "expected a string, got a boolean");
  ExpectError(Json(f, Composite("{\"a\":1}")), f, "expected a string, got an object");
  ExpectError(Json(f, Composite(" [1,2]")), f, "expected a string, got an array");
}

TEST(ValidateString, TextIsTakenAsIs) {
  const Field f = MakeField("note", FieldType::kString);
  EXPECT_EQ(Get<std::string>(Text(f, "  spaced  ")), "  spaced  ");
  EXPECT_EQ(Get<std::string>(Text(f, "42")), "42");
  // An empty cell of a string field is the empty string, not absent.
  EXPECT_EQ(Get<std::string>(Text(f, "")), "");
}

TEST(ValidateString, InvalidUtf8IsRejected) {
  const Field f = MakeField("note", FieldType::kString);
  for (std::string_view bad : {std::string_view("\xFF\xFE"), std::string_view("ab\xC3"),
                               std::string_view("\xC0\xAF"),         // overlong '/'
                               std::string_view("\xED\xA0\x80")}) {  // surrogate
    ExpectError(Json(f, Str(bad)), f, "not valid UTF-8");
    ExpectError(Text(f, bad), f, "not valid UTF-8");
  }
}

// ---- int ----

TEST(ValidateInt, Json) {
  const Field f = MakeField("lane", FieldType::kInt);
  EXPECT_EQ(Get<int64_t>(Json(f, Int(4))), 4);
  EXPECT_EQ(Get<int64_t>(Json(f, Int(-4))), -4);
  EXPECT_EQ(Get<int64_t>(Json(f, Num(4.0))), 4);
  EXPECT_EQ(Get<int64_t>(Json(f, Num(-1e15))), -1000000000000000);
  ExpectError(Json(f, Num(4.5)), f, "expected an integer, got a fractional number");
  ExpectError(Json(f, Num(1e19)), f, "out of range");
  ExpectError(Json(f, Num(-1e19)), f, "out of range");
  ExpectError(Json(f, Str("4")), f, "expected an integer, got a string");
  ExpectError(Json(f, Bool(false)), f, "expected an integer, got a boolean");
  ExpectError(Json(f, Composite("{}")), f, "expected an integer, got an object");
}

TEST(ValidateInt, Text) {
  const Field f = MakeField("lane", FieldType::kInt);
  EXPECT_EQ(Get<int64_t>(Text(f, "42")), 42);
  EXPECT_EQ(Get<int64_t>(Text(f, " 42 ")), 42);
  EXPECT_EQ(Get<int64_t>(Text(f, "-7")), -7);
  EXPECT_EQ(Get<int64_t>(Text(f, "+7")), 7);
  EXPECT_EQ(Get<int64_t>(Text(f, "9223372036854775807")),
            std::numeric_limits<int64_t>::max());
  for (std::string_view bad :
       {"4.0", "4.5", "0x1A", "1e3", "four", "4 2", "-", "+", "--4"}) {
    ExpectError(Text(f, bad), f, "expected an integer");
  }
  ExpectError(Text(f, "9223372036854775808"), f, "out of range");
}

// ---- number ----

TEST(ValidateNumber, Json) {
  const Field f = MakeField("energy", FieldType::kNumber);
  EXPECT_DOUBLE_EQ(Get<double>(Json(f, Num(0.219))), 0.219);
  EXPECT_DOUBLE_EQ(Get<double>(Json(f, Int(3))), 3.0);
  ExpectError(Json(f, Str("0.219")), f, "expected a number, got a string");
  ExpectError(Json(f, Bool(true)), f, "expected a number, got a boolean");
  ExpectError(Json(f, Composite("[0.2]")), f, "expected a number, got an array");
  ExpectError(Json(f, Num(std::numeric_limits<double>::infinity())), f, "not finite");
  ExpectError(Json(f, Num(std::numeric_limits<double>::quiet_NaN())), f, "not finite");
}

TEST(ValidateNumber, Text) {
  const Field f = MakeField("energy", FieldType::kNumber);
  EXPECT_DOUBLE_EQ(Get<double>(Text(f, " 0.219 ")), 0.219);
  EXPECT_DOUBLE_EQ(Get<double>(Text(f, "-1e3")), -1000);
  EXPECT_DOUBLE_EQ(Get<double>(Text(f, "2.5E-1")), 0.25);
  EXPECT_DOUBLE_EQ(Get<double>(Text(f, ".5")), 0.5);
  EXPECT_DOUBLE_EQ(Get<double>(Text(f, "5.")), 5.0);
  EXPECT_DOUBLE_EQ(Get<double>(Text(f, "+12")), 12.0);
  for (std::string_view bad : {"nan", "NaN", "inf", "-inf", "Infinity", "0x1p3", "0x10",
                               ".", "-", "1e", "1e+", "1,5", "1.5.2", "12abc", "abc"}) {
    ExpectError(Text(f, bad), f, "expected a number");
  }
  ExpectError(Text(f, "1e400"), f, "out of range");
}

TEST(ValidateNumber, EmptyTextIsAbsent) {
  Field f = MakeField("energy", FieldType::kNumber);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*Text(f, "")));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*Text(f, "   ")));
  f.required = true;
  ExpectError(Text(f, ""), f, "missing required field");
  ExpectError(Text(f, " "), f, "missing required field");
}

// ---- bool ----

TEST(ValidateBool, Json) {
  const Field f = MakeField("open", FieldType::kBool);
  EXPECT_TRUE(Get<bool>(Json(f, Bool(true))));
  EXPECT_FALSE(Get<bool>(Json(f, Bool(false))));
  ExpectError(Json(f, Int(1)), f, "expected a boolean, got a number");
  ExpectError(Json(f, Str("true")), f, "expected a boolean, got a string");
}

TEST(ValidateBool, Text) {
  const Field f = MakeField("open", FieldType::kBool);
  EXPECT_TRUE(Get<bool>(Text(f, "true")));
  EXPECT_TRUE(Get<bool>(Text(f, "TRUE")));
  EXPECT_TRUE(Get<bool>(Text(f, " 1 ")));
  EXPECT_FALSE(Get<bool>(Text(f, "false")));
  EXPECT_FALSE(Get<bool>(Text(f, "False")));
  EXPECT_FALSE(Get<bool>(Text(f, "0")));
  for (std::string_view bad : {"yes", "no", "2", "t", "truee", "-1"}) {
    ExpectError(Text(f, bad), f, "expected a boolean");
  }
}

// ---- time ----

TEST(ValidateTime, Json) {
  const Field f = MakeField("time", FieldType::kTime);
  const absl::Time want = Utc(2024, 3, 4, 6, 19, 26);
  EXPECT_EQ(Get<absl::Time>(Json(f, Str("2024-03-04T06:19:26Z"))), want);
  EXPECT_EQ(Get<absl::Time>(Json(f, Str("2024-03-04T07:19:26+01:00"))), want);
  EXPECT_EQ(Get<absl::Time>(Json(f, Int(1709533166))), want);
  EXPECT_EQ(Get<absl::Time>(Json(f, Num(1709533166.0))), want);
  EXPECT_EQ(Get<absl::Time>(Json(f, Int(-86400))), Utc(1969, 12, 31));
  ExpectError(Json(f, Num(1709533166.5)), f, "fractional number");
  ExpectError(Json(f, Int(std::numeric_limits<int64_t>::max())), f, "out of range");
  ExpectError(Json(f, Bool(true)), f, "expected a timestamp");
  ExpectError(Json(f, Composite("{}")), f, "expected a timestamp");
  ExpectError(Json(f, Str("yesterday")), f, "timestamp");
  ExpectError(Json(f, Str("2024-02-30")), f, "does not exist");
  // JSON strings of digits are not Unix seconds: the type is a string.
  ExpectError(Json(f, Str("1709533166")), f, "timestamp");
}

TEST(ValidateTime, Text) {
  const Field f = MakeField("tstp", FieldType::kTime);
  EXPECT_EQ(Get<absl::Time>(Text(f, "2013-01-01 00:30:00")), Utc(2013, 1, 1, 0, 30));
  EXPECT_EQ(Get<absl::Time>(Text(f, " 2013-01-01 ")), Utc(2013, 1, 1));
  EXPECT_EQ(Get<absl::Time>(Text(f, "1356998400")), Utc(2013, 1, 1));
  EXPECT_EQ(Get<absl::Time>(Text(f, "-1")), Utc(1969, 12, 31, 23, 59, 59));
  ExpectError(Text(f, "99999999999999"), f, "out of range");
  ExpectError(Text(f, "99999999999999999999"), f, "out of range");
  ExpectError(Text(f, "01/02/2013"), f, "timestamp");
  ExpectError(Text(f, "2013-13-01"), f, "out-of-range");
}

// ---- point ----

TEST(ValidatePoint, JsonForms) {
  const Field f = MakeField("location", FieldType::kPoint);
  const GeoPoint want{52.347027, 4.911441};
  EXPECT_EQ(Get<GeoPoint>(Json(f, Composite(R"({"lat":52.347027,"lon":4.911441})"))),
            want);
  EXPECT_EQ(
      Get<GeoPoint>(Json(f, Composite(R"({"latitude":52.347027,"longitude":4.911441})"))),
      want);
  EXPECT_EQ(Get<GeoPoint>(Json(
                f, Composite(R"({"type":"Point","coordinates":[4.911441,52.347027]})"))),
            want);
  EXPECT_EQ(
      Get<GeoPoint>(Json(
          f, Composite(R"({"coordinates":[4.911441,52.347027,3.5],"type":"Point"})"))),
      want);
  // Integers are numbers too; other members are ignored.
  EXPECT_EQ(Get<GeoPoint>(Json(f, Composite(R"({"lat":-90,"lon":180,"alt":2})"))),
            (GeoPoint{-90, 180}));
}

TEST(ValidatePoint, JsonErrors) {
  const Field f = MakeField("location", FieldType::kPoint);
  ExpectError(Json(f, Composite(R"({"lat":90.5,"lon":4})")), f,
              "latitude is out of range");
  ExpectError(Json(f, Composite(R"({"lat":-91,"lon":4})")), f,
              "latitude is out of range");
  ExpectError(Json(f, Composite(R"({"lat":52,"lon":180.01})")), f,
              "longitude is out of range");
  ExpectError(Json(f, Composite(R"({"lat":52,"lon":-181})")), f,
              "longitude is out of range");
  // GeoJSON order is [lon, lat]: [4, 95] has latitude 95.
  ExpectError(Json(f, Composite(R"({"type":"Point","coordinates":[4,95]})")), f,
              "latitude is out of range");
  ExpectError(Json(f, Composite(R"({"type":"LineString","coordinates":[[0,0],[1,1]]})")),
              f, "not a Point");
  ExpectError(Json(f, Composite(R"({"type":"Point","coordinates":[4]})")), f,
              "coordinates");
  ExpectError(Json(f, Composite(R"({"type":"Point"})")), f, "coordinates");
  ExpectError(Json(f, Composite(R"({"type":"Point","coordinates":["4","52"]})")), f,
              "must be numbers");
  ExpectError(Json(f, Composite(R"({"lat":"52.3","lon":"4.9"})")), f, "must be numbers");
  ExpectError(Json(f, Composite(R"({"lat":52.3})")), f, "needs lat and lon");
  ExpectError(Json(f, Composite(R"({"lat":52.3,"longitude":4.9})")), f,
              "needs lat and lon");
  ExpectError(Json(f, Composite(R"([4.9,52.3])")), f,
              "expected a point object, got an array");
  ExpectError(Json(f, Composite(R"({"lat":52.3,)")), f, "not valid JSON");
  ExpectError(Json(f, Str("52.3,4.9")), f, "expected a point, got a string");
  ExpectError(Json(f, Num(52.3)), f, "expected a point, got a fractional number");
  const std::string huge =
      "{\"lat\":1,\"lon\":2,\"pad\":\"" + std::string(5000, 'x') + "\"}";
  ExpectError(Json(f, Composite(huge)), f, "too long");
}

TEST(ValidatePoint, Text) {
  const Field f = MakeField("location", FieldType::kPoint);
  EXPECT_EQ(Get<GeoPoint>(Text(f, "52.37,4.89")), (GeoPoint{52.37, 4.89}));
  EXPECT_EQ(Get<GeoPoint>(Text(f, " 52.37 , -4.89 ")), (GeoPoint{52.37, -4.89}));
  EXPECT_EQ(Get<GeoPoint>(Text(f, R"({"lat":52.37,"lon":4.89})")),
            (GeoPoint{52.37, 4.89}));
  ExpectError(Text(f, "52.37"), f, "expected a point");
  ExpectError(Text(f, "52.37;4.89"), f, "expected a point");
  ExpectError(Text(f, "95,4.89"), f, "latitude is out of range");
  ExpectError(Text(f, "52,200"), f, "longitude is out of range");
  ExpectError(Text(f, "nan,4"), f, "expected a number");
  ExpectError(Text(f, "{\"lat\":1}"), f, "needs lat and lon");
}

TEST(ValidatePoint, TwoSources) {
  Field f = MakeField("start", FieldType::kPoint);
  f.source = {"Start Station Latitude", "Start Station Longitude"};

  InputRecord text = TextRecord({{"Start Station Latitude", "40.71958611647166"},
                                 {"Start Station Longitude", "-74.04311746358871"}});
  EXPECT_EQ(Get<GeoPoint>(ValidateField(f, text)),
            (GeoPoint{40.71958611647166, -74.04311746358871}));

  InputRecord json = JsonRecord(
      {{"Start Station Latitude", Num(40.5)}, {"Start Station Longitude", Int(-74)}});
  EXPECT_EQ(Get<GeoPoint>(ValidateField(f, json)), (GeoPoint{40.5, -74}));

  // Both absent: absent (or missing when required).
  InputRecord none = JsonRecord({{"other", Int(1)}});
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*ValidateField(f, none)));
  InputRecord empty =
      TextRecord({{"Start Station Latitude", ""}, {"Start Station Longitude", ""}});
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*ValidateField(f, empty)));

  // One of the two absent is an error naming which.
  InputRecord half = JsonRecord({{"Start Station Latitude", Num(40.5)}});
  ExpectError(ValidateField(f, half), f,
              "longitude (source 'Start Station Longitude') is missing");

  InputRecord wrong = JsonRecord(
      {{"Start Station Latitude", Str("40.5")}, {"Start Station Longitude", Int(-74)}});
  ExpectError(ValidateField(f, wrong), f, "expected a number, got a string");
  ExpectError(ValidateField(f, wrong), f, "latitude (source 'Start Station Latitude')");

  InputRecord out = JsonRecord(
      {{"Start Station Latitude", Num(-90.5)}, {"Start Station Longitude", Int(-74)}});
  ExpectError(ValidateField(f, out), f, "latitude is out of range");
  InputRecord swapped = JsonRecord(
      {{"Start Station Latitude", Int(-74)}, {"Start Station Longitude", Int(200)}});
  ExpectError(ValidateField(f, swapped), f, "longitude is out of range");

  f.required = true;
  ExpectError(ValidateField(f, none), f, "missing required field");
}

// ---- enum ----

TEST(ValidateEnum, JsonAndText) {
  Field f = MakeField("user_type", FieldType::kEnum);
  f.values = {"Subscriber", "Customer"};
  EXPECT_EQ(Get<std::string>(Json(f, Str("Subscriber"))), "Subscriber");
  EXPECT_EQ(Get<std::string>(Text(f, "Customer")), "Customer");
  ExpectError(Json(f, Str("subscriber")), f, "not one of the declared enum values");
  ExpectError(Text(f, "Customer "), f, "not one of the declared enum values");
  ExpectError(Json(f, Int(1)), f, "expected a string, got a number");
  ExpectError(Json(f, Str("\xFF")), f, "not valid UTF-8");
  // An empty cell is absent.
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*Text(f, "")));
}

// ---- presence and sources ----

TEST(ValidatePresence, RequiredAndOptional) {
  Field f = MakeField("count", FieldType::kInt);
  const InputRecord missing = JsonRecord({{"other", Int(1)}});
  const InputRecord null = JsonRecord({{"count", Null()}});
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*ValidateField(f, missing)));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*ValidateField(f, null)));
  f.required = true;
  ExpectError(ValidateField(f, missing), f, "missing required field");
  ExpectError(ValidateField(f, null), f, "missing required field");
  ExpectError(ValidateField(f, JsonRecord({})), f, "missing required field");
}

TEST(ValidatePresence, ReadsFromSource) {
  Field f = MakeField("energy", FieldType::kNumber);
  f.source = {"energy(kWh/hh)"};
  const InputRecord r = TextRecord({{"energy", "1.0"}, {"energy(kWh/hh)", " 0.241 "}});
  EXPECT_DOUBLE_EQ(Get<double>(ValidateField(f, r)), 0.241);
  // The field's own name is not read when a source is given.
  const InputRecord only_name = TextRecord({{"energy", "1.0"}});
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*ValidateField(f, only_name)));
}

TEST(ValidatePresence, SeveralSourcesOnlyForPoints) {
  Field f = MakeField("energy", FieldType::kNumber);
  f.source = {"a", "b"};
  ExpectError(ValidateField(f, JsonRecord({{"a", Num(1)}, {"b", Num(2)}})), f,
              "only a point reads two");
}

TEST(ValidatePresence, TypedValuesInTextRecordsAreTakenAsTyped) {
  // A text parser may hand over nulls; they count as absent.
  const Field f = MakeField("count", FieldType::kInt);
  InputRecord r = TextRecord({});
  r.fields.emplace_back("count", Null());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*ValidateField(f, r)));
  r.fields[0].second = Int(3);
  EXPECT_EQ(Get<int64_t>(ValidateField(f, r)), 3);
}

// ---- bounds ----

TEST(ValidateBounds, RejectOutside) {
  Field f = MakeField("count", FieldType::kInt);
  f.min = 0;
  f.max = 100;
  EXPECT_EQ(Get<int64_t>(Json(f, Int(0))), 0);
  EXPECT_EQ(Get<int64_t>(Json(f, Int(100))), 100);
  ExpectError(Json(f, Int(-1)), f, "below the declared minimum");
  ExpectError(Json(f, Int(12345)), f, "above the declared maximum");
  ExpectError(Text(f, "12345"), f, "above the declared maximum");

  Field g = MakeField("heading", FieldType::kNumber);
  g.min = 0;
  g.max = 360;
  EXPECT_DOUBLE_EQ(Get<double>(Json(g, Num(337.5))), 337.5);
  ExpectError(Json(g, Num(-0.5)), g, "below the declared minimum");
  ExpectError(Json(g, Num(360.25)), g, "above the declared maximum");
}

TEST(ValidateBounds, OnlyMin) {
  Field f = MakeField("count", FieldType::kNumber);
  f.min = 0;
  EXPECT_DOUBLE_EQ(Get<double>(Json(f, Num(1e12))), 1e12);
  ExpectError(Json(f, Num(-1e-9)), f, "below the declared minimum");
}

TEST(ValidateBounds, ClampedFieldsAreClampedNotRejected) {
  config::Transform clamp;
  clamp.kind = config::TransformKind::kClamp;
  clamp.max = 90;

  Field f = MakeField("age", FieldType::kInt);
  f.min = 0.5;  // the smallest integer at or above is 1
  f.max = 90;
  f.transforms = {clamp};
  EXPECT_EQ(Get<int64_t>(Json(f, Int(104))), 90);
  EXPECT_EQ(Get<int64_t>(Json(f, Int(-3))), 1);
  EXPECT_EQ(Get<int64_t>(Json(f, Int(42))), 42);

  Field g = MakeField("energy", FieldType::kNumber);
  g.min = 0;
  g.max = 10;
  g.transforms = {clamp};
  EXPECT_DOUBLE_EQ(Get<double>(Text(g, "12.5")), 10);
  EXPECT_DOUBLE_EQ(Get<double>(Text(g, "-0.5")), 0);
}

// ---- no values in errors ----

TEST(ValidateErrors, NeverQuoteTheValue) {
  const std::string_view kSecret = "98NPK6";
  struct Case {
    FieldType type;
    bool text;
    std::string input;
  };
  const std::vector<Case> cases = {
      {FieldType::kInt, true, "98NPK6"},
      {FieldType::kNumber, true, "98NPK6"},
      {FieldType::kBool, true, "98NPK6"},
      {FieldType::kTime, true, "98NPK6"},
      {FieldType::kTime, false, "98NPK6"},
      {FieldType::kPoint, true, "98NPK6"},
      {FieldType::kPoint, true, "98NPK6,4"},
      {FieldType::kPoint, false, R"({"lat":"98NPK6","lon":1})"},
      {FieldType::kPoint, false, R"({"lat":98NPK6})"},
      {FieldType::kEnum, true, "98NPK6"},
      {FieldType::kEnum, false, "98NPK6"},
      {FieldType::kNumber, false, "98NPK6"},
      {FieldType::kString, false, "98NPK6\xFF"},
  };
  for (const Case& c : cases) {
    Field f = MakeField("plate", c.type);
    f.values = {"a"};
    InputValue v =
        c.type == FieldType::kPoint && !c.text ? Composite(c.input) : Str(c.input);
    InputRecord r = c.text ? TextRecord({}) : JsonRecord({});
    r.fields.emplace_back("plate", v);
    const absl::StatusOr<Value> result = ValidateField(f, r);
    ASSERT_FALSE(result.ok()) << c.input;
    EXPECT_THAT(std::string(result.status().message()), Not(HasSubstr(kSecret)))
        << c.input;
    EXPECT_THAT(std::string(result.status().message()), HasSubstr("'plate'"));
  }
}

}  // namespace
}  // namespace privacity::transform
