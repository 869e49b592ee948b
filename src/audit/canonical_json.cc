#include "audit/canonical_json.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace privacity::audit {
namespace {

// Appends the UTF-16 code units of valid UTF-8 `s` to `out`.
void Utf16Units(absl::string_view s, std::vector<uint16_t>& out) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp;
    const uint8_t c = p[i];
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = (c & 0x1Fu) << 6 | (p[i + 1] & 0x3Fu);
      i += 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = (c & 0x0Fu) << 12 | (p[i + 1] & 0x3Fu) << 6 | (p[i + 2] & 0x3Fu);
      i += 3;
    } else {
      cp = (c & 0x07u) << 18 | (p[i + 1] & 0x3Fu) << 12 | (p[i + 2] & 0x3Fu) << 6 |
           (p[i + 3] & 0x3Fu);
      i += 4;
    }
    if (cp < 0x10000) {
      out.push_back(static_cast<uint16_t>(cp));
    } else {
      cp -= 0x10000;
      out.push_back(static_cast<uint16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<uint16_t>(0xDC00 + (cp & 0x3FF)));
    }
  }
}

std::string PointerToken(absl::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

absl::Status Invalid(const std::string& pointer, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(
      "canonical JSON: at '", pointer.empty() ? "/" : pointer, "': ", reason));
}

void AppendString(absl::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

absl::Status Encode(const nlohmann::json& value, const std::string& pointer, int depth,
                    std::string& out) {
  using Type = nlohmann::json::value_t;
  switch (value.type()) {
    case Type::null:
      out += "null";
      return absl::OkStatus();
    case Type::boolean:
      out += value.get<bool>() ? "true" : "false";
      return absl::OkStatus();
    case Type::number_integer: {
      const int64_t v = value.get<int64_t>();
      if (v > kMaxCanonicalInteger || v < -kMaxCanonicalInteger) {
        return Invalid(pointer, "integer beyond +-(2^53-1)");
      }
      absl::StrAppend(&out, v);
      return absl::OkStatus();
    }
    case Type::number_unsigned: {
      const uint64_t v = value.get<uint64_t>();
      if (v > static_cast<uint64_t>(kMaxCanonicalInteger)) {
        return Invalid(pointer, "integer beyond 2^53-1");
      }
      absl::StrAppend(&out, v);
      return absl::OkStatus();
    }
    case Type::number_float:
      return Invalid(pointer, "floating-point numbers are not allowed; use integers");
    case Type::string: {
      const auto& s = value.get_ref<const std::string&>();
      if (!IsValidUtf8(s)) return Invalid(pointer, "string is not valid UTF-8");
      AppendString(s, out);
      return absl::OkStatus();
    }
    case Type::array: {
      if (depth >= kMaxCanonicalDepth) return Invalid(pointer, "nested too deeply");
      out += '[';
      size_t i = 0;
      for (const nlohmann::json& element : value) {
        if (i > 0) out += ',';
        RETURN_IF_ERROR(Encode(element, absl::StrCat(pointer, "/", i), depth + 1, out));
        ++i;
      }
      out += ']';
      return absl::OkStatus();
    }
    case Type::object: {
      if (depth >= kMaxCanonicalDepth) return Invalid(pointer, "nested too deeply");
      struct Member {
        std::vector<uint16_t> units;
        const std::string* key;
        const nlohmann::json* value;
      };
      std::vector<Member> members;
      members.reserve(value.size());
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!IsValidUtf8(it.key())) return Invalid(pointer, "a key is not valid UTF-8");
        Member m{{}, &it.key(), &it.value()};
        Utf16Units(it.key(), m.units);
        members.push_back(std::move(m));
      }
      std::sort(members.begin(), members.end(),
                [](const Member& a, const Member& b) { return a.units < b.units; });
      out += '{';
      for (size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out += ',';
        AppendString(*members[i].key, out);
        out += ':';
        RETURN_IF_ERROR(Encode(*members[i].value,
                               absl::StrCat(pointer, "/", PointerToken(*members[i].key)),
                               depth + 1, out));
      }
      out += '}';
      return absl::OkStatus();
    }
    case Type::binary:
      return Invalid(pointer, "binary values are not JSON");
    case Type::discarded:
      return Invalid(pointer, "discarded value");
  }
  return Invalid(pointer, "unknown JSON type");
}

}  // namespace

absl::StatusOr<std::string> CanonicalJson(const nlohmann::json& value) {
  std::string out;
  RETURN_IF_ERROR(Encode(value, "", 0, out));
  return out;
}

absl::StatusOr<nlohmann::json> ParseCanonicalJson(absl::string_view bytes) {
  // Bound nesting before the (recursive) parser sees the input.
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : bytes) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxCanonicalDepth) {
        return absl::InvalidArgumentError("canonical JSON: nested too deeply");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  nlohmann::json value = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr,
                                               /*allow_exceptions=*/false);
  if (value.is_discarded())
    return absl::InvalidArgumentError("canonical JSON: not valid JSON");
  ASSIGN_OR_RETURN(const std::string canonical, CanonicalJson(value));
  if (canonical != bytes) {
    size_t at = 0;
    while (at < canonical.size() && at < bytes.size() && canonical[at] == bytes[at]) ++at;
    return absl::InvalidArgumentError(
        absl::StrCat("canonical JSON: not in canonical form from byte ", at));
  }
  return value;
}

}  // namespace privacity::audit
