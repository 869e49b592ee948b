#include "ingest/record_reader.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privacity::ingest {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using transform::InputRecord;
using transform::InputValue;
using Kind = transform::InputValue::Kind;

// Copies of what the callbacks see, which outlive the callbacks.
struct OwnedValue {
  Kind kind = Kind::kNull;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string text;
  bool operator==(const OwnedValue&) const = default;
};

struct OwnedRecord {
  int64_t line = 0;
  InputRecord::Origin origin = InputRecord::Origin::kJson;
  std::vector<std::pair<std::string, OwnedValue>> fields;
  bool operator==(const OwnedRecord&) const = default;

  const OwnedValue& Get(const std::string& name) const {
    for (const auto& [k, v] : fields) {
      if (k == name) return v;
    }
    ADD_FAILURE() << "no field " << name;
    static const OwnedValue* const kMissing = new OwnedValue();
    return *kMissing;
  }
};

void PrintTo(const OwnedRecord& record, std::ostream* os) {
  *os << "{line " << record.line << ":";
  for (const auto& [k, v] : record.fields) {
    *os << " " << k << "=(" << static_cast<int>(v.kind) << ")";
    switch (v.kind) {
      case Kind::kBool:
        *os << v.boolean;
        break;
      case Kind::kInteger:
        *os << v.integer;
        break;
      case Kind::kNumber:
        *os << v.number;
        break;
      default:
        *os << "'" << v.text << "'";
    }
  }
  *os << "}";
}

}  // namespace

// Found by gtest through argument-dependent lookup.
void PrintTo(const ReadError& error, std::ostream* os) {
  *os << "{line " << error.line << ": " << error.message << "}";
}

namespace {

struct Result {
  absl::Status status;
  ReadSummary summary;
  std::vector<OwnedRecord> records;
  std::vector<ReadError> errors;
};

OwnedRecord Own(const InputRecord& record) {
  OwnedRecord owned;
  owned.line = record.line;
  owned.origin = record.origin;
  for (const auto& [name, value] : record.fields) {
    owned.fields.emplace_back(std::string(name),
                              OwnedValue{value.kind, value.boolean, value.integer,
                                         value.number, std::string(value.text)});
  }
  return owned;
}

enum class Source { kBuffer, kFile };

std::string TempPath(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(out.good()) << path;
}

Result ReadWith(RecordReader& reader, Source source, const std::string& input,
                InputFormat format, const std::string& file_name = "input.txt") {
  Result result;
  auto on_record = [&](const InputRecord& record) {
    result.records.push_back(Own(record));
    return absl::OkStatus();
  };
  auto on_error = [&](const ReadError& error) {
    result.errors.push_back(error);
    return absl::OkStatus();
  };
  absl::StatusOr<ReadSummary> summary;
  if (source == Source::kBuffer) {
    summary = reader.ReadBuffer(input, format, on_record, on_error);
  } else {
    const std::string path = TempPath(file_name);
    WriteFile(path, input);
    summary = reader.ReadFile(path, format, on_record, on_error);
  }
  result.status = summary.status();
  if (summary.ok()) {
    result.summary = *summary;
    EXPECT_EQ(summary->records, static_cast<int64_t>(result.records.size()));
    EXPECT_EQ(summary->errors, static_cast<int64_t>(result.errors.size()));
  }
  return result;
}

Result Read(const std::string& input, InputFormat format = InputFormat::kAuto,
            ReaderLimits limits = {}) {
  auto reader = RecordReader::Create(limits);
  EXPECT_TRUE(reader.ok()) << reader.status();
  return ReadWith(**reader, Source::kBuffer, input, format);
}

auto ErrorAt(int64_t line, const std::string& text) {
  return AllOf(Field(&ReadError::line, line),
               Field(&ReadError::message, HasSubstr(text)));
}

std::vector<int64_t> Lines(const Result& result) {
  std::vector<int64_t> lines;
  for (const OwnedRecord& r : result.records) lines.push_back(r.line);
  return lines;
}

OwnedValue Str(std::string text) { return OwnedValue{Kind::kString, false, 0, 0, text}; }

// ---------------------------------------------------------------- NDJSON

TEST(Ndjson, MapsEveryValueKind) {
  const std::string input =
      R"({"s":"a\"b\u00e9\n","i":-42,"big":18446744073709551615,"d":0.219,)"
      R"("e":1e3,"t":true,"f":false,"n":null,"o":{"x":[1, 2],"y":"}"},"a":[ {"y":1} ]})"
      "\n";
  Result r = Read(input);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.summary.format, InputFormat::kNdjson);
  ASSERT_THAT(r.records, SizeIs(1));
  const OwnedRecord& rec = r.records[0];
  EXPECT_EQ(rec.line, 1);
  EXPECT_EQ(rec.origin, InputRecord::Origin::kJson);
  ASSERT_THAT(rec.fields, SizeIs(10));
  EXPECT_EQ(rec.fields[0].first, "s");  // source order is kept
  EXPECT_EQ(rec.Get("s"), Str("a\"b\xc3\xa9\n"));
  EXPECT_EQ(rec.Get("i").kind, Kind::kInteger);
  EXPECT_EQ(rec.Get("i").integer, -42);
  EXPECT_EQ(rec.Get("big").kind, Kind::kNumber);
  EXPECT_DOUBLE_EQ(rec.Get("big").number, 18446744073709551615.0);
  EXPECT_EQ(rec.Get("d").kind, Kind::kNumber);
  EXPECT_DOUBLE_EQ(rec.Get("d").number, 0.219);
  EXPECT_EQ(rec.Get("e").kind, Kind::kNumber);
  EXPECT_DOUBLE_EQ(rec.Get("e").number, 1000);
  EXPECT_EQ(rec.Get("t").kind, Kind::kBool);
  EXPECT_TRUE(rec.Get("t").boolean);
  EXPECT_EQ(rec.Get("f").kind, Kind::kBool);
  EXPECT_FALSE(rec.Get("f").boolean);
  EXPECT_EQ(rec.Get("n").kind, Kind::kNull);
  EXPECT_EQ(rec.Get("o").kind, Kind::kComposite);
  EXPECT_EQ(rec.Get("o").text, R"({"x":[1, 2],"y":"}"})");
  EXPECT_EQ(rec.Get("a").kind, Kind::kComposite);
  EXPECT_EQ(rec.Get("a").text, R"([ {"y":1} ])");
}

