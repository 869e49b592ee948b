#include "config/loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/time_util.h"
#include "config/model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privacity::config {
namespace {

using ::testing::HasSubstr;

const std::string kDataDir = std::string(PRIVACITY_TEST_DATA) + "/config";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The valid fixture every mistake test starts from.
std::string BaseText() { return ReadFile(kDataDir + "/city.yaml"); }

// `text` with its only occurrence of `from` replaced by `to`.
std::string Replace(const std::string& text, std::string_view from, std::string_view to) {
  const size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << "fixture lacks: " << from;
  EXPECT_EQ(text.find(from, pos + 1), std::string::npos) << "fixture repeats: " << from;
  if (pos == std::string::npos) return text;
  return text.substr(0, pos) + std::string(to) + text.substr(pos + from.size());
}

// 1-based line and column of the only occurrence of `needle` in `text`, or
// of `mark` within that occurrence when given.
SourceLocation At(const std::string& text, std::string_view needle,
                  std::string_view mark = {}) {
  size_t pos = text.find(needle);
  EXPECT_NE(pos, std::string::npos) << "text lacks: " << needle;
  EXPECT_EQ(text.find(needle, pos + 1), std::string::npos) << "text repeats: " << needle;
  if (pos == std::string::npos) return {};
  if (!mark.empty()) {
    const size_t offset = needle.find(mark);
    EXPECT_NE(offset, std::string_view::npos) << mark << " is not in " << needle;
    if (offset != std::string_view::npos) pos += offset;
  }
  const size_t line_start = text.rfind('\n', pos);
  const int line =
      static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n')) + 1;
  const int column =
      static_cast<int>(line_start == std::string::npos ? pos + 1 : pos - line_start);
  return {line, column};
}

std::string Describe(const std::vector<ConfigError>& errors) {
  std::vector<std::string> lines;
  for (const ConfigError& e : errors) lines.push_back(FormatConfigError("city.yaml", e));
  return absl::StrJoin(lines, "\n");
}

// True when `errors` holds an error at `at` whose message contains every
// one of `parts`.
::testing::AssertionResult HasError(const std::vector<ConfigError>& errors,
                                    SourceLocation at,
                                    std::initializer_list<std::string_view> parts) {
  for (const ConfigError& e : errors) {
    if (e.line != at.line || e.column != at.column) continue;
    const bool all = std::all_of(parts.begin(), parts.end(), [&](std::string_view part) {
      return e.message.find(part) != std::string::npos;
    });
    if (all) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "no error at " << at.line << ":" << at.column << " containing all of ["
         << absl::StrJoin(std::vector<std::string>(parts.begin(), parts.end()), "], [")
         << "]; errors were:\n"
         << Describe(errors);
}

std::vector<ConfigError> Check(const std::string& text) {
  return CheckConfig(text, kDataDir);
}

// Checks `text`, expecting exactly one error: at `where` (or the start of a
// snippet occurring once in `text`), naming every one of `parts`.
void ExpectOnlyError(const std::string& text, SourceLocation where,
                     std::initializer_list<std::string_view> parts) {
  const std::vector<ConfigError> errors = Check(text);
  EXPECT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_TRUE(HasError(errors, where, parts));
}
void ExpectOnlyError(const std::string& text, std::string_view where,
                     std::initializer_list<std::string_view> parts) {
  ExpectOnlyError(text, At(text, where), parts);
}

// --- valid configs ----------------------------------------------------------

TEST(LoaderTest, FixtureIsValid) {
  const std::vector<ConfigError> errors = Check(BaseText());
  EXPECT_TRUE(errors.empty()) << Describe(errors);
}

TEST(LoaderTest, DemoCityLoads) {
  const std::string path =
      std::string(PRIVACITY_SOURCE_DIR) + "/examples/demo-city/city.yaml";
  const absl::StatusOr<CityConfig> config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->city.name, "Demo City");
  EXPECT_EQ(config->city.controller, "Demo City Data Office");
  EXPECT_EQ(config->city.contact, "dpo@demo-city.example");
  EXPECT_EQ(config->store, "sqlite:privacity.db");
  EXPECT_EQ(config->source_path, path);

  for (const char* id : {"traffic-management", "grid-planning", "research", "marketing",
                         "billing", "public-information"}) {
    EXPECT_NE(config->FindPurpose(id), nullptr) << id;
  }
  EXPECT_TRUE(config->FindPurpose("marketing")->prohibited);
  EXPECT_TRUE(config->FindPurpose("billing")->mandatory);
  EXPECT_EQ(config->FindPurpose("billing")->legal_basis, LegalBasis::kContract);
  EXPECT_EQ(config->FindPurpose("research")->legal_basis, LegalBasis::kConsent);
  for (const char* id : {"transport-dept", "energy-utility", "uni-research", "public"}) {
    EXPECT_NE(config->FindParty(id), nullptr) << id;
  }
  EXPECT_EQ(config->FindParty("public")->kind, PartyKind::kPublic);

  const Stream* meters = config->FindStream("energy.meter_readings");
  ASSERT_NE(meters, nullptr);
  EXPECT_EQ(meters->subject_field, "meter_id");
  EXPECT_EQ(meters->epoch, absl::Hours(24 * 30));
  EXPECT_EQ(meters->retention, absl::Hours(24 * 365 * 2));
  EXPECT_EQ(meters->linkability, absl::Hours(24 * 90));
  const Field* energy = meters->FindField("energy_kwh");
  ASSERT_NE(energy, nullptr);
  EXPECT_EQ(energy->source, std::vector<std::string>{"energy(kWh/hh)"});
  ASSERT_EQ(energy->transforms.size(), 2u);
  EXPECT_EQ(energy->transforms[0].kind, TransformKind::kClamp);
  EXPECT_EQ(energy->transforms[1].kind, TransformKind::kRound);
  EXPECT_DOUBLE_EQ(energy->transforms[1].step, 0.001);

  const Stream* trips = config->FindStream("mobility.trips");
  ASSERT_NE(trips, nullptr);
  EXPECT_EQ(trips->location_field, "start_station");
  const Field* start = trips->FindField("start_station");
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->source, (std::vector<std::string>{"Start Station Latitude",
                                                     "Start Station Longitude"}));
  EXPECT_EQ(trips->FindField("user_type")->values,
            (std::vector<std::string>{"Subscriber", "Customer", ""}));
  EXPECT_EQ(trips->FindField("Start Station Name"), nullptr);

