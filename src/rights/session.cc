#include "rights/session.h"

#include "common/encoding.h"
#include "common/status_macros.h"
#include "crypto/crypto.h"

namespace privacity::rights {
namespace {

constexpr size_t kTokenBytes = 32;

}  // namespace

absl::StatusOr<IssuedSession> SessionManager::Issue(const std::string& blind_index) {
  if (blind_index.empty()) {
    return absl::InvalidArgumentError("citizen session: blind index is empty");
  }
  IssuedSession issued;
  issued.token = Base64UrlEncode(random_.Bytes(kTokenBytes));
  issued.expires = clock_.Now() + lifetime_;
  absl::MutexLock lock(&mu_);
  sessions_[crypto::Sha256(issued.token)] = CitizenSession{blind_index, issued.expires};
  return issued;
}

absl::StatusOr<CitizenSession> SessionManager::Authenticate(std::string_view token) {
  const absl::Status unauthenticated =
      absl::UnauthenticatedError("citizen session: unknown or expired token");
  if (token.size() > 128) return unauthenticated;
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
    return entry.second.blind_index == blind_index;
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

absl::StatusOr<IssuedSession> OpenCitizenSession(ClaimVerifier& verifier,
                                                 SessionManager& sessions,
                                                 const ClaimAttempt& attempt) {
  ASSIGN_OR_RETURN(std::string blind_index, verifier.Verify(attempt));
  return sessions.Issue(blind_index);
}

}  // namespace privacity::rights
