// Delimited text tables as ARX and spreadsheets write them: ';' or ','
// separated, CRLF or LF line endings, optional RFC 4180 double quotes.
// Used for microdata, population tables and generalisation hierarchies.
#ifndef PRIVACITY_ANON_CSV_H_
#define PRIVACITY_ANON_CSV_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace privacity::anon {

// Records of a delimited file, fields stored flat. Record `r` holds
// fields[start[r] .. start[r + 1]). Lines that are completely empty are
// skipped; `line[r]` is the 1-based physical line where record r starts.
struct CsvRecords {
  char delimiter = ';';
  bool crlf = false;  // whether the first line ended in "\r\n"
  std::vector<std::string> fields;
  std::vector<size_t> start = {0};
  std::vector<int> line;

  size_t size() const { return line.size(); }
  size_t width(size_t r) const { return start[r + 1] - start[r]; }
  const std::string& field(size_t r, size_t i) const { return fields[start[r] + i]; }
};

// The delimiter of `text`: ';' if its first line holds a ';' outside
// quotes, else ',' if it holds a ',', else ';'.
char DetectDelimiter(absl::string_view text);

// Splits `text` into records. `source` names the text in errors
// ("adult.csv:12: unterminated quoted field"). A leading UTF-8 byte order
// mark is ignored.
absl::StatusOr<CsvRecords> ParseCsvRecords(absl::string_view text, char delimiter,
                                           absl::string_view source);

// A rectangular table with a header row.
struct CsvTable {
  std::string source;  // file name used in error messages
  char delimiter = ';';
  bool crlf = false;
  std::vector<std::string> header;
  std::vector<std::string> cells;  // row-major, header.size() per row
  std::vector<int> lines;          // 1-based line of each row

  size_t num_columns() const { return header.size(); }
  size_t num_rows() const { return lines.size(); }
  const std::string& cell(size_t row, size_t column) const {
    return cells[row * header.size() + column];
  }
  std::optional<size_t> ColumnIndex(absl::string_view name) const;
};

// Parses a table whose first record is the header. The delimiter is
// detected. Every row must have as many fields as the header; duplicate or
// missing header names are errors.
absl::StatusOr<CsvTable> ParseCsvTable(absl::string_view text, absl::string_view source);

// Reads a whole file. Errors name `path`.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);
absl::StatusOr<CsvTable> ReadCsvTable(const std::string& path);

// Writes `table` with its own delimiter and line ending, quoting fields that
// hold the delimiter, a quote, CR or LF.
std::string FormatCsvTable(const CsvTable& table);

// Writes `contents` to `path` through a temporary file in the same
// directory and a rename, so readers never see half a file.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

}  // namespace privacity::anon

#endif  // PRIVACITY_ANON_CSV_H_
