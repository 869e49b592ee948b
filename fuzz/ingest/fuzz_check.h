// Shared body of the ingest fuzzers. Besides crashes and sanitizer reports
// it aborts when the reader breaks one of its promises:
//  - reading in tiny chunks gives exactly what reading in one chunk gives;
//  - lines are within the input, records respect the field limit, field
//    names are distinct, strings are valid UTF-8;
//  - a composite value is itself valid JSON of the right kind;
//  - an NDJSON record has exactly the fields simdjson's DOM finds on its line;
//  - CSV records all have the header's columns, as strings.
#ifndef PRIVACITY_FUZZ_INGEST_FUZZ_CHECK_H_
#define PRIVACITY_FUZZ_INGEST_FUZZ_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ingest/record_reader.h"
#include "simdjson.h"

namespace privacity::ingest::fuzz {

inline void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "ingest fuzz check failed: %s\n", what);
    std::abort();
  }
}

struct Value {
  transform::InputValue::Kind kind;
  bool boolean;
  int64_t integer;
  double number;
  std::string text;
  bool operator==(const Value& o) const {
    return kind == o.kind && boolean == o.boolean && integer == o.integer &&
           std::memcmp(&number, &o.number, sizeof number) == 0 && text == o.text;
  }
};

struct Record {
  int64_t line;
  transform::InputRecord::Origin origin;
  std::vector<std::pair<std::string, Value>> fields;
  bool operator==(const Record&) const = default;
};

struct Outcome {
  absl::Status status;
  std::vector<Record> records;
  std::vector<ReadError> errors;
};

constexpr size_t kMaxFields = 16;

inline Outcome ReadAll(std::string_view input, InputFormat format, size_t max_record,
                       size_t chunk) {
  ReaderLimits limits;
  limits.max_record_bytes = max_record;
  limits.max_fields = kMaxFields;
  limits.chunk_bytes = chunk;
  auto reader = RecordReader::Create(limits);
  Require(reader.ok(), "Create");
  Outcome out;
  absl::StatusOr<ReadSummary> summary = (*reader)->ReadBuffer(
      absl::string_view(input.data(), input.size()), format,
      [&](const transform::InputRecord& r) {
        Record rec{r.line, r.origin, {}};
        for (const auto& [name, v] : r.fields) {
          rec.fields.emplace_back(
              std::string(name),
              Value{v.kind, v.boolean, v.integer, v.number, std::string(v.text)});
        }
        out.records.push_back(std::move(rec));
        return absl::OkStatus();
      },
      [&](const ReadError& e) {
        out.errors.push_back(e);
        return absl::OkStatus();
      });
  out.status = summary.status();
  if (summary.ok()) {
    Require(summary->records == static_cast<int64_t>(out.records.size()), "record count");
    Require(summary->errors == static_cast<int64_t>(out.errors.size()), "error count");
    Require(format == InputFormat::kAuto || summary->format == format, "format");
  }
  return out;
}

inline bool ValidUtf8(std::string_view s) {
  return simdjson::validate_utf8(s.data(), s.size());
}

// The text of 1-based line `line` (without its LF), the BOM excluded.
inline std::string_view LineText(std::string_view input, int64_t line) {
  if (input.substr(0, 3) == "\xEF\xBB\xBF") input.remove_prefix(3);
  for (int64_t i = 1; i < line; ++i) {
    const size_t nl = input.find('\n');
    if (nl == std::string_view::npos) return {};
    input.remove_prefix(nl + 1);
  }
  return input.substr(0, input.find('\n'));
}

