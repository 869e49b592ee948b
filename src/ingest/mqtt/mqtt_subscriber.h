// MQTT ingest: subscribes to the topics each stream declares in city.yaml
// (config::MqttFeed) on the broker of config::MqttBroker, and ingests the
// payloads through the same reader, pipeline and Ingester as the HTTP route.
// The Paho MQTT C++ client stays inside this module (it throws; nothing
// thrown leaves it).
//
// Delivery (docs/http.md#mqtt):
//   - A persistent session (clean_session=false, the fixed client id) and
//     QoS 1 or 2, so the broker keeps what is published while privacity or
//     the connection is down and delivers it on reconnect.
//   - Reconnects with exponential backoff and subscribes again each time.
//   - Messages are stored in micro-batches, one transaction per stream and
//     batch. Each message's dedupe key, HMAC-SHA256 under the trust's ingest
//     dedupe key of (stream, topic, payload), is claimed in the same
//     transaction as its records, so a redelivered message is dropped as a
//     duplicate, never stored twice. Keys are forgotten after the broker's
//     dedupe_window.
//   - A message that cannot be ingested (no stream matches its topic, a
//     record rejected by the reader or the pipeline, a batch the store
//     refused three times) is counted in the metrics and logged by count,
//     never by topic or content.
//   - Paho acknowledges a QoS 1 message (PUBACK) when it reads it, before
//     privacity sees it: the library has no application-controlled
//     acknowledgement. Stop() therefore stores everything received before
//     it disconnects; only a crash of the process between receipt and the
//     batch's commit (at most batch_delay plus one transaction) can lose a
//     message without a report.
#ifndef PRIVACITY_INGEST_MQTT_MQTT_SUBSCRIBER_H_
#define PRIVACITY_INGEST_MQTT_MQTT_SUBSCRIBER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/model.h"
#include "crypto/keyring.h"
#include "ingest/ingester.h"
#include "store/store.h"

namespace privacity::ingest {

// Counters since Create; all monotonic except `connected`.
struct MqttStats {
  int64_t messages_received = 0;
  int64_t messages_stored = 0;     // committed (their good records stored)
  int64_t messages_duplicate = 0;  // redeliveries dropped by their dedupe key
  int64_t messages_unmatched = 0;  // no stream's topic filter matches
  int64_t messages_lost = 0;       // the store refused their batch
  int64_t records_accepted = 0;
  int64_t records_rejected = 0;
  int64_t batches = 0;   // committed stream batches
  int64_t connects = 0;  // successful connections (1 + reconnects)
  int64_t connection_losses = 0;
  bool connected = false;
};

struct MqttSubscriberOptions {
  // The transparency log's ingest leaf of each stream batch, written in the
  // batch's transaction (IngestOptions::log_ingest): when it fails, neither
  // the records nor the messages' dedupe keys are stored.
  std::function<IngestLogger(const config::Stream& stream)> log_ingest;
  // Called after each stream batch is committed (the HTTP metrics).
  std::function<void(const config::Stream& stream, const IngestSummary& summary)>
      on_committed;
  // Reconnect backoff: doubles from min to max after each failed attempt.
  absl::Duration reconnect_min = absl::Milliseconds(250);
  absl::Duration reconnect_max = absl::Seconds(30);
  // Messages held in memory at most; the broker's delivery waits beyond it.
  size_t max_queued_messages = 100000;
};

// True when `topic` matches the MQTT topic filter `filter` (MQTT 3.1.1
// section 4.7: '+' one level, '#' the rest, '$' topics only by name).
bool MqttTopicMatches(absl::string_view filter, absl::string_view topic);

class MqttSubscriber {
 public:
  // Checks that `config` has an mqtt broker and at least one stream with
  // mqtt topics, reads the password (file or environment variable; errors
  // name the file or variable, never the secret), and gets the ingest
  // dedupe key. Does not connect.
  // REQUIRES: every argument outlives the subscriber.
  static absl::StatusOr<std::unique_ptr<MqttSubscriber>> Create(
      const config::CityConfig& config, store::Store& store, crypto::Keyring& keyring,
      RandomSource& random, Clock& clock, MqttSubscriberOptions options);
  ~MqttSubscriber();  // calls Stop()

  // Starts the connection and batch threads and returns. A broker that is
  // down is retried in the background with backoff.
  absl::Status Start();

  // Disconnects (so no new message is taken), stores every message already
  // received, and joins the threads. Idempotent. Returns the first store
  // failure seen, if any.
  absl::Status Stop();

  MqttStats stats() const;

  // The counters in Prometheus text format (privacity_mqtt_*).
  std::string MetricsText() const;

 private:
  class Impl;
  explicit MqttSubscriber(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace privacity::ingest

#endif  // PRIVACITY_INGEST_MQTT_MQTT_SUBSCRIBER_H_
