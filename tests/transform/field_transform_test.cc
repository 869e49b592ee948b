#include "transform/field_transform.h"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "transform/test_util.h"

namespace privacity::transform {
namespace {

using config::Field;
using config::FieldType;
using config::RedactPattern;
using config::Transform;
using config::TransformKind;
using ::testing::HasSubstr;
using testing::MakeField;
using ::testing::Not;

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

Transform Kind(TransformKind kind) {
  Transform t;
  t.kind = kind;
  return t;
}
Transform TimeBucket(absl::Duration bucket) {
  Transform t = Kind(TransformKind::kTimeBucket);
  t.bucket = bucket;
  return t;
}
Transform Cell(int level) {
  Transform t = Kind(TransformKind::kCell);
  t.cell_level = level;
  return t;
}
Transform Round(double step) {
  Transform t = Kind(TransformKind::kRound);
  t.step = step;
  return t;
}
Transform Clamp(std::optional<double> min, std::optional<double> max) {
  Transform t = Kind(TransformKind::kClamp);
  t.min = min;
  t.max = max;
  return t;
}
Transform Truncate(int length) {
  Transform t = Kind(TransformKind::kTruncate);
  t.length = length;
  return t;
}
Transform Redact(std::vector<RedactPattern> patterns) {
  Transform t = Kind(TransformKind::kRedact);
  t.patterns = std::move(patterns);
  return t;
}

// Reads an ARX hierarchy fixture at `level`, as the config loader would.
Transform MapFromFixture(const std::string& name, int level) {
  Transform t = Kind(TransformKind::kMap);
  t.table_path = "hierarchies/" + name;
  t.level = level;
  std::ifstream in(std::string(PRIVACITY_TEST_DATA) + "/transform/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cells = absl::StrSplit(line, ';');
    if (static_cast<int>(cells.size()) > level) t.table[cells[0]] = cells[level];
  }
  return t;
}

Field WithTransforms(Field f, std::vector<Transform> transforms) {
  f.transforms = std::move(transforms);
  return f;
}

std::unique_ptr<FieldTransformer> MustCreate(const Field& f) {
  absl::StatusOr<std::unique_ptr<FieldTransformer>> t = FieldTransformer::Create(f);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : nullptr;
}

// Create fails with InvalidArgument naming the field, the step and `reason`.
void ExpectCreateError(const Field& f, std::string_view step, std::string_view reason) {
  absl::StatusOr<std::unique_ptr<FieldTransformer>> t = FieldTransformer::Create(f);
  ASSERT_FALSE(t.ok()) << reason;
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(t.status().message());
  EXPECT_THAT(message, HasSubstr("'" + f.name + "'"));
  EXPECT_THAT(message, HasSubstr(std::string(step)));
  EXPECT_THAT(message, HasSubstr(std::string(reason)));
}

template <typename T>
T Apply(const FieldTransformer& t, Value v) {
  absl::StatusOr<Value> r = t.Apply(std::move(v));
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok() || !std::holds_alternative<T>(*r)) {
    ADD_FAILURE() << "result does not hold the expected type";
    return T{};
  }
  return std::get<T>(*r);
}

// ---- Create: applicability ----

TEST(FieldTransformerCreate, RejectsInapplicableSteps) {
  ExpectCreateError(
      WithTransforms(MakeField("count", FieldType::kInt), {TimeBucket(absl::Hours(1))}),
      "transform 1 (time_bucket)", "cannot apply to an int value");
  ExpectCreateError(WithTransforms(MakeField("name", FieldType::kString), {Cell(10)}),
                    "(cell)", "cannot apply to a string value");
  ExpectCreateError(WithTransforms(MakeField("name", FieldType::kEnum), {Round(1)}),
                    "(round)", "cannot apply to a string value");
  ExpectCreateError(WithTransforms(MakeField("open", FieldType::kBool), {Clamp(0, 1)}),
                    "(clamp)", "cannot apply to a bool value");
  ExpectCreateError(WithTransforms(MakeField("time", FieldType::kTime), {Truncate(3)}),
                    "(truncate)", "cannot apply to a time value");
  ExpectCreateError(WithTransforms(MakeField("energy", FieldType::kNumber),
                                   {MapFromFixture("age_hierarchy.csv", 1)}),
                    "(map)", "cannot apply to a number value");
  ExpectCreateError(WithTransforms(MakeField("location", FieldType::kPoint),
                                   {Redact({RedactPattern::kEmail})}),
                    "(redact)", "cannot apply to a point value");
}

TEST(FieldTransformerCreate, TracksTheValueThroughTheChain) {
  // cell turns a point into a cell: a second cell coarsens, round cannot.
  EXPECT_NE(MustCreate(WithTransforms(MakeField("location", FieldType::kPoint),
                                      {Cell(16), Cell(12)})),
            nullptr);
  ExpectCreateError(
      WithTransforms(MakeField("location", FieldType::kPoint), {Cell(16), Round(1)}),
      "transform 2 (round)", "cannot apply to a cell value");
  // map turns an int into a string: truncate then applies, round does not.
  EXPECT_NE(
      MustCreate(WithTransforms(MakeField("age", FieldType::kInt),
                                {MapFromFixture("age_hierarchy.csv", 2), Truncate(2)})),
      nullptr);
  ExpectCreateError(WithTransforms(MakeField("age", FieldType::kInt),
                                   {MapFromFixture("age_hierarchy.csv", 2), Round(5)}),
                    "transform 2 (round)", "cannot apply to a string value");
}

TEST(FieldTransformerCreate, RejectsBadParameters) {
  const Field time = MakeField("time", FieldType::kTime);
  ExpectCreateError(WithTransforms(time, {TimeBucket(absl::ZeroDuration())}),
                    "(time_bucket)", "positive bucket");
  ExpectCreateError(WithTransforms(time, {TimeBucket(absl::Minutes(-15))}),
                    "(time_bucket)", "positive bucket");

  const Field point = MakeField("location", FieldType::kPoint);
  ExpectCreateError(WithTransforms(point, {Cell(31)}), "(cell)", "between 0 and 30");
  ExpectCreateError(WithTransforms(point, {Cell(-1)}), "(cell)", "between 0 and 30");

  const Field number = MakeField("energy", FieldType::kNumber);
  ExpectCreateError(WithTransforms(number, {Round(0)}), "(round)", "positive step");
  ExpectCreateError(WithTransforms(number, {Round(-0.5)}), "(round)", "positive step");
  ExpectCreateError(WithTransforms(number, {Round(std::nan(""))}), "(round)",
                    "positive step");
  ExpectCreateError(WithTransforms(MakeField("count", FieldType::kInt), {Round(2.5)}),
                    "(round)", "whole-number step");
  ExpectCreateError(WithTransforms(number, {Clamp(std::nullopt, std::nullopt)}),
                    "(clamp)", "min, a max or both");
  ExpectCreateError(WithTransforms(number, {Clamp(10, 0)}), "(clamp)",
                    "greater than max");
  ExpectCreateError(WithTransforms(number, {Clamp(0, INFINITY)}), "(clamp)", "finite");
  ExpectCreateError(
      WithTransforms(MakeField("count", FieldType::kInt), {Clamp(0.2, 0.8)}), "(clamp)",
      "holds no integer");

  const Field text = MakeField("postcode", FieldType::kString);
  ExpectCreateError(WithTransforms(text, {Truncate(0)}), "(truncate)", "positive length");
  Transform empty_map = Kind(TransformKind::kMap);
  empty_map.table_path = "hierarchies/none.csv";
  ExpectCreateError(WithTransforms(text, {empty_map}), "(map)",
                    "hierarchy hierarchies/none.csv not loaded");
  ExpectCreateError(WithTransforms(text, {Redact({})}), "(redact)",
                    "at least one pattern");
}

TEST(FieldTransformerCreate, ErrorNamesTheLocation) {
  Transform bad = Truncate(0);
  bad.location = {12, 9};
  ExpectCreateError(WithTransforms(MakeField("postcode", FieldType::kString), {bad}),
                    "transform 1 (truncate) at 12:9", "positive length");
}

TEST(FieldTransformerCreate, NoOpStepsApplyToAnything) {
  for (FieldType type :
       {FieldType::kString, FieldType::kInt, FieldType::kNumber, FieldType::kBool,
        FieldType::kTime, FieldType::kPoint, FieldType::kEnum}) {
    EXPECT_NE(MustCreate(WithTransforms(
                  MakeField("f", type),
                  {Kind(TransformKind::kKeep), Kind(TransformKind::kPseudonymize)})),
              nullptr);
    EXPECT_NE(
        MustCreate(WithTransforms(MakeField("f", type), {Kind(TransformKind::kDrop)})),
        nullptr);
    EXPECT_NE(MustCreate(MakeField("f", type)), nullptr);
  }
}

// ---- Apply ----

TEST(FieldTransformerApply, NoOpsAndAbsentValues) {
  const auto t = MustCreate(
      WithTransforms(MakeField("plate", FieldType::kString),
                     {Kind(TransformKind::kKeep), Kind(TransformKind::kPseudonymize),
                      Kind(TransformKind::kDrop)}));
  EXPECT_EQ(Apply<std::string>(*t, std::string("98-NPK-6")), "98-NPK-6");

  const auto r =
      MustCreate(WithTransforms(MakeField("count", FieldType::kInt), {Round(10)}));
  absl::StatusOr<Value> absent = r->Apply(std::monostate{});
  ASSERT_TRUE(absent.ok());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*absent));
}

