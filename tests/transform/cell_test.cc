#include <cmath>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "s2/s2cell.h"
#include "s2/s2cell_id.h"
#include "s2/s2latlng.h"
#include "transform/field_transform.h"

namespace privacity::transform {
namespace {

using ::testing::HasSubstr;

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

constexpr GeoPoint kDam{52.373169, 4.892431};  // Amsterdam, Dam square

// The six cube faces: level-0 cells have id (face << 61) | (1 << 60).
TEST(CellOf, FaceCells) {
  EXPECT_EQ(CellToken(CellOf({0, 0}, 0)), "1");    // face 0, +x
  EXPECT_EQ(CellToken(CellOf({0, 90}, 0)), "3");   // face 1, +y
  EXPECT_EQ(CellToken(CellOf({90, 0}, 0)), "5");   // face 2, north pole
  EXPECT_EQ(CellToken(CellOf({0, 180}, 0)), "7");  // face 3, -x
  EXPECT_EQ(CellToken(CellOf({0, -90}, 0)), "9");  // face 4, -y
  EXPECT_EQ(CellToken(CellOf({-90, 0}, 0)), "b");  // face 5, south pole
  EXPECT_EQ(CellOf({0, 0}, 0).id, uint64_t{1} << 60);
}

// Level-1 children of face 0 follow the Hilbert curve: quadrant (i, j) =
// (0,0), (0,1), (1,1), (1,0) are children 0..3, i growing with longitude
// and j with latitude near (0, 0).
TEST(CellOf, LevelOneQuadrants) {
  EXPECT_EQ(CellToken(CellOf({-1, -1}, 1)), "04");
  EXPECT_EQ(CellToken(CellOf({1, -1}, 1)), "0c");
  EXPECT_EQ(CellToken(CellOf({1, 1}, 1)), "14");
  EXPECT_EQ(CellToken(CellOf({-1, 1}, 1)), "1c");
}

TEST(CellOf, ContainsThePointAtEveryLevel) {
  const S2Point p = S2LatLng::FromDegrees(kDam.latitude, kDam.longitude).ToPoint();
  for (int level = 0; level <= 30; ++level) {
    const CellId cell = CellOf(kDam, level);
    ASSERT_TRUE(IsValidCell(cell)) << level;
    EXPECT_EQ(CellLevel(cell), level);
    EXPECT_TRUE(S2Cell(S2CellId(cell.id)).Contains(p)) << level;
  }
}

TEST(CellOf, LevelIsClampedAndNonFiniteHasNoCell) {
  EXPECT_EQ(CellOf(kDam, 31), CellOf(kDam, 30));
  EXPECT_EQ(CellOf(kDam, -4), CellOf(kDam, 0));
  EXPECT_FALSE(IsValidCell(CellOf({std::nan(""), 4.9}, 10)));
  EXPECT_FALSE(IsValidCell(CellOf({52, INFINITY}, 10)));
}

TEST(CellOf, NeighbouringPointsShareCoarseCellsOnly) {
  const GeoPoint near{52.373200, 4.892500};  // about 6 m away
  EXPECT_EQ(CellOf(kDam, 12), CellOf(near, 12));
  EXPECT_NE(CellOf(kDam, 30), CellOf(near, 30));
}

TEST(CoarsenCell, Parents) {
  const CellId fine = CellOf(kDam, 20);
  for (int level = 0; level <= 20; ++level) {
    EXPECT_EQ(CoarsenCell(fine, level), CellOf(kDam, level)) << level;
  }
  const CellId c12 = CellOf(kDam, 12);
  EXPECT_EQ(CoarsenCell(c12, 20), c12);  // never refined
  EXPECT_EQ(CoarsenCell(c12, 12), c12);
  EXPECT_EQ(CoarsenCell(c12, -1), CellOf(kDam, 0));
  EXPECT_EQ(CoarsenCell(CellId{}, 5), CellId{});  // invalid: unchanged
}

TEST(CellLevel, InvalidCells) {
  EXPECT_EQ(CellLevel(CellId{}), -1);
  EXPECT_EQ(CellLevel(CellId{~uint64_t{0}}), -1);  // face 7
  EXPECT_FALSE(IsValidCell(CellId{}));
  EXPECT_EQ(CellToken(CellId{}), "X");
}

TEST(CellCenter, IsInsideAndNearTheCentre) {
  const GeoPoint face0 = CellCenter(CellOf({10, 10}, 0));
  EXPECT_NEAR(face0.latitude, 0, 1e-9);
  EXPECT_NEAR(face0.longitude, 0, 1e-9);

  const GeoPoint fine = CellCenter(CellOf(kDam, 30));
  EXPECT_NEAR(fine.latitude, kDam.latitude, 1e-6);
  EXPECT_NEAR(fine.longitude, kDam.longitude, 1e-6);

  // A level-13 cell is about 1 km across: its centre is within that.
  const CellId c13 = CellOf(kDam, 13);
  const GeoPoint center = CellCenter(c13);
  EXPECT_NEAR(center.latitude, kDam.latitude, 0.01);
  EXPECT_NEAR(center.longitude, kDam.longitude, 0.02);
  EXPECT_EQ(CellOf(center, 13), c13);

  EXPECT_EQ(CellCenter(CellId{}), (GeoPoint{0, 0}));
}

TEST(CellToken, RoundTrip) {
  for (int level = 0; level <= 30; ++level) {
    const CellId cell = CellOf(kDam, level);
    const std::string token = CellToken(cell);
    EXPECT_LE(token.size(), 16u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(token.back(), '0');
    absl::StatusOr<CellId> back = CellFromToken(token);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, cell);
  }
}

TEST(CellFromToken, Accepts) {
  EXPECT_EQ(*CellFromToken("14"), CellOf({1, 1}, 1));
  EXPECT_EQ(*CellFromToken("1C"), CellOf({-1, 1}, 1));   // upper case
  EXPECT_EQ(*CellFromToken("1400"), CellOf({1, 1}, 1));  // trailing zeros
  EXPECT_EQ(CellLevel(*CellFromToken("5")), 0);
}

TEST(CellFromToken, Rejects) {
  for (const char* bad : {"", "X", "x", "0", "00", "f", "ffffffffffffffff", "zz", "14 ",
                          " 14", "-14", "0x14", "12345678901234567", "1\xC3\xA9"}) {
    const absl::StatusOr<CellId> r = CellFromToken(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("cell token"));
  }
  // 1 followed by 60 zero bits then a non-zero low bit pattern: not a cell
  // (its lowest set bit is at an odd position).
  EXPECT_FALSE(CellFromToken("1000000000000002").ok());
}

TEST(CoarsenTime, FloorsToBuckets) {
  const absl::Time t = Utc(2024, 3, 4, 6, 19, 26);
  EXPECT_EQ(CoarsenTime(t, absl::Minutes(15)), Utc(2024, 3, 4, 6, 15));
  EXPECT_EQ(CoarsenTime(t, absl::Hours(1)), Utc(2024, 3, 4, 6));
  EXPECT_EQ(CoarsenTime(t, absl::Hours(24)), Utc(2024, 3, 4));
  EXPECT_EQ(CoarsenTime(Utc(2024, 3, 4, 6), absl::Hours(1)), Utc(2024, 3, 4, 6));
}

TEST(CoarsenTime, BeforeEpochFloorsTowardsThePast) {
  EXPECT_EQ(CoarsenTime(Utc(1969, 12, 31, 23, 59, 59), absl::Hours(1)),
            Utc(1969, 12, 31, 23));
  EXPECT_EQ(CoarsenTime(Utc(1969, 12, 31, 0, 0, 1), absl::Hours(24)), Utc(1969, 12, 31));
  EXPECT_EQ(CoarsenTime(Utc(1900, 6, 15, 12, 7), absl::Minutes(15)),
            Utc(1900, 6, 15, 12));
}

TEST(CoarsenTime, DegenerateGranularities) {
  const absl::Time t = Utc(2024, 3, 4, 6, 19, 26);
  EXPECT_EQ(CoarsenTime(t, absl::ZeroDuration()), t);
  EXPECT_EQ(CoarsenTime(t, absl::Minutes(-5)), t);
  EXPECT_EQ(CoarsenTime(t, absl::InfiniteDuration()), t);
  EXPECT_EQ(CoarsenTime(absl::InfiniteFuture(), absl::Hours(1)), absl::InfiniteFuture());
}

}  // namespace
}  // namespace privacity::transform