TEST(Ndjson, CompositeTextIsExactWithSpacesAndEscapedKeys) {
  Result r = Read("{ \"k\\u0031\" : [ \"]\" , {\"q\":\"\\\"}\"} ] , \"z\" : 1 }");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_THAT(r.records, SizeIs(1));
  EXPECT_EQ(r.records[0].Get("k1").text, R"([ "]" , {"q":"\"}"} ])");
  EXPECT_EQ(r.records[0].Get("z").integer, 1);
}

TEST(Ndjson, SkipsBlankLinesAndAcceptsCrlfBomAndNoFinalNewline) {
  Result r = Read("\xEF\xBB\xBF{\"a\":1}\r\n\r\n   \t\n{\"a\":2}\r\n{\"a\":3}");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(Lines(r), ElementsAre(1, 4, 5));
  EXPECT_EQ(r.records[2].Get("a").integer, 3);
}

TEST(Ndjson, LeadingBlankLinesCount) {
  Result r = Read("\n\n  {\"a\":1}\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(3));
}

TEST(Ndjson, InvalidUtf8NamesTheLine) {
  Result r = Read("{\"a\":\"ok\"}\n{\"a\":\"caf\xe9\"}\n{\"a\":\"ok\"}\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(1, 3));
  EXPECT_THAT(r.errors, ElementsAre(ErrorAt(2, "invalid UTF-8")));
}

TEST(Ndjson, InvalidUtf8InKeyOrOverlongOrSurrogate) {
  Result r = Read(
      "{\"\xff\":1}\n"
      "{\"a\":\"\xc0\xaf\"}\n"
      "{\"a\":\"\xed\xa0\x80\"}\n"
      "{\"a\":1}\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(4));
  EXPECT_THAT(r.errors,
              ElementsAre(ErrorAt(1, "invalid UTF-8"), ErrorAt(2, "invalid UTF-8"),
                          ErrorAt(3, "invalid UTF-8")));
}

TEST(Ndjson, MalformedJsonIsReportedAndReadingContinues) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"a":1,})", "malformed JSON"},
      {R"({"a" 1})", "malformed JSON"},
      {R"({"a":tru})", "invalid literal"},
      {R"({"a":01})", "number"},
      {R"({"a":1e400})", "out-of-range number"},
      {R"({"a":123456789012345678901234567890})", "out-of-range number"},
      {R"({"a":"x)", "malformed JSON"},
      {R"({"a":"\q"})", "malformed JSON"},
      {R"({"a":"\ud800"})", "malformed JSON"},
      {"{\"a\":\"tab\there\"}", "control character"},
      {R"({"a":1} {"b":2})", "malformed JSON"},
      {R"({"a":1}})", "malformed JSON"},
      {R"({"a":[1,2)", "malformed JSON"},
      {R"({"a":[1 2]})", "malformed JSON"},
      {R"({a:1})", "malformed JSON"},
      {"{", "malformed JSON"},
  };
  for (const auto& [bad, reason] : cases) {
    SCOPED_TRACE(bad);
    Result r = Read("{\"ok\":1}\n" + bad + "\n{\"ok\":2}\n");
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_THAT(Lines(r), ElementsAre(1, 3));
    EXPECT_THAT(r.errors, ElementsAre(ErrorAt(2, reason)));
  }
}

TEST(Ndjson, ErrorsNeverQuoteValues) {
  Result r = Read(
      "{\"name\":\"SECRETVALUE\" x}\n"
      "{\"name\":\"SECRETVALUE\",\"name\":1}\n"
      "[\"SECRETVALUE\"]\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_THAT(r.errors, SizeIs(3));
  for (const ReadError& error : r.errors) {
    EXPECT_THAT(error.message, ::testing::Not(HasSubstr("SECRET")));
  }
}

TEST(Ndjson, NonObjectRecordsAreRejected) {
  Result r = Read("[1,2]\n\"text\"\n42\nnull\ntrue\n{\"a\":1}\n", InputFormat::kNdjson);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(6));
  EXPECT_THAT(
      r.errors,
      ElementsAre(ErrorAt(1, "record is an array, not a JSON object"),
                  ErrorAt(2, "record is a string"), ErrorAt(3, "record is a number"),
                  ErrorAt(4, "record is null"), ErrorAt(5, "record is a boolean")));
}

