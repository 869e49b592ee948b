#include "store/store.h"

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "store/postgresql/postgresql_store.h"
#include "store/sqlite/sqlite_store.h"

namespace privacity::store {
namespace {

constexpr absl::string_view kSqlitePrefix = "sqlite:";

// The URI's scheme (before the first ':'), for error messages. The rest of
// a URI may hold credentials, so it never appears in a message.
// Empty when the URI has no well-formed scheme (RFC 3986: a letter, then
// letters, digits, '+', '-' or '.').
absl::string_view SchemeOf(absl::string_view uri) {
  const size_t colon = uri.find(':');
  if (colon == absl::string_view::npos || colon == 0 || colon > 32) return {};
  const absl::string_view scheme = uri.substr(0, colon);
  if (!absl::ascii_isalpha(static_cast<unsigned char>(scheme[0]))) return {};
  for (char c : scheme) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' &&
        c != '.') {
      return {};
    }
  }
  return scheme;
}

}  // namespace

absl::Status Store::AppendRecordsOnce(absl::Span<const StoredRecord>,
                                      absl::Span<const IngestKey>) {
  return absl::UnimplementedError("this store keeps no ingest dedupe keys");
}

absl::StatusOr<std::vector<bool>> Store::FindIngestKeys(absl::Span<const IngestKey>) {
  return absl::UnimplementedError("this store keeps no ingest dedupe keys");
}

absl::StatusOr<int64_t> Store::DeleteIngestKeysBefore(int64_t) {
  return absl::UnimplementedError("this store keeps no ingest dedupe keys");
}

absl::StatusOr<StorePtr> OpenStore(const std::string& uri, const std::string& data_dir) {
  if (absl::StartsWith(uri, kSqlitePrefix)) {
    const std::string path_text = uri.substr(kSqlitePrefix.size());
    if (path_text.empty()) {
      return absl::InvalidArgumentError(
          "store URI 'sqlite:' has no path; expected sqlite:PATH");
    }
    std::filesystem::path path(path_text);
    if (path.is_relative()) {
      // "./" keeps a relative name such as ":memory:" a file name.
      path = data_dir.empty() ? std::filesystem::path(".") / path
                              : std::filesystem::path(data_dir) / path;
    }
    return sqlite_internal::OpenSqliteStore(path.string());
  }
  const absl::string_view scheme = SchemeOf(uri);
  if (scheme == "postgresql" || scheme == "postgres") {
    return postgresql_internal::OpenPostgresqlStore(uri);
  }
  if (scheme.empty()) {
    return absl::InvalidArgumentError(
        "store URI has no scheme; expected sqlite:PATH or postgresql://...");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("store URI scheme '", scheme,
                   "' is not supported; expected sqlite:PATH or postgresql://..."));
}

}  // namespace privacity::store
