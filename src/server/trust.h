// The running trust: the city config, the store, the keyring, and the clock
// and randomness they use, opened from a data directory. The CLI, the HTTP
// server and tests all work through this one object.
//
// Data directory layout:
//   master.key        32-byte master key, mode 0600 (or PRIVACITY_MASTER_KEY)
//   privacity.db      the embedded store (SQLite, WAL), unless city.yaml
//                     names another store
#ifndef PRIVACITY_SERVER_TRUST_H_
#define PRIVACITY_SERVER_TRUST_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/model.h"
#include "crypto/keyring.h"
#include "ingest/ingester.h"
#include "ingest/pipeline_pool.h"
#include "server/audit_trail.h"
#include "store/store.h"

namespace privacity::server {

inline constexpr char kMasterKeyFile[] = "master.key";

class Trust {
 public:
  // Creates `data_dir` (mode 0700) if needed, a new master key, the store
  // and the trust-wide keys. Fails with AlreadyExists when `data_dir`
  // already holds a master key.
  static absl::Status Initialize(const config::CityConfig& config,
                                 const std::string& data_dir, Clock& clock,
                                 RandomSource& random);

  // Opens an initialised data directory. FailedPrecondition when it is not
  // initialised or the master key file is readable by group or others.
  // Opens the audit trail, and appends a config-change leaf when the
  // config's digest (SHA-256 of config::ToYaml) differs from the one
  // recorded in store meta "config_sha256" (so also the first time).
  // REQUIRES: `clock` and `random` outlive the trust.
  static absl::StatusOr<std::unique_ptr<Trust>> Open(config::CityConfig config,
                                                     const std::string& data_dir,
                                                     Clock& clock, RandomSource& random);

  const config::CityConfig& config() const { return config_; }
  store::Store& store() { return *store_; }
  crypto::Keyring& keyring() { return *keyring_; }
  // The transparency log (server/audit_trail.h).
  AuditTrail& audit() { return *audit_; }
  // Stream pipelines kept between requests with the keys they cache
  // (ingest/pipeline_pool.h).
  ingest::PipelinePool& pipelines() { return *pipelines_; }
  // Options for an ingest that answers a request: its pipeline comes from
  // pipelines(), and its ingest leaf is durable before the ingest returns
  // (so before the request is acknowledged).
  ingest::IngestOptions RequestIngestOptions(const config::Stream& stream);
  Clock& clock() { return clock_; }
  RandomSource& random() { return random_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  Trust(config::CityConfig config, std::string data_dir, Clock& clock,
        RandomSource& random)
      : config_(std::move(config)),
        data_dir_(std::move(data_dir)),
        clock_(clock),
        random_(random) {}
  // Appends a config-change leaf when the config differs from the last one
  // logged.
  absl::Status LogConfigChange();

  config::CityConfig config_;
  std::string data_dir_;
  Clock& clock_;
  RandomSource& random_;
  store::StorePtr store_;
  std::unique_ptr<crypto::Keyring> keyring_;
  std::unique_ptr<AuditTrail> audit_;
  std::unique_ptr<ingest::PipelinePool> pipelines_;  // freed before the keyring
};

}  // namespace privacity::server

#endif  // PRIVACITY_SERVER_TRUST_H_
