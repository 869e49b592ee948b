#include "rights/session.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "crypto/crypto.h"

namespace privacity::rights {
namespace {

constexpr size_t kTokenBytes = 32;
constexpr size_t kMaxTokenSize = 128;

void AddUnique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

}  // namespace

absl::StatusOr<IssuedSession> SessionManager::Issue(const SessionSubject& subject) {
  if (subject.blind_indexes.empty()) {
    return absl::InvalidArgumentError("citizen session: no identifier");
  }
  for (const std::string& bi : subject.blind_indexes) {
    if (bi.empty()) {
      return absl::InvalidArgumentError("citizen session: blind index is empty");
    }
  }
  IssuedSession issued;
  issued.token = absl::StrCat(std::string(kCitizenTokenPrefix),
                              Base64UrlEncode(random_.Bytes(kTokenBytes)));
  const absl::Time now = clock_.Now();
  issued.expires = now + options_.lifetime;
  absl::MutexLock lock(&mu_);
  if (sessions_.size() >= options_.max_sessions) {
    absl::erase_if(sessions_,
                   [&](const auto& entry) { return now >= entry.second.expires; });
    if (sessions_.size() >= options_.max_sessions) {
      return absl::ResourceExhaustedError(
          "too many citizen sessions are open; retry later");
    }
  }
  sessions_[crypto::Sha256(issued.token)] = CitizenSession{subject, issued.expires};
  return issued;
}

absl::StatusOr<CitizenSession> SessionManager::Authenticate(std::string_view token) {
  const absl::Status unauthenticated =
      absl::UnauthenticatedError("citizen session: unknown or expired token");
  if (token.size() > kMaxTokenSize || !token.starts_with(kCitizenTokenPrefix)) {
    return unauthenticated;
  }
  const std::string hash = crypto::Sha256(absl::string_view(token.data(), token.size()));
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(hash);
  if (it == sessions_.end() || !crypto::ConstantTimeEquals(it->first, hash)) {
    return unauthenticated;
  }
  if (now >= it->second.expires) {
    sessions_.erase(it);
    return unauthenticated;
  }
  return it->second;
}

void SessionManager::Revoke(std::string_view token) {
  const std::string hash = crypto::Sha256(absl::string_view(token.data(), token.size()));
  absl::MutexLock lock(&mu_);
  sessions_.erase(hash);
}

void SessionManager::RevokeSubject(const std::string& blind_index) {
  absl::MutexLock lock(&mu_);
  absl::erase_if(sessions_, [&](const auto& entry) {
    const std::vector<std::string>& bis = entry.second.subject.blind_indexes;
    return std::find(bis.begin(), bis.end(), blind_index) != bis.end();
  });
}

size_t SessionManager::PruneExpired() {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  return absl::erase_if(sessions_,
                        [&](const auto& entry) { return now >= entry.second.expires; });
}

size_t SessionManager::size() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

absl::StatusOr<IssuedSession> OpenSessionForIdentifiers(
    const config::CityConfig& config, const transform::SubjectIndexer& indexer,
    SessionManager& sessions, absl::Span<const SubjectIdentifier> identifiers) {
  if (identifiers.empty()) {
    return absl::InvalidArgumentError("citizen session: no identifier");
  }
  SessionSubject subject;
  for (const SubjectIdentifier& identifier : identifiers) {
    const config::Stream* stream = config.FindStream(identifier.stream);
    if (stream == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("citizen session: unknown stream '", identifier.stream, "'"));
    }
    if (!stream->personal()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "citizen session: stream '", identifier.stream, "' has no data subjects"));
    }
    if (transform::NormalizeIdentifier(identifier.id).empty()) {
      return absl::InvalidArgumentError("citizen session: identifier is empty");
    }
    AddUnique(subject.blind_indexes, indexer.BlindIndex(identifier.id));
    AddUnique(subject.streams, stream->id);
  }
  return sessions.Issue(subject);
}

absl::StatusOr<IssuedSession> OpenCitizenSession(ClaimVerifier& verifier,
                                                 SessionManager& sessions,
                                                 const ClaimAttempt& attempt) {
  ASSIGN_OR_RETURN(std::string blind_index, verifier.Verify(attempt));
  return sessions.Issue(SessionSubject{{blind_index}, {attempt.stream}});
}

}  // namespace privacity::rights
