// The child of the log crash test (log_crash_test.cc): opens the trust in
// DATA_DIR and ingests batches of meter readings into
// energy.meter_readings as fast as it can, each with its ingest leaf
// appended durably before the batch counts as acknowledged, while a second
// thread signs a checkpoint every few milliseconds (as `serve` does every
// few seconds). After each acknowledged batch it prints
//   ack <hex SHA-256 digest of the batch as stored>
// on stdout and flushes, so the parent knows exactly what was acknowledged
// when it kills this process.
//
// Usage: log_crash_child CITY_YAML DATA_DIR SEED
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "ingest/ingester.h"
#include "server/trust.h"

int main(int argc, char** argv) {
  using namespace privacity;
  if (argc != 4) {
    std::fprintf(stderr, "usage: log_crash_child CITY_YAML DATA_DIR SEED\n");
    return 2;
  }
  uint64_t seed = 0;
  if (!absl::SimpleAtoi(argv[3], &seed)) return 2;
  auto config = config::LoadConfigFile(argv[1]);
  if (!config.ok()) {
    std::fprintf(stderr, "config: %s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  SystemClock clock;
  CryptoRandom random;
  auto trust = server::Trust::Open(*config, argv[2], clock, random);
  if (!trust.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(trust.status().message()).c_str());
    return 1;
  }
  const config::Stream* stream = (*trust)->config().FindStream("energy.meter_readings");
  if (stream == nullptr) return 1;

  std::atomic<bool> stop{false};
  std::thread signer([&] {
    while (!stop.load()) {
      const absl::Status s = (*trust)->audit().Checkpoint().status();
      if (!s.ok()) {
        std::fprintf(stderr, "checkpoint: %s\n", std::string(s.message()).c_str());
        std::_Exit(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
  });

  for (uint64_t batch = 0;; ++batch) {
    // 50 readings of 10 meters new to this run (new subject data keys) in
    // one of 3 epochs.
    std::string body;
    for (int i = 0; i < 50; ++i) {
      absl::StrAppend(&body, "{\"LCLid\":\"MAC", seed, "x", batch, "x", i % 10,
                      "\",\"tstp\":\"2025-0", 1 + (batch + i) % 3, "-1", i % 10,
                      "T10:00:00Z\",\"energy(kWh/hh)\":0.", 100 + i, "}\n");
    }
    std::string digest;
    ingest::IngestOptions options;
    options.batch_size = 25;
    options.log_ingest = [&](const ingest::IngestSummary& s, const std::string& d,
                             ingest::LastBatchWriter write) {
      digest = d;
      return (*trust)
          ->audit()
          .AppendIngest(stream->id, s.accepted, s.rejected, d, write)
          .status();
    };
    auto summary =
        ingest::IngestBuffer(*stream, (*trust)->store(), (*trust)->keyring(), random,
                             body, ingest::InputFormat::kNdjson, options);
    if (!summary.ok() || summary->accepted != 50) {
      std::fprintf(stderr, "ingest: %s\n",
                   summary.ok() ? "records rejected"
                                : std::string(summary.status().message()).c_str());
      stop.store(true);
      signer.join();
      return 1;
    }
    std::printf("ack %s\n", absl::BytesToHexString(digest).c_str());
    std::fflush(stdout);
  }
}
