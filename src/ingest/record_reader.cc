#include "ingest/record_reader.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "ingest/internal/chunk_buffer.h"
#include "ingest/internal/json_record.h"
#include "ingest/internal/scanners.h"
#include "simdjson.h"

namespace privacity::ingest {
namespace {

using internal::ChunkBuffer;
using internal::CsvScanner;
using internal::ScanEvent;
using transform::InputRecord;
using transform::InputValue;

constexpr size_t kMaxLimitBytes = size_t{1} << 30;
constexpr size_t kMaxFieldsLimit = 65536;
constexpr char kBom[] = "\xEF\xBB\xBF";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsBlank(const char* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (!IsSpace(data[i])) return false;
  }
  return true;
}

// Extension-based choice for kAuto files; kAuto when it says nothing.
InputFormat FormatFromPath(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
    return InputFormat::kAuto;
  }
  const std::string ext = absl::AsciiStrToLower(absl::string_view(path).substr(dot + 1));
  if (ext == "csv") return InputFormat::kCsv;
  if (ext == "ndjson" || ext == "jsonl" || ext == "ldjson") return InputFormat::kNdjson;
  return InputFormat::kAuto;  // .json may be an array or NDJSON: look inside
}

const char* CsvProblemText(CsvScanner::Problem problem) {
  switch (problem) {
    case CsvScanner::Problem::kNone:
      break;
    case CsvScanner::Problem::kBareQuote:
      return "quote inside an unquoted field";
    case CsvScanner::Problem::kAfterClosingQuote:
      return "unexpected character after a closing quote";
    case CsvScanner::Problem::kUnterminatedQuote:
      return "unterminated quoted field";
  }
  return "no problem";
}

// Writes the content of a quoted field with its "" pairs unescaped to the
// end of `out`, and returns a view of it.
// REQUIRES: `out` has capacity for it, so earlier views stay valid.
std::string_view Unescape(std::string_view raw, std::string& out) {
  const size_t start = out.size();
  for (size_t i = 0; i < raw.size(); ++i) {
    out.push_back(raw[i]);
    if (raw[i] == '"' && i + 1 < raw.size() && raw[i + 1] == '"') ++i;
  }
  return std::string_view(out).substr(start);
}

}  // namespace

absl::string_view InputFormatName(InputFormat format) {
  switch (format) {
    case InputFormat::kAuto:
      return "auto";
    case InputFormat::kNdjson:
      return "ndjson";
    case InputFormat::kJsonArray:
      return "json-array";
    case InputFormat::kCsv:
      return "csv";
  }
  return "unknown";
}

struct RecordReader::Impl {
  explicit Impl(const ReaderLimits& limits)
      : limits(limits), buffer(limits.chunk_bytes), json(limits.max_fields) {}

  // State of one read.
  struct Run {
    std::string source_name;  // the path, or empty for a buffer
    RecordCallback on_record;
    ErrorCallback on_error;
    ReadSummary summary;
  };

  absl::StatusOr<ReadSummary> Read(internal::ByteSource& source, std::string source_name,
                                   InputFormat format, RecordCallback on_record,
                                   ErrorCallback on_error);

  // Feeds the buffer, from its start, to `scanner` and each record to
  // `handler` until the input ends, refilling and discarding as it goes.
  template <typename Scanner, typename Handler>
  absl::Status Drive(Scanner& scanner, Handler& handler);

  absl::Status ReportError(int64_t line, std::string message) {
    ++run->summary.errors;
    return run->on_error(ReadError{line, std::move(message)});
  }
  absl::Status Deliver(int64_t line, InputRecord::Origin origin) {
    record.line = line;
    record.origin = origin;
    ++run->summary.records;
    return run->on_record(record);
  }
  absl::Status Fatal(absl::string_view message) const {
    if (run->source_name.empty()) return absl::InvalidArgumentError(message);
    return absl::InvalidArgumentError(absl::StrCat(run->source_name, ": ", message));
  }
  std::string TooLongMessage() const {
    return absl::StrCat("record longer than ", limits.max_record_bytes,
                        " bytes; skipped");
  }

  absl::Status ReadJson(InputFormat format, int64_t first_line);
  absl::Status ReadCsv(int64_t first_line);

