#include "anon/hierarchy.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/status_macros.h"

namespace privacity::anon {

absl::StatusOr<std::unique_ptr<Hierarchy>> Hierarchy::FromCsv(absl::string_view text,
                                                              absl::string_view source) {
  ASSIGN_OR_RETURN(CsvRecords records,
                   ParseCsvRecords(text, DetectDelimiter(text), source));
  std::vector<std::vector<std::string>> rows(records.size());
  for (size_t r = 0; r < records.size(); ++r) {
    rows[r].reserve(records.width(r));
    for (size_t i = 0; i < records.width(r); ++i) {
      rows[r].push_back(std::move(records.fields[records.start[r] + i]));
    }
  }
  return Build(rows, records.line, source);
}

absl::StatusOr<std::unique_ptr<Hierarchy>> Hierarchy::FromCsvFile(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return FromCsv(text, path);
}

absl::StatusOr<std::unique_ptr<Hierarchy>> Hierarchy::FromRows(
    const std::vector<std::vector<std::string>>& rows, absl::string_view source) {
  std::vector<int> lines(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) lines[i] = static_cast<int>(i) + 1;
  return Build(rows, lines, source);
}

absl::StatusOr<std::unique_ptr<Hierarchy>> Hierarchy::Build(
    const std::vector<std::vector<std::string>>& rows, const std::vector<int>& lines,
    absl::string_view source) {
  if (rows.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ":1: the hierarchy is empty"));
  }
  if (rows.size() >= (uint64_t{1} << 31)) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": too many rows"));
  }
  auto h = std::unique_ptr<Hierarchy>(new Hierarchy());
  h->source_ = std::string(source);
  h->depth_ = static_cast<int>(rows[0].size());
  h->lines_ = lines;
  const int depth = h->depth_;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (static_cast<int>(rows[r].size()) != depth) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", lines[r], ": row has ",
                                                     rows[r].size(), " levels, expected ",
                                                     depth, " as on line ", lines[0]));
    }
  }
  h->codes_.assign(depth, std::vector<uint32_t>(rows.size()));
  h->labels_.resize(depth);
  h->leaves_.resize(depth);
  for (int level = 0; level < depth; ++level) {
    absl::flat_hash_map<absl::string_view, uint32_t> index;
    std::vector<uint32_t> first_row;
    for (size_t r = 0; r < rows.size(); ++r) {
      const std::string& label = rows[r][level];
      auto [it, inserted] =
          index.emplace(label, static_cast<uint32_t>(h->labels_[level].size()));
      if (inserted) {
        h->labels_[level].push_back(label);
        h->leaves_[level].push_back(0);
        first_row.push_back(static_cast<uint32_t>(r));
      } else if (level == 0) {
        return absl::InvalidArgumentError(absl::StrCat(source, ":", lines[r],
                                                       ": raw value repeats line ",
                                                       lines[first_row[it->second]]));
      }
      h->codes_[level][r] = it->second;
      ++h->leaves_[level][it->second];
    }
  }
  // Each level must refine the next one.
  for (int level = 1; level + 1 < depth; ++level) {
    std::vector<int64_t> parent(h->labels_[level].size(), -1);
    std::vector<uint32_t> first(h->labels_[level].size(), 0);
    for (size_t r = 0; r < rows.size(); ++r) {
      const uint32_t c = h->codes_[level][r];
      const uint32_t p = h->codes_[level + 1][r];
      if (parent[c] < 0) {
        parent[c] = p;
        first[c] = static_cast<uint32_t>(r);
      } else if (parent[c] != p) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ":", lines[r], ": the value at level ", level,
                         " also appears on line ", lines[first[c]],
                         " but is generalised differently at level ", level + 1));
      }
    }
  }
  h->raw_.reserve(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    h->raw_.emplace(rows[r][0], static_cast<uint32_t>(r));
  }
  return h;
}

std::optional<uint32_t> Hierarchy::Find(absl::string_view raw) const {
  auto it = raw_.find(raw);
  if (it == raw_.end()) return std::nullopt;
  return it->second;
}

namespace {

absl::StatusOr<size_t> ColumnOf(const CsvTable& table, absl::string_view column) {
  std::optional<size_t> index = table.ColumnIndex(column);
  if (!index.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(table.source, ":1: no column named '", column, "' in the header"));
  }
  return *index;
}

// Distinct values of a column in order of first appearance, with the line
// of that appearance.
std::vector<std::pair<std::string, int>> DistinctValues(const CsvTable& table,
                                                        size_t column) {
  std::vector<std::pair<std::string, int>> out;
  absl::flat_hash_map<absl::string_view, bool> seen;
  for (size_t r = 0; r < table.num_rows(); ++r) {
    const std::string& v = table.cell(r, column);
    if (seen.emplace(v, true).second) out.emplace_back(v, table.lines[r]);
  }
  return out;
}