  const Stream* footfall = config->FindStream("footfall.counts");
  ASSERT_NE(footfall, nullptr);
  EXPECT_FALSE(footfall->personal());
  EXPECT_EQ(footfall->FindField("sensor_id")->source,
            std::vector<std::string>{"sensor_id"});

  const Stream* anpr = config->FindStream("traffic.anpr");
  ASSERT_NE(anpr, nullptr);
  EXPECT_EQ(anpr->subject_field, "plate");
  const Field* note = anpr->FindField("note");
  ASSERT_NE(note, nullptr);
  ASSERT_EQ(note->transforms.size(), 1u);
  EXPECT_EQ(note->transforms[0].patterns.size(), 4u);

  EXPECT_GE(config->agreements.size(), 7u);
  EXPECT_GE(config->sensors.size(), 6u);
  for (const Stream& s : config->streams) {
    const bool has_sensor =
        std::any_of(config->sensors.begin(), config->sensors.end(),
                    [&](const Sensor& sensor) { return sensor.stream == s.id; });
    EXPECT_TRUE(has_sensor) << s.id;
  }
}

TEST(LoaderTest, FixtureValuesAndDefaults) {
  const absl::StatusOr<CityConfig> config =
      ParseConfig(BaseText(), "city.yaml", kDataDir);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->city.area.has_value());
  EXPECT_DOUBLE_EQ(config->city.area->max_longitude, 0.5);
  EXPECT_EQ(config->store, "sqlite:test.db");

  const Stream* water = config->FindStream("water.readings");
  ASSERT_NE(water, nullptr);
  EXPECT_EQ(water->legal_basis, LegalBasis::kContract);
  EXPECT_EQ(water->FindField("meter")->source, std::vector<std::string>{"MeterId"});
  // Absent source defaults to the field's own name.
  EXPECT_EQ(water->FindField("postcode")->source, std::vector<std::string>{"postcode"});
  EXPECT_TRUE(water->FindField("owner_email")->dropped());
  EXPECT_TRUE(water->FindField("tariff")->transforms.empty());

  const Field* age = water->FindField("age");
  ASSERT_NE(age, nullptr);
  ASSERT_EQ(age->transforms.size(), 1u);
  const Transform& map = age->transforms[0];
  EXPECT_EQ(map.kind, TransformKind::kMap);
  EXPECT_EQ(map.table_path, "hierarchies/age.csv");
  EXPECT_EQ(map.level, 2);
  EXPECT_EQ(map.table.size(), 100u);
  EXPECT_EQ(map.table.at("34"), "30-39");
  EXPECT_EQ(map.table.at("99"), "90-99");

  const Field* remark = water->FindField("remark");
  ASSERT_EQ(remark->transforms.size(), 2u);
  EXPECT_EQ(remark->transforms[0].kind, TransformKind::kRedact);
  EXPECT_EQ(remark->transforms[0].patterns,
            (std::vector<RedactPattern>{RedactPattern::kEmail, RedactPattern::kPhone}));
  EXPECT_EQ(remark->transforms[1].length, 200);

  // Stream defaults.
  const Stream* air = config->FindStream("air.quality");
  ASSERT_NE(air, nullptr);
  EXPECT_EQ(air->epoch, absl::Hours(24));
  EXPECT_EQ(air->retention, absl::Hours(24 * 365));
  EXPECT_EQ(air->linkability, absl::Hours(24 * 30));
  EXPECT_EQ(air->legal_basis, LegalBasis::kPublicTask);
  EXPECT_FALSE(air->personal());

  const Agreement& records = config->agreements[0];
  EXPECT_EQ(records.id, "planning-records");
  EXPECT_EQ(records.valid_from, absl::FromUnixSeconds(1704067200));  // 2024-01-01
  // A bare valid_until date covers that whole day.
  EXPECT_EQ(records.valid_until, absl::FromUnixSeconds(1735689600));  // 2025-01-01
  EXPECT_EQ(records.time_granularity, absl::Hours(24 * 7));
  EXPECT_EQ(records.cell_level, 10);
  EXPECT_EQ(records.delete_after, absl::Hours(24 * 30));
  EXPECT_TRUE(records.no_onward_sharing);
  EXPECT_EQ(config->agreements[1].k_threshold, 10);
  ASSERT_TRUE(config->agreements[2].budget.has_value());
  EXPECT_DOUBLE_EQ(config->agreements[2].budget->epsilon, 0.5);
  EXPECT_DOUBLE_EQ(config->agreements[2].budget->delta, 0.000001);
  EXPECT_EQ(config->agreements[2].budget->period, absl::Hours(24 * 7));
  // Budget defaults: delta 0, period 30 days.
  ASSERT_TRUE(config->agreements[3].budget.has_value());
  EXPECT_DOUBLE_EQ(config->agreements[3].budget->delta, 0);
  EXPECT_EQ(config->agreements[3].budget->period, absl::Hours(24 * 30));

  EXPECT_FALSE(config->sensors[0].latitude.has_value());
  EXPECT_DOUBLE_EQ(*config->sensors[1].longitude, -0.1);
}

