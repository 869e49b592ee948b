#include "audit/tiles.h"

#include <cstring>
#include <limits>
#include <map>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace privacity::audit {
namespace {

// Nodes of tree level 8 * level that are complete in a tree of `tree_size`.
uint64_t NodeCount(int level, uint64_t tree_size) {
  const int height = kTileHeight * level;
  return height >= 64 ? 0 : tree_size >> height;
}

bool AllDigits(absl::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == absl::string_view::npos;
}

// A decimal without leading zeros in [min, max].
std::optional<uint64_t> ParseDecimal(absl::string_view s, uint64_t min, uint64_t max) {
  uint64_t v = 0;
  if (!AllDigits(s) || (s.size() > 1 && s[0] == '0') || !absl::SimpleAtoi(s, &v) ||
      v < min || v > max) {
    return std::nullopt;
  }
  return v;
}

absl::Status BadPath(absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("bad tile path: ", reason));
}

absl::Status CheckTileId(const TileId& tile) {
  if (tile.level < 0 || tile.level > kMaxTileLevel ||
      (tile.kind == TileKind::kEntries && tile.level != 0)) {
    return absl::InvalidArgumentError("tile level out of range");
  }
  if (tile.width < 1 || tile.width > kTileWidth) {
    return absl::InvalidArgumentError("tile width out of range");
  }
  if (tile.index > (std::numeric_limits<uint64_t>::max() >> kTileHeight)) {
    return absl::InvalidArgumentError("tile index out of range");
  }
  return absl::OkStatus();
}

// MTH of a perfect group of 2^k hashes, in place.
Hash PerfectRoot(std::vector<Hash> hashes, TreeHasher& hasher) {
  while (hashes.size() > 1) {
    for (size_t i = 0; i < hashes.size() / 2; ++i) {
      hashes[i] = hasher.HashChildren(hashes[2 * i], hashes[2 * i + 1]);
    }
    hashes.resize(hashes.size() / 2);
  }
  return hashes[0];
}

// The root from the partial tile of each level (level -> its hashes).
Hash RootFromPartials(const std::map<int, std::vector<Hash>>& partials,
                      TreeHasher& hasher) {
  std::vector<Hash> range;  // the compact range, largest subtree first
  for (auto it = partials.rbegin(); it != partials.rend(); ++it) {
    const std::vector<Hash>& hashes = it->second;
    size_t offset = 0;
    for (int bit = kTileHeight - 1; bit >= 0; --bit) {
      const size_t group = size_t{1} << bit;
      if ((hashes.size() & group) == 0) continue;
      range.push_back(PerfectRoot(
          std::vector<Hash>(hashes.begin() + offset, hashes.begin() + offset + group),
          hasher));
      offset += group;
    }
  }
  if (range.empty()) return hasher.EmptyRoot();
  Hash root = range.back();
  for (size_t i = range.size() - 1; i-- > 0;) root = hasher.HashChildren(range[i], root);
  return root;
}

absl::StatusOr<std::vector<Hash>> FetchHashTile(TileSource& source, const TileId& tile) {
  absl::StatusOr<std::string> bytes = source.Fetch(tile);
  if (!bytes.ok()) {
    return absl::Status(
        bytes.status().code(),
        absl::StrCat("fetching ", TilePath(tile), ": ", bytes.status().message()));
  }
  absl::StatusOr<std::vector<Hash>> hashes = ParseHashTile(*bytes, tile.width);
  if (!hashes.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(TilePath(tile), ": ", hashes.status().message()));
  }
  return hashes;
}

}  // namespace

std::string FormatTileIndex(uint64_t index) {
  std::vector<std::string> groups;
  do {
    groups.push_back(absl::StrFormat("%03d", static_cast<int>(index % 1000)));
    index /= 1000;
  } while (index > 0);
  std::string out;
  for (size_t i = groups.size(); i-- > 0;) {
    if (i > 0) {
      absl::StrAppend(&out, "x", groups[i], "/");
    } else {
      out += groups[i];
    }
  }
  return out;
}

std::string TilePath(const TileId& tile) {
  std::string out = tile.kind == TileKind::kEntries
                        ? "tile/entries/"
                        : absl::StrCat("tile/", tile.level, "/");
  out += FormatTileIndex(tile.index);
  if (!tile.full()) absl::StrAppend(&out, ".p/", tile.width);
  return out;
}