  ReaderLimits limits;
  ChunkBuffer buffer;
  internal::JsonRecordParser json;
  InputRecord record;
  std::string unescaped;                  // CSV fields with "" escapes
  std::vector<std::string> header_names;  // CSV columns
  Run* run = nullptr;
};

template <typename Scanner, typename Handler>
absl::Status RecordReader::Impl::Drive(Scanner& scanner, Handler& handler) {
  using Kind = ScanEvent::Kind;
  size_t pos = 0;
  bool at_end = false;
  bool in_record = false;
  bool skipping = false;  // the record in progress is too long: drop its bytes
  size_t record_start = 0;
  int64_t record_line = 0;
  while (true) {
    const ScanEvent event = at_end ? scanner.Finish(buffer.data(), buffer.size(), pos)
                                   : scanner.Next(buffer.data(), buffer.size(), pos);
    switch (event.kind) {
      case Kind::kRecordStart:
        in_record = true;
        skipping = false;
        record_start = event.offset;
        record_line = event.line;
        break;
      case Kind::kRecordEnd:
        if (!skipping) {
          const size_t size = event.offset - record_start;
          if (size > limits.max_record_bytes) {
            RETURN_IF_ERROR(handler.OnTooLong(record_line));
          } else {
            RETURN_IF_ERROR(
                handler.OnRecord(buffer.data() + record_start, size, record_line));
          }
        }
        in_record = false;
        skipping = false;
        break;
      case Kind::kError:
        RETURN_IF_ERROR(ReportError(event.line, event.message));
        break;
      case Kind::kFatal:
        return Fatal(absl::StrCat(event.message, " (line ", event.line, ")"));
      case Kind::kDone:
        return absl::OkStatus();
      case Kind::kNeedMore: {
        if (in_record && !skipping &&
            buffer.size() - record_start > limits.max_record_bytes) {
          RETURN_IF_ERROR(handler.OnTooLong(record_line));
          skipping = true;
        }
        // Keep only the record in progress, unless it is being skipped.
        const size_t keep_from = in_record && !skipping ? record_start : buffer.size();
        buffer.Discard(keep_from);
        pos -= keep_from;
        record_start -= in_record && !skipping ? keep_from : 0;
        scanner.Shift(keep_from);
        ASSIGN_OR_RETURN(const bool more, buffer.Fill());
        at_end = !more;
        break;
      }
    }
  }
}

absl::Status RecordReader::Impl::ReadJson(InputFormat format, int64_t first_line) {
  struct Handler {
    Impl& impl;
    bool skip_blank;  // NDJSON lines may be blank
    absl::Status OnRecord(const char* data, size_t size, int64_t line) {
      if (skip_blank && IsBlank(data, size)) return absl::OkStatus();
      absl::Status parsed = impl.json.Parse(data, size, impl.record);
      if (!parsed.ok()) return impl.ReportError(line, std::string(parsed.message()));
      return impl.Deliver(line, InputRecord::Origin::kJson);
    }
    absl::Status OnTooLong(int64_t line) {
      return impl.ReportError(line, impl.TooLongMessage());
    }
  };
  if (format == InputFormat::kNdjson) {
    internal::NdjsonScanner scanner(first_line);
    Handler handler{*this, /*skip_blank=*/true};
    return Drive(scanner, handler);
  }
  internal::JsonArrayScanner scanner(first_line);
  Handler handler{*this, /*skip_blank=*/false};
  RETURN_IF_ERROR(Drive(scanner, handler));
  if (run->summary.records == 0 && run->summary.errors == 0) {
    return Fatal("input is empty: the JSON array has no elements");
  }
  return absl::OkStatus();
}