TEST(Ndjson, DuplicateKeysAreRejected) {
  std::string many = "{";
  for (int i = 0; i < 40; ++i) absl::StrAppend(&many, "\"k", i, "\":", i, ",");
  many += "\"k17\":0}";
  Result r = Read(
      "{\"a\":1,\"b\":2,\"a\":3}\n"
      "{\"a\":1,\"\\u0061\":2}\n" +
      many +
      "\n"
      "{\"o\":{\"k\":1,\"k\":2}}\n"
      "{\"o\":[{\"k\":1},{\"k\":1,\"j\":{\"x\":1,\"x\":2}}]}\n"
      "{\"a\":{\"k\":1},\"b\":{\"k\":1}}\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(6));  // the same key in sibling objects is fine
  EXPECT_THAT(
      r.errors,
      ElementsAre(ErrorAt(1, "duplicate key \"a\""), ErrorAt(2, "duplicate key \"a\""),
                  ErrorAt(3, "duplicate key \"k17\""),
                  ErrorAt(4, "duplicate key \"k\" in a nested object in field \"o\""),
                  ErrorAt(5, "duplicate key \"x\" in a nested object in field \"o\"")));
}

TEST(Ndjson, TooManyFields) {
  ReaderLimits limits;
  limits.max_fields = 3;
  Result r = Read("{\"a\":1,\"b\":2,\"c\":3}\n{\"a\":1,\"b\":2,\"c\":3,\"d\":4}\n",
                  InputFormat::kAuto, limits);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(1));
  EXPECT_THAT(r.errors, ElementsAre(ErrorAt(2, "too many fields (more than 3)")));
}

TEST(Ndjson, NestingDepthLimit) {
  auto nested = [](size_t levels) {
    // The record object is level 1.
    return "{\"a\":" + std::string(levels - 1, '[') + "1" + std::string(levels - 1, ']') +
           "}";
  };
  Result r = Read(nested(kMaxJsonDepth) + "\n" + nested(kMaxJsonDepth + 1) + "\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(1));
  EXPECT_THAT(r.errors, ElementsAre(ErrorAt(2, "nested deeper than 64 levels")));
}

TEST(Ndjson, RecordLengthLimitIsExact) {
  ReaderLimits limits;
  limits.max_record_bytes = 32;
  limits.chunk_bytes = 5;
  const std::string exact = "{\"a\":\"" + std::string(32 - 8, 'x') + "\"}";
  ASSERT_EQ(exact.size(), 32u);
  const std::string over = "{\"a\":\"" + std::string(32 - 7, 'x') + "\"}";
  Result r = Read(exact + "\n" + over + "\n" + exact + "\n" + over, InputFormat::kNdjson,
                  limits);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(1, 3));
  EXPECT_THAT(r.errors, ElementsAre(ErrorAt(2, "record longer than 32 bytes"),
                                    ErrorAt(4, "record longer than 32 bytes")));
}

class HugeLine : public ::testing::TestWithParam<Source> {};

TEST_P(HugeLine, TenMegabyteLineIsSkippedOnceAndReadingContinues) {
  ReaderLimits limits;  // 1 MiB records
  limits.chunk_bytes = 64 << 10;
  auto reader = RecordReader::Create(limits);
  ASSERT_TRUE(reader.ok());
  const std::string huge = "{\"a\":\"" + std::string(10 << 20, 'x') + "\"}";
  Result r = ReadWith(**reader, GetParam(),
                      "{\"a\":1}\n" + huge + "\n{\"a\":2}\r\n" + huge + "\n",
                      InputFormat::kAuto, "huge.ndjson");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(1, 3));
  EXPECT_EQ(r.records[1].Get("a").integer, 2);
  EXPECT_THAT(r.errors, ElementsAre(ErrorAt(2, "record longer than 1048576 bytes"),
                                    ErrorAt(4, "record longer than 1048576 bytes")));
}

INSTANTIATE_TEST_SUITE_P(BufferAndFile, HugeLine,
                         ::testing::Values(Source::kBuffer, Source::kFile));

TEST(Input, EmptyInputsFailWhole) {
  for (InputFormat format : {InputFormat::kAuto, InputFormat::kNdjson,
                             InputFormat::kJsonArray, InputFormat::kCsv}) {
    for (const std::string input :
         {"", "  \n\r\n\t\n", "\xEF\xBB\xBF", "\xEF\xBB\xBF\n"}) {
      SCOPED_TRACE(absl::StrCat(InputFormatName(format), " [", input, "]"));
      Result r = Read(input, format);
      EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(r.status.message(), HasSubstr("input is empty"));
      EXPECT_THAT(r.records, IsEmpty());
    }
  }
}

TEST(Input, OnRecordErrorStopsReading) {
  auto reader = RecordReader::Create({});
  ASSERT_TRUE(reader.ok());
  for (const std::string input : {"{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n",
                                  "[{\"a\":1},{\"a\":2},{\"a\":3}]", "a\n1\n2\n3\n"}) {
    SCOPED_TRACE(input);
    int calls = 0;
    absl::StatusOr<ReadSummary> summary = (*reader)->ReadBuffer(
        input, InputFormat::kAuto,
        [&](const InputRecord&) {
          ++calls;
          return calls == 2 ? absl::ResourceExhaustedError("store is full")
                            : absl::OkStatus();
        },
        [](const ReadError&) { return absl::OkStatus(); });
    EXPECT_EQ(summary.status(), absl::ResourceExhaustedError("store is full"));
    EXPECT_EQ(calls, 2);
  }
}

TEST(Input, OnErrorErrorStopsReading) {
  auto reader = RecordReader::Create({});
  ASSERT_TRUE(reader.ok());
  int records = 0;
  int errors = 0;
  absl::StatusOr<ReadSummary> summary = (*reader)->ReadBuffer(
      "{\"a\":1}\nx\ny\n{\"a\":2}\n", InputFormat::kNdjson,
      [&](const InputRecord&) {
        ++records;
        return absl::OkStatus();
      },
      [&](const ReadError&) {
        ++errors;
        return absl::CancelledError("too many errors");
      });
  EXPECT_EQ(summary.status(), absl::CancelledError("too many errors"));
  EXPECT_EQ(records, 1);
  EXPECT_EQ(errors, 1);
}

