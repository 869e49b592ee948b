// Byte encodings. Byte strings are carried in std::string.
#ifndef PRIVACITY_COMMON_ENCODING_H_
#define PRIVACITY_COMMON_ENCODING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace privacity {

std::string HexEncode(absl::string_view bytes);  // lowercase
absl::StatusOr<std::string> HexDecode(absl::string_view hex);

std::string Base64Encode(absl::string_view bytes);  // standard, padded
absl::StatusOr<std::string> Base64Decode(absl::string_view text);
std::string Base64UrlEncode(absl::string_view bytes);  // unpadded

// RFC 4648 base32, lowercase, unpadded: used for pseudonyms, which people
// read and copy.
std::string Base32Encode(absl::string_view bytes);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(absl::string_view text);

}  // namespace privacity

#endif  // PRIVACITY_COMMON_ENCODING_H_