TEST(FieldTransformerApply, TimeBucket) {
  const auto t15 = MustCreate(WithTransforms(MakeField("time", FieldType::kTime),
                                             {TimeBucket(absl::Minutes(15))}));
  EXPECT_EQ(Apply<absl::Time>(*t15, Utc(2024, 3, 4, 6, 19, 26)), Utc(2024, 3, 4, 6, 15));
  EXPECT_EQ(Apply<absl::Time>(*t15, Utc(2024, 3, 4, 6, 15)), Utc(2024, 3, 4, 6, 15));
  EXPECT_EQ(Apply<absl::Time>(*t15, Utc(2024, 3, 4, 6, 14, 59)), Utc(2024, 3, 4, 6));
  EXPECT_EQ(Apply<absl::Time>(*t15, Utc(2024, 3, 4, 6, 14, 59) + absl::Milliseconds(999)),
            Utc(2024, 3, 4, 6));
  // Before 1970 the floor still goes towards the past.
  EXPECT_EQ(Apply<absl::Time>(*t15, Utc(1969, 12, 31, 23, 59, 59)),
            Utc(1969, 12, 31, 23, 45));
  EXPECT_EQ(Apply<absl::Time>(*t15, Utc(1955, 11, 5, 6, 1)), Utc(1955, 11, 5, 6));

  const auto day = MustCreate(
      WithTransforms(MakeField("time", FieldType::kTime), {TimeBucket(absl::Hours(24))}));
  EXPECT_EQ(Apply<absl::Time>(*day, Utc(2013, 1, 1, 23, 30)), Utc(2013, 1, 1));
  EXPECT_EQ(Apply<absl::Time>(*day, Utc(1969, 7, 20, 20, 17)), Utc(1969, 7, 20));
}

