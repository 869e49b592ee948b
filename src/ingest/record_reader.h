// Record readers: turn sensor files and request bodies (NDJSON, JSON arrays,
// CSV) into transform::InputRecord, one callback per record.
//
// Input is untrusted. A reader never asserts on it: every bad record is
// reported through `on_error` with its 1-based line and a reason (never the
// offending value), and reading continues with the next record. Only
// failures of the whole input (unreadable file, empty input, unknown format,
// a CSV header that cannot be used, a stream that is not a JSON array when
// one was asked for) end a read with an error Status.
//
// Formats:
//   NDJSON      one JSON object per line; blank lines are skipped; LF or CRLF.
//   JSON array  `[ {...}, {...} ]`, read element by element (streamed, never
//               held whole); an element's line is the line where it starts.
//   CSV         RFC 4180: a header row names the columns; ',' or ';' chosen
//               from the header; quoted fields with "" escapes and embedded
//               newlines; LF or CRLF; blank lines skipped. Every value is an
//               InputValue::kString with Origin::kText, untrimmed.
// A UTF-8 byte order mark at the start of the input is skipped.
//
// JSON values map to InputValue kinds: null, bool, integer (fits int64),
// number (any other number, including integers above INT64_MAX), string
// (unescaped) and composite (the raw JSON text of an object or array, exactly
// as it appeared in the input). A JSON record is rejected when it is not
// valid UTF-8, is not well-formed JSON, is not an object, repeats a key (in
// the record or in any nested object), has more than `max_fields` fields,
// nests deeper than kMaxJsonDepth, or holds a number outside the int64/uint64
// /double range.
//
// Memory: files and buffers are read in chunks of `chunk_bytes`; a reader
// holds at most about chunk_bytes + max_record_bytes of input at once, plus
// the JSON parser's working memory for the largest record seen. A record
// longer than max_record_bytes is skipped without being buffered and
// reported once.
#ifndef PRIVACITY_INGEST_RECORD_READER_H_
#define PRIVACITY_INGEST_RECORD_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transform/value.h"

namespace privacity::ingest {

enum class InputFormat {
  // ReadFile: by extension (.csv; .ndjson, .jsonl, .ldjson), otherwise, and
  // always for buffers, by the first byte that is not whitespace: '[' is a
  // JSON array, '{' NDJSON, anything else CSV.
  kAuto,
  kNdjson,
  kJsonArray,
  kCsv,
};

// "auto", "ndjson", "json-array", "csv".
absl::string_view InputFormatName(InputFormat format);

// Deepest nesting of objects and arrays accepted in a JSON record (the
// record object itself is level 1).
inline constexpr size_t kMaxJsonDepth = 64;

struct ReaderLimits {
  // Longest record, in bytes: an NDJSON line without its LF, a JSON array
  // element up to its ',' or ']', a CSV row (all its lines) without the
  // final line break.
  size_t max_record_bytes = 1 << 20;
  // Most fields in one record; also the most columns in a CSV header.
  size_t max_fields = 256;
  // How much is read from a file or copied from a buffer at a time.
  size_t chunk_bytes = 1 << 20;
};

// One bad record. `message` names the reason (and the field or column when
// there is one), never a value.
struct ReadError {
  int64_t line = 0;  // 1-based line where the record starts
  std::string message;
};

struct ReadSummary {
  InputFormat format = InputFormat::kAuto;  // the format actually read
  int64_t records = 0;                      // delivered to on_record
  int64_t errors = 0;                       // reported to on_error
};

// Receives each good record. The record and every view in it point into the
// reader's buffers and are valid only during the call. Returning an error
// stops reading; the read then returns that error.
using RecordCallback = absl::FunctionRef<absl::Status(const transform::InputRecord&)>;
// Receives each bad record. Returning an error stops reading (for example
// after too many errors); the read then returns that error.
using ErrorCallback = absl::FunctionRef<absl::Status(const ReadError&)>;

// Reads inputs one at a time. Reuses its buffers and parser between reads,
// so keep one per thread. Not thread-safe.
class RecordReader {
 public:
  // Fails with InvalidArgument when a limit is zero or absurdly large
  // (max_record_bytes and chunk_bytes at most 1 GiB, max_fields at most
  // 65536).
  static absl::StatusOr<std::unique_ptr<RecordReader>> Create(const ReaderLimits& limits);

  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;
  ~RecordReader();

  // Reads an in-memory input, such as an HTTP request body.
  absl::StatusOr<ReadSummary> ReadBuffer(absl::string_view input, InputFormat format,
                                         RecordCallback on_record,
                                         ErrorCallback on_error);

  // Reads the file at `path` in chunks. Errors that concern the whole file
  // name the path.
  absl::StatusOr<ReadSummary> ReadFile(const std::string& path, InputFormat format,
                                       RecordCallback on_record, ErrorCallback on_error);

 private:
  struct Impl;
  explicit RecordReader(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace privacity::ingest

#endif  // PRIVACITY_INGEST_RECORD_READER_H_
