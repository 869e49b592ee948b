#include "anon/csv.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace privacity::anon {
namespace {

constexpr absl::string_view kBom = "\xEF\xBB\xBF";

absl::string_view StripBom(absl::string_view text) {
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  return text;
}

bool NeedsQuotes(absl::string_view field, char delimiter) {
  for (char c : field) {
    if (c == delimiter || c == '"' || c == '\r' || c == '\n') return true;
  }
  return false;
}

}  // namespace

char DetectDelimiter(absl::string_view text) {
  text = StripBom(text);
  bool quoted = false;
  bool comma = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n') break;
    if (c == ';') return ';';
    if (c == ',') comma = true;
  }
  return comma ? ',' : ';';
}

absl::StatusOr<CsvRecords> ParseCsvRecords(absl::string_view text, char delimiter,
                                           absl::string_view source) {
  text = StripBom(text);
  CsvRecords out;
  out.delimiter = delimiter;
  const size_t n = text.size();
  size_t pos = 0;
  int line = 1;
  bool first_terminator = true;
  // Consumes a line terminator at `pos` if there is one.
  auto at_line_end = [&](size_t p) {
    return p >= n || text[p] == '\n' ||
           (text[p] == '\r' && (p + 1 >= n || text[p + 1] == '\n'));
  };
  auto consume_line_end = [&] {
    if (pos >= n) return;
    const bool crlf = text[pos] == '\r';
    pos += crlf ? 1 : 0;
    if (pos < n && text[pos] == '\n') ++pos;
    if (first_terminator) {
      out.crlf = crlf;
      first_terminator = false;
    }
    ++line;
  };
  while (pos < n) {
    if (at_line_end(pos)) {  // an empty line
      consume_line_end();
      continue;
    }
    const int record_line = line;
    while (true) {
      std::string field;
      if (pos < n && text[pos] == '"') {
        ++pos;
        while (true) {
          if (pos >= n) {
            return absl::InvalidArgumentError(
                absl::StrCat(source, ":", record_line, ": unterminated quoted field"));
          }
          const char c = text[pos];
          if (c == '"') {
            if (pos + 1 < n && text[pos + 1] == '"') {
              field.push_back('"');
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
          ++pos;
        }
        if (pos < n && text[pos] != delimiter && !at_line_end(pos)) {
          return absl::InvalidArgumentError(absl::StrCat(
              source, ":", line, ": unexpected character after a closing quote"));
        }
      } else {
        const size_t begin = pos;
        while (pos < n && text[pos] != delimiter && !at_line_end(pos)) ++pos;
        field.assign(text.data() + begin, pos - begin);
      }
      out.fields.push_back(std::move(field));
      if (pos < n && text[pos] == delimiter) {
        ++pos;
        continue;
      }
      consume_line_end();
      break;
    }
    out.start.push_back(out.fields.size());
    out.line.push_back(record_line);
  }
  return out;
}

std::optional<size_t> CsvTable::ColumnIndex(absl::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  return std::nullopt;
}

absl::StatusOr<CsvTable> ParseCsvTable(absl::string_view text, absl::string_view source) {
  ASSIGN_OR_RETURN(CsvRecords records,
                   ParseCsvRecords(text, DetectDelimiter(text), source));
  if (records.size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(source, ":1: the file is empty"));
  }
  CsvTable table;
  table.source = std::string(source);
  table.delimiter = records.delimiter;
  table.crlf = records.crlf;
  const size_t width = records.width(0);
  absl::flat_hash_map<absl::string_view, size_t> seen;
  for (size_t i = 0; i < width; ++i) {
    const std::string& name = records.field(0, i);
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ":", records.line[0], ": header column ", i + 1, " has no name"));
    }
    if (!seen.emplace(name, i).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ":", records.line[0], ": header names column '", name, "' twice"));
    }
    table.header.push_back(name);
  }
  for (size_t r = 1; r < records.size(); ++r) {
    if (records.width(r) != width) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", records.line[r], ": expected ", width,
                       " fields as in the header, found ", records.width(r)));
    }
  }
  // Reuse the parsed fields (without the header) as the cells.
  table.cells = std::move(records.fields);
  table.cells.erase(table.cells.begin(),
                    table.cells.begin() + static_cast<ptrdiff_t>(width));
  table.lines.assign(records.line.begin() + 1, records.line.end());
  return table;
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open for reading: ", std::strerror(errno)));
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  std::string out;
  if (size < 0) {  // not seekable (a pipe): read as a stream
    in.clear();
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
    return out;
  }
  in.seekg(0, std::ios::beg);
  if (size > 0) {
    out.resize(static_cast<size_t>(size));
    in.read(out.data(), size);
  }
  if (in.bad() || (size > 0 && in.gcount() != size)) {
    return absl::DataLossError(absl::StrCat(path, ": read failed"));
  }
  return out;
}

absl::StatusOr<CsvTable> ReadCsvTable(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseCsvTable(text, path);
}

std::string FormatCsvTable(const CsvTable& table) {
  std::string out;
  const absl::string_view eol = table.crlf ? "\r\n" : "\n";
  auto append_row = [&](auto get, size_t width) {
    for (size_t i = 0; i < width; ++i) {
      if (i > 0) out.push_back(table.delimiter);
      const std::string& field = get(i);
      if (NeedsQuotes(field, table.delimiter)) {
        out.push_back('"');
        for (char c : field) {
          if (c == '"') out.push_back('"');
          out.push_back(c);
        }
        out.push_back('"');
      } else {
        out.append(field);
      }
    }
    out.append(eol.data(), eol.size());
  };
  const size_t width = table.num_columns();
  append_row([&](size_t i) -> const std::string& { return table.header[i]; }, width);
  for (size_t r = 0; r < table.num_rows(); ++r) {
    append_row([&](size_t i) -> const std::string& { return table.cell(r, i); }, width);
  }
  return out;
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return absl::PermissionDeniedError(
          absl::StrCat(path, ": cannot open for writing: ", std::strerror(errno)));
    }
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) {
      std::remove(temp.c_str());
      return absl::DataLossError(absl::StrCat(path, ": write failed"));
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(temp.c_str());
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": cannot replace: ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace privacity::anon
