#include "ingest/internal/scanners.h"

#include <cstring>

namespace privacity::ingest::internal {
namespace {

using Kind = ScanEvent::Kind;

ScanEvent Event(Kind kind, size_t offset = 0, int64_t line = 0,
                const char* message = nullptr) {
  return ScanEvent{kind, offset, line, message};
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

constexpr char kMissingBracket[] = "unterminated JSON array: missing ']'";

}  // namespace

ScanEvent NdjsonScanner::Next(const char* data, size_t size, size_t& pos) {
  if (!in_line_) {
    if (pos >= size) return Event(Kind::kNeedMore);
    in_line_ = true;
    return Event(Kind::kRecordStart, pos, line_);
  }
  const void* newline = std::memchr(data + pos, '\n', size - pos);
  if (newline == nullptr) {
    pos = size;
    return Event(Kind::kNeedMore);
  }
  const size_t end = static_cast<const char*>(newline) - data;
  pos = end + 1;
  in_line_ = false;
  ++line_;
  return Event(Kind::kRecordEnd, end);
}

ScanEvent NdjsonScanner::Finish(const char*, size_t size, size_t& pos) {
  pos = size;
  if (!in_line_) return Event(Kind::kDone);
  in_line_ = false;
  return Event(Kind::kRecordEnd, size);
}

ScanEvent JsonArrayScanner::Next(const char* data, size_t size, size_t& pos) {
  while (pos < size) {
    const char c = data[pos];
    switch (state_) {
      case State::kOpen:
        if (IsJsonSpace(c)) {
          if (c == '\n') ++line_;
          ++pos;
          continue;
        }
        state_ = State::kDone;
        if (c != '[') {
          return Event(Kind::kFatal, pos, line_,
                       "input is not a JSON array: expected '['");
        }
        state_ = State::kFirst;
        ++pos;
        continue;
      case State::kFirst:
      case State::kNext:
        if (IsJsonSpace(c)) {
          if (c == '\n') ++line_;
          ++pos;
          continue;
        }
        if (c == ']') {
          ++pos;
          const bool trailing_comma = state_ == State::kNext;
          state_ = State::kAfter;
          if (trailing_comma) {
            return Event(Kind::kError, pos, line_, "trailing comma before ']'");
          }
          continue;
        }
        if (c == ',') {
          ++pos;
          state_ = State::kNext;
          return Event(Kind::kError, pos, line_, "empty array element");
        }
        state_ = State::kElement;
        depth_ = 0;
        in_string_ = false;
        escape_ = false;
        return Event(Kind::kRecordStart, pos, line_);
      case State::kElement:
        for (; pos < size; ++pos) {
          const char ch = data[pos];
          if (in_string_) {
            if (escape_) {
              escape_ = false;
            } else if (ch == '\\') {
              escape_ = true;
            } else if (ch == '"') {
              in_string_ = false;
            } else if (ch == '\n') {
              ++line_;
            }
            continue;
          }
          switch (ch) {
            case '"':
              in_string_ = true;
              break;
            case '{':
            case '[':
              ++depth_;
              break;
            case '}':
              // An unmatched '}' leaves depth at 0; the parser rejects it.
              if (depth_ > 0) --depth_;
              break;
            case ']':
              if (depth_ == 0) {
                state_ = State::kAfter;
                return Event(Kind::kRecordEnd, pos++);
              }
              --depth_;
              break;
            case ',':
              if (depth_ == 0) {
                state_ = State::kNext;
                return Event(Kind::kRecordEnd, pos++);
              }
              break;
            case '\n':
              ++line_;
              break;
            default:
              break;
          }
        }
        return Event(Kind::kNeedMore);
      case State::kAfter:
        if (IsJsonSpace(c)) {
          if (c == '\n') ++line_;
          ++pos;
          continue;
        }
        state_ = State::kDone;
        return Event(Kind::kError, pos, line_,
                     "unexpected content after the end of the JSON array");
      case State::kUnterminated:
      case State::kDone:
        return Event(Kind::kDone);
    }
  }
  if (state_ == State::kDone) return Event(Kind::kDone);
  return Event(Kind::kNeedMore);
}

ScanEvent JsonArrayScanner::Finish(const char*, size_t size, size_t& pos) {
  pos = size;
  switch (state_) {
    case State::kOpen:
      state_ = State::kDone;
      return Event(Kind::kFatal, size, line_, "input is not a JSON array: expected '['");
    case State::kFirst:
    case State::kNext:
    case State::kUnterminated:
      state_ = State::kDone;
      return Event(Kind::kError, size, line_, kMissingBracket);
    case State::kElement:
      // The element is handed over as it is; the missing ']' is reported
      // on the next call.
      state_ = State::kUnterminated;
      return Event(Kind::kRecordEnd, size);
    case State::kAfter:
    case State::kDone:
      break;
  }
  return Event(Kind::kDone);
}

ScanEvent CsvScanner::StartRecord(size_t pos) {
  record_start_ = static_cast<int64_t>(pos);
  fields_.clear();
  field_count_ = 0;
  problem_ = Problem::kNone;
  problem_column_ = 0;
  field_begin_ = 0;
  escaped_ = false;
  state_ = header_mode_ ? State::kHeaderOutside : State::kFieldStart;
  return Event(Kind::kRecordStart, pos, line_);
}

void CsvScanner::EndField(int64_t end_relative) {
  if (field_count_ <= max_fields_) {
    fields_.push_back(Field{field_begin_, end_relative, escaped_});
  }
  ++field_count_;
  escaped_ = false;
}

void CsvScanner::EndUnquotedField(const char* data, size_t end) {
  int64_t end_relative = static_cast<int64_t>(end) - record_start_;
  // The CR of a CRLF belongs to the line break, not to the field. Bytes of a
  // record that was discarded while skipping are not looked at.
  if (end_relative > field_begin_ && record_start_ + field_begin_ >= 0 &&
      data[end - 1] == '\r') {
    --end_relative;
  }
  EndField(end_relative);
}

void CsvScanner::SetProblem(Problem problem) {
  if (problem_ != Problem::kNone) return;
  problem_ = problem;
  problem_column_ = field_count_ + 1;
}

ScanEvent CsvScanner::EndRecord(size_t offset) {
  state_ = State::kBetween;
  return Event(Kind::kRecordEnd, offset);
}

ScanEvent CsvScanner::Next(const char* data, size_t size, size_t& pos) {
  if (state_ == State::kBetween) {
    if (pos >= size) return Event(Kind::kNeedMore);
    return StartRecord(pos);
  }
  const char delimiter = delimiter_;
  while (pos < size) {
    switch (state_) {
      case State::kBetween:
        return StartRecord(pos);
      case State::kHeaderOutside:
        for (; pos < size; ++pos) {
          const char c = data[pos];
          if (c == '\n') {
            ++line_;
            return EndRecord(pos++);
          }
          if (c == '"') {
            state_ = State::kHeaderQuoted;
            ++pos;
            break;
          }
          if (c == ',') ++commas_;
          if (c == ';') ++semicolons_;
        }
        break;
      case State::kHeaderQuoted:
        for (; pos < size; ++pos) {
          const char c = data[pos];
          if (c == '\n') ++line_;
          if (c == '"') {
            state_ = State::kHeaderOutside;
            ++pos;
            break;
          }
        }
        break;
      case State::kFieldStart:
        if (data[pos] == '"') {
          field_begin_ = static_cast<int64_t>(pos) + 1 - record_start_;
          state_ = State::kQuoted;
          ++pos;
          break;
        }
        field_begin_ = static_cast<int64_t>(pos) - record_start_;
        state_ = State::kUnquoted;
        [[fallthrough]];
      case State::kUnquoted:
        for (; pos < size; ++pos) {
          const char c = data[pos];
          if (c == delimiter) {
            EndUnquotedField(data, pos);
            state_ = State::kFieldStart;
            ++pos;
            break;
          }
          if (c == '\n') {
            EndUnquotedField(data, pos);
            ++line_;
            return EndRecord(pos++);
          }
          if (c == '"') SetProblem(Problem::kBareQuote);
        }
        break;
      case State::kQuoted:
        for (; pos < size; ++pos) {
          const char c = data[pos];
          if (c == '"') {
            quote_end_ = static_cast<int64_t>(pos) - record_start_;
            state_ = State::kQuoteInQuoted;
            ++pos;
            break;
          }
          if (c == '\n') ++line_;
        }
        break;
      case State::kQuoteInQuoted: {
        const char c = data[pos];
        if (c == '"') {  // "" stands for one quote
          escaped_ = true;
          state_ = State::kQuoted;
          ++pos;
        } else if (c == delimiter) {
          EndField(quote_end_);
          state_ = State::kFieldStart;
          ++pos;
        } else if (c == '\n') {
          EndField(quote_end_);
          ++line_;
          return EndRecord(pos++);
        } else if (c == '\r') {
          state_ = State::kCrAfterQuote;
          ++pos;
        } else {
          SetProblem(Problem::kAfterClosingQuote);
          state_ = State::kUnquoted;
        }
        break;
      }
      case State::kCrAfterQuote:
        if (data[pos] == '\n') {
          EndField(quote_end_);
          ++line_;
          return EndRecord(pos++);
        }
        SetProblem(Problem::kAfterClosingQuote);
        state_ = State::kUnquoted;
        break;
    }
  }
  return Event(Kind::kNeedMore);
}

ScanEvent CsvScanner::Finish(const char* data, size_t size, size_t& pos) {
  pos = size;
  switch (state_) {
    case State::kBetween:
      return Event(Kind::kDone);
    case State::kHeaderOutside:
    case State::kHeaderQuoted:
      break;
    case State::kFieldStart:
      field_begin_ = static_cast<int64_t>(size) - record_start_;
      EndField(field_begin_);
      break;
    case State::kUnquoted:
      EndUnquotedField(data, size);
      break;
    case State::kQuoted:
      SetProblem(Problem::kUnterminatedQuote);
      EndField(static_cast<int64_t>(size) - record_start_);
      break;
    case State::kQuoteInQuoted:
    case State::kCrAfterQuote:
      EndField(quote_end_);
      break;
  }
  return EndRecord(size);
}

}  // namespace privacity::ingest::internal
