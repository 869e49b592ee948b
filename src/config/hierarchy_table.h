// Generalisation hierarchy tables for the `map` transform, in ARX's
// hierarchy CSV format: one row per raw value, ';'-separated, the raw value
// first and ever more general values to the right ("34;30-39;30-49;*").
// Used by the loader; error messages name the file and row, never a value.
#ifndef PRIVACITY_CONFIG_HIERARCHY_TABLE_H_
#define PRIVACITY_CONFIG_HIERARCHY_TABLE_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace privacity::config {

struct HierarchyTable {
  std::vector<std::vector<std::string>> rows;
  // Generalisation levels every row has: columns of the shortest row - 1.
  int depth = 0;

  // raw value -> the value at column `level`.
  // REQUIRES: 1 <= level <= depth.
  std::map<std::string, std::string> AtLevel(int level) const;
};

// Larger tables are refused (a hierarchy is a lookup table, not a data set).
inline constexpr size_t kMaxHierarchyTableBytes = 16 << 20;

// Parses table text. Accepts LF or CRLF line endings and a UTF-8 byte order
// mark; skips blank lines. Fails on an empty table or a repeated raw value.
absl::StatusOr<HierarchyTable> ParseHierarchyTable(std::string_view text);

// Reads and parses the regular file at `path` (at most
// kMaxHierarchyTableBytes).
absl::StatusOr<HierarchyTable> ReadHierarchyTable(const std::string& path);

}  // namespace privacity::config

#endif  // PRIVACITY_CONFIG_HIERARCHY_TABLE_H_
