// Helpers shared by the audit tests.
#ifndef PRIVACITY_TESTS_AUDIT_TEST_UTIL_H_
#define PRIVACITY_TESTS_AUDIT_TEST_UTIL_H_

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/merkle.h"
#include "nlohmann/json.hpp"

namespace privacity::audit::testing {

inline std::string ReadFileOrDie(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline nlohmann::json ReadJson(const std::filesystem::path& path) {
  return nlohmann::json::parse(ReadFileOrDie(path));
}

// The shared data set's Merkle folder, or "" when it is not there.
inline std::filesystem::path SharedMerkleDir() {
  const std::filesystem::path dir =
      std::filesystem::path(PRIVACITY_SHARED_DATA) / "merkle";
  return std::filesystem::is_directory(dir) ? dir : std::filesystem::path();
}

inline std::filesystem::path EmbeddedMerkleDir() {
  return std::filesystem::path(PRIVACITY_TEST_DATA) / "audit" / "merkle";
}

// Every *.json under `dir`, sorted.
inline std::vector<std::filesystem::path> JsonFilesUnder(
    const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Deterministic distinct leaves.
inline std::string TestLeaf(uint64_t i) {
  return absl::StrCat("{\"i\":", i, ",\"type\":\"test\"}");
}

inline std::vector<Hash> TestLeafHashes(uint64_t n) {
  std::vector<Hash> out;
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) out.push_back(HashLeaf(TestLeaf(i)));
  return out;
}

}  // namespace privacity::audit::testing

#endif  // PRIVACITY_TESTS_AUDIT_TEST_UTIL_H_
