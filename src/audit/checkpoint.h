// Checkpoints (c2sp.org/tlog-checkpoint): the signed head of the log.
//
// The checkpoint body is the text of a signed note (audit/note.h):
//   <origin>\n
//   <tree size in decimal, no leading zeros>\n
//   <base64 of the 32-byte root hash>\n
//   [<extension line>\n ...]
// followed by the blank line and the signature lines, e.g.
//   example.city/privacity
//   20852163
//   CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//
//   — example.city/privacity Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+...
// The log's key name is its origin.
#ifndef PRIVACITY_AUDIT_CHECKPOINT_H_
#define PRIVACITY_AUDIT_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audit/merkle.h"
#include "audit/note.h"

namespace privacity::audit {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // opaque, non-empty lines
  bool operator==(const Checkpoint&) const = default;
};

// The note text of `checkpoint`. InvalidArgument for an empty origin, an
// empty extension line, or a line holding a newline or control character.
absl::StatusOr<std::string> FormatCheckpoint(const Checkpoint& checkpoint);

// Parses a checkpoint note text (not the signatures). InvalidArgument naming
// the line that is malformed.
absl::StatusOr<Checkpoint> ParseCheckpoint(absl::string_view text);

// The signed note of `checkpoint` with `signer`'s signature.
absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& checkpoint,
                                           const NoteSigner& signer);

// Verifies `note` with the log's key and parses its checkpoint, whose
// origin must be `origin`. InvalidArgument when malformed or of another
// origin; Unauthenticated when the log's signature is missing or invalid.
absl::StatusOr<Checkpoint> OpenCheckpoint(absl::string_view note,
                                          const NoteVerifier& log_key,
                                          absl::string_view origin);

}  // namespace privacity::audit

#endif  // PRIVACITY_AUDIT_CHECKPOINT_H_
