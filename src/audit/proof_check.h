// Checking a proof someone handed you, given as JSON (`privacity log
// check-proof FILE`). Two layouts, with hashes in standard base64:
//   inclusion:   {"leafIdx": 2, "treeSize": 3, "root": "...",
//                 "leafHash": "...", "proof": ["...", ...]}
//   consistency: {"size1": 3, "size2": 7, "root1": "...", "root2": "...",
//                 "proof": ["...", ...]}
// "proof" may be null or absent for an empty proof; other members (such as
// "desc" or "wantErr" in test vectors) are ignored.
#ifndef PRIVACITY_AUDIT_PROOF_CHECK_H_
#define PRIVACITY_AUDIT_PROOF_CHECK_H_

#include <string>

#include "absl/strings/string_view.h"

namespace privacity::audit {

enum class ProofVerdict {
  kHolds,      // the proof is valid
  kFails,      // well-formed input, but the proof does not hold (including
               // hashes that are not 32 bytes and out-of-range indexes)
  kMalformed,  // unreadable file, not JSON, missing or mistyped members,
               // invalid base64
};

struct ProofCheck {
  ProofVerdict verdict = ProofVerdict::kMalformed;
  std::string message;  // one line, naming the proof kind and the reason
};

ProofCheck CheckProofJson(absl::string_view json_text);
ProofCheck CheckProofFile(const std::string& path);

// The exit code for a verdict: 0 holds, 1 fails, 2 malformed.
int ExitCode(ProofVerdict verdict);

}  // namespace privacity::audit

#endif  // PRIVACITY_AUDIT_PROOF_CHECK_H_