TEST(LoaderTest, LocationsArePositionsInTheText) {
  const std::string text = BaseText();
  const absl::StatusOr<CityConfig> config = ParseConfig(text, "city.yaml", kDataDir);
  ASSERT_TRUE(config.ok()) << config.status();
  const SourceLocation litres =
      config->FindStream("water.readings")->FindField("litres")->location;
  const SourceLocation expected = At(text, "name: litres");
  EXPECT_EQ(litres.line, expected.line);
  EXPECT_EQ(litres.column, expected.column);
  const SourceLocation round =
      config->FindStream("water.readings")->FindField("litres")->transforms[1].location;
  EXPECT_EQ(round.line, At(text, "round: 10").line);
}

// --- one mistake at a time ---------------------------------------------------

TEST(LoaderMistakeTest, YamlSyntaxError) {
  const std::string text = Replace(BaseText(), "purposes: [planning, study, invoicing]",
                                   "purposes: [planning, study, invoicing");
  const std::vector<ConfigError> errors = Check(text);
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_THAT(errors[0].message, HasSubstr("YAML syntax error"));
  EXPECT_GT(errors[0].line, 0);
}

TEST(LoaderMistakeTest, UnknownKeySuggestsTheRightOne) {
  const std::string text = Replace(BaseText(), "retention: 1y", "retension: 1y");
  ExpectOnlyError(
      text, "retension",
      {"stream 'water.readings'", "unknown key 'retension'", "did you mean 'retention'"});
}

TEST(LoaderMistakeTest, UnknownTopLevelKey) {
  const std::string text = Replace(BaseText(), "store: ", "storage: ");
  ExpectOnlyError(text, "storage", {"unknown key 'storage'", "did you mean 'store'"});
}

TEST(LoaderMistakeTest, WrongType) {
  const std::string text = Replace(BaseText(), "k: 10", "k: ten");
  ExpectOnlyError(text, At(text, "k: ten", "ten"),
                  {"agreement 'lab-extract'", "'k' must be a whole number"});
}

TEST(LoaderMistakeTest, WrongTypeOfSection) {
  const std::string text =
      Replace(BaseText(), "contact: lab@uni.example", "contact: [lab]");
  ExpectOnlyError(text, "[lab]", {"party 'lab'", "'contact' must be a string", "a list"});
}

TEST(LoaderMistakeTest, UnknownTransform) {
  const std::string text =
      Replace(BaseText(), "category: direct-identifier\n        transform: drop",
              "category: direct-identifier\n        transform: hash");
  const std::vector<ConfigError> errors = Check(text);
  EXPECT_TRUE(HasError(errors, At(text, "hash"),
                       {"field 'owner_email'", "unknown transform 'hash'"}));
}

TEST(LoaderMistakeTest, UnknownTransformStep) {
  const std::string text = Replace(BaseText(), "{truncate: 3}", "{truncat: 3}");
  ExpectOnlyError(
      text, "truncat:",
      {"field 'postcode'", "unknown transform 'truncat'", "did you mean 'truncate'"});
}

TEST(LoaderMistakeTest, TimeBucketOnANumber) {
  const std::string text = Replace(BaseText(), "round: 10", "time_bucket: 10m");
  ExpectOnlyError(text, "time_bucket: 10m",
                  {"field 'litres'", "'time_bucket' does not apply to a number field"});
}

TEST(LoaderMistakeTest, CellOnAString) {
  const std::string text = Replace(BaseText(), "{truncate: 3}", "{cell: 3}");
  ExpectOnlyError(text, "cell: 3",
                  {"field 'postcode'", "'cell' does not apply to a string field"});
}

TEST(LoaderMistakeTest, StepAfterMapSeesAString) {
  const std::string text = Replace(BaseText(), "          level: 2\n",
                                   "          level: 2\n          round: 5\n");
  ExpectOnlyError(
      text, "round: 5",
      {"field 'age'", "'round' does not apply to the string value left by 'map'"});
}

TEST(LoaderMistakeTest, RoundOnIntNeedsAWholeStep) {
  const std::string text = Replace(BaseText(),
                                   "        type: number\n        category: measurement\n"
                                   "        transform: {round: 0.1}",
                                   "        type: int\n        category: measurement\n"
                                   "        transform: {round: 0.1}");
  ExpectOnlyError(text, "round: 0.1", {"field 'no2'", "whole-number step"});
}