TEST(FieldTransformerApply, CellFromPointAndCoarsening) {
  const GeoPoint dam{52.373169, 4.892431};
  const auto t =
      MustCreate(WithTransforms(MakeField("location", FieldType::kPoint), {Cell(13)}));
  const CellId cell = Apply<CellId>(*t, dam);
  EXPECT_EQ(cell, CellOf(dam, 13));
  EXPECT_EQ(CellLevel(cell), 13);

  const auto twice = MustCreate(
      WithTransforms(MakeField("location", FieldType::kPoint), {Cell(16), Cell(10)}));
  EXPECT_EQ(Apply<CellId>(*twice, dam), CellOf(dam, 10));
  // A finer second level does not refine.
  const auto finer = MustCreate(
      WithTransforms(MakeField("location", FieldType::kPoint), {Cell(10), Cell(16)}));
  EXPECT_EQ(Apply<CellId>(*finer, dam), CellOf(dam, 10));

  // A cell value handed in is coarsened; an invalid one is an error.
  EXPECT_EQ(Apply<CellId>(*t, CellOf(dam, 20)), CellOf(dam, 13));
  absl::StatusOr<Value> bad = t->Apply(CellId{});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("'location'"));
}

TEST(FieldTransformerApply, RoundNumbersHalfAwayFromZero) {
  const auto half =
      MustCreate(WithTransforms(MakeField("x", FieldType::kNumber), {Round(0.5)}));
  EXPECT_DOUBLE_EQ(Apply<double>(*half, 2.25), 2.5);
  EXPECT_DOUBLE_EQ(Apply<double>(*half, -2.25), -2.5);
  EXPECT_DOUBLE_EQ(Apply<double>(*half, 2.2), 2.0);
  EXPECT_DOUBLE_EQ(Apply<double>(*half, -2.2), -2.0);
  EXPECT_DOUBLE_EQ(Apply<double>(*half, 2.3), 2.5);

  const auto tenth =
      MustCreate(WithTransforms(MakeField("x", FieldType::kNumber), {Round(0.1)}));
  // Decimal ties that binary cannot hold exactly still round away from zero,
  // and results are the nearest double to the decimal.
  EXPECT_EQ(Apply<double>(*tenth, 0.35), 0.4);
  EXPECT_EQ(Apply<double>(*tenth, -0.35), -0.4);
  EXPECT_EQ(Apply<double>(*tenth, 0.34), 0.3);
  EXPECT_EQ(Apply<double>(*tenth, 0.219), 0.2);
  EXPECT_EQ(Apply<double>(*tenth, 1.05), 1.1);

  const auto ten =
      MustCreate(WithTransforms(MakeField("x", FieldType::kNumber), {Round(10)}));
  EXPECT_EQ(Apply<double>(*ten, 15.0), 20);
  EXPECT_EQ(Apply<double>(*ten, -15.0), -20);
  EXPECT_EQ(Apply<double>(*ten, 14.9), 10);
  EXPECT_EQ(Apply<double>(*ten, -14.9), -10);
  const double zero = Apply<double>(*ten, -4.9);
  EXPECT_EQ(zero, 0);
  EXPECT_FALSE(std::signbit(zero));  // no "-0" in outputs

  // An int handed to a fractional step is refused, not divided by zero.
  EXPECT_FALSE(half->Apply(int64_t{3}).ok());
  EXPECT_EQ(Apply<int64_t>(*ten, int64_t{15}), 20);

  const auto third =
      MustCreate(WithTransforms(MakeField("x", FieldType::kNumber), {Round(1.0 / 3)}));
  EXPECT_NEAR(Apply<double>(*third, 0.5), 2.0 / 3, 1e-12);
}

