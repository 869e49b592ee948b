#include "audit/proof_check.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/merkle.h"
#include "common/encoding.h"
#include "nlohmann/json.hpp"

namespace privacity::audit {
namespace {

using nlohmann::json;

// Proof files are small; anything larger is not one.
constexpr size_t kMaxProofFileSize = 1 << 20;

ProofCheck Malformed(absl::string_view reason) {
  return ProofCheck{ProofVerdict::kMalformed, absl::StrCat("malformed proof: ", reason)};
}

// Members are read into these, or the reason they could not be.
struct Reader {
  const json& j;
  std::string error;

  std::optional<uint64_t> Uint(const char* name) {
    const auto it = j.find(name);
    // is_number_integer() is true for signed and unsigned integers alike.
    if (it == j.end() || !it->is_number_integer() ||
        (!it->is_number_unsigned() && it->get<int64_t>() < 0)) {
      Fail(absl::StrCat("'", name, "' must be a non-negative integer"));
      return std::nullopt;
    }
    return it->get<uint64_t>();
  }

  std::optional<std::string> Bytes(const json& value, absl::string_view name) {
    if (!value.is_string()) {
      Fail(absl::StrCat("'", name, "' must be a base64 string"));
      return std::nullopt;
    }
    absl::StatusOr<std::string> bytes = Base64Decode(value.get_ref<const std::string&>());
    if (!bytes.ok()) {
      Fail(absl::StrCat("'", name, "' is not valid base64"));
      return std::nullopt;
    }
    return *bytes;
  }

  std::optional<std::string> Bytes(const char* name) {
    const auto it = j.find(name);
    if (it == j.end()) {
      Fail(absl::StrCat("'", name, "' is missing"));
      return std::nullopt;
    }
    return Bytes(*it, name);
  }

  std::optional<std::vector<std::string>> Proof() {
    const auto it = j.find("proof");
    std::vector<std::string> out;
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_array()) {
      Fail("'proof' must be an array of base64 strings");
      return std::nullopt;
    }
    for (size_t i = 0; i < it->size(); ++i) {
      std::optional<std::string> b = Bytes((*it)[i], absl::StrCat("proof[", i, "]"));
      if (!b) return std::nullopt;
      out.push_back(std::move(*b));
    }
    return out;
  }

  void Fail(std::string reason) {
    if (error.empty()) error = std::move(reason);
  }
};

ProofCheck Verdict(absl::string_view kind, const absl::Status& status) {
  if (status.ok())
    return ProofCheck{ProofVerdict::kHolds, absl::StrCat(kind, " proof holds")};
  return ProofCheck{ProofVerdict::kFails,
                    absl::StrCat(kind, " proof does not hold: ", status.message())};
}

}  // namespace

ProofCheck CheckProofJson(absl::string_view json_text) {
  const json j = json::parse(json_text.begin(), json_text.end(), nullptr,
                             /*allow_exceptions=*/false);
  if (j.is_discarded()) return Malformed("not valid JSON");
  if (!j.is_object()) return Malformed("not a JSON object");
  const bool inclusion = j.contains("leafIdx");
  const bool consistency = j.contains("size1");
  if (inclusion == consistency) {
    return Malformed(
        "expected either an inclusion proof (leafIdx, treeSize, root, leafHash, proof) "
        "or a consistency proof (size1, size2, root1, root2, proof)");
  }
  Reader r{j, ""};
  if (inclusion) {
    const auto index = r.Uint("leafIdx");
    const auto size = r.Uint("treeSize");
    const auto root = r.Bytes("root");
    const auto leaf = r.Bytes("leafHash");
    const auto proof = r.Proof();
    if (!r.error.empty()) return Malformed(r.error);
    return Verdict("inclusion",
                   VerifyInclusionBytes(*index, *size, *leaf, *proof, *root));
  }
  const auto size1 = r.Uint("size1");
  const auto size2 = r.Uint("size2");
  const auto root1 = r.Bytes("root1");
  const auto root2 = r.Bytes("root2");
  const auto proof = r.Proof();
  if (!r.error.empty()) return Malformed(r.error);
  return Verdict("consistency",
                 VerifyConsistencyBytes(*size1, *size2, *proof, *root1, *root2));
}

ProofCheck CheckProofFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Malformed("cannot open the file");
  std::string text;
  char buf[8192];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxProofFileSize)
      return Malformed("the file is larger than 1 MiB");
  }
  if (in.bad()) return Malformed("cannot read the file");
  return CheckProofJson(text);
}

int ExitCode(ProofVerdict verdict) {
  switch (verdict) {
    case ProofVerdict::kHolds:
      return 0;
    case ProofVerdict::kFails:
      return 1;
    case ProofVerdict::kMalformed:
      return 2;
  }
  return 2;
}

}  // namespace privacity::audit
