// Helpers for the store tests: a temporary directory and the backend
// factory the conformance suite is parameterised over.
#ifndef PRIVACITY_TESTS_STORE_STORE_TEST_UTIL_H_
#define PRIVACITY_TESTS_STORE_STORE_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <ostream>
#include <string>
#include <system_error>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "store/store.h"

namespace privacity::store::testing {

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "privacity-store-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One store backend under test. `open` opens the store at a location: two
// calls with the same `dir` must give two independent instances of the same
// store (as two processes would have); a fresh `dir` gives an empty store.
// `skip` gives a reason to skip the backend ("" to run it); `drop` forgets
// the store of `dir` (a server-side database) once its instances are closed.
struct StoreBackend {
  std::string name;
  std::function<absl::StatusOr<StorePtr>(const std::string& dir)> open;
  std::function<std::string()> skip = [] { return std::string(); };
  std::function<void(const std::string& dir)> drop = [](const std::string&) {};
};

// The backends every conformance suite runs against (store_backends.cc):
// SQLite always, PostgreSQL when a test server is configured.
StoreBackend SqliteBackend();
StoreBackend PostgresqlBackend();

inline void PrintTo(const StoreBackend& backend, std::ostream* os) {
  *os << backend.name;
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

}  // namespace privacity::store::testing

#endif  // PRIVACITY_TESTS_STORE_STORE_TEST_UTIL_H_
