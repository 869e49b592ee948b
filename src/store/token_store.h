// Bearer tokens of the HTTP API. Only a token's SHA-256 is kept: the token
// itself is shown once when issued and never stored. A token belongs to a
// party; a sensor token is also bound to one stream and may only push
// records to it. Revoked tokens stay listed (with their revocation time) so
// the controller can see what existed.
#ifndef PRIVACITY_STORE_TOKEN_STORE_H_
#define PRIVACITY_STORE_TOKEN_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace privacity::store {

struct TokenRecord {
  int64_t id = 0;          // assigned by InsertToken
  std::string token_hash;  // SHA-256 of the token, 32 bytes
  std::string party;
  std::string stream;  // "" = party token; else the sensor's stream
  std::string label;   // free text of the controller, e.g. a sensor id
  int64_t created_us = 0;
  std::optional<int64_t> revoked_us;

  bool revoked() const { return revoked_us.has_value(); }
  bool sensor() const { return !stream.empty(); }
};

class TokenStore {
 public:
  virtual ~TokenStore() = default;

  // Stores `token` (its id is ignored) and returns the new id.
  // InvalidArgument when the hash is not 32 bytes or the party is empty;
  // AlreadyExists when the hash is already stored.
  virtual absl::StatusOr<int64_t> InsertToken(const TokenRecord& token) = 0;

  // The token with this hash, revoked or not; nullopt when none.
  virtual absl::StatusOr<std::optional<TokenRecord>> FindTokenByHash(
      const std::string& token_hash) = 0;

  // Marks token `id` revoked at `revoked_us`. NotFound for an unknown id;
  // revoking a revoked token keeps its first revocation time and is OK.
  virtual absl::Status RevokeToken(int64_t id, int64_t revoked_us) = 0;

  // Every token, by id.
  virtual absl::StatusOr<std::vector<TokenRecord>> ListTokens() = 0;
};

}  // namespace privacity::store

#endif  // PRIVACITY_STORE_TOKEN_STORE_H_