inline void CheckNdjsonRecord(std::string_view input, const Record& rec,
                              simdjson::dom::parser& parser) {
  const simdjson::padded_string line(LineText(input, rec.line));
  simdjson::dom::element root;
  Require(parser.parse(line).get(root) == simdjson::SUCCESS, "DOM accepts the line");
  simdjson::dom::object object;
  Require(root.get_object().get(object) == simdjson::SUCCESS, "line is an object");
  size_t i = 0;
  for (simdjson::dom::key_value_pair field : object) {
    Require(i < rec.fields.size(), "DOM has more fields");
    Require(rec.fields[i].first == field.key, "same key in the same place");
    const Value& v = rec.fields[i].second;
    using K = transform::InputValue::Kind;
    switch (field.value.type()) {
      case simdjson::dom::element_type::STRING:
        Require(v.kind == K::kString && v.text == field.value.get_string().value_unsafe(),
                "same string");
        break;
      case simdjson::dom::element_type::INT64:
        Require(
            v.kind == K::kInteger && v.integer == field.value.get_int64().value_unsafe(),
            "same integer");
        break;
      case simdjson::dom::element_type::BOOL:
        Require(v.kind == K::kBool && v.boolean == field.value.get_bool().value_unsafe(),
                "same bool");
        break;
      case simdjson::dom::element_type::NULL_VALUE:
        Require(v.kind == K::kNull, "null");
        break;
      case simdjson::dom::element_type::UINT64:
      case simdjson::dom::element_type::DOUBLE:
        Require(v.kind == K::kNumber, "number");
        break;
      case simdjson::dom::element_type::ARRAY:
      case simdjson::dom::element_type::OBJECT:
        Require(v.kind == K::kComposite, "composite");
        break;
    }
    ++i;
  }
  Require(i == rec.fields.size(), "DOM has fewer fields");
}

inline void CheckReader(const uint8_t* data, size_t size, InputFormat format) {
  if (size == 0) return;
  // The first byte picks a small chunk size and the record limit (small
  // enough to be hit often); the rest is the input.
  const size_t small_chunk = 1 + data[0] % 17;
  const size_t max_record = (data[0] & 0x80) != 0 ? 64 : 1024;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  const Outcome small = ReadAll(input, format, max_record, small_chunk);
  const Outcome large = ReadAll(input, format, max_record, 1 << 16);
  Require(small.status == large.status, "same status in any chunk size");
  Require(small.records == large.records, "same records in any chunk size");
  Require(small.errors.size() == large.errors.size(), "same number of errors");
  for (size_t i = 0; i < small.errors.size(); ++i) {
    Require(small.errors[i].line == large.errors[i].line, "same error line");
    Require(small.errors[i].message == large.errors[i].message, "same error message");
  }

  int64_t lines = 1;
  for (char c : input) lines += c == '\n';
  for (const ReadError& e : large.errors) {
    Require(e.line >= 1 && e.line <= lines, "error line within the input");
    Require(!e.message.empty(), "error has a reason");
  }

  simdjson::dom::parser parser;
  const bool is_csv = format == InputFormat::kCsv;
  const size_t columns = large.records.empty() ? 0 : large.records[0].fields.size();
  for (const Record& rec : large.records) {
    Require(rec.line >= 1 && rec.line <= lines, "record line within the input");
    Require(rec.fields.size() <= kMaxFields, "field limit");
    for (size_t i = 0; i < rec.fields.size(); ++i) {
      Require(ValidUtf8(rec.fields[i].first), "name is UTF-8");
      Require(ValidUtf8(rec.fields[i].second.text), "text is UTF-8");
      for (size_t j = 0; j < i; ++j) {
        Require(rec.fields[i].first != rec.fields[j].first, "names are distinct");
      }
      if (rec.fields[i].second.kind == transform::InputValue::Kind::kComposite) {
        const std::string& text = rec.fields[i].second.text;
        Require(!text.empty() && (text[0] == '{' || text[0] == '['), "composite kind");
        const simdjson::padded_string padded(text);
        simdjson::dom::element element;
        Require(parser.parse(padded).get(element) == simdjson::SUCCESS,
                "composite text is JSON");
        Require(element.is_object() == (text[0] == '{'),
                "composite is what it looks like");
      }
    }
    if (is_csv) {
      Require(rec.origin == transform::InputRecord::Origin::kText, "CSV is text");
      Require(rec.fields.size() == columns, "CSV records have the header's columns");
      for (const auto& field : rec.fields) {
        Require(field.second.kind == transform::InputValue::Kind::kString, "CSV strings");
      }
    } else {
      Require(rec.origin == transform::InputRecord::Origin::kJson, "JSON origin");
      if (format == InputFormat::kNdjson) CheckNdjsonRecord(input, rec, parser);
    }
  }
}

}  // namespace privacity::ingest::fuzz

#endif  // PRIVACITY_FUZZ_INGEST_FUZZ_CHECK_H_