TEST(LoaderMistakeTest, BadDuration) {
  const std::string text = Replace(BaseText(), "epoch: 7d", "epoch: 7x");
  ExpectOnlyError(text, "7x", {"stream 'water.readings'", "'epoch'", "unknown unit"});
}

TEST(LoaderMistakeTest, ZeroDuration) {
  const std::string text =
      Replace(BaseText(), "time_granularity: 7d", "time_granularity: 0");
  ExpectOnlyError(
      text, At(text, "time_granularity: 0", "0"),
      {"agreement 'planning-records'", "'time_granularity' must be longer than 0"});
}

TEST(LoaderMistakeTest, DuplicateId) {
  const std::string text = Replace(BaseText(), "  - id: study\n", "  - id: planning\n");
  const std::vector<ConfigError> errors = Check(text);
  // The second 'planning' is reported; 'study', now gone, is unknown where used.
  const SourceLocation second{At(text, "  - id: planning\n    legal_basis: consent").line,
                              9};
  EXPECT_TRUE(HasError(errors, second,
                       {"duplicate purpose id 'planning'", "first declared at line"}));
}

TEST(LoaderMistakeTest, DuplicateFieldName) {
  const std::string text = Replace(BaseText(), "name: leak", "name: remark");
  const std::vector<ConfigError> errors = Check(text);
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_TRUE(HasError(errors, At(text, "name: remark\n        type: bool"),
                       {"stream 'water.readings'", "duplicate field name 'remark'"}));
}

TEST(LoaderMistakeTest, DuplicateYamlKey) {
  const std::string text = Replace(BaseText(), "legal_basis: contract\n    purposes:",
                                   "legal_basis: contract\n    epoch: 1d\n    purposes:");
  ExpectOnlyError(text, "epoch: 1d",
                  {"stream 'water.readings'", "key 'epoch' appears twice"});
}

TEST(LoaderMistakeTest, UndeclaredSubjectField) {
  const std::string text = Replace(BaseText(), "subject: meter", "subject: meters");
  ExpectOnlyError(text, At(text, "subject: meters", "meters"),
                  {"stream 'water.readings'", "subject field 'meters' is not declared",
                   "did you mean 'meter'"});
}

TEST(LoaderMistakeTest, UndeclaredTimeField) {
  const std::string text = Replace(BaseText(), "time: observed", "time: observed_at");
  ExpectOnlyError(text, "observed_at",
                  {"stream 'air.quality'", "time field 'observed_at' is not declared"});
}

TEST(LoaderMistakeTest, TimeFieldOfWrongType) {
  const std::string text = Replace(BaseText(), "time: read_at", "time: litres");
  ExpectOnlyError(text, At(text, "time: litres", "litres"),
                  {"the time field 'litres' must be of type time"});
}

TEST(LoaderMistakeTest, UndeclaredAgreementField) {
  const std::string text = Replace(BaseText(), "fields: [read_at, age, postcode]",
                                   "fields: [read_at, age, zipcode]");
  ExpectOnlyError(text, "zipcode",
                  {"agreement 'lab-extract'",
                   "field 'zipcode' is not declared in stream "
                   "'water.readings'"});
}

TEST(LoaderMistakeTest, GrantingADroppedField) {
  const std::string text =
      Replace(BaseText(), "fields: [meter, read_at, litres, position]",
              "fields: [meter, read_at, litres, owner_email]");
  ExpectOnlyError(text, "owner_email]", {"field 'owner_email' is dropped at ingest"});
}

TEST(LoaderMistakeTest, SubjectMustBePseudonymized) {
  const std::string text = Replace(BaseText(),
                                   "source: MeterId\n        required: true\n"
                                   "        transform: pseudonymize",
                                   "source: MeterId\n        required: true\n"
                                   "        transform: keep");
  ExpectOnlyError(
      text, At(text, "MeterId\n        required: true\n        transform: keep", "keep"),
      {"field 'meter'",
       "a subject-identifier must have 'transform: drop' or "
       "'transform: pseudonymize'"});
}

TEST(LoaderMistakeTest, SubjectMustBeASubjectIdentifier) {
  const std::string text =
      Replace(BaseText(), "category: subject-identifier", "category: quasi-identifier");
  ExpectOnlyError(text, At(text, "subject: meter\n", "meter"),
                  {"the subject field 'meter' must have category subject-identifier"});
}

TEST(LoaderMistakeTest, SubjectCannotBeDropped) {
  const std::string text = Replace(BaseText(),
                                   "source: MeterId\n        required: true\n"
                                   "        transform: pseudonymize",
                                   "source: MeterId\n        required: true\n"
                                   "        transform: drop");
  const std::vector<ConfigError> errors = Check(text);
  EXPECT_EQ(errors.size(), 2u) << Describe(errors);
  EXPECT_TRUE(HasError(errors, At(text, "subject: meter\n", "meter"),
                       {"'meter' must have 'transform: pseudonymize'"}));
  // The records agreement granted it.
  EXPECT_TRUE(HasError(errors, At(text, "[meter, read_at", "meter"),
                       {"field 'meter' is dropped at ingest and cannot be granted"}));
}

