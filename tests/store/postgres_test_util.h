// PostgreSQL for tests: a server is used when PRIVACITY_TEST_POSTGRES_URL
// names one (a libpq URI of a role that may create databases, e.g.
// postgresql://postgres@127.0.0.1:5432/postgres); scripts/test starts a
// private cluster and sets it. Without it, PostgreSQL tests skip and say why.
// Each test works in a database of its own, dropped afterwards.
#ifndef PRIVACITY_TESTS_STORE_POSTGRES_TEST_UTIL_H_
#define PRIVACITY_TESTS_STORE_POSTGRES_TEST_UTIL_H_

#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace privacity::store::testing {

inline constexpr char kPostgresUrlEnv[] = "PRIVACITY_TEST_POSTGRES_URL";

inline std::optional<std::string> TestPostgresUrl() {
  const char* url = getenv(kPostgresUrlEnv);
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

inline std::string PostgresSkipReason() {
  return absl::StrCat(kPostgresUrlEnv,
                      " is not set: no PostgreSQL server to test against "
                      "(scripts/test starts one)");
}

// `uri` with its database replaced by `db`. REQUIRES: a postgresql:// or
// postgres:// URI.
inline std::string WithDatabase(const std::string& uri, const std::string& db) {
  const size_t scheme = uri.find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t query = uri.find('?', start);
  const size_t slash = uri.find('/', start);
  const size_t host_end =
      slash != std::string::npos && (query == std::string::npos || slash < query) ? slash
                                                                                  : query;
  std::string out = uri.substr(0, host_end == std::string::npos ? uri.size() : host_end);
  out += "/" + db;
  if (query != std::string::npos) out += uri.substr(query);
  return out;
}

// Runs one statement on the server's admin database.
inline absl::Status AdminExec(const std::string& sql) {
  std::optional<std::string> url = TestPostgresUrl();
  if (!url.has_value()) return absl::FailedPreconditionError(PostgresSkipReason());
  PGconn* conn = PQconnectdb(url->c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    return absl::UnavailableError("cannot connect to the test server: " + msg);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  absl::Status status = absl::OkStatus();
  if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
    status = absl::InternalError(absl::StrCat(sql, ": ", PQerrorMessage(conn)));
  }
  PQclear(res);
  PQfinish(conn);
  return status;
}

// A database name unique to this process and call.
inline std::string FreshDatabaseName() {
  static std::atomic<int> counter{0};
  return absl::StrCat("privacity_test_", getpid(), "_", counter.fetch_add(1));
}

// A fresh, empty database, dropped (with its connections) on destruction.
class TestDatabase {
 public:
  static absl::StatusOr<std::unique_ptr<TestDatabase>> Create() {
    std::optional<std::string> url = TestPostgresUrl();
    if (!url.has_value()) return absl::FailedPreconditionError(PostgresSkipReason());
    const std::string name = FreshDatabaseName();
    absl::Status s = AdminExec(absl::StrCat("CREATE DATABASE ", name));
    if (!s.ok()) return s;
    return std::unique_ptr<TestDatabase>(
        new TestDatabase(name, WithDatabase(*url, name)));
  }
  ~TestDatabase() {
    (void)AdminExec(absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"));
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& uri() const { return uri_; }
  const std::string& name() const { return name_; }

 private:
  TestDatabase(std::string name, std::string uri)
      : name_(std::move(name)), uri_(std::move(uri)) {}
  std::string name_;
  std::string uri_;
};

}  // namespace privacity::store::testing

#endif  // PRIVACITY_TESTS_STORE_POSTGRES_TEST_UTIL_H_
