// Internal to the ingest module: one JSON record (an object) to an
// InputRecord, with simdjson's validating DOM parser.
#ifndef PRIVACITY_INGEST_INTERNAL_JSON_RECORD_H_
#define PRIVACITY_INGEST_INTERNAL_JSON_RECORD_H_

#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "transform/value.h"

namespace simdjson::dom {
class parser;
}  // namespace simdjson::dom

namespace privacity::ingest::internal {

class JsonRecordParser {
 public:
  explicit JsonRecordParser(size_t max_fields);
  ~JsonRecordParser();
  JsonRecordParser(const JsonRecordParser&) = delete;
  JsonRecordParser& operator=(const JsonRecordParser&) = delete;

  // Replaces `record.fields` with the fields of the JSON object in
  // data[0, size). Views point into `data` and into the parser, valid until
  // the next call. On failure returns InvalidArgument whose message is the
  // reason, without any value from the input.
  // REQUIRES: data[size, size + kPadding) is readable.
  absl::Status Parse(const char* data, size_t size, transform::InputRecord& record);

 private:
  absl::Status FillCompositeText(const char* data, size_t size,
                                 transform::InputRecord& record);

  size_t max_fields_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  // Scratch space kept between records.
  std::vector<std::string_view> keys_;
  std::vector<std::string_view> scratch_;
  std::vector<std::pair<size_t, size_t>> ranges_;
};

}  // namespace privacity::ingest::internal

#endif  // PRIVACITY_INGEST_INTERNAL_JSON_RECORD_H_