TEST(LoaderMistakeTest, DirectIdentifierKept) {
  const std::string text =
      Replace(BaseText(), "category: direct-identifier\n        transform: drop",
              "category: direct-identifier\n        transform: keep");
  ExpectOnlyError(
      text, At(text, "direct-identifier\n        transform: keep", "keep"),
      {"field 'owner_email'", "a direct-identifier must have 'transform: drop'"});
}

TEST(LoaderMistakeTest, DirectIdentifierWithoutTransform) {
  const std::string text =
      Replace(BaseText(), "category: direct-identifier\n        transform: drop\n",
              "category: direct-identifier\n");
  ExpectOnlyError(text, "name: owner_email",
                  {"it has no transform, so it would be kept as is"});
}

TEST(LoaderMistakeTest, UnknownStreamInAgreement) {
  const std::string text = Replace(BaseText(), "stream: air.quality\n    level: public",
                                   "stream: air.qualty\n    level: public");
  ExpectOnlyError(text, "air.qualty",
                  {"agreement 'public-release'", "unknown stream 'air.qualty'",
                   "did you mean 'air.quality'"});
}

TEST(LoaderMistakeTest, UnknownParty) {
  const std::string text =
      Replace(BaseText(), "party: planning-dept", "party: planning-office");
  ExpectOnlyError(text, "planning-office",
                  {"agreement 'planning-records'", "unknown party 'planning-office'"});
}

TEST(LoaderMistakeTest, UnknownPurposeInStream) {
  const std::string text = Replace(BaseText(), "purposes: [planning, study, invoicing]",
                                   "purposes: [planning, studdy, invoicing]");
  const std::vector<ConfigError> errors = Check(text);
  EXPECT_TRUE(HasError(
      errors, At(text, "studdy"),
      {"stream 'water.readings'", "unknown purpose 'studdy'", "did you mean 'study'"}));
}

TEST(LoaderMistakeTest, ProhibitedPurposeInAgreement) {
  const std::string text = Replace(BaseText(), "purposes: [planning, study, invoicing]",
                                   "purposes: [planning, study, invoicing, advertising]");
  const std::string with_agreement =
      Replace(text, "level: records\n    purposes: [planning]",
              "level: records\n    purposes: [planning, advertising]");
  const std::vector<ConfigError> errors = Check(with_agreement);
  EXPECT_TRUE(
      HasError(errors, At(with_agreement, "advertising]\n    fields: ["),
               {"agreement 'planning-records'", "purpose 'advertising' is prohibited"}));
  // The stream may not serve it either.
  EXPECT_TRUE(HasError(errors, At(with_agreement, "advertising]\n    fields:\n"),
                       {"stream 'water.readings'", "prohibited city-wide"}));
  EXPECT_EQ(errors.size(), 2u) << Describe(errors);
}

TEST(LoaderMistakeTest, PurposeNotServedByTheStream) {
  const std::string text = Replace(BaseText(), "level: public\n    purposes: [planning]",
                                   "level: public\n    purposes: [study]");
  ExpectOnlyError(text, At(text, "[study]\n    budget: {epsilon: 1}", "study"),
                  {"agreement 'public-release'",
                   "purpose 'study' is not among the purposes of stream 'air.quality'"});
}

TEST(LoaderMistakeTest, ValidityEndsBeforeItStarts) {
  const std::string text =
      Replace(BaseText(), "valid_until: 2024-12-31", "valid_until: 2023-06-30");
  ExpectOnlyError(
      text, "2023-06-30",
      {"agreement 'planning-records'", "'valid_until' is not after 'valid_from'"});
}

TEST(LoaderMistakeTest, BadDate) {
  const std::string text =
      Replace(BaseText(), "valid_from: 2024-01-01", "valid_from: 2024-13-01");
  ExpectOnlyError(text, "2024-13-01", {"'valid_from' must be a date"});
}

TEST(LoaderMistakeTest, AggregateWithoutBudget) {
  const std::string text =
      Replace(BaseText(),
              "    budget:\n      epsilon: 0.5\n      delta: 0.000001\n"
              "      period: 7d\n",
              "");
  ExpectOnlyError(text, "id: lab-aggregate",
                  {"agreement 'lab-aggregate'", "aggregate agreement needs a 'budget'"});
}

TEST(LoaderMistakeTest, NonPositiveEpsilon) {
  const std::string text =
      Replace(BaseText(), "budget: {epsilon: 1}", "budget: {epsilon: 0}");
  ExpectOnlyError(
      text, "0}",
      {"agreement 'public-release' budget", "'epsilon' must be greater than 0"});
}

TEST(LoaderMistakeTest, ExtractWithKBelowTwo) {
  const std::string text = Replace(BaseText(), "k: 10", "k: 1");
  ExpectOnlyError(text, At(text, "k: 1\n", "1"),
                  {"agreement 'lab-extract'", "k of at least 2"});
}

TEST(LoaderMistakeTest, ExtractWithoutK) {
  const std::string text = Replace(BaseText(), "    k: 10\n", "");
  ExpectOnlyError(text, "id: lab-extract", {"extract agreement needs 'k'"});
}