absl::Status RecordReader::Impl::ReadCsv(int64_t first_line) {
  struct Handler {
    Impl& impl;
    CsvScanner& scanner;
    bool header_done = false;

    absl::Status HeaderError(int64_t line, absl::string_view reason) {
      return impl.Fatal(absl::StrCat("CSV header (line ", line, "): ", reason));
    }

    absl::Status OnHeader(const char* data, size_t size, int64_t line) {
      const char delimiter = scanner.DetectedDelimiter();
      scanner.SetDelimiter(delimiter);
      // Split the header strictly, as rows will be.
      CsvScanner split(line, impl.limits.max_fields);
      split.SetDelimiter(delimiter);
      size_t pos = 0;
      ScanEvent event = split.Next(data, size, pos);  // the record start
      do {
        event = split.Next(data, size, pos);
      } while (event.kind != ScanEvent::Kind::kRecordEnd &&
               event.kind != ScanEvent::Kind::kNeedMore);
      const bool ended_early = event.kind == ScanEvent::Kind::kRecordEnd && pos < size;
      if (event.kind == ScanEvent::Kind::kNeedMore) split.Finish(data, size, pos);
      if (split.problem() != CsvScanner::Problem::kNone) {
        return HeaderError(line, absl::StrCat(CsvProblemText(split.problem()),
                                              " (column ", split.problem_column(), ")"));
      }
      if (ended_early) return HeaderError(line, "malformed quoting");
      if (split.field_count() > impl.limits.max_fields) {
        return HeaderError(
            line, absl::StrCat("more than ", impl.limits.max_fields, " columns"));
      }
      if (!simdjson::validate_utf8(data, size)) return HeaderError(line, "invalid UTF-8");
      impl.header_names.clear();
      for (const CsvScanner::Field& field : split.fields()) {
        const std::string_view raw(data + field.begin, field.end - field.begin);
        std::string name;
        if (field.escaped) {
          name.reserve(raw.size());
          Unescape(raw, name);
        } else {
          name.assign(raw);
        }
        for (size_t i = 0; i < impl.header_names.size(); ++i) {
          if (impl.header_names[i] == name) {
            return HeaderError(
                line, absl::StrCat("columns ", i + 1, " and ",
                                   impl.header_names.size() + 1, " have the same name \"",
                                   absl::CHexEscape(name.substr(0, 64)), "\""));
          }
        }
        impl.header_names.push_back(std::move(name));
      }
      header_done = true;
      return absl::OkStatus();
    }

    absl::Status OnRecord(const char* data, size_t size, int64_t line) {
      if (!header_done) return OnHeader(data, size, line);
      if (size == 0 || (size == 1 && data[0] == '\r')) return absl::OkStatus();  // blank
      if (scanner.problem() != CsvScanner::Problem::kNone) {
        return impl.ReportError(
            line, absl::StrCat(CsvProblemText(scanner.problem()), " (column ",
                               scanner.problem_column(), ")"));
      }
      const std::vector<std::string>& names = impl.header_names;
      if (scanner.field_count() != names.size()) {
        return impl.ReportError(line,
                                absl::StrCat("row has ", scanner.field_count(),
                                             " fields, the header has ", names.size()));
      }
      const std::vector<CsvScanner::Field>& fields = scanner.fields();
      if (!simdjson::validate_utf8(data, size)) {
        size_t column = 0;
        while (column < fields.size() &&
               simdjson::validate_utf8(data + fields[column].begin,
                                       fields[column].end - fields[column].begin)) {
          ++column;
        }
        return impl.ReportError(line,
                                absl::StrCat("invalid UTF-8 (column ", column + 1, ")"));
      }
      impl.unescaped.clear();
      impl.unescaped.reserve(size);  // views into it must not move
      impl.record.fields.clear();
      for (size_t i = 0; i < fields.size(); ++i) {
        std::string_view text(data + fields[i].begin, fields[i].end - fields[i].begin);
        if (fields[i].escaped) text = Unescape(text, impl.unescaped);
        InputValue value;
        value.kind = InputValue::Kind::kString;
        value.text = text;
        impl.record.fields.emplace_back(names[i], value);
      }
      return impl.Deliver(line, InputRecord::Origin::kText);
    }

    absl::Status OnTooLong(int64_t line) {
      if (!header_done) {
        return HeaderError(
            line, absl::StrCat("longer than ", impl.limits.max_record_bytes, " bytes"));
      }
      return impl.ReportError(line, impl.TooLongMessage());
    }
  };

  CsvScanner scanner(first_line, limits.max_fields);
  Handler handler{*this, scanner};
  RETURN_IF_ERROR(Drive(scanner, handler));
  if (!handler.header_done) return Fatal("input is empty");
  if (run->summary.records == 0 && run->summary.errors == 0) {
    return Fatal("input is empty: the CSV header is followed by no rows");
  }
  return absl::OkStatus();
}

