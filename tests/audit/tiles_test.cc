#include "audit/tiles.h"

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "audit/log.h"
#include "audit/test_util.h"
#include "gtest/gtest.h"

namespace privacity::audit {
namespace {

using testing::TestLeaf;
using testing::TestLeafHashes;

TEST(TilePaths, IndexEncoding) {
  EXPECT_EQ(FormatTileIndex(0), "000");
  EXPECT_EQ(FormatTileIndex(5), "005");
  EXPECT_EQ(FormatTileIndex(999), "999");
  EXPECT_EQ(FormatTileIndex(1000), "x001/000");
  EXPECT_EQ(FormatTileIndex(1234067), "x001/x234/067");
  EXPECT_EQ(FormatTileIndex(std::numeric_limits<uint64_t>::max() >> 8),
            "x072/x057/x594/x037/x927/935");
}

TEST(TilePaths, Paths) {
  EXPECT_EQ(TilePath(TileId{TileKind::kHash, 0, 1234067, 256}), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath(TileId{TileKind::kHash, 2, 5, 17}), "tile/2/005.p/17");
  EXPECT_EQ(TilePath(TileId{TileKind::kEntries, 0, 1000, 256}), "tile/entries/x001/000");
  EXPECT_EQ(TilePath(TileId{TileKind::kEntries, 0, 0, 1}), "tile/entries/000.p/1");
}

TEST(TilePaths, ParseRoundTrips) {
  for (const TileId& tile : {
           TileId{TileKind::kHash, 0, 0, 256},
           TileId{TileKind::kHash, 0, 1234067, 256},
           TileId{TileKind::kHash, 63, 999, 255},
           TileId{TileKind::kHash, 1, 1000, 1},
           TileId{TileKind::kEntries, 0, 4, 112},
           TileId{TileKind::kEntries, 0, std::numeric_limits<uint64_t>::max() >> 8, 256},
       }) {
    auto parsed = ParseTilePath(TilePath(tile));
    ASSERT_TRUE(parsed.ok()) << TilePath(tile) << ": " << parsed.status();
    EXPECT_EQ(*parsed, tile) << TilePath(tile);
  }
}

TEST(TilePaths, ParseRejectsNonCanonicalPaths) {
  for (const char* bad : {
           "",
           "tile/",
           "tile/0",
           "tile/0/",
           "0/000",
           "/tile/0/000",
           "tile/00/000",
           "tile/01/000",
           "tile/64/000",
           "tile/-1/000",
           "tile/x/000",
           "tile/0/00",
           "tile/0/0000",
           "tile/0/x000/001",
           "tile/0/x001/x000",
           "tile/0/001/000",
           "tile/0/x01/000",
           "tile/0/abc",
           "tile/0/000/",
           "tile/0/000.p/0",
           "tile/0/000.p/256",
           "tile/0/000.p/05",
           "tile/0/000.p/",
           "tile/0/000.p/1/",
           "tile/0/000.p/x",
           "tile/entries/",
           "tile/entries/000.p/300",
           "tile/0/x999/x999/x999/x999/x999/x999/999",  // 7 groups, overflows
           "tile/0/x018/x446/x744/x073/x709/x551/615",  // 2^64 - 1: index * 256 overflows
           "tile/1/x001/x234/067.p/5.p/6",
       }) {
    EXPECT_EQ(ParseTilePath(bad).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(TileAt, TheSpecExampleOfSize70000) {
  // c2sp.org/tlog-tiles: 273 full level-0 tiles, one partial of width 112,
  // one full level-1 tile, one partial of width 17, one level-2 tile of 1.
  const uint64_t size = 70000;
  EXPECT_TRUE(TileAt(TileKind::kHash, 0, 272, size)->full());
  EXPECT_EQ(TileAt(TileKind::kHash, 0, 273, size)->width, 112);
  EXPECT_EQ(TileAt(TileKind::kHash, 0, 274, size).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(TileAt(TileKind::kHash, 1, 0, size)->full());
  EXPECT_EQ(TileAt(TileKind::kHash, 1, 1, size)->width, 17);
  EXPECT_EQ(TileAt(TileKind::kHash, 2, 0, size)->width, 1);
  EXPECT_FALSE(TileAt(TileKind::kHash, 3, 0, size).ok());
  EXPECT_EQ(TileAt(TileKind::kEntries, 0, 273, size)->width, 112);
  // A tree of 256 has a full level-0 tile and a level-1 tile of width 1.
  EXPECT_TRUE(TileAt(TileKind::kHash, 0, 0, 256)->full());
  EXPECT_EQ(TileAt(TileKind::kHash, 1, 0, 256)->width, 1);
}

TEST(TileContents, EncodingsAndTheirErrors) {
  const std::vector<Hash> hashes = TestLeafHashes(3);
  const std::string tile = EncodeHashTile(hashes);
  EXPECT_EQ(tile.size(), 96u);
  EXPECT_EQ(*ParseHashTile(tile, 3), hashes);
  EXPECT_FALSE(ParseHashTile(tile, 2).ok());
  EXPECT_FALSE(ParseHashTile(tile.substr(1), 3).ok());

  const std::vector<std::string> entries = {"a", "", std::string(300, 'z')};
  const std::string bundle = *EncodeEntryBundle(entries);
  EXPECT_EQ(bundle.substr(0, 3), std::string("\x00\x01"
                                             "a",
                                             3));
  EXPECT_EQ(bundle.substr(3, 2), std::string("\x00\x00", 2));
  EXPECT_EQ(bundle.substr(5, 2), std::string("\x01\x2c", 2));
  EXPECT_EQ(*ParseEntryBundle(bundle, 3), entries);
  EXPECT_FALSE(ParseEntryBundle(bundle, 2).ok());  // too many
  EXPECT_FALSE(ParseEntryBundle(bundle, 4).ok());  // too few
  EXPECT_FALSE(ParseEntryBundle(bundle.substr(0, bundle.size() - 1), 3).ok());
  EXPECT_FALSE(ParseEntryBundle(std::string("\x00", 1), 1).ok());
  EXPECT_FALSE(EncodeEntryBundle({std::string(65536, 'x')}).ok());
}

class TiledLog : public ::testing::Test {
 protected:
  static constexpr uint64_t kSize = 70000;

  static void SetUpTestSuite() {
    storage_ = new MemoryLogStorage();
    auto log = *Log::Open(*storage_);
    std::vector<std::string> batch;
    for (uint64_t i = 0; i < kSize; ++i) {
      batch.push_back(TestLeaf(i));
      if (batch.size() == 1000 || i + 1 == kSize) {
        ASSERT_TRUE(log->Append(std::move(batch)).ok());
        batch.clear();
      }
    }
    leaves_ = new std::vector<Hash>(TestLeafHashes(kSize));
  }
  static void TearDownTestSuite() {
    delete storage_;
    delete leaves_;
  }
  static Hash Mth(uint64_t begin, uint64_t end) {
    return RootFromLeafHashes(absl::MakeConstSpan(*leaves_).subspan(begin, end - begin));
  }

  static MemoryLogStorage* storage_;
  static std::vector<Hash>* leaves_;
};

MemoryLogStorage* TiledLog::storage_ = nullptr;
std::vector<Hash>* TiledLog::leaves_ = nullptr;

TEST_F(TiledLog, TileContentsMatchDirectRecomputation) {
  // Level 0: leaf hashes; level 1: roots of 256-leaf subtrees; level 2:
  // roots of 65536-leaf subtrees.
  const std::vector<Hash> t0 = *ParseHashTile(
      *ReadTile(*storage_, kSize, TileId{TileKind::kHash, 0, 17, 256}), 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(t0[i], (*leaves_)[17 * 256 + i]);
  const std::vector<Hash> t1 =
      *ParseHashTile(*ReadTile(*storage_, kSize, TileId{TileKind::kHash, 1, 1, 17}), 17);
  for (int i = 0; i < 17; ++i) {
    const uint64_t n = 256 + i;
    EXPECT_EQ(t1[i], Mth(n * 256, (n + 1) * 256)) << i;
  }
  const std::vector<Hash> t2 =
      *ParseHashTile(*ReadTile(*storage_, kSize, TileId{TileKind::kHash, 2, 0, 1}), 1);
  EXPECT_EQ(t2[0], Mth(0, 65536));
  const std::vector<std::string> bundle = *ParseEntryBundle(
      *ReadTile(*storage_, kSize, TileId{TileKind::kEntries, 0, 273, 112}), 112);
  for (int i = 0; i < 112; ++i) EXPECT_EQ(bundle[i], TestLeaf(273 * 256 + i));
  // A narrower partial tile is a prefix of the wider one.
  EXPECT_EQ(*ReadTile(*storage_, kSize, TileId{TileKind::kHash, 1, 1, 3}),
            ReadTile(*storage_, kSize, TileId{TileKind::kHash, 1, 1, 17})->substr(0, 96));
}

TEST_F(TiledLog, ReadTileRefusesTilesBeyondTheTreeSize) {
  EXPECT_EQ(
      ReadTile(*storage_, kSize, TileId{TileKind::kHash, 0, 273, 113}).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(
      ReadTile(*storage_, kSize, TileId{TileKind::kHash, 0, 273, 256}).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadTile(*storage_, kSize, TileId{TileKind::kHash, 2, 0, 2}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      ReadTile(*storage_, 1000, TileId{TileKind::kEntries, 0, 3, 256}).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_TRUE(ReadTile(*storage_, 1000, TileId{TileKind::kEntries, 0, 3, 232}).ok());
  EXPECT_FALSE(ReadTile(*storage_, kSize, TileId{TileKind::kHash, 64, 0, 1}).ok());
}

TEST_F(TiledLog, RootFromTilesForManySizes) {
  for (uint64_t size : {0ull, 1ull, 2ull, 255ull, 256ull, 257ull, 511ull, 65535ull,
                        65536ull, 65537ull, 69999ull, 70000ull}) {
    StorageTileSource source(*storage_, size);
    auto root = RootFromTiles(source, size);
    ASSERT_TRUE(root.ok()) << size << ": " << root.status();
    EXPECT_EQ(*root, Mth(0, size)) << size;
    EXPECT_TRUE(VerifyTiles(source, size, *root, {}).ok()) << size;
  }
}

TEST_F(TiledLog, VerifyTilesVisitsEveryEntry) {
  StorageTileSource source(*storage_, kSize);
  uint64_t next = 0;
  TileVerifyOptions options;
  options.on_entry = [&](uint64_t index, absl::string_view entry) {
    EXPECT_EQ(index, next++);
    EXPECT_EQ(entry, TestLeaf(index));
    return absl::OkStatus();
  };
  ASSERT_TRUE(VerifyTiles(source, kSize, Mth(0, kSize), options).ok());
  EXPECT_EQ(next, kSize);
  options.on_entry = [](uint64_t index, absl::string_view) {
    return index == 300 ? absl::InvalidArgumentError("leaf 300 is not a leaf")
                        : absl::OkStatus();
  };
  EXPECT_EQ(VerifyTiles(source, kSize, Mth(0, kSize), options).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyTiles(source, kSize, Mth(0, kSize - 1), {}).code(),
            absl::StatusCode::kDataLoss);
}

// Corruption, on a fresh small log each time.
class CorruptedTiles : public ::testing::Test {
 protected:
  static constexpr uint64_t kSize = 66000;  // 257 full level-0 tiles, 1 full level-1
  void SetUp() override {
    auto log = *Log::Open(storage_);
    std::vector<std::string> batch;
    for (uint64_t i = 0; i < kSize; ++i) batch.push_back(TestLeaf(i));
    ASSERT_TRUE(log->Append(std::move(batch)).ok());
    root_ = log->head().root;
  }
  absl::Status Verify(EntryCheck entries) {
    StorageTileSource source(storage_, kSize);
    TileVerifyOptions options;
    options.entries = entries;
    return VerifyTiles(source, kSize, root_, options);
  }
  MemoryLogStorage storage_;
  Hash root_;
};

TEST_F(CorruptedTiles, AnEntry) {
  ASSERT_TRUE(Verify(EntryCheck::kHashEntries).ok());
  ASSERT_TRUE(storage_.OverwriteEntryForTesting(1000, TestLeaf(5)).ok());
  const absl::Status s = Verify(EntryCheck::kHashEntries);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("entry 1000 (tile/entries/003 position 232)"),
            std::string::npos)
      << s;
  EXPECT_NE(s.message().find("tile/0/003"), std::string::npos) << s;
  EXPECT_TRUE(Verify(EntryCheck::kSkip).ok());  // the hashes alone are intact
}

TEST_F(CorruptedTiles, ALeafHashInAFullTile) {
  ASSERT_TRUE(storage_.OverwriteNodeForTesting(NodeId{0, 600}, HashLeaf("forged")).ok());
  absl::Status s = Verify(EntryCheck::kHashEntries);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("entry 600 "), std::string::npos) << s;
  s = Verify(EntryCheck::kSkip);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("tile/0/002 does not hash to position 2 of tile/1/000"),
            std::string::npos)
      << s;
}

TEST_F(CorruptedTiles, AHashInALevel1Tile) {
  ASSERT_TRUE(storage_.OverwriteNodeForTesting(NodeId{8, 7}, HashLeaf("forged")).ok());
  const absl::Status s = Verify(EntryCheck::kHashEntries);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("tile/0/007 does not hash to position 7 of tile/1/000"),
            std::string::npos)
      << s;
}

TEST_F(CorruptedTiles, AHashInThePartialTile) {
  // Leaf 65900 is in the partial level-0 tile 257, which only the root covers.
  ASSERT_TRUE(
      storage_.OverwriteNodeForTesting(NodeId{0, 65900}, HashLeaf("forged")).ok());
  const absl::Status s = Verify(EntryCheck::kSkip);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("tile/0/257.p/208"), std::string::npos) << s;
}

// A source that serves a tile of the wrong length.
class TruncatingSource final : public TileSource {
 public:
  explicit TruncatingSource(TileSource& inner) : inner_(inner) {}
  absl::StatusOr<std::string> Fetch(const TileId& tile) override {
    auto bytes = inner_.Fetch(tile);
    if (bytes.ok() && tile.kind == TileKind::kHash && tile.level == 1) bytes->pop_back();
    return bytes;
  }

 private:
  TileSource& inner_;
};

TEST_F(CorruptedTiles, ATileOfTheWrongLength) {
  StorageTileSource source(storage_, kSize);
  TruncatingSource truncating(source);
  const absl::Status s = VerifyTiles(truncating, kSize, root_, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("tile/1/000"), std::string::npos) << s;
}

}  // namespace
}  // namespace privacity::audit
