// Internal to the ingest module: resumable scanners that find where records
// start and end in a stream of bytes, one format each.
//
// A scanner is fed a window of bytes (see ChunkBuffer) through Next(), which
// advances `pos` and returns one event at a time. kNeedMore means every byte
// up to `size` has been consumed: the caller may discard bytes it no longer
// needs (telling the scanner through Shift()) and append more. At the end of
// the input the caller calls Finish() until it returns kDone. Scanners count
// lines themselves, so records may straddle any number of refills.
#ifndef PRIVACITY_INGEST_INTERNAL_SCANNERS_H_
#define PRIVACITY_INGEST_INTERNAL_SCANNERS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace privacity::ingest::internal {

struct ScanEvent {
  enum class Kind {
    kNeedMore,
    kRecordStart,  // a record starts at `offset` on `line`
    kRecordEnd,    // the current record ends before `offset`
    kError,        // a problem outside any record, at `line`
    kFatal,        // the input cannot be read as this format at all
    kDone,         // nothing more will be produced
  };
  Kind kind = Kind::kNeedMore;
  size_t offset = 0;
  int64_t line = 0;
  const char* message = nullptr;  // static text, for kError and kFatal
};

// NDJSON: every line is a record (blank ones are filtered by the caller).
class NdjsonScanner {
 public:
  explicit NdjsonScanner(int64_t first_line) : line_(first_line) {}
  ScanEvent Next(const char* data, size_t size, size_t& pos);
  ScanEvent Finish(const char* data, size_t size, size_t& pos);
  void Shift(size_t) {}

 private:
  int64_t line_;
  bool in_line_ = false;
};

// A JSON array: every element is a record, from its first byte up to the
// ',' or ']' that ends it. Tracks only strings and bracket depth; the
// elements themselves are validated by the JSON parser.
class JsonArrayScanner {
 public:
  explicit JsonArrayScanner(int64_t first_line) : line_(first_line) {}
  ScanEvent Next(const char* data, size_t size, size_t& pos);
  ScanEvent Finish(const char* data, size_t size, size_t& pos);
  void Shift(size_t) {}

 private:
  enum class State { kOpen, kFirst, kNext, kElement, kAfter, kUnterminated, kDone };
  int64_t line_;
  State state_ = State::kOpen;
  int64_t depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
};

// RFC 4180 CSV. Created in header mode, where it only finds the end of the
// first record (a quote toggles quoting) and counts candidate delimiters;
// after SetDelimiter() it splits records into fields strictly.
class CsvScanner {
 public:
  enum class Problem {
    kNone,
    kBareQuote,          // '"' inside a field that did not start with one
    kAfterClosingQuote,  // anything but a delimiter or line break after a closing quote
    kUnterminatedQuote,  // the input ended inside a quoted field
  };
  // A field's content, relative to the record start, quotes excluded.
  struct Field {
    int64_t begin = 0;
    int64_t end = 0;
    bool escaped = false;  // holds "" pairs that must be unescaped
  };

  CsvScanner(int64_t first_line, size_t max_fields)
      : line_(first_line), max_fields_(max_fields) {}

  // Leaves header mode. REQUIRES: no record is in progress.
  void SetDelimiter(char delimiter) {
    delimiter_ = delimiter;
    header_mode_ = false;
  }
  // In header mode, after the first kRecordEnd: ';' when the header holds
  // more semicolons than commas outside quotes, else ','.
  char DetectedDelimiter() const { return semicolons_ > commas_ ? ';' : ','; }

  ScanEvent Next(const char* data, size_t size, size_t& pos);
  ScanEvent Finish(const char* data, size_t size, size_t& pos);
  void Shift(size_t delta) { record_start_ -= static_cast<int64_t>(delta); }

  // The record last ended. At most max_fields + 1 fields are kept;
  // field_count() counts them all.
  const std::vector<Field>& fields() const { return fields_; }
  size_t field_count() const { return field_count_; }
  Problem problem() const { return problem_; }
  size_t problem_column() const { return problem_column_; }  // 1-based

 private:
  enum class State {
    kBetween,
    kHeaderOutside,
    kHeaderQuoted,
    kFieldStart,
    kUnquoted,
    kQuoted,
    kQuoteInQuoted,
    kCrAfterQuote,
  };

  ScanEvent StartRecord(size_t pos);
  void EndUnquotedField(const char* data, size_t end);
  void EndField(int64_t end_relative);
  void SetProblem(Problem problem);
  ScanEvent EndRecord(size_t offset);

  int64_t line_;
  size_t max_fields_;
  bool header_mode_ = true;
  char delimiter_ = ',';
  int64_t commas_ = 0;
  int64_t semicolons_ = 0;

  State state_ = State::kBetween;
  int64_t record_start_ = 0;  // absolute offset; negative once discarded
  int64_t field_begin_ = 0;   // relative
  int64_t quote_end_ = 0;     // relative offset of a closing quote
  bool escaped_ = false;
  std::vector<Field> fields_;
  size_t field_count_ = 0;
  Problem problem_ = Problem::kNone;
  size_t problem_column_ = 0;
};

}  // namespace privacity::ingest::internal

#endif  // PRIVACITY_INGEST_INTERNAL_SCANNERS_H_