TEST(LoaderMistakeTest, ExtractCannotIncludeTheSubject) {
  const std::string text = Replace(BaseText(), "fields: [read_at, age, postcode]",
                                   "fields: [meter, age, postcode]");
  ExpectOnlyError(text, "meter, age",
                  {"an extract cannot include the subject field 'meter'"});
}

TEST(LoaderMistakeTest, CellLevelOutOfRange) {
  const std::string text = Replace(BaseText(), "{cell: 13}", "{cell: 31}");
  ExpectOnlyError(text, "31}", {"field 'position'", "'cell' must be between 0 and 30"});
  const std::string agreement = Replace(BaseText(), "cell_level: 10", "cell_level: -1");
  ExpectOnlyError(agreement, At(agreement, "cell_level: -1", "-1"),
                  {"'cell_level' must be between 0 and 30"});
}

TEST(LoaderMistakeTest, LinkabilityShorterThanEpoch) {
  const std::string text = Replace(BaseText(), "linkability: 28d", "linkability: 3d");
  ExpectOnlyError(text, "3d",
                  {"stream 'water.readings'",
                   "linkability (3d) is shorter than the "
                   "epoch (7d)"});
}

TEST(LoaderMistakeTest, DefaultLinkabilityShorterThanEpoch) {
  const std::string text =
      Replace(BaseText(), "time: observed\n", "time: observed\n    epoch: 60d\n");
  ExpectOnlyError(text, "60d", {"stream 'air.quality'", "30d, the default"});
}

TEST(LoaderMistakeTest, MapTableCannotBeRead) {
  const std::string text =
      Replace(BaseText(), "map: hierarchies/age.csv", "map: hierarchies/ages.csv");
  ExpectOnlyError(text, "hierarchies/ages.csv",
                  {"field 'age'", "map table 'hierarchies/ages.csv' cannot be read"});
}

TEST(LoaderMistakeTest, MapLevelBeyondTableDepth) {
  const std::string text = Replace(BaseText(), "level: 2", "level: 4");
  ExpectOnlyError(text, "4\n",
                  {"field 'age'",
                   "level 4 is beyond the depth of map table "
                   "'hierarchies/age.csv' (3 levels)"});
}

TEST(LoaderMistakeTest, RaggedTableLimitsTheDepth) {
  const std::string text =
      Replace(BaseText(), "map: hierarchies/age.csv\n          level: 2",
              "map: hierarchies/ragged.csv");
  // 'night' has no generalisation, so the table has no level 1 for every row.
  const std::string enum_text =
      Replace(text,
              "        type: int\n        category: quasi-identifier\n"
              "        transform:\n          map",
              "        type: string\n        category: quasi-identifier\n"
              "        transform:\n          map");
  ExpectOnlyError(enum_text, "hierarchies/ragged.csv",
                  {"level 1 is beyond the depth", "(0 levels)"});
}

TEST(LoaderMistakeTest, SensorWithUnknownStream) {
  const std::string text =
      Replace(BaseText(), "stream: water.readings\n    name: Water meters",
              "stream: gas.readings\n    name: Water meters");
  ExpectOnlyError(text, "gas.readings",
                  {"sensor 'meter-fleet'", "unknown stream 'gas.readings'"});
}

TEST(LoaderMistakeTest, SensorOutOfRange) {
  const std::string text = Replace(BaseText(), "lat: 51.5\n", "lat: 95.5\n");
  ExpectOnlyError(text, "95.5",
                  {"sensor 'pump-station'", "'lat' must be between -90 and 90"});
}

TEST(LoaderMistakeTest, SensorWithOnlyOneCoordinate) {
  const std::string text = Replace(BaseText(), "    lon: -0.12\n", "");
  ExpectOnlyError(text, "id: air-1", {"sensor 'air-1'", "both 'lat' and 'lon'"});
}

TEST(LoaderMistakeTest, PublicPartyAboveThePublicLevel) {
  const std::string text =
      Replace(BaseText(), "party: lab\n    stream: water.readings\n    level: aggregate",
              "party: everyone\n    stream: water.readings\n    level: aggregate");
  ExpectOnlyError(
      text, "aggregate\n    purposes: [study]",
      {"party 'everyone' is of kind public and can only hold public-level agreements"});
}

TEST(LoaderMistakeTest, EnumWithoutValues) {
  const std::string text =
      Replace(BaseText(), "        values: [standard, night, \"\"]\n", "");
  ExpectOnlyError(text, "name: tariff",
                  {"field 'tariff'", "an enum field needs 'values'"});
}

TEST(LoaderMistakeTest, ClampBoundsReversed) {
  const std::string text = Replace(BaseText(), "clamp: [0, 5000]", "clamp: [5000, 0]");
  ExpectOnlyError(text, "[5000, 0]", {"'clamp' has its minimum above its maximum"});
}

TEST(LoaderMistakeTest, UnknownRedactPattern) {
  const std::string text =
      Replace(BaseText(), "redact: [email, phone]", "redact: [email, iban]");
  ExpectOnlyError(text, "iban", {"unknown redact pattern 'iban'"});
}

TEST(LoaderMistakeTest, MissingRequiredKey) {
  const std::string text = Replace(BaseText(), "    name: Research Lab\n", "");
  ExpectOnlyError(text, "id: lab\n", {"party 'lab'", "missing required key 'name'"});
}