absl::StatusOr<TileId> ParseTilePath(absl::string_view path) {
  if (!absl::ConsumePrefix(&path, "tile/")) return BadPath("does not start with tile/");
  TileId tile;
  const size_t slash = path.find('/');
  if (slash == absl::string_view::npos) return BadPath("no tile index");
  const absl::string_view head = path.substr(0, slash);
  path.remove_prefix(slash + 1);
  if (head == "entries") {
    tile.kind = TileKind::kEntries;
  } else {
    const std::optional<uint64_t> level = ParseDecimal(head, 0, kMaxTileLevel);
    if (!level) return BadPath("level is not a decimal from 0 to 63");
    tile.level = static_cast<int>(*level);
  }
  // Width suffix.
  if (const size_t p = path.find(".p/"); p != absl::string_view::npos) {
    const std::optional<uint64_t> width =
        ParseDecimal(path.substr(p + 3), 1, kTileWidth - 1);
    if (!width) return BadPath("partial width is not a decimal from 1 to 255");
    tile.width = static_cast<int>(*width);
    path = path.substr(0, p);
  }
  const std::vector<absl::string_view> groups = absl::StrSplit(path, '/');
  if (groups.size() > 7) return BadPath("index has too many groups");
  uint64_t index = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    absl::string_view g = groups[i];
    const bool last = i + 1 == groups.size();
    if (!last && !absl::ConsumePrefix(&g, "x")) {
      return BadPath("index groups before the last must start with 'x'");
    }
    if (g.size() != 3 || !AllDigits(g)) return BadPath("index groups must be 3 digits");
    if (i == 0 && !last && g == "000") return BadPath("index has a leading zero group");
    const uint64_t v =
        static_cast<uint64_t>((g[0] - '0') * 100 + (g[1] - '0') * 10 + (g[2] - '0'));
    if (index > (std::numeric_limits<uint64_t>::max() - v) / 1000) {
      return BadPath("index overflows");
    }
    index = index * 1000 + v;
  }
  tile.index = index;
  RETURN_IF_ERROR(CheckTileId(tile));
  return tile;
}

absl::StatusOr<TileId> TileAt(TileKind kind, int level, uint64_t index,
                              uint64_t tree_size) {
  TileId tile{kind, level, index, kTileWidth};
  RETURN_IF_ERROR(CheckTileId(tile));
  const uint64_t count = NodeCount(level, tree_size);
  const uint64_t start = index * kTileWidth;
  if (start >= count) {
    return absl::NotFoundError(
        absl::StrCat(TilePath(tile), " is empty in a tree of size ", tree_size));
  }
  tile.width = static_cast<int>(std::min<uint64_t>(kTileWidth, count - start));
  return tile;
}

std::string EncodeHashTile(absl::Span<const Hash> hashes) {
  std::string out;
  out.reserve(hashes.size() * kHashSize);
  for (const Hash& h : hashes)
    out.append(reinterpret_cast<const char*>(h.data()), h.size());
  return out;
}

absl::StatusOr<std::vector<Hash>> ParseHashTile(absl::string_view tile, int width) {
  if (width < 1 || width > kTileWidth ||
      tile.size() != static_cast<size_t>(width) * kHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("hash tile has ", tile.size(), " bytes, want ", width, " hashes"));
  }
  std::vector<Hash> out(width);
  for (int i = 0; i < width; ++i)
    std::memcpy(out[i].data(), tile.data() + i * kHashSize, kHashSize);
  return out;
}

absl::StatusOr<std::string> EncodeEntryBundle(absl::Span<const std::string> entries) {
  std::string out;
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& e = entries[i];
    if (e.size() > 0xFFFF) {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle entry ", i, " is longer than 65535 bytes"));
    }
    out += static_cast<char>(e.size() >> 8);
    out += static_cast<char>(e.size() & 0xFF);
    out += e;
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseEntryBundle(absl::string_view bundle,
                                                          int width) {
  std::vector<std::string> out;
  while (!bundle.empty()) {
    if (out.size() >= static_cast<size_t>(width)) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry bundle holds more than ", width, " entries"));
    }
    if (bundle.size() < 2) return absl::InvalidArgumentError("entry bundle is truncated");
    const size_t len = static_cast<size_t>(static_cast<uint8_t>(bundle[0])) << 8 |
                       static_cast<uint8_t>(bundle[1]);
    bundle.remove_prefix(2);
    if (bundle.size() < len)
      return absl::InvalidArgumentError("entry bundle is truncated");
    out.emplace_back(bundle.substr(0, len));
    bundle.remove_prefix(len);
  }
  if (out.size() != static_cast<size_t>(width)) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry bundle holds ", out.size(), " entries, want ", width));
  }
  return out;
}

absl::StatusOr<std::string> ReadTile(LogStorage& storage, uint64_t tree_size,
                                     const TileId& tile) {
  RETURN_IF_ERROR(CheckTileId(tile));
  const uint64_t count = NodeCount(tile.level, tree_size);
  const uint64_t start = tile.index * kTileWidth;
  if (start >= count || count - start < static_cast<uint64_t>(tile.width)) {
    return absl::NotFoundError(
        absl::StrCat(TilePath(tile), " is not in the tree of size ", tree_size));
  }
  const uint64_t end = start + tile.width;
  if (tile.kind == TileKind::kEntries) {
    ASSIGN_OR_RETURN(const std::vector<LogEntry> entries,
                     storage.ReadEntries(start, end));
    std::vector<std::string> data;
    data.reserve(entries.size());
    for (const LogEntry& e : entries) data.push_back(e.data);
    return EncodeEntryBundle(data);
  }
  ASSIGN_OR_RETURN(const std::vector<Hash> hashes,
                   storage.ReadNodeRange(kTileHeight * tile.level, start, end));
  return EncodeHashTile(hashes);
}

