// Internal to the crypto module: owning pointers for OpenSSL objects and
// the conversion of OpenSSL's error queue into a Status.
#ifndef PRIVACITY_CRYPTO_INTERNAL_OPENSSL_UTIL_H_
#define PRIVACITY_CRYPTO_INTERNAL_OPENSSL_UTIL_H_

#include <openssl/evp.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace privacity::crypto::internal {

struct MdDeleter {
  void operator()(EVP_MD* p) const { EVP_MD_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct CipherDeleter {
  void operator()(EVP_CIPHER* p) const { EVP_CIPHER_free(p); }
};
struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};

using MdPtr = std::unique_ptr<EVP_MD, MdDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, CipherDeleter>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// InternalError "OpenSSL failure while <what>: <first queued error>", and
// clears this thread's OpenSSL error queue.
absl::Status OpenSslError(absl::string_view what);

}  // namespace privacity::crypto::internal

#endif  // PRIVACITY_CRYPTO_INTERNAL_OPENSSL_UTIL_H_