TEST(Input, UnknownFormatFails) {
  Result r = Read("{\"a\":1}\n", static_cast<InputFormat>(42));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status.message(), HasSubstr("unknown input format"));
}

TEST(Input, AutoDetectionByFirstByte) {
  EXPECT_EQ(Read(" \n [{\"a\":1}]").summary.format, InputFormat::kJsonArray);
  EXPECT_EQ(Read("\n{\"a\":1}").summary.format, InputFormat::kNdjson);
  EXPECT_EQ(Read("a,b\n1,2\n").summary.format, InputFormat::kCsv);
  EXPECT_EQ(Read("\xEF\xBB\xBF[{\"a\":1}]").summary.format, InputFormat::kJsonArray);
}

TEST(Input, LimitsAreValidated) {
  ReaderLimits limits;
  limits.max_record_bytes = 0;
  EXPECT_EQ(RecordReader::Create(limits).status().code(),
            absl::StatusCode::kInvalidArgument);
  limits = {};
  limits.chunk_bytes = 0;
  EXPECT_EQ(RecordReader::Create(limits).status().code(),
            absl::StatusCode::kInvalidArgument);
  limits = {};
  limits.max_fields = 0;
  EXPECT_EQ(RecordReader::Create(limits).status().code(),
            absl::StatusCode::kInvalidArgument);
  limits = {};
  limits.max_record_bytes = size_t{4} << 30;
  EXPECT_EQ(RecordReader::Create(limits).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(RecordReader::Create({}).ok());
}

TEST(Input, InputFormatNames) {
  EXPECT_EQ(InputFormatName(InputFormat::kAuto), "auto");
  EXPECT_EQ(InputFormatName(InputFormat::kNdjson), "ndjson");
  EXPECT_EQ(InputFormatName(InputFormat::kJsonArray), "json-array");
  EXPECT_EQ(InputFormatName(InputFormat::kCsv), "csv");
}

// ------------------------------------------------------------ JSON array

TEST(JsonArray, ElementsCarryTheLineWhereTheyStart) {
  const std::string input =
      "[\n"
      "  {\"a\":1, \"s\":\"],{\\\"\"},\n"
      "  {\n"
      "    \"a\": 2,\n"
      "    \"o\": {\"n\": [1, {\"m\": \"]\"}]}\n"
      "  }\n"
      "  ,{\"a\":3}\n"
      "]\n";
  Result r = Read(input);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.summary.format, InputFormat::kJsonArray);
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(Lines(r), ElementsAre(2, 3, 7));
  EXPECT_EQ(r.records[0].Get("s"), Str("],{\""));
  EXPECT_EQ(r.records[1].Get("o").text, R"({"n": [1, {"m": "]"}]})");
  EXPECT_EQ(r.records[2].Get("a").integer, 3);
}

TEST(JsonArray, BadElementsAreReportedAndTheRestRead) {
  Result r = Read(
      "[{\"a\":1},\n"
      " {\"a\":tru},\n"
      " [1, 2],\n"
      " \"x\",\n"
      " {\"a\":\"\xff\"},\n"
      " {\"a\":1,\"a\":2},\n"
      " {\"a\":2}]");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(1, 7));
  EXPECT_THAT(r.errors,
              ElementsAre(ErrorAt(2, "invalid literal"), ErrorAt(3, "record is an array"),
                          ErrorAt(4, "record is a string"), ErrorAt(5, "invalid UTF-8"),
                          ErrorAt(6, "duplicate key")));
}

TEST(JsonArray, EmptyArrayFailsWhole) {
  for (const std::string input : {"[]", "[ \n ]\n", "\xEF\xBB\xBF\n[]"}) {
    Result r = Read(input);
    EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status.message(), HasSubstr("input is empty"));
  }
}

TEST(JsonArray, StructuralProblems) {
  {
    Result r = Read("[{\"a\":1},\n]");
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_THAT(Lines(r), ElementsAre(1));
    EXPECT_THAT(r.errors, ElementsAre(ErrorAt(2, "trailing comma")));
  }
  {
    Result r = Read("[{\"a\":1},\n,{\"a\":2}]");
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_THAT(Lines(r), ElementsAre(1, 2));
    EXPECT_THAT(r.errors, ElementsAre(ErrorAt(2, "empty array element")));
  }
  {
    Result r = Read("[{\"a\":1},{\"a\":2}\n");
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_THAT(Lines(r), ElementsAre(1, 1));
    EXPECT_THAT(r.errors, ElementsAre(ErrorAt(2, "missing ']'")));
  }
  {
    Result r = Read("[{\"a\":1},\n{\"a\":");
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_THAT(Lines(r), ElementsAre(1));
    EXPECT_THAT(r.errors,
                ElementsAre(ErrorAt(2, "malformed JSON"), ErrorAt(2, "missing ']'")));
  }
  {
    Result r = Read("[{\"a\":1},\n");
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_THAT(r.errors, ElementsAre(ErrorAt(2, "missing ']'")));
  }
  {
    Result r = Read("[{\"a\":1}]\n\n[{\"a\":2}]");
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_THAT(Lines(r), ElementsAre(1));
    EXPECT_THAT(r.errors, ElementsAre(ErrorAt(3, "after the end of the JSON array")));
  }
  {
    // An unbalanced element swallows the rest; it is reported, not read.
    Result r = Read("[{\"a\":1},\n{\"a\":[1},\n{\"a\":2}]");
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_THAT(Lines(r), ElementsAre(1));
    EXPECT_THAT(r.errors,
                ElementsAre(ErrorAt(2, "malformed JSON"), ErrorAt(3, "missing ']'")));
  }
}