absl::StatusOr<std::string> StorageTileSource::Fetch(const TileId& tile) {
  return ReadTile(storage_, tree_size_, tile);
}

absl::StatusOr<Hash> RootFromTiles(TileSource& source, uint64_t tree_size) {
  ASSIGN_OR_RETURN(std::unique_ptr<TreeHasher> hasher, TreeHasher::Create());
  std::map<int, std::vector<Hash>> partials;
  for (int level = 0; NodeCount(level, tree_size) > 0; ++level) {
    const uint64_t count = NodeCount(level, tree_size);
    if (count % kTileWidth == 0) continue;
    ASSIGN_OR_RETURN(const TileId tile,
                     TileAt(TileKind::kHash, level, count / kTileWidth, tree_size));
    ASSIGN_OR_RETURN(partials[level], FetchHashTile(source, tile));
  }
  return RootFromPartials(partials, *hasher);
}

absl::Status VerifyTiles(TileSource& source, uint64_t tree_size, const Hash& root,
                         const TileVerifyOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<TreeHasher> hasher, TreeHasher::Create());
  std::map<int, std::vector<Hash>> partials;
  for (int level = 0; NodeCount(level, tree_size) > 0; ++level) {
    const uint64_t count = NodeCount(level, tree_size);
    const uint64_t tiles = (count + kTileWidth - 1) / kTileWidth;
    std::optional<TileId> parent;
    std::vector<Hash> parent_hashes;
    for (uint64_t n = 0; n < tiles; ++n) {
      ASSIGN_OR_RETURN(const TileId tile, TileAt(TileKind::kHash, level, n, tree_size));
      ASSIGN_OR_RETURN(std::vector<Hash> hashes, FetchHashTile(source, tile));
      if (level == 0 && options.entries == EntryCheck::kHashEntries) {
        ASSIGN_OR_RETURN(const TileId bundle_id,
                         TileAt(TileKind::kEntries, 0, n, tree_size));
        absl::StatusOr<std::string> bundle = source.Fetch(bundle_id);
        if (!bundle.ok()) {
          return absl::Status(bundle.status().code(),
                              absl::StrCat("fetching ", TilePath(bundle_id), ": ",
                                           bundle.status().message()));
        }
        absl::StatusOr<std::vector<std::string>> entries =
            ParseEntryBundle(*bundle, bundle_id.width);
        if (!entries.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(TilePath(bundle_id), ": ", entries.status().message()));
        }
        for (int i = 0; i < bundle_id.width; ++i) {
          const uint64_t index = n * kTileWidth + i;
          if (hasher->HashLeaf((*entries)[i]) != hashes[i]) {
            return absl::DataLossError(
                absl::StrCat("entry ", index, " (", TilePath(bundle_id), " position ", i,
                             ") does not match its leaf hash in ", TilePath(tile)));
          }
          if (options.on_entry) RETURN_IF_ERROR(options.on_entry(index, (*entries)[i]));
        }
      }
      if (!tile.full()) {
        partials[level] = std::move(hashes);
        continue;
      }
      const Hash subtree = PerfectRoot(std::move(hashes), *hasher);
      ASSIGN_OR_RETURN(const TileId parent_id,
                       TileAt(TileKind::kHash, level + 1, n / kTileWidth, tree_size));
      if (!parent || *parent != parent_id) {
        ASSIGN_OR_RETURN(parent_hashes, FetchHashTile(source, parent_id));
        parent = parent_id;
      }
      if (parent_hashes[n % kTileWidth] != subtree) {
        return absl::DataLossError(
            absl::StrCat(TilePath(tile), " does not hash to position ", n % kTileWidth,
                         " of ", TilePath(parent_id)));
      }
    }
  }
  if (RootFromPartials(partials, *hasher) != root) {
    std::string edge;
    for (const auto& [level, hashes] : partials) {
      absl::StrAppend(
          &edge, edge.empty() ? "" : ", ",
          TilePath(*TileAt(TileKind::kHash, level,
                           NodeCount(level, tree_size) / kTileWidth, tree_size)));
    }
    return absl::DataLossError(absl::StrCat(
        "the root rebuilt from the right-edge tiles (", edge.empty() ? "none" : edge,
        ") differs from the root of the tree of size ", tree_size));
  }
  return absl::OkStatus();
}

}  // namespace privacity::audit
