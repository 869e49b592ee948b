// The one verification procedure of `privacity log verify`, whatever the
// log is read from: a data directory (tiles read from the store) or a
// server (tiles fetched over HTTP, C2SP tlog-tiles). docs/log_format.md,
// "Verifying a log", describes it for third parties.
//
//   1. The latest checkpoint's signature verifies under the log's key, and
//      its origin is the key's name.
//   2. With an earlier checkpoint (--since): it verifies under the same key
//      and is not larger than the latest.
//   3. The tree of the latest checkpoint is rebuilt from every hash tile
//      and entry bundle: every entry hashes to its leaf hash, every full
//      tile to its hash in the tile above, the right edge to the
//      checkpoint's root; every entry is a leaf (audit/leaves.h ParseLeaf).
//   4. With an earlier checkpoint: the root of its size, recomputed from
//      the tiles verified in 3, equals its root (so the latest tree extends
//      it); and, when a consistency proof source is given, the log's own
//      consistency proof between the two verifies as well.
// Each failure names where it is: the checkpoint, the tile path and
// position, the entry index, or the proof.
#ifndef PRIVACITY_AUDIT_LOG_VERIFIER_H_
#define PRIVACITY_AUDIT_LOG_VERIFIER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/tiles.h"

namespace privacity::audit {

struct LogVerifyRequest {
  // The latest signed checkpoint note.
  std::string latest_note;
  // An earlier signed checkpoint note and a label for it in messages (its
  // file name).
  std::optional<std::string> since_note;
  std::string since_label = "the earlier checkpoint";
  // The consistency proof from size1 to size2 as the log serves it; unset
  // to rely on the tiles alone.
  std::function<absl::StatusOr<std::vector<Hash>>(uint64_t size1, uint64_t size2)>
      consistency_proof;
};

struct VerifiedLog {
  Checkpoint latest;
  std::optional<Checkpoint> since;
};

// Runs steps 1 to 4 above. `log_key`'s name is the log's origin.
// Unauthenticated for a bad or missing signature; InvalidArgument for a
// malformed checkpoint; DataLoss naming the first place where the log and
// its checkpoints disagree; the source's error (prefixed with the tile
// path) when a tile cannot be fetched.
absl::StatusOr<VerifiedLog> VerifyLog(const LogVerifyRequest& request,
                                      const NoteVerifier& log_key, TileSource& tiles);

}  // namespace privacity::audit

#endif  // PRIVACITY_AUDIT_LOG_VERIFIER_H_