TEST(JsonArray, NotAnArrayWhenOneWasAskedFor) {
  Result r = Read("\n{\"a\":1}\n", InputFormat::kJsonArray);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status.message(), HasSubstr("not a JSON array"));
  EXPECT_THAT(r.status.message(), HasSubstr("line 2"));
}

TEST(JsonArray, LongElementIsSkippedAndTheNextRead) {
  ReaderLimits limits;
  limits.max_record_bytes = 64;
  limits.chunk_bytes = 7;
  Result r = Read("[{\"a\":1},\n{\"a\":\"" + std::string(500, ',') + "]\"},\n{\"a\":2}]",
                  InputFormat::kAuto, limits);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(1, 3));
  EXPECT_THAT(r.errors, ElementsAre(ErrorAt(2, "record longer than 64 bytes")));
}

// ------------------------------------------------------------------- CSV

TEST(Csv, HeaderNamesColumnsAndValuesAreUntrimmedStrings) {
  Result r =
      Read("LCLid,tstp,energy(kWh/hh)\nMAC000002,2013-01-01 00:00:00, 0.219 \nM,,\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.summary.format, InputFormat::kCsv);
  EXPECT_THAT(r.errors, IsEmpty());
  ASSERT_THAT(r.records, SizeIs(2));
  const OwnedRecord& first = r.records[0];
  EXPECT_EQ(first.line, 2);
  EXPECT_EQ(first.origin, InputRecord::Origin::kText);
  ASSERT_THAT(first.fields, SizeIs(3));
  EXPECT_EQ(first.fields[0].first, "LCLid");
  EXPECT_EQ(first.Get("LCLid"), Str("MAC000002"));
  EXPECT_EQ(first.Get("tstp"), Str("2013-01-01 00:00:00"));
  EXPECT_EQ(first.Get("energy(kWh/hh)"), Str(" 0.219 "));
  EXPECT_EQ(r.records[1].Get("tstp"), Str(""));
  EXPECT_EQ(r.records[1].Get("energy(kWh/hh)"), Str(""));
}

TEST(Csv, SemicolonDelimiterIsDetected) {
  Result r = Read("a;b;\"c,d\"\n1;2,5;3\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_THAT(r.records, SizeIs(1));
  EXPECT_EQ(r.records[0].Get("b"), Str("2,5"));
  EXPECT_EQ(r.records[0].Get("c,d"), Str("3"));
}

TEST(Csv, CommaWinsATie) {
  Result r = Read("a,b;c\n1,2;3\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_THAT(r.records, SizeIs(1));
  EXPECT_EQ(r.records[0].Get("b;c"), Str("2;3"));
}

TEST(Csv, QuotedFieldsEscapesAndEmbeddedNewlines) {
  Result r = Read(
      "id,text\n"
      "1,\"x,y\"\n"
      "2,\"he said \"\"hi\"\"\"\n"
      "3,\"line one\nline two\r\nline three\"\n"
      "4,\"\"\n"
      "5,\"\"\"\"\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(Lines(r), ElementsAre(2, 3, 4, 7, 8));
  EXPECT_EQ(r.records[0].Get("text"), Str("x,y"));
  EXPECT_EQ(r.records[1].Get("text"), Str("he said \"hi\""));
  EXPECT_EQ(r.records[2].Get("text"), Str("line one\nline two\r\nline three"));
  EXPECT_EQ(r.records[3].Get("text"), Str(""));
  EXPECT_EQ(r.records[4].Get("text"), Str("\""));
}

TEST(Csv, CrlfBomBlankLinesAndNoFinalNewline) {
  Result r = Read("\xEF\xBB\xBF\"a\",b\r\n1,\"2\"\r\n\r\n\n3,4\r\n5,6");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.errors, IsEmpty());
  ASSERT_THAT(Lines(r), ElementsAre(2, 5, 6));
  EXPECT_EQ(r.records[0].fields[0].first, "a");
  EXPECT_EQ(r.records[0].Get("b"), Str("2"));
  EXPECT_EQ(r.records[1].Get("b"), Str("4"));
  EXPECT_EQ(r.records[2].Get("b"), Str("6"));
}

TEST(Csv, LoneCarriageReturnInsideAFieldIsKept) {
  Result r = Read("a,b\nx\ry,z\r\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_THAT(r.records, SizeIs(1));
  EXPECT_EQ(r.records[0].Get("a"), Str("x\ry"));
  EXPECT_EQ(r.records[0].Get("b"), Str("z"));
}

TEST(Csv, RaggedRowsAreErrors) {
  Result r = Read("a,b,c\n1,2,3\n1,2\n1,2,3,4\n,,\n1,2,3,\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(2, 5));
  EXPECT_THAT(r.errors, ElementsAre(ErrorAt(3, "row has 2 fields, the header has 3"),
                                    ErrorAt(4, "row has 4 fields, the header has 3"),
                                    ErrorAt(6, "row has 4 fields, the header has 3")));
}

TEST(Csv, InvalidUtf8NamesLineAndColumn) {
  Result r = Read("a,b\n1,2\n1,caf\xe9\n3,4\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(2, 4));
  EXPECT_THAT(r.errors, ElementsAre(ErrorAt(3, "invalid UTF-8 (column 2)")));
}

TEST(Csv, QuotingErrors) {
  Result r = Read(
      "a,b\n"
      "1,ab\"c\n"
      "2,\"ab\"c\n"
      "3,\"ok\" \n"
      "4,\"ok\"\n"
      "5,\"never closed\n"
      "6,x\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(5));
  EXPECT_THAT(
      r.errors,
      ElementsAre(ErrorAt(2, "quote inside an unquoted field (column 2)"),
                  ErrorAt(3, "unexpected character after a closing quote (column 2)"),
                  ErrorAt(4, "unexpected character after a closing quote (column 2)"),
                  ErrorAt(6, "unterminated quoted field (column 2)")));
}

TEST(Csv, HeaderProblemsFailWhole) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a,b,a\n1,2,3\n", "columns 1 and 3 have the same name \"a\""},
      {"a,,\n1,2,3\n", "columns 2 and 3 have the same name \"\""},
      {"a,b\"c\n1,2\n", "quote inside an unquoted field (column 2)"},
      {"a,\"b\n", "unterminated quoted field"},
      {"a,caf\xe9\n1,2\n", "invalid UTF-8"},
      {"a,b\n", "header is followed by no rows"},
      {"a,b\n\n\r\n", "header is followed by no rows"},
  };
  for (const auto& [input, reason] : cases) {
    SCOPED_TRACE(input);
    Result r = Read(input, InputFormat::kCsv);
    EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status.message(), HasSubstr(reason));
    EXPECT_THAT(r.records, IsEmpty());
  }
}

TEST(Csv, HeaderLimits) {
  ReaderLimits limits;
  limits.max_fields = 2;
  Result wide = Read("a,b,c\n1,2,3\n", InputFormat::kCsv, limits);
  EXPECT_THAT(wide.status.message(), HasSubstr("more than 2 columns"));
  limits = {};
  limits.max_record_bytes = 16;
  limits.chunk_bytes = 3;
  Result longer = Read(std::string(40, 'h') + "\n1\n", InputFormat::kCsv, limits);
  EXPECT_THAT(longer.status.message(),
              HasSubstr("CSV header (line 1): longer than 16 bytes"));
}

TEST(Csv, LongRowIsSkipped) {
  ReaderLimits limits;
  limits.max_record_bytes = 16;
  limits.chunk_bytes = 4;
  Result r = Read("a,b\n1,2\n1,\"" + std::string(100, 'x') + "\n,\"\n3,4\n",
                  InputFormat::kCsv, limits);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Lines(r), ElementsAre(2, 5));
  EXPECT_THAT(r.errors, ElementsAre(ErrorAt(3, "record longer than 16 bytes")));
}

TEST(Csv, LeadingSpacesOfTheHeaderAreKept) {
  Result r = Read("\n  a,b\n1,2\n");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_THAT(r.records, SizeIs(1));
  EXPECT_EQ(r.records[0].line, 3);
  EXPECT_EQ(r.records[0].fields[0].first, "  a");
}

// ------------------------------------------------------- files and chunks

std::string FixturePath(const std::string& name) {
  return std::string(PRIVACITY_TEST_DATA) + "/ingest/" + name;
}

Result ReadFixture(const std::string& name) {
  Result result;
  auto reader = RecordReader::Create({});
  EXPECT_TRUE(reader.ok());
  absl::StatusOr<ReadSummary> summary = (*reader)->ReadFile(
      FixturePath(name), InputFormat::kAuto,
      [&](const InputRecord& record) {
        result.records.push_back(Own(record));
        return absl::OkStatus();
      },
      [&](const ReadError& error) {
        result.errors.push_back(error);
        return absl::OkStatus();
      });
  result.status = summary.status();
  if (summary.ok()) result.summary = *summary;
  return result;
}

TEST(Files, SameReadingsInThreeFormats) {
  Result ndjson = ReadFixture("readings.ndjson");
  Result array = ReadFixture("readings.json");
  Result csv = ReadFixture("readings.csv");
  ASSERT_TRUE(ndjson.status.ok()) << ndjson.status;
  ASSERT_TRUE(array.status.ok()) << array.status;
  ASSERT_TRUE(csv.status.ok()) << csv.status;
  EXPECT_EQ(ndjson.summary.format, InputFormat::kNdjson);
  EXPECT_EQ(array.summary.format, InputFormat::kJsonArray);
  EXPECT_EQ(csv.summary.format, InputFormat::kCsv);
  EXPECT_THAT(Lines(ndjson), ElementsAre(1, 2, 4, 5));
  EXPECT_THAT(Lines(array), ElementsAre(2, 3, 4, 9));
  EXPECT_THAT(Lines(csv), ElementsAre(2, 3, 5, 7));
  ASSERT_THAT(ndjson.records, SizeIs(4));
  ASSERT_THAT(array.records, SizeIs(4));
  ASSERT_THAT(csv.records, SizeIs(4));
  for (size_t i = 0; i < 4; ++i) {
    OwnedRecord a = array.records[i];
    a.line = ndjson.records[i].line;
    EXPECT_EQ(a, ndjson.records[i]);
    EXPECT_EQ(csv.records[i].Get("LCLid"), Str("MAC000002"));
  }
  EXPECT_DOUBLE_EQ(ndjson.records[2].Get("energy(kWh/hh)").number, 0.191);
  EXPECT_EQ(ndjson.records[3].Get("energy(kWh/hh)"), Str("n/a"));
  EXPECT_EQ(csv.records[0].Get("energy(kWh/hh)"), Str(" 0.219 "));
  EXPECT_EQ(csv.records[1].Get("energy(kWh/hh)"), Str("0,241"));
  EXPECT_EQ(csv.records[2].Get("tstp"), Str("2013-01-01\r\n01:00:00"));
  EXPECT_EQ(csv.records[3].Get("energy(kWh/hh)"), Str("n/\"a\""));
}

TEST(Files, ExtensionDecidesBeforeContent) {
  auto reader = RecordReader::Create({});
  ASSERT_TRUE(reader.ok());
  // A ".csv" file is CSV even when its first byte is '{'.
  Result csv =
      ReadWith(**reader, Source::kFile, "{x},y\n1,2\n", InputFormat::kAuto, "a.csv");
  ASSERT_TRUE(csv.status.ok()) << csv.status;
  EXPECT_EQ(csv.summary.format, InputFormat::kCsv);
  EXPECT_EQ(csv.records[0].Get("{x}"), Str("1"));
  // ".JSONL" is NDJSON even when it starts with '['; the array line is rejected.
  Result ndjson = ReadWith(**reader, Source::kFile, "[{\"a\":1}]\n{\"a\":2}\n",
                           InputFormat::kAuto, "b.JSONL");
  ASSERT_TRUE(ndjson.status.ok()) << ndjson.status;
  EXPECT_EQ(ndjson.summary.format, InputFormat::kNdjson);
  EXPECT_THAT(Lines(ndjson), ElementsAre(2));
  // ".json" is sniffed.
  Result json = ReadWith(**reader, Source::kFile, "{\"a\":1}\n{\"a\":2}\n",
                         InputFormat::kAuto, "c.json");
  EXPECT_EQ(json.summary.format, InputFormat::kNdjson);
  // An explicit format beats the extension.
  Result forced =
      ReadWith(**reader, Source::kFile, "a\n1\n", InputFormat::kCsv, "d.ndjson");
  EXPECT_EQ(forced.summary.format, InputFormat::kCsv);
}

TEST(Files, UnreadableFilesFailWholeAndNameThePath) {
  auto reader = RecordReader::Create({});
  ASSERT_TRUE(reader.ok());
  auto ignore_record = [](const InputRecord&) { return absl::OkStatus(); };
  auto ignore_error = [](const ReadError&) { return absl::OkStatus(); };
  const std::string missing = TempPath("does-not-exist.ndjson");
  absl::StatusOr<ReadSummary> r =
      (*reader)->ReadFile(missing, InputFormat::kAuto, ignore_record, ignore_error);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(missing));
  r = (*reader)->ReadFile(::testing::TempDir(), InputFormat::kAuto, ignore_record,
                          ignore_error);
  EXPECT_FALSE(r.ok());
  const std::string empty = TempPath("empty.csv");
  WriteFile(empty, "");
  r = (*reader)->ReadFile(empty, InputFormat::kAuto, ignore_record, ignore_error);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr(empty + ": input is empty"));
}