TEST(LoaderMistakeTest, AliasesAreRejected) {
  const std::string text = Replace(BaseText(), "  - id: study\n    legal_basis: consent",
                                   "  - id: study\n    legal_basis: &basis consent");
  const std::string aliased =
      Replace(text, "  - id: advertising\n    legal_basis: consent",
              "  - id: advertising\n    legal_basis: *basis");
  ExpectOnlyError(aliased, "*basis", {"aliases"});
}

TEST(LoaderMistakeTest, SecondDocumentIsRejected) {
  const std::string text = BaseText() + "---\ncity: {name: Other}\n";
  const std::vector<ConfigError> errors = Check(text);
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_THAT(errors[0].message, HasSubstr("second YAML document"));
}

TEST(LoaderMistakeTest, EmptyText) {
  const std::vector<ConfigError> errors = Check("# nothing here\n");
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_THAT(errors[0].message, HasSubstr("the config is empty"));
}

// --- several mistakes ---------------------------------------------------------

TEST(LoaderTest, EveryMistakeIsReported) {
  std::string text = BaseText();
  text = Replace(text, "retention: 1y", "retension: 1y");
  text = Replace(text, "{truncate: 3}", "{cell: 3}");
  text = Replace(text, "k: 10", "k: 1");
  text = Replace(text, "lat: 51.5\n", "lat: 95.5\n");
  text = Replace(text, "party: planning-dept", "party: planning-office");
  const std::vector<ConfigError> errors = Check(text);
  EXPECT_EQ(errors.size(), 5u) << Describe(errors);
  EXPECT_TRUE(HasError(errors, At(text, "retension"), {"unknown key 'retension'"}));
  EXPECT_TRUE(HasError(errors, At(text, "cell: 3"), {"'cell' does not apply"}));
  EXPECT_TRUE(HasError(errors, {At(text, "k: 1\n").line, At(text, "k: 1\n").column + 3},
                       {"k of at least 2"}));
  EXPECT_TRUE(HasError(errors, At(text, "95.5"), {"'lat' must be between"}));
  EXPECT_TRUE(HasError(errors, At(text, "planning-office"), {"unknown party"}));
  // Errors come in the order of the text.
  for (size_t i = 1; i < errors.size(); ++i) {
    EXPECT_LE(errors[i - 1].line, errors[i].line);
  }

  // ParseConfig joins them all, one FILE:LINE:COL line each.
  const absl::StatusOr<CityConfig> config = ParseConfig(text, "town.yaml", kDataDir);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(config.status().message());
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 4);
  const SourceLocation typo = At(text, "retension");
  EXPECT_THAT(message, HasSubstr(absl::StrCat("town.yaml:", typo.line, ":", typo.column,
                                              ": stream 'water.readings': unknown key")));
}

TEST(LoaderTest, MessagesDoNotEchoValuesOutsideTheConfigGrammar) {
  // Error messages quote config text; control bytes are escaped.
  const std::string text = Replace(BaseText(), "retention: 1y", "\"reten\\ttion\": 1y");
  const std::vector<ConfigError> errors = Check(text);
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].message.find('\t'), std::string::npos);
  EXPECT_THAT(errors[0].message, HasSubstr("reten\\ttion"));
}

// --- files ------------------------------------------------------------------

TEST(LoaderTest, MissingFileIsNotFound) {
  const absl::StatusOr<CityConfig> config =
      LoadConfigFile(kDataDir + "/no-such-city.yaml");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(config.status().message(), HasSubstr("no-such-city.yaml"));
}

TEST(LoaderTest, FileErrorsNameTheFile) {
  const std::string dir = ::testing::TempDir() + "/config_loader_test";
  std::filesystem::create_directories(dir + "/hierarchies");
  std::filesystem::copy_file(kDataDir + "/hierarchies/age.csv",
                             dir + "/hierarchies/age.csv",
                             std::filesystem::copy_options::overwrite_existing);
  const std::string path = dir + "/city.yaml";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << Replace(BaseText(), "epoch: 7d", "epoch: 7x");
  }
  const absl::StatusOr<CityConfig> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  const SourceLocation at = At(Replace(BaseText(), "epoch: 7d", "epoch: 7x"), "7x");
  EXPECT_THAT(config.status().message(),
              HasSubstr(absl::StrCat(path, ":", at.line, ":", at.column, ": ")));
  // Tables resolve against the file's own directory.
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << BaseText();
  }
  EXPECT_TRUE(LoadConfigFile(path).ok());
}

TEST(LoaderTest, RealArxHierarchy) {
  const std::string table =
      std::string(PRIVACITY_SHARED_DATA) + "/adult/adult_hierarchy_age.csv";
  if (!std::filesystem::exists(table)) {
    GTEST_SKIP() << "real data set not found at " << table;
  }
  const std::string text =
      Replace(BaseText(), "map: hierarchies/age.csv\n          level: 2",
              absl::StrCat("map: ", table, "\n          level: 3"));
  const absl::StatusOr<CityConfig> config = ParseConfig(text, "city.yaml", kDataDir);
  ASSERT_TRUE(config.ok()) << config.status();
  const Transform& map =
      config->FindStream("water.readings")->FindField("age")->transforms[0];
  EXPECT_EQ(map.table.at("34"), "20-39");
  EXPECT_EQ(map.table.at("1"), "0-19");
}

