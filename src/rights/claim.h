// Claim codes: how a citizen proves an identifier (a meter number, a bike
// id) is theirs. The city prints the code on a bill or on the device; the
// trust recomputes it on demand, so nothing is stored.
//
//   tag  = HMAC-SHA256(K_claim, "privacity-claim-v1" || len(stream) || stream
//                                || len(id) || id)      (lengths: 64-bit BE)
//   id   = transform::NormalizeIdentifier(raw identifier)
//   code = the first 50 bits of tag as 10 Crockford base32 symbols
//          (0-9, A-Z without I, L, O, U), then one check symbol: the 50-bit
//          value modulo 37 in Crockford's check alphabet (the 32 symbols
//          then '*', '~', '$', '=', 'U').
// Shown as "XXXXX-XXXXX-C". Reading a typed code ignores spaces and '-',
// upper-cases letters and maps O to 0 and I, L to 1, as Crockford
// specifies; a wrong check symbol is reported as a typo before anything is
// verified. The check catches every single wrong symbol and every swap of
// two neighbouring data symbols (37 is prime and exceeds every symbol
// difference).
#ifndef PRIVACITY_RIGHTS_CLAIM_H_
#define PRIVACITY_RIGHTS_CLAIM_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "config/model.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "transform/pipeline.h"

namespace privacity::rights {

inline constexpr int kClaimCodeDataSymbols = 10;

// Reads a typed code into its canonical 11 symbols (10 data + check), or
// InvalidArgument saying what is wrong (length, a symbol outside the
// alphabet, or the check symbol: "probably a typo").
absl::StatusOr<std::string> ParseClaimCode(std::string_view typed);

// "XXXXX-XXXXX-C" from canonical symbols. REQUIRES: canonical.size() == 11.
std::string FormatClaimCode(std::string_view canonical);

// Computes and checks claim codes under the trust's claim key.
// Thread-safe.
class ClaimCodes {
 public:
  // Fetches (creating when needed) the claim key.
  static absl::StatusOr<std::unique_ptr<ClaimCodes>> Create(crypto::Keyring& keyring);

  // The formatted code of `raw_identifier` in `stream`. InvalidArgument
  // when the stream id is empty or the identifier normalises to nothing.
  absl::StatusOr<std::string> Compute(std::string_view stream,
                                      std::string_view raw_identifier) const;

  // OK when `typed` is the code of (stream, identifier); InvalidArgument
  // when it is malformed (see ParseClaimCode); PermissionDenied when it is
  // well-formed but wrong. The comparison is constant-time.
  absl::Status Verify(std::string_view stream, std::string_view raw_identifier,
                      std::string_view typed) const;

 private:
  explicit ClaimCodes(std::unique_ptr<crypto::HmacSha256> mac) : mac_(std::move(mac)) {}
  absl::StatusOr<std::string> Canonical(std::string_view stream,
                                        std::string_view raw_identifier) const;

  std::unique_ptr<crypto::HmacSha256> mac_;
};

struct FailureLimitOptions {
  int max_failures = 5;  // within `window`, then locked
  absl::Duration window = absl::Minutes(15);
  // Keys tracked at most; beyond it expired entries are dropped first and,
  // if still full, new keys are refused (fail closed) rather than evicting
  // someone's history.
  size_t max_keys = 100000;
};

// The seconds after which a ResourceExhausted status from the limiter may
// be retried (carried as a status payload), or nullopt.
std::optional<int64_t> RetryAfterSeconds(const absl::Status& status);

// Counts failures per key in a sliding window, in memory. A key with
// `max_failures` failures in the last `window` is locked until the oldest of
// them leaves the window. Thread-safe.
class FailureLimiter {
 public:
  // REQUIRES: `clock` outlives the limiter.
  FailureLimiter(Clock& clock, FailureLimitOptions options)
      : clock_(clock), options_(options) {}

  // OK, or ResourceExhausted naming when to retry (never the key).
  absl::Status Check(const std::string& key);
  void RecordFailure(const std::string& key);

 private:
  void PruneLocked(const std::string& key, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock& clock_;
  const FailureLimitOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::deque<absl::Time>> failures_ ABSL_GUARDED_BY(mu_);
};

// One attempt to claim an identifier.
struct ClaimAttempt {
  std::string stream;
  std::string identifier;  // raw, as typed; normalised here
  std::string code;        // as typed
  std::string source;      // e.g. the client's address; never logged
};

// Verifies claim attempts with rate limiting per source and per
// identifier (its blind index), so neither one address nor many addresses
// against one identifier can guess codes. Thread-safe.
class ClaimVerifier {
 public:
  // REQUIRES: `config`, `keyring` and `clock` outlive the verifier.
  static absl::StatusOr<std::unique_ptr<ClaimVerifier>> Create(
      const config::CityConfig& config, crypto::Keyring& keyring, Clock& clock,
      FailureLimitOptions options = {});

  // The subject's blind index when the code is right. Errors:
  //   NotFound          unknown stream;
  //   FailedPrecondition a stream without subjects;
  //   ResourceExhausted too many wrong codes from this source or for this
  //                     identifier (checked first);
  //   InvalidArgument   malformed code (not counted as a failure: typos);
  //   PermissionDenied  wrong code (counted against source and identifier).
  absl::StatusOr<std::string> Verify(const ClaimAttempt& attempt);

 private:
  ClaimVerifier(const config::CityConfig& config, std::unique_ptr<ClaimCodes> codes,
                std::unique_ptr<transform::SubjectIndexer> indexer, Clock& clock,
                FailureLimitOptions options)
      : config_(config),
        codes_(std::move(codes)),
        indexer_(std::move(indexer)),
        by_source_(clock, options),
        by_subject_(clock, options) {}

  const config::CityConfig& config_;
  std::unique_ptr<ClaimCodes> codes_;
  std::unique_ptr<transform::SubjectIndexer> indexer_;
  FailureLimiter by_source_;
  FailureLimiter by_subject_;
};

}  // namespace privacity::rights

#endif  // PRIVACITY_RIGHTS_CLAIM_H_
