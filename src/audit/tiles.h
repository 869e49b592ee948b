// C2SP tlog-tiles (c2sp.org/tlog-tiles): the log served as static, cacheable
// tiles, and a verifier that rebuilds the tree from them.
//
// A hash tile at level L, index N holds the hashes of the nodes at tree
// level 8L with indexes [256N, 256N + W): for L = 0 the leaf hashes, for
// L >= 1 the roots of full tiles of level L - 1. A full tile has W = 256
// (8192 bytes); a partial one 1 <= W <= 255. An entry bundle N holds the
// entries [256N, 256N + W), each as a big-endian uint16 length and the bytes.
//
// Paths: tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>], where N is
// written in 3-digit groups, all but the last prefixed with 'x':
// 1234067 -> x001/x234/067, 5 -> 005.
#ifndef PRIVACITY_AUDIT_TILES_H_
#define PRIVACITY_AUDIT_TILES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "audit/log_storage.h"
#include "audit/merkle.h"

namespace privacity::audit {

inline constexpr int kTileHeight = 8;
inline constexpr int kTileWidth = 256;
inline constexpr int kMaxTileLevel = 63;

enum class TileKind { kHash, kEntries };

struct TileId {
  TileKind kind = TileKind::kHash;
  int level = 0;  // hash tiles only; 0 for entry bundles
  uint64_t index = 0;
  int width = kTileWidth;  // 1..256; 256 is a full tile

  bool full() const { return width == kTileWidth; }
  bool operator==(const TileId&) const = default;
};

// "x001/x234/067" for 1234067.
std::string FormatTileIndex(uint64_t index);
// "tile/0/x001/x234/067.p/5", "tile/entries/000".
std::string TilePath(const TileId& tile);
// The inverse of TilePath. Only canonical paths are accepted (no leading
// zero groups, no leading zeros in L or W, W in 1..255 after ".p/"), so each
// tile has exactly one path. InvalidArgument naming the malformed part.
absl::StatusOr<TileId> ParseTilePath(absl::string_view path);

// The tile of `kind` at (level, index) as a tree of `tree_size` has it:
// full when complete, partial otherwise. NotFound when the tree has no
// node in it.
absl::StatusOr<TileId> TileAt(TileKind kind, int level, uint64_t index,
                              uint64_t tree_size);

// Tile contents.
std::string EncodeHashTile(absl::Span<const Hash> hashes);
// InvalidArgument unless `tile` is exactly `width` hashes.
absl::StatusOr<std::vector<Hash>> ParseHashTile(absl::string_view tile, int width);
// InvalidArgument for an entry longer than 65535 bytes.
absl::StatusOr<std::string> EncodeEntryBundle(absl::Span<const std::string> entries);
// InvalidArgument unless `bundle` is exactly `width` length-prefixed
// entries.
absl::StatusOr<std::vector<std::string>> ParseEntryBundle(absl::string_view bundle,
                                                          int width);

// The contents of `tile` read from `storage`: level-L hash tiles are the
// stored nodes of level 8L. NotFound when the tile is not part of the tree
// of `tree_size` (some of its nodes or entries are not in it).
// REQUIRES: tree_size <= the stored size (else the reads fail).
absl::StatusOr<std::string> ReadTile(LogStorage& storage, uint64_t tree_size,
                                     const TileId& tile);

// Where a verifier gets tiles: storage (below), or later an HTTP client.
class TileSource {
 public:
  virtual ~TileSource() = default;
  // The bytes of `tile`.
  virtual absl::StatusOr<std::string> Fetch(const TileId& tile) = 0;
};

// Tiles of the tree of `tree_size` read from `storage`.
// REQUIRES: `storage` outlives the source.
class StorageTileSource final : public TileSource {
 public:
  StorageTileSource(LogStorage& storage, uint64_t tree_size)
      : storage_(storage), tree_size_(tree_size) {}
  absl::StatusOr<std::string> Fetch(const TileId& tile) override;

 private:
  LogStorage& storage_;
  uint64_t tree_size_;
};

// The root of the tree of `tree_size` from its right-edge (partial) tiles
// alone: at most one tile per level. Checks nothing else.
absl::StatusOr<Hash> RootFromTiles(TileSource& source, uint64_t tree_size);

enum class EntryCheck { kSkip, kHashEntries };

struct TileVerifyOptions {
  // kHashEntries fetches every entry bundle and checks each entry against
  // its leaf hash in the level-0 tiles.
  EntryCheck entries = EntryCheck::kHashEntries;
  // When set (and entries are checked), called with each entry in order; a
  // non-OK status stops the verification and is returned.
  std::function<absl::Status(uint64_t index, absl::string_view entry)> on_entry;
};

// Rebuilds the tree of `tree_size` from every tile: each full tile must hash
// to its hash in the tile above, each entry to its leaf hash, and the right
// edge to `root`. OK, or DataLoss naming the tile and position (or entry)
// where the tree and the tiles disagree; InvalidArgument when a tile has the
// wrong length; the source's error when a fetch fails.
absl::Status VerifyTiles(TileSource& source, uint64_t tree_size, const Hash& root,
                         const TileVerifyOptions& options);

}  // namespace privacity::audit

#endif  // PRIVACITY_AUDIT_TILES_H_
