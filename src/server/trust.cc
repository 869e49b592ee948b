#include "server/trust.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "config/loader.h"
#include "crypto/crypto.h"

namespace privacity::server {
namespace {

std::string MasterKeyPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / kMasterKeyFile).string();
}

absl::Status EnsurePrivateDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data directory '", dir, "': ", ec.message()));
  }
  if (::chmod(dir.c_str(), 0700) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot restrict data directory '",
                                                      dir, "': ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Trust::Initialize(const config::CityConfig& config,
                               const std::string& data_dir, Clock& clock,
                               RandomSource& random) {
  const std::string key_path = MasterKeyPath(data_dir);
  if (std::filesystem::exists(key_path)) {
    return absl::AlreadyExistsError(absl::StrCat(
        "'", data_dir, "' is already initialised (it holds ", kMasterKeyFile, ")"));
  }
  RETURN_IF_ERROR(EnsurePrivateDirectory(data_dir));
  RETURN_IF_ERROR(crypto::CreateMasterKeyFile(key_path, random));
  ASSIGN_OR_RETURN(std::unique_ptr<Trust> trust, Open(config, data_dir, clock, random));
  // The trust-wide keys exist from the start, so concurrent first uses
  // cannot race to create them.
  // Each is a key event in the log, after the master key's: the keyring
  // reports index and claim (the audit trail is its listener); the log
  // signing key was made by AuditTrail::Open, before there was a listener,
  // and its event carries the verifier key.
  audit::KeyEventLeaf master{.time = clock.Now(), .kind = audit::LoggedKeyKind::kMaster};
  RETURN_IF_ERROR(trust->audit().Append(master).status());
  for (crypto::KeyKind kind : {crypto::KeyKind::kIndex, crypto::KeyKind::kClaim}) {
    RETURN_IF_ERROR(trust->keyring().GetOrCreate(crypto::KeyName{.kind = kind}).status());
  }
  ASSIGN_OR_RETURN(crypto::UnwrappedKey signing,
                   trust->keyring().GetOrCreate(
                       crypto::KeyName{.kind = crypto::KeyKind::kLogSigning}));
  audit::KeyEventLeaf event{.time = clock.Now(),
                            .kind = audit::LoggedKeyKind::kLogSigning,
                            .key_id = signing.id,
                            .verifier_key = trust->audit().VerifierKey()};
  return trust->audit().Append(event).status();
}

absl::StatusOr<std::unique_ptr<Trust>> Trust::Open(config::CityConfig config,
                                                   const std::string& data_dir,
                                                   Clock& clock, RandomSource& random) {
  const std::string key_path = MasterKeyPath(data_dir);
  if (std::getenv("PRIVACITY_MASTER_KEY") == nullptr &&
      !std::filesystem::exists(key_path)) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", data_dir, "' is not initialised: run `privacity init --config ",
                     config.source_path.empty() ? "city.yaml" : config.source_path,
                     " --data-dir ", data_dir, "`"));
  }
  ASSIGN_OR_RETURN(crypto::SecretBytes master_key, crypto::LoadMasterKey(key_path));
  std::unique_ptr<Trust> trust(new Trust(std::move(config), data_dir, clock, random));
  ASSIGN_OR_RETURN(trust->store_, store::OpenStore(trust->config_.store, data_dir));
  ASSIGN_OR_RETURN(
      trust->keyring_,
      crypto::Keyring::Create(master_key, trust->store_->keys(), random, clock));
  ASSIGN_OR_RETURN(trust->audit_,
                   AuditTrail::Open(*trust->store_, *trust->keyring_, clock,
                                    LogOrigin(trust->config_.city)));
  trust->keyring_->SetListener(trust->audit_.get());
  trust->pipelines_ = std::make_unique<ingest::PipelinePool>(*trust->keyring_, random);
  RETURN_IF_ERROR(trust->LogConfigChange());
  return trust;
}

ingest::IngestOptions Trust::RequestIngestOptions(const config::Stream& stream) {
  ingest::IngestOptions options;
  options.pipelines = pipelines_.get();
  options.log_ingest = audit_->LoggerFor(stream.id);
  return options;
}

absl::Status Trust::LogConfigChange() {
  constexpr char kMetaKey[] = "config_sha256";  // hex
  const std::string digest = crypto::Sha256(config::ToYaml(config_));
  const std::string digest_hex = absl::BytesToHexString(digest);
  ASSIGN_OR_RETURN(std::optional<std::string> previous, store_->GetMeta(kMetaKey));
  if (previous.has_value() && *previous == digest_hex) return absl::OkStatus();
  audit::ConfigChangeLeaf leaf{.time = clock_.Now()};
  ASSIGN_OR_RETURN(leaf.digest, audit::HashFromBytes(digest));
  if (previous.has_value()) {
    // A malformed stored digest is not fatal: the change is still logged.
    auto before = audit::HashFromBytes(absl::HexStringToBytes(*previous));
    if (before.ok()) leaf.previous = *before;
  }
  RETURN_IF_ERROR(audit_->Append(leaf).status());
  return store_->PutMeta(kMetaKey, digest_hex);
}

}  // namespace privacity::server
