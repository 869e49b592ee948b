#include "crypto/internal/openssl_util.h"

#include <openssl/err.h>

#include "absl/strings/str_cat.h"

namespace privacity::crypto::internal {

absl::Status OpenSslError(absl::string_view what) {
  // OpenSSL's messages name the library, function and reason, never data.
  char reason[256] = "no detail";
  if (const unsigned long code = ERR_get_error(); code != 0) {
    ERR_error_string_n(code, reason, sizeof(reason));
  }
  ERR_clear_error();
  return absl::InternalError(absl::StrCat("OpenSSL failure while ", what, ": ", reason));
}

}  // namespace privacity::crypto::internal
