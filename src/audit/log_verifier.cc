#include "audit/log_verifier.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "audit/leaves.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace privacity::audit {
namespace {

absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, ": ", status.message()));
}

uint64_t NodesAtTileLevel(int level, uint64_t tree_size) {
  const int height = kTileHeight * level;
  return height >= 64 ? 0 : tree_size >> height;
}

// Passes tiles through to `inner` while keeping, from the tiles of the
// larger tree being verified, the prefixes that make up the right edge of
// the smaller tree of `small_size`: afterwards the smaller tree's root can
// be rebuilt from data that the larger tree's verification has checked,
// without fetching anything again.
class RightEdgeRecorder final : public TileSource {
 public:
  RightEdgeRecorder(TileSource& inner, uint64_t small_size) : inner_(inner) {
    for (int level = 0; NodesAtTileLevel(level, small_size) > 0; ++level) {
      const uint64_t count = NodesAtTileLevel(level, small_size);
      if (count % kTileWidth == 0) continue;
      wanted_[{level, count / kTileWidth}] = static_cast<int>(count % kTileWidth);
    }
  }

  absl::StatusOr<std::string> Fetch(const TileId& tile) override {
    ASSIGN_OR_RETURN(std::string bytes, inner_.Fetch(tile));
    if (tile.kind == TileKind::kHash) {
      auto it = wanted_.find({tile.level, tile.index});
      if (it != wanted_.end() && tile.width >= it->second &&
          bytes.size() >= static_cast<size_t>(it->second) * kHashSize) {
        recorded_[{tile.level, tile.index}] = bytes.substr(0, it->second * kHashSize);
      }
    }
    return bytes;
  }

  // A source of the smaller tree's right-edge tiles, from what was recorded.
  class Replay final : public TileSource {
   public:
    explicit Replay(const RightEdgeRecorder& recorder) : recorder_(recorder) {}
    absl::StatusOr<std::string> Fetch(const TileId& tile) override {
      auto it = recorder_.recorded_.find({tile.level, tile.index});
      if (tile.kind != TileKind::kHash || it == recorder_.recorded_.end() ||
          it->second.size() != static_cast<size_t>(tile.width) * kHashSize) {
        return absl::InternalError(
            absl::StrCat(TilePath(tile), " was not among the verified tiles"));
      }
      return it->second;
    }

   private:
    const RightEdgeRecorder& recorder_;
  };

 private:
  TileSource& inner_;
  std::map<std::pair<int, uint64_t>, int> wanted_;  // (level, index) -> width
  std::map<std::pair<int, uint64_t>, std::string> recorded_;
};

}  // namespace

absl::StatusOr<VerifiedLog> VerifyLog(const LogVerifyRequest& request,
                                      const NoteVerifier& log_key, TileSource& tiles) {
  VerifiedLog out;
  absl::StatusOr<Checkpoint> latest =
      OpenCheckpoint(request.latest_note, log_key, log_key.name());
  if (!latest.ok()) return Prefixed(latest.status(), "latest checkpoint");
  out.latest = *std::move(latest);

  if (request.since_note.has_value()) {
    absl::StatusOr<Checkpoint> since =
        OpenCheckpoint(*request.since_note, log_key, log_key.name());
    if (!since.ok()) return Prefixed(since.status(), request.since_label);
    if (since->size > out.latest.size) {
      return absl::DataLossError(
          absl::StrCat(request.since_label, " (checkpoint ", since->size,
                       ") is larger than the latest checkpoint ", out.latest.size,
                       ": the log has shrunk or forked"));
    }
    out.since = *std::move(since);
  }

  RightEdgeRecorder recorder(tiles, out.since.has_value() ? out.since->size : 0);
  TileVerifyOptions options;
  options.entries = EntryCheck::kHashEntries;
  options.on_entry = [](uint64_t index, absl::string_view entry) -> absl::Status {
    if (absl::Status s = ParseLeaf(entry).status(); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat("entry ", index, " is not a leaf: ", s.message()));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = VerifyTiles(recorder, out.latest.size, out.latest.root, options);
      !s.ok()) {
    return Prefixed(s, absl::StrCat("tree of checkpoint ", out.latest.size));
  }

  if (out.since.has_value()) {
    const Checkpoint& since = *out.since;
    RightEdgeRecorder::Replay replay(recorder);
    absl::StatusOr<Hash> root = RootFromTiles(replay, since.size);
    if (!root.ok()) {
      return Prefixed(root.status(),
                      absl::StrCat("root of the first ", since.size, " entries"));
    }
    if (*root != since.root) {
      return absl::DataLossError(absl::StrCat(
          "checkpoint ", out.latest.size, " does not extend ", request.since_label,
          " (checkpoint ", since.size, "): the root of its first ", since.size,
          " entries, rebuilt from the verified tiles, differs from that checkpoint's "
          "root"));
    }
    if (request.consistency_proof) {
      absl::StatusOr<std::vector<Hash>> proof =
          request.consistency_proof(since.size, out.latest.size);
      if (!proof.ok()) {
        return Prefixed(
            proof.status(),
            absl::StrCat("consistency proof from ", since.size, " to ", out.latest.size));
      }
      if (absl::Status s = VerifyConsistency(since.size, out.latest.size, *proof,
                                             since.root, out.latest.root);
          !s.ok()) {
        return absl::DataLossError(absl::StrCat(
            "the log's consistency proof from ", since.size, " to ", out.latest.size,
            " does not verify (the tiles agree, the proof does not): ", s.message()));
      }
    }
  }
  return out;
}

}  // namespace privacity::audit