TEST(Files, ReaderIsReusableAcrossInputs) {
  auto reader = RecordReader::Create({});
  ASSERT_TRUE(reader.ok());
  Result first = ReadWith(**reader, Source::kBuffer, "x,y\n1,2\n", InputFormat::kAuto);
  Result second = ReadWith(**reader, Source::kBuffer, "p;q\n3;4\n", InputFormat::kAuto);
  Result third = ReadWith(**reader, Source::kBuffer, "{\"a\":1}", InputFormat::kAuto);
  ASSERT_THAT(second.records, SizeIs(1));
  EXPECT_EQ(second.records[0].Get("q"), Str("4"));
  EXPECT_EQ(second.records[0].line, 2);
  ASSERT_THAT(third.records, SizeIs(1));
  EXPECT_EQ(third.records[0].line, 1);
}

// Inputs that exercise every path of a format: varied lengths, escapes,
// multi-line quoted fields, CRLF, blank lines and bad or too-long records.
std::string MixedNdjson() {
  std::string out = "\xEF\xBB\xBF";
  for (int i = 0; i < 300; ++i) {
    switch (i % 9) {
      case 0:
        absl::StrAppend(&out, "{\"id\":", i, ",\"s\":\"", std::string(i % 37, 'q'),
                        "\"}\n");
        break;
      case 1:
        absl::StrAppend(&out, "{\"id\":", i, ",\"o\":{\"a\":[", i, ",\"]\\\"\"]}}\r\n");
        break;
      case 2:
        absl::StrAppend(&out, "\n   \r\n");
        break;
      case 3:
        absl::StrAppend(&out, "{\"id\":", i, ",\"bad\":tru}\n");
        break;
      case 4:
        absl::StrAppend(&out, "{\"id\":", i, ",\"long\":\"", std::string(150 + i, 'L'),
                        "\"}\n");
        break;
      case 5:
        absl::StrAppend(&out, "{\"id\":", i, ",\"u\":\"\xc3\xa9\\u00e9\",\"n\":null}\n");
        break;
      case 6:
        absl::StrAppend(&out, "{\"id\":", i, ",\"x\":\"\xff\"}\n");
        break;
      case 7:
        absl::StrAppend(&out, "{\"id\":", i, ",\"id\":1}\n");
        break;
      default:
        absl::StrAppend(&out, "{\"id\":", i, ",\"d\":", i, ".5,\"t\":true}");
        if (i % 2)
          out += "\n";
        else
          out += "\r\n";
    }
  }
  return out;
}