std::string GeneratedSource(const CsvTable& table, absl::string_view column) {
  return absl::StrCat(table.source, " (generated hierarchy for column '", column, "')");
}

std::string FormatNumber(double v) { return absl::StrFormat("%.15g", v); }

}  // namespace

absl::StatusOr<std::unique_ptr<Hierarchy>> GenerateIntervalHierarchy(
    const CsvTable& table, absl::string_view column, const IntervalOptions& options) {
  if (!(options.width > 0) || !std::isfinite(options.width)) {
    return absl::InvalidArgumentError("interval width must be a positive number");
  }
  if (options.factor < 2) {
    return absl::InvalidArgumentError("interval factor must be at least 2");
  }
  if (options.origin.has_value() && !std::isfinite(*options.origin)) {
    return absl::InvalidArgumentError("interval origin must be a finite number");
  }
  ASSIGN_OR_RETURN(size_t index, ColumnOf(table, column));
  const auto distinct = DistinctValues(table, index);
  if (distinct.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(table.source, ": column '", column, "' has no values"));
  }
  std::vector<double> numbers;
  bool integers = std::floor(options.width) == options.width;
  for (const auto& [text, line] : distinct) {
    double v;
    if (!absl::SimpleAtod(text, &v) || !std::isfinite(v)) {
      return absl::InvalidArgumentError(
          absl::StrCat(table.source, ":", line, ": column '", column,
                       "' holds a value that is not a number"));
    }
    int64_t i;
    if (!absl::SimpleAtoi(text, &i)) integers = false;
    numbers.push_back(v);
  }
  const double lo = *std::min_element(numbers.begin(), numbers.end());
  const double origin =
      options.origin.value_or(std::floor(lo / options.width) * options.width);
  if (integers && std::floor(origin) != origin) integers = false;

  std::vector<std::vector<std::string>> rows(distinct.size());
  for (size_t i = 0; i < distinct.size(); ++i) rows[i].push_back(distinct[i].first);
  double width = options.width;
  for (int level = 1; level < 64; ++level, width *= options.factor) {
    std::set<double> buckets;
    std::vector<double> bucket(numbers.size());
    for (size_t i = 0; i < numbers.size(); ++i) {
      bucket[i] = std::floor((numbers[i] - origin) / width);
      buckets.insert(bucket[i]);
    }
    if (buckets.size() <= 1) break;
    for (size_t i = 0; i < numbers.size(); ++i) {
      const double start = origin + bucket[i] * width;
      if (integers) {
        rows[i].push_back(
            absl::StrCat(FormatNumber(start), "-", FormatNumber(start + width - 1)));
      } else {
        rows[i].push_back(absl::StrCat("[", FormatNumber(start), ", ",
                                       FormatNumber(start + width), ")"));
      }
    }
  }
  for (auto& row : rows) row.push_back("*");
  return Hierarchy::FromRows(rows, GeneratedSource(table, column));
}

absl::StatusOr<std::unique_ptr<Hierarchy>> GenerateDateHierarchy(
    const CsvTable& table, absl::string_view column) {
  ASSIGN_OR_RETURN(size_t index, ColumnOf(table, column));
  const auto distinct = DistinctValues(table, index);
  if (distinct.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(table.source, ": column '", column, "' has no values"));
  }
  bool any_time = false;
  for (const auto& [text, line] : distinct) {
    auto bad = [&, line = line] {
      return absl::InvalidArgumentError(
          absl::StrCat(table.source, ":", line, ": column '", column,
                       "' holds a value that is not a date YYYY-MM-DD"));
    };
    if (text.size() < 10) return bad();
    const absl::string_view day_text = absl::string_view(text).substr(0, 10);
    absl::CivilDay day;
    if (day_text[4] != '-' || day_text[7] != '-' ||
        !absl::ParseCivilTime(day_text, &day) || absl::FormatCivilTime(day) != day_text) {
      return bad();
    }
    if (text.size() > 10) {
      const absl::string_view rest = absl::string_view(text).substr(10);
      if ((rest[0] != 'T' && rest[0] != ' ') || rest.size() < 6 ||
          !absl::ascii_isdigit(rest[1]) || !absl::ascii_isdigit(rest[2]) ||
          rest[3] != ':' || !absl::ascii_isdigit(rest[4]) ||
          !absl::ascii_isdigit(rest[5])) {
        return bad();
      }
      any_time = true;
    }
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(distinct.size());
  for (const auto& [text, line] : distinct) {
    std::vector<std::string> row = {text};
    if (any_time) row.push_back(text.substr(0, 10));
    row.push_back(text.substr(0, 7));
    row.push_back(text.substr(0, 4));
    row.push_back("*");
    rows.push_back(std::move(row));
  }
  return Hierarchy::FromRows(rows, GeneratedSource(table, column));
}

}  // namespace privacity::anon