TEST(FieldTransformerApply, RoundIntsStayInts) {
  const auto five =
      MustCreate(WithTransforms(MakeField("n", FieldType::kInt), {Round(5)}));
  EXPECT_EQ(Apply<int64_t>(*five, int64_t{7}), 5);
  EXPECT_EQ(Apply<int64_t>(*five, int64_t{8}), 10);
  EXPECT_EQ(Apply<int64_t>(*five, int64_t{-7}), -5);
  EXPECT_EQ(Apply<int64_t>(*five, int64_t{-8}), -10);
  EXPECT_EQ(Apply<int64_t>(*five, int64_t{0}), 0);
  EXPECT_EQ(Apply<int64_t>(*five, int64_t{10}), 10);

  const auto ten =
      MustCreate(WithTransforms(MakeField("n", FieldType::kInt), {Round(10)}));
  EXPECT_EQ(Apply<int64_t>(*ten, int64_t{25}), 30);
  EXPECT_EQ(Apply<int64_t>(*ten, int64_t{-25}), -30);
  EXPECT_EQ(Apply<int64_t>(*ten, int64_t{24}), 20);
  EXPECT_EQ(Apply<int64_t>(*ten, int64_t{-24}), -20);
  EXPECT_EQ(Apply<int64_t>(*ten, int64_t{1234567890123456785}), 1234567890123456790);
  EXPECT_EQ(Apply<int64_t>(*ten, std::numeric_limits<int64_t>::min() + 4),
            std::numeric_limits<int64_t>::min() + 8);

  // Rounding up past the largest int64 is an error, not a wrap.
  absl::StatusOr<Value> over = ten->Apply(std::numeric_limits<int64_t>::max());
  ASSERT_FALSE(over.ok());
  EXPECT_THAT(std::string(over.status().message()), HasSubstr("out of range"));
  EXPECT_THAT(std::string(over.status().message()),
              Not(HasSubstr("9223372036854775807")));
}