std::string MixedJsonArray() {
  std::string out = "\n[\n";
  for (int i = 0; i < 200; ++i) {
    if (i > 0) out += i % 3 ? ",\n" : " ,  ";
    switch (i % 6) {
      case 0:
        absl::StrAppend(&out, "{\"id\":", i, ",\"s\":\"a,]}\\\\\"}");
        break;
      case 1:
        absl::StrAppend(&out, "{\n  \"id\": ", i, ",\n  \"o\": {\"k\": [[", i, "]]}\n}");
        break;
      case 2:
        absl::StrAppend(&out, "{\"id\":", i, ",\"long\":\"", std::string(150 + i, 'L'),
                        "\"}");
        break;
      case 3:
        absl::StrAppend(&out, "[", i, "]");
        break;
      case 4:
        absl::StrAppend(&out, "{\"id\":", i, ",\"x\":01}");
        break;
      default:
        absl::StrAppend(&out, "{\"id\":", i, "}");
    }
  }
  out += "\r\n]\n";
  return out;
}

std::string MixedCsv() {
  std::string out = "\xEF\xBB\xBFid;\"te\"\"xt\";n\r\n";
  for (int i = 0; i < 300; ++i) {
    switch (i % 8) {
      case 0:
        absl::StrAppend(&out, i, ";plain ", i, ";", i % 7, "\n");
        break;
      case 1:
        absl::StrAppend(&out, i, ";\"multi\nline;\r\n\"\"quoted\"\"\";x\r\n");
        break;
      case 2:
        absl::StrAppend(&out, "\r\n");
        break;
      case 3:
        absl::StrAppend(&out, i, ";ragged\n");
        break;
      case 4:
        absl::StrAppend(&out, i, ";\"", std::string(150 + i, 'L'), "\";y\n");
        break;
      case 5:
        absl::StrAppend(&out, i, ";caf\xe9;z\n");
        break;
      case 6:
        absl::StrAppend(&out, i, ";bad\"quote;z\n");
        break;
      default:
        absl::StrAppend(&out, i, ";;\"\"\r\n");
    }
  }
  out += "last;row;\"no newline\"";
  return out;
}

