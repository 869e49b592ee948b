// Private to the store module: the cell filter of record scans, shared by
// the backends (which filter cells in C++ so that `limit` counts matches).
#ifndef PRIVACITY_STORE_CELL_FILTER_H_
#define PRIVACITY_STORE_CELL_FILTER_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace privacity::store {

// Sorted, disjoint closed ranges of cell ids, for membership tests.
class CellFilter {
 public:
  static absl::StatusOr<CellFilter> Create(
      const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
    CellFilter f;
    f.ranges_ = ranges;
    for (size_t i = 0; i < ranges.size(); ++i) {
      if (ranges[i].first > ranges[i].second) {
        return absl::InvalidArgumentError(
            absl::StrCat("record query: cell range ", i, " has its start after its end"));
      }
    }
    std::sort(f.ranges_.begin(), f.ranges_.end());
    std::vector<std::pair<uint64_t, uint64_t>> merged;
    for (const auto& r : f.ranges_) {
      if (!merged.empty() &&
          (merged.back().second == UINT64_MAX || r.first <= merged.back().second + 1)) {
        merged.back().second = std::max(merged.back().second, r.second);
      } else {
        merged.push_back(r);
      }
    }
    f.ranges_ = std::move(merged);
    return f;
  }

  bool empty() const { return ranges_.empty(); }

  bool Contains(uint64_t cell) const {
    // The last range starting at or before `cell`.
    auto it = std::upper_bound(
        ranges_.begin(), ranges_.end(), cell,
        [](uint64_t c, const std::pair<uint64_t, uint64_t>& r) { return c < r.first; });
    if (it == ranges_.begin()) return false;
    --it;
    return cell <= it->second;
  }

 private:
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;
};

}  // namespace privacity::store

#endif  // PRIVACITY_STORE_CELL_FILTER_H_