TEST(FieldTransformerApply, Clamp) {
  const auto both =
      MustCreate(WithTransforms(MakeField("x", FieldType::kNumber), {Clamp(0, 10)}));
  EXPECT_EQ(Apply<double>(*both, -1.5), 0);
  EXPECT_EQ(Apply<double>(*both, 10.01), 10);
  EXPECT_EQ(Apply<double>(*both, 5.5), 5.5);

  const auto top = MustCreate(
      WithTransforms(MakeField("x", FieldType::kNumber), {Clamp(std::nullopt, 90)}));
  EXPECT_EQ(Apply<double>(*top, 104.0), 90);
  EXPECT_EQ(Apply<double>(*top, -1e9), -1e9);

  const auto ints =
      MustCreate(WithTransforms(MakeField("n", FieldType::kInt), {Clamp(0.5, 9.5)}));
  EXPECT_EQ(Apply<int64_t>(*ints, int64_t{0}), 1);
  EXPECT_EQ(Apply<int64_t>(*ints, int64_t{10}), 9);
  EXPECT_EQ(Apply<int64_t>(*ints, int64_t{4}), 4);

  // Round then clamp: top-coded to the clamp.
  const auto chain = MustCreate(WithTransforms(MakeField("n", FieldType::kInt),
                                               {Round(10), Clamp(std::nullopt, 50)}));
  EXPECT_EQ(Apply<int64_t>(*chain, int64_t{57}), 50);
  EXPECT_EQ(Apply<int64_t>(*chain, int64_t{44}), 40);
}

TEST(FieldTransformerApply, TruncateKeepsWholeCodePoints) {
  const auto four = MustCreate(
      WithTransforms(MakeField("postcode", FieldType::kString), {Truncate(4)}));
  EXPECT_EQ(Apply<std::string>(*four, std::string("1012AB")), "1012");
  EXPECT_EQ(Apply<std::string>(*four, std::string("101")), "101");
  EXPECT_EQ(Apply<std::string>(*four, std::string("")), "");
  // "Zoë's" : ë is two bytes.
  EXPECT_EQ(Apply<std::string>(*four, std::string("Zo\xC3\xAB's")), "Zo\xC3\xAB'");
  // Three-byte euro signs and four-byte emoji are kept or dropped whole.
  EXPECT_EQ(Apply<std::string>(*four, std::string("\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC"
                                                  "\xE2\x82\xAC\xE2\x82\xAC")),
            "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC");
  const auto one =
      MustCreate(WithTransforms(MakeField("s", FieldType::kString), {Truncate(1)}));
  EXPECT_EQ(Apply<std::string>(*one, std::string("\xF0\x9F\x9A\xB2\xF0\x9F\x9A\xB2")),
            "\xF0\x9F\x9A\xB2");
  EXPECT_EQ(Apply<std::string>(*one, std::string("\xC3\xA9t\xC3\xA9")), "\xC3\xA9");

  // Enum values are strings.
  Field e = MakeField("kind", FieldType::kEnum);
  e.values = {"Subscriber"};
  e.transforms = {Truncate(3)};
  EXPECT_EQ(Apply<std::string>(*MustCreate(e), std::string("Subscriber")), "Sub");
}