struct ChunkCase {
  const char* name;
  std::string (*make)();
  const char* file_name;
};

class ChunkEquivalence : public ::testing::TestWithParam<ChunkCase> {};

TEST_P(ChunkEquivalence, FileInSmallChunksMatchesBufferInOnePiece) {
  const std::string input = GetParam().make();
  ReaderLimits reference_limits;
  reference_limits.max_record_bytes = 256;
  auto reference_reader = RecordReader::Create(reference_limits);
  ASSERT_TRUE(reference_reader.ok());
  const Result reference =
      ReadWith(**reference_reader, Source::kBuffer, input, InputFormat::kAuto);
  ASSERT_TRUE(reference.status.ok()) << reference.status;
  // Every kind of record is present.
  EXPECT_GT(reference.records.size(), 50u);
  EXPECT_GT(reference.errors.size(), 50u);
  std::set<std::string> kinds;
  for (const ReadError& e : reference.errors) kinds.insert(e.message);
  EXPECT_GE(kinds.size(), 3u);

  for (size_t chunk : {1, 2, 3, 5, 7, 13, 64, 255, 256, 257, 4096}) {
    SCOPED_TRACE(absl::StrCat("chunk ", chunk));
    ReaderLimits limits = reference_limits;
    limits.chunk_bytes = chunk;
    auto reader = RecordReader::Create(limits);
    ASSERT_TRUE(reader.ok());
    for (Source source : {Source::kFile, Source::kBuffer}) {
      const Result r =
          ReadWith(**reader, source, input, InputFormat::kAuto, GetParam().file_name);
      ASSERT_TRUE(r.status.ok()) << r.status;
      EXPECT_EQ(r.summary.format, reference.summary.format);
      ASSERT_EQ(r.records.size(), reference.records.size());
      for (size_t i = 0; i < r.records.size(); ++i) {
        ASSERT_EQ(r.records[i], reference.records[i]) << "record " << i;
      }
      ASSERT_EQ(r.errors.size(), reference.errors.size());
      for (size_t i = 0; i < r.errors.size(); ++i) {
        EXPECT_EQ(r.errors[i].line, reference.errors[i].line) << "error " << i;
        EXPECT_EQ(r.errors[i].message, reference.errors[i].message) << "error " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, ChunkEquivalence,
    ::testing::Values(ChunkCase{"Ndjson", &MixedNdjson, "mixed.ndjson"},
                      ChunkCase{"JsonArray", &MixedJsonArray, "mixed.json"},
                      ChunkCase{"Csv", &MixedCsv, "mixed.txt"}),
    [](const ::testing::TestParamInfo<ChunkCase>& info) { return info.param.name; });

// ------------------------------------------------------------- real data

// Counts the lines of a file that are not blank, the way a person would.
int64_t CountNonBlankLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  int64_t count = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line != "\r") ++count;
  }
  return count;
}

class SharedData : public ::testing::TestWithParam<const char*> {};

TEST_P(SharedData, EveryDataLineIsOneRecord) {
  const std::string path = std::string(PRIVACITY_SHARED_DATA) + "/" + GetParam();
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << "real data set not present at " << path;
  }
  const int64_t data_lines = CountNonBlankLines(path) - 1;  // minus the header
  ASSERT_GT(data_lines, 0);
  auto reader = RecordReader::Create({});
  ASSERT_TRUE(reader.ok());
  int64_t records = 0;
  std::vector<ReadError> errors;
  size_t columns = 0;
  absl::StatusOr<ReadSummary> summary = (*reader)->ReadFile(
      path, InputFormat::kAuto,
      [&](const InputRecord& record) {
        ++records;
        if (columns == 0) columns = record.fields.size();
        EXPECT_EQ(record.fields.size(), columns);
        return absl::OkStatus();
      },
      [&](const ReadError& error) {
        errors.push_back(error);
        return absl::OkStatus();
      });
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->format, InputFormat::kCsv);
  EXPECT_THAT(errors, IsEmpty());
  EXPECT_EQ(records, data_lines);
  EXPECT_GT(columns, 2u);
}

INSTANTIATE_TEST_SUITE_P(Files, SharedData,
                         ::testing::Values("smartmeter/MAC000002.csv",
                                           "mobility/citibike_JC-201601-tripdata.csv"));

}  // namespace
}  // namespace privacity::ingest