// --- round trip ---------------------------------------------------------------

TEST(LoaderTest, ToYamlRoundTrips) {
  for (const std::string& path :
       {kDataDir + "/city.yaml",
        std::string(PRIVACITY_SOURCE_DIR) + "/examples/demo-city/city.yaml"}) {
    SCOPED_TRACE(path);
    const std::string base_dir = std::filesystem::path(path).parent_path().string();
    const absl::StatusOr<CityConfig> first = ParseConfig(ReadFile(path), path, base_dir);
    ASSERT_TRUE(first.ok()) << first.status();
    const std::string written = ToYaml(*first);
    const absl::StatusOr<CityConfig> second =
        ParseConfig(written, "written.yaml", base_dir);
    ASSERT_TRUE(second.ok()) << second.status() << "\n" << written;
    EXPECT_EQ(ToYaml(*second), written);

    // Spot checks that the written form keeps what the text said.
    ASSERT_EQ(second->streams.size(), first->streams.size());
    for (size_t s = 0; s < first->streams.size(); ++s) {
      const Stream& a = first->streams[s];
      const Stream& b = second->streams[s];
      EXPECT_EQ(a.id, b.id);
      EXPECT_EQ(a.subject_field, b.subject_field);
      EXPECT_EQ(a.epoch, b.epoch);
      EXPECT_EQ(a.purposes, b.purposes);
      ASSERT_EQ(a.fields.size(), b.fields.size());
      for (size_t f = 0; f < a.fields.size(); ++f) {
        EXPECT_EQ(a.fields[f].source, b.fields[f].source) << a.fields[f].name;
        EXPECT_EQ(a.fields[f].values, b.fields[f].values) << a.fields[f].name;
        ASSERT_EQ(a.fields[f].transforms.size(), b.fields[f].transforms.size());
        for (size_t t = 0; t < a.fields[f].transforms.size(); ++t) {
          const Transform& x = a.fields[f].transforms[t];
          const Transform& y = b.fields[f].transforms[t];
          EXPECT_EQ(x.kind, y.kind);
          EXPECT_EQ(x.bucket, y.bucket);
          EXPECT_EQ(x.step, y.step);
          EXPECT_EQ(x.min, y.min);
          EXPECT_EQ(x.max, y.max);
          EXPECT_EQ(x.table, y.table);
          EXPECT_EQ(x.patterns, y.patterns);
        }
      }
    }
    ASSERT_EQ(second->agreements.size(), first->agreements.size());
    for (size_t i = 0; i < first->agreements.size(); ++i) {
      EXPECT_EQ(first->agreements[i].valid_until, second->agreements[i].valid_until);
      EXPECT_EQ(first->agreements[i].budget.has_value(),
                second->agreements[i].budget.has_value());
    }
    ASSERT_EQ(second->sensors.size(), first->sensors.size());
    for (size_t i = 0; i < first->sensors.size(); ++i) {
      EXPECT_EQ(first->sensors[i].latitude,
                second->sensors[i].latitude);  // exact doubles
      EXPECT_EQ(first->sensors[i].longitude, second->sensors[i].longitude);
    }
  }
}

TEST(LoaderTest, ToYamlQuotesTextThatLooksLikeOtherTypes) {
  absl::StatusOr<CityConfig> config = ParseConfig(BaseText(), "city.yaml", kDataDir);
  ASSERT_TRUE(config.ok()) << config.status();
  config->city.name = "null";
  config->city.controller = "true";
  config->purposes[0].description = "42";
  Field& tariff = config->streams[0].fields[7];
  ASSERT_EQ(tariff.name, "tariff");
  tariff.values = {"~", "", "yes", "a: b", "- x"};
  const absl::StatusOr<CityConfig> again =
      ParseConfig(ToYaml(*config), "w.yaml", kDataDir);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->city.name, "null");
  EXPECT_EQ(again->city.controller, "true");
  EXPECT_EQ(again->purposes[0].description, "42");
  EXPECT_EQ(again->streams[0].fields[7].values, tariff.values);
}

TEST(LoaderTest, DocumentedExampleIsValid) {
  const std::string doc = ReadFile(std::string(PRIVACITY_SOURCE_DIR) + "/docs/config.md");
  const size_t section = doc.find("\n## Example\n");
  ASSERT_NE(section, std::string::npos);
  const size_t begin = doc.find("```yaml\n", section);
  ASSERT_NE(begin, std::string::npos);
  const size_t end = doc.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  const std::string example = doc.substr(begin + 8, end - begin - 8);
  const std::vector<ConfigError> errors = CheckConfig(example, kDataDir);
  EXPECT_TRUE(errors.empty()) << Describe(errors);
}

TEST(LoaderTest, DescribeConfig) {
  absl::StatusOr<CityConfig> config = ParseConfig(BaseText(), "town.yaml", kDataDir);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(DescribeConfig(*config),
            "town.yaml: ok (Test Town: 4 purposes, 2 streams, 3 parties, 4 agreements, "
            "3 sensors)");
}

}  // namespace
}  // namespace privacity::config
