// The S2 cell helpers of field_transform.h.
#include <algorithm>
#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "common/time_util.h"
#include "s2/s2cell_id.h"
#include "s2/s2latlng.h"
#include "transform/field_transform.h"

namespace privacity::transform {

absl::Time CoarsenTime(absl::Time t, absl::Duration granularity) {
  if (granularity <= absl::ZeroDuration() || granularity == absl::InfiniteDuration() ||
      t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
    return t;
  }
  return FloorTime(t, granularity);
}

bool IsValidCell(CellId cell) { return S2CellId(cell.id).is_valid(); }

CellId CoarsenCell(CellId cell, int level) {
  const S2CellId id(cell.id);
  if (!id.is_valid()) return cell;
  level = std::max(level, 0);
  if (level >= id.level()) return cell;
  return CellId{id.parent(level).id()};
}

CellId CellOf(const GeoPoint& point, int level) {
  if (!std::isfinite(point.latitude) || !std::isfinite(point.longitude)) {
    return CellId{};
  }
  level = std::clamp(level, 0, S2CellId::kMaxLevel);
  const S2LatLng ll = S2LatLng::FromDegrees(point.latitude, point.longitude).Normalized();
  return CellId{S2CellId(ll).parent(level).id()};
}

int CellLevel(CellId cell) {
  const S2CellId id(cell.id);
  return id.is_valid() ? id.level() : -1;
}

GeoPoint CellCenter(CellId cell) {
  const S2CellId id(cell.id);
  if (!id.is_valid()) return GeoPoint{};
  const S2LatLng ll(id.ToPoint());
  return GeoPoint{ll.lat().degrees(), ll.lng().degrees()};
}

std::string CellToken(CellId cell) { return S2CellId(cell.id).ToToken(); }

absl::StatusOr<CellId> CellFromToken(std::string_view token) {
  if (token.empty() || token.size() > 16) {
    return absl::InvalidArgumentError("cell token must have 1 to 16 hex digits");
  }
  for (char c : token) {
    const bool hex =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex)
      return absl::InvalidArgumentError(
          "cell token has a character that is not a hex digit");
  }
  const S2CellId id = S2CellId::FromToken(absl::string_view(token.data(), token.size()));
  if (!id.is_valid()) {
    return absl::InvalidArgumentError("cell token does not name a valid S2 cell");
  }
  return CellId{id.id()};
}

}  // namespace privacity::transform
