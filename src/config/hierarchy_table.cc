#include "config/hierarchy_table.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace privacity::config {

std::map<std::string, std::string> HierarchyTable::AtLevel(int level) const {
  std::map<std::string, std::string> out;
  for (const auto& row : rows) out.emplace(row[0], row[static_cast<size_t>(level)]);
  return out;
}

absl::StatusOr<HierarchyTable> ParseHierarchyTable(std::string_view input) {
  absl::string_view text(input.data(), input.size());
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  HierarchyTable table;
  absl::flat_hash_map<absl::string_view, int> first_row;  // raw value -> row
  size_t min_columns = 0;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::ConsumeSuffix(&line, "\r");
    if (line.empty()) continue;
    std::vector<std::string> row = absl::StrSplit(line, ';');
    const auto [it, inserted] =
        first_row.emplace(line.substr(0, line.find(';')), line_number);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          "row ", line_number, " repeats the raw value of row ", it->second));
    }
    min_columns = table.rows.empty() ? row.size() : std::min(min_columns, row.size());
    table.rows.push_back(std::move(row));
  }
  if (table.rows.empty()) {
    return absl::InvalidArgumentError("the table has no rows");
  }
  table.depth = static_cast<int>(min_columns) - 1;
  return table;
}

absl::StatusOr<HierarchyTable> ReadHierarchyTable(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return absl::NotFoundError("the file does not exist or cannot be reached");
  }
  if (!std::filesystem::is_regular_file(status)) {
    return absl::InvalidArgumentError("not a regular file");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return absl::InvalidArgumentError("cannot determine the file's size");
  if (size > kMaxHierarchyTableBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("larger than ", kMaxHierarchyTableBytes >> 20, " MiB"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::PermissionDeniedError("the file cannot be opened");
  std::string text;
  text.reserve(static_cast<size_t>(size));
  // Bounded read: the file may grow between the size check and the read.
  char buffer[8192];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxHierarchyTableBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("larger than ", kMaxHierarchyTableBytes >> 20, " MiB"));
    }
  }
  if (in.bad()) return absl::DataLossError("reading the file failed");
  return ParseHierarchyTable(text);
}

}  // namespace privacity::config