absl::StatusOr<ReadSummary> RecordReader::Impl::Read(internal::ByteSource& source,
                                                     std::string source_name,
                                                     InputFormat format,
                                                     RecordCallback on_record,
                                                     ErrorCallback on_error) {
  if (format != InputFormat::kAuto && format != InputFormat::kNdjson &&
      format != InputFormat::kJsonArray && format != InputFormat::kCsv) {
    return absl::InvalidArgumentError("unknown input format");
  }
  Run state{std::move(source_name), on_record, on_error, ReadSummary{}};
  run = &state;
  absl::Cleanup forget_run = [this] { run = nullptr; };
  buffer.Reset(source);

  // A byte order mark is skipped, wherever the first reads split it.
  bool more = true;
  while (more && buffer.size() < 3) {
    ASSIGN_OR_RETURN(more, buffer.Fill());
  }
  if (buffer.size() >= 3 && std::memcmp(buffer.data(), kBom, 3) == 0) buffer.Discard(3);

  // Find the first byte that is not whitespace, dropping blank lines.
  int64_t line = 1;
  size_t pos = 0;
  size_t line_begin = 0;
  while (true) {
    while (pos < buffer.size() && IsSpace(buffer.data()[pos])) {
      if (buffer.data()[pos] == '\n') {
        ++line;
        line_begin = pos + 1;
      }
      ++pos;
    }
    if (pos < buffer.size()) break;
    buffer.Discard(line_begin);
    pos -= line_begin;
    line_begin = 0;
    // Leading spaces of the first line are kept for CSV (they belong to the
    // first column's name), up to the record limit.
    if (pos > limits.max_record_bytes) {
      buffer.Discard(pos);
      pos = 0;
    }
    ASSIGN_OR_RETURN(more, buffer.Fill());
    if (!more) return Fatal("input is empty");
  }

  if (format == InputFormat::kAuto) {
    const char first = buffer.data()[pos];
    format = first == '['   ? InputFormat::kJsonArray
             : first == '{' ? InputFormat::kNdjson
                            : InputFormat::kCsv;
  }
  state.summary.format = format;
  if (format == InputFormat::kCsv) {
    buffer.Discard(line_begin);
    RETURN_IF_ERROR(ReadCsv(line));
  } else {
    buffer.Discard(pos);
    RETURN_IF_ERROR(ReadJson(format, line));
  }
  return state.summary;
}

absl::StatusOr<std::unique_ptr<RecordReader>> RecordReader::Create(
    const ReaderLimits& limits) {
  if (limits.max_record_bytes == 0 || limits.max_record_bytes > kMaxLimitBytes) {
    return absl::InvalidArgumentError("max_record_bytes must be between 1 and 1 GiB");
  }
  if (limits.chunk_bytes == 0 || limits.chunk_bytes > kMaxLimitBytes) {
    return absl::InvalidArgumentError("chunk_bytes must be between 1 and 1 GiB");
  }
  if (limits.max_fields == 0 || limits.max_fields > kMaxFieldsLimit) {
    return absl::InvalidArgumentError("max_fields must be between 1 and 65536");
  }
  return std::unique_ptr<RecordReader>(new RecordReader(std::make_unique<Impl>(limits)));
}

RecordReader::RecordReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RecordReader::~RecordReader() = default;

absl::StatusOr<ReadSummary> RecordReader::ReadBuffer(absl::string_view input,
                                                     InputFormat format,
                                                     RecordCallback on_record,
                                                     ErrorCallback on_error) {
  internal::MemorySource source(input);
  return impl_->Read(source, "", format, on_record, on_error);
}

absl::StatusOr<ReadSummary> RecordReader::ReadFile(const std::string& path,
                                                   InputFormat format,
                                                   RecordCallback on_record,
                                                   ErrorCallback on_error) {
  if (format == InputFormat::kAuto) format = FormatFromPath(path);
  ASSIGN_OR_RETURN(std::unique_ptr<internal::FileSource> source,
                   internal::FileSource::Open(path));
  return impl_->Read(*source, path, format, on_record, on_error);
}

}  // namespace privacity::ingest