TEST(FieldTransformerApply, MapFromHierarchy) {
  const auto ages = MustCreate(WithTransforms(MakeField("age", FieldType::kInt),
                                              {MapFromFixture("age_hierarchy.csv", 2)}));
  EXPECT_EQ(Apply<std::string>(*ages, int64_t{34}), "30-39");
  EXPECT_EQ(Apply<std::string>(*ages, int64_t{90}), "90-99");

  const auto places =
      MustCreate(WithTransforms(MakeField("town", FieldType::kString),
                                {MapFromFixture("municipality_hierarchy.csv", 1)}));
  EXPECT_EQ(Apply<std::string>(*places, std::string("Den Haag")), "Zuid-Holland");
  EXPECT_EQ(Apply<std::string>(*places, std::string("'s-Hertogenbosch")),
            "Noord-Brabant");

  // Missing values name the hierarchy, never the value.
  for (const Value& v : {Value(int64_t{12}), Value(int64_t{-3})}) {
    absl::StatusOr<Value> r = ages->Apply(v);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()),
                HasSubstr("value not in hierarchy hierarchies/age_hierarchy.csv"));
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("'age'"));
    EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr("12")));
  }
  absl::StatusOr<Value> r = places->Apply(std::string("Zwolle"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr("Zwolle")));
  // Lookup is exact.
  EXPECT_FALSE(places->Apply(std::string("amsterdam")).ok());
}

TEST(FieldTransformerApply, MapThenTruncate) {
  const auto t =
      MustCreate(WithTransforms(MakeField("age", FieldType::kInt),
                                {MapFromFixture("age_hierarchy.csv", 1), Truncate(2)}));
  EXPECT_EQ(Apply<std::string>(*t, int64_t{37}), "35");
}

TEST(FieldTransformerApply, Redact) {
  const auto t = MustCreate(WithTransforms(
      MakeField("note", FieldType::kString),
      {Redact({RedactPattern::kPlate, RedactPattern::kEmail, RedactPattern::kMac})}));
  EXPECT_EQ(Apply<std::string>(
                *t, std::string("follow-up on 22-RHD-6 by ops@demo-city.example")),
            "follow-up on [plate] by [email]");
  EXPECT_EQ(Apply<std::string>(*t, std::string("call 0612345678")), "call 0612345678");

  const auto then_truncate =
      MustCreate(WithTransforms(MakeField("note", FieldType::kString),
                                {Redact({RedactPattern::kEmail}), Truncate(7)}));
  EXPECT_EQ(Apply<std::string>(*then_truncate, std::string("jan@example.nl wrote")),
            "[email]");
}

TEST(FieldTransformerApply, WrongValueKindIsAnError) {
  const auto t = MustCreate(
      WithTransforms(MakeField("time", FieldType::kTime), {TimeBucket(absl::Hours(1))}));
  absl::StatusOr<Value> r = t->Apply(int64_t{1700000000});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("'time'"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("time_bucket"));
  EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr("1700000000")));
}

// Validation then transformation, as the pipeline runs them.
TEST(FieldTransformerApply, AfterValidation) {
  Field f = MakeField("energy", FieldType::kNumber);
  f.source = {"energy(kWh/hh)"};
  f.min = 0;
  f.max = 5;
  f.transforms = {Clamp(0, 5), Round(0.1)};
  const auto t = MustCreate(f);
  const InputRecord r = testing::TextRecord({{"energy(kWh/hh)", " 0.219 "}});
  absl::StatusOr<Value> v = ValidateField(f, r);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(Apply<double>(*t, *v), 0.2);
  const InputRecord high = testing::TextRecord({{"energy(kWh/hh)", "7.77"}});
  v = ValidateField(f, high);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(Apply<double>(*t, *v), 5.0);
}

}  // namespace
}  // namespace privacity::transform
