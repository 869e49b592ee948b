// Generalisation hierarchies for quasi-identifiers.
//
// A hierarchy lists every raw value of a column with its generalisations,
// from the raw value (level 0) to the most general (level depth()-1), in
// ARX's CSV format: one row per raw value, ';' (or ',') separated, no
// header, e.g.
//
//   39;35-39;30-39;20-39;*
//
// Every row has the same number of levels, raw values are unique, and each
// level refines the next: two rows that agree at level l agree at every
// level above l (otherwise generalising further would split a group and
// the search could not rely on monotonicity).
#ifndef PRIVACITY_ANON_HIERARCHY_H_
#define PRIVACITY_ANON_HIERARCHY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "anon/csv.h"

namespace privacity::anon {

class Hierarchy {
 public:
  // Parses ARX's CSV format. `source` names the text in errors, which give
  // the line: an empty file, rows of different depths, a repeated raw
  // value, or a level that does not refine the next.
  static absl::StatusOr<std::unique_ptr<Hierarchy>> FromCsv(absl::string_view text,
                                                            absl::string_view source);
  static absl::StatusOr<std::unique_ptr<Hierarchy>> FromCsvFile(const std::string& path);

  // Builds from rows (raw value first, most general last). Row i is reported
  // as line i + 1 of `source`.
  static absl::StatusOr<std::unique_ptr<Hierarchy>> FromRows(
      const std::vector<std::vector<std::string>>& rows, absl::string_view source);

  Hierarchy(const Hierarchy&) = delete;
  Hierarchy& operator=(const Hierarchy&) = delete;

  const std::string& source() const { return source_; }
  // Number of levels, raw included (at least 1).
  int depth() const { return depth_; }
  // Number of raw values (rows).
  int size() const { return static_cast<int>(codes_[0].size()); }

  // The row of `raw`, or nullopt when the hierarchy lacks it.
  std::optional<uint32_t> Find(absl::string_view raw) const;
  // The 1-based line of the row in the source.
  int line(uint32_t row) const { return lines_[row]; }

  // Values at `level` are numbered 0..cardinality(level)-1 in order of first
  // appearance. REQUIRES: 0 <= level < depth(), row < size().
  uint32_t code(uint32_t row, int level) const { return codes_[level][row]; }
  const std::vector<uint32_t>& codes(int level) const { return codes_[level]; }
  uint32_t cardinality(int level) const {
    return static_cast<uint32_t>(labels_[level].size());
  }
  const std::string& label(int level, uint32_t code) const {
    return labels_[level][code];
  }
  // Number of raw values under `code` at `level`.
  uint32_t leaves(int level, uint32_t code) const { return leaves_[level][code]; }

 private:
  Hierarchy() = default;
  static absl::StatusOr<std::unique_ptr<Hierarchy>> Build(
      const std::vector<std::vector<std::string>>& rows, const std::vector<int>& lines,
      absl::string_view source);

  std::string source_;
  int depth_ = 0;
  std::vector<int> lines_;
  std::vector<std::vector<uint32_t>> codes_;        // [level][row]
  std::vector<std::vector<std::string>> labels_;    // [level][code]
  std::vector<std::vector<uint32_t>> leaves_;       // [level][code]
  absl::flat_hash_map<std::string, uint32_t> raw_;  // raw value -> row
};

// Intervals of growing width for numeric columns: level 1 groups values
// into intervals of `width` aligned at `origin` (default: the largest
// multiple of `width` not above the smallest value), each further level
// multiplies the width by `factor`, and the last level is "*" (put in as
// soon as one interval would hold every value). Integer data with integer
// widths gets inclusive labels "15-19"; other data half-open ones
// "[1.5, 2)".
struct IntervalOptions {
  double width = 5;
  int factor = 2;
  std::optional<double> origin;
};

// Generates an interval hierarchy for the distinct values of `column` in
// `table`. Errors name the table and the line of a value that is not a
// finite number, and reject a width <= 0 or a factor < 2.
absl::StatusOr<std::unique_ptr<Hierarchy>> GenerateIntervalHierarchy(
    const CsvTable& table, absl::string_view column, const IntervalOptions& options);

// Generates a date hierarchy for `column`: values "YYYY-MM-DD", optionally
// followed by 'T' or ' ' and a time of day. Levels: raw, day (only when some
// value carries a time), month "YYYY-MM", year "YYYY", "*". Errors name
// the table and the line of a value that is not such a date.
absl::StatusOr<std::unique_ptr<Hierarchy>> GenerateDateHierarchy(
    const CsvTable& table, absl::string_view column);

}  // namespace privacity::anon

#endif  // PRIVACITY_ANON_HIERARCHY_H_
