#include "ingest/mqtt/mqtt_subscriber.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "crypto/crypto.h"
#include "ingest/record_reader.h"
#include "mqtt/async_client.h"
#include "spdlog/spdlog.h"

namespace privacity::ingest {
namespace {

// Records committed per transaction at most (a batch ends after the message
// that reaches it); the Ingester's batch is larger, so a micro-batch commits
// in one transaction unless one message alone holds more records.
constexpr int64_t kMaxRecordsPerCommit = 16384;
constexpr size_t kIngesterBatch = 2 * kMaxRecordsPerCommit;
constexpr int kStoreAttempts = 3;
constexpr auto kBrokerTimeout = std::chrono::seconds(10);

struct Message {
  std::string topic;
  std::string payload;
};

// Reads the broker password from its file (relative to city.yaml's folder)
// or environment variable. Errors name the source, never the secret.
absl::StatusOr<std::string> ReadPassword(const config::CityConfig& config) {
  const config::MqttBroker& broker = *config.mqtt;
  if (!broker.password_env.empty()) {
    const char* value = std::getenv(broker.password_env.c_str());
    if (value == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mqtt: the environment variable ", broker.password_env, " is not set"));
    }
    return std::string(value);
  }
  if (broker.password_file.empty()) return std::string();
  std::filesystem::path path(broker.password_file);
  if (path.is_relative() && !config.source_path.empty()) {
    path = std::filesystem::path(config.source_path).parent_path() / path;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("mqtt: cannot read the password file ", path.string()));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string password = text.str();
  // One trailing line break is the file's, not the password's.
  if (!password.empty() && password.back() == '\n') password.pop_back();
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

// A payload of the json format is one object or an array of objects. One
// object may span lines: JSON strings cannot hold raw line breaks, so
// turning them into spaces keeps its meaning and lets the NDJSON reader
// take it as one record.
InputFormat PayloadFormat(config::MqttPayloadFormat format, std::string& payload) {
  if (format == config::MqttPayloadFormat::kNdjson) return InputFormat::kNdjson;
  const size_t start = payload.find_first_not_of(" \t\r\n");
  if (start != std::string::npos && payload[start] == '[') return InputFormat::kJsonArray;
  std::replace(payload.begin(), payload.end(), '\n', ' ');
  std::replace(payload.begin(), payload.end(), '\r', ' ');
  return InputFormat::kNdjson;
}

}  // namespace

bool MqttTopicMatches(absl::string_view filter, absl::string_view topic) {
  // '$' topics (broker internals) are not matched by leading wildcards.
  if (!topic.empty() && topic.front() == '$' &&
      (filter.empty() || filter.front() == '+' || filter.front() == '#')) {
    return false;
  }
  const std::vector<absl::string_view> f = absl::StrSplit(filter, '/');
  const std::vector<absl::string_view> t = absl::StrSplit(topic, '/');
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;  // also matches the parent level
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

class MqttSubscriber::Impl {
 public:
  Impl(const config::CityConfig& config, store::Store& store, crypto::Keyring& keyring,
       RandomSource& random, Clock& clock, MqttSubscriberOptions options)
      : config_(config),
        broker_(*config.mqtt),
        store_(store),
        keyring_(keyring),
        random_(random),
        clock_(clock),
        options_(std::move(options)) {}

  ~Impl() { (void)Stop(); }

  absl::Status Init() {
    for (const config::Stream& s : config_.streams) {
      if (!s.mqtt.has_value()) continue;
      for (const std::string& filter : s.mqtt->topics) {
        routes_.push_back({filter, &s});
        topics_.push_back(filter);
        qos_.push_back(s.mqtt->qos);
      }
    }
    if (routes_.empty()) {
      return absl::FailedPreconditionError("mqtt: no stream declares mqtt topics");
    }
    if (absl::Status s = store_.FindIngestKeys({}).status(); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mqtt: the store cannot keep ingest dedupe keys, so redeliveries could be "
          "stored twice: ",
          s.message()));
    }
    ASSIGN_OR_RETURN(password_, ReadPassword(config_));
    ASSIGN_OR_RETURN(
        crypto::UnwrappedKey key,
        keyring_.GetOrCreate(crypto::KeyName{.kind = crypto::KeyKind::kIngestDedupe}));
    ASSIGN_OR_RETURN(mac_, crypto::HmacSha256::Create(key.key));
    ASSIGN_OR_RETURN(reader_, RecordReader::Create(ReaderLimits{}));
    return CreateClient();
  }

  absl::Status Start() {
    absl::MutexLock lock(&mu_);
    if (started_) return absl::FailedPreconditionError("mqtt: already started");
    started_ = true;
    connector_ = std::thread([this] { ConnectLoop(); });
    batcher_ = std::thread([this] { BatchLoop(); });
    return absl::OkStatus();
  }

  absl::Status Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (!started_ || stopped_) return first_error_;
      stopped_ = true;
      draining_ = true;  // no more connection attempts; Enqueue never waits
    }
    connector_.join();
    // No new messages once disconnected; what arrived is still queued.
    try {
      if (client_->is_connected()) client_->disconnect()->wait_for(kBrokerTimeout);
    } catch (const std::exception& e) {
      spdlog::warn("mqtt: disconnecting failed: {}", e.what());
    }
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    batcher_.join();
    absl::MutexLock lock(&mu_);
    stats_.connected = false;
    return first_error_;
  }

  MqttStats stats() const {
    absl::MutexLock lock(&mu_);
    return stats_;
  }

 private:
  struct Route {
    std::string filter;
    const config::Stream* stream;
  };

  absl::Status CreateClient() {
    try {
      // No client-side persistence: privacity only subscribes, and the
      // session that matters (subscriptions, queued messages) is the
      // broker's.
      client_ =
          std::make_unique<mqtt::async_client>(broker_.uri, broker_.client_id, nullptr);
      mqtt::connect_options options;
      // 3.1.1 explicitly: Paho's default falls back to 3.1, whose CONNACK
      // cannot say whether the broker kept the session.
      options.set_mqtt_version(MQTTVERSION_3_1_1);
      options.set_clean_session(false);
      options.set_keep_alive_interval(
          static_cast<int>(absl::ToInt64Seconds(broker_.keep_alive)));
      options.set_connect_timeout(kBrokerTimeout);
      options.set_automatic_reconnect(false);  // ConnectLoop reconnects
      if (!broker_.username.empty()) {
        options.set_user_name(broker_.username);
        options.set_password(password_);
      }
      if (broker_.uri.rfind("ssl://", 0) == 0) {
        mqtt::ssl_options ssl;
        if (!broker_.ca_file.empty()) ssl.set_trust_store(Resolve(broker_.ca_file));
        if (!broker_.cert_file.empty()) {
          ssl.set_key_store(Resolve(broker_.cert_file));
          ssl.set_private_key(Resolve(broker_.key_file));
        }
        ssl.set_enable_server_cert_auth(true);
        ssl.set_verify(true);
        options.set_ssl(std::move(ssl));
      }
      connect_options_ = std::move(options);
      client_->set_message_callback([this](mqtt::const_message_ptr m) {
        try {
          Enqueue(Message{m->get_topic(), m->get_payload_str()});
        } catch (const std::exception& e) {
          // Only allocation can fail here; the message is then lost.
          spdlog::error("mqtt: a message could not be queued: {}", e.what());
          absl::MutexLock lock(&mu_);
          ++stats_.messages_received;
          ++stats_.messages_lost;
        }
      });
      client_->set_connection_lost_handler([this](const std::string&) {
        absl::MutexLock lock(&mu_);
        if (!stats_.connected) return;
        stats_.connected = false;
        ++stats_.connection_losses;
        spdlog::warn("mqtt: connection to the broker lost; reconnecting");
      });
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("mqtt: cannot create the client: ", e.what()));
    }
    return absl::OkStatus();
  }

  std::string Resolve(const std::string& file) const {
    std::filesystem::path path(file);
    if (path.is_relative() && !config_.source_path.empty()) {
      path = std::filesystem::path(config_.source_path).parent_path() / path;
    }
    return path.string();
  }

  void Enqueue(Message message) {
    absl::MutexLock lock(&mu_);
    // Backpressure: Paho's delivery waits while the store catches up.
    mu_.Await(absl::Condition(
        +[](Impl* impl) ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl->mu_) {
          return impl->draining_ ||
                 impl->queue_.size() < impl->options_.max_queued_messages;
        },
        this));
    ++stats_.messages_received;
    if (batcher_done_) {
      // Delivered by Paho after the disconnect and the last batch.
      ++stats_.messages_lost;
      spdlog::error("mqtt: a message arrived after the subscriber stopped and is lost");
      return;
    }
    queue_.push_back(std::move(message));
  }

  // Connects (and subscribes) whenever not connected, with backoff. Paho is
  // never called with mu_ held: its delivery thread holds Paho's own lock
  // while it waits for mu_ in Enqueue.
  void ConnectLoop() {
    absl::Duration backoff = options_.reconnect_min;
    while (true) {
      bool connected;
      {
        absl::MutexLock lock(&mu_);
        // Wake on a lost connection or a stop; poll now and then as well,
        // since a lost connection can also show up as is_connected() only.
        mu_.AwaitWithTimeout(
            absl::Condition(
                +[](Impl* impl) ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl->mu_) {
                  return impl->stopping_ || impl->draining_ || !impl->stats_.connected;
                },
                this),
            absl::Milliseconds(500));
        if (stopping_ || draining_) return;
        connected = stats_.connected;
      }
      if (connected) {
        bool still = false;
        try {
          still = client_->is_connected();
        } catch (const std::exception&) {
        }
        if (still) continue;
        absl::MutexLock lock(&mu_);
        if (stats_.connected) {
          stats_.connected = false;
          ++stats_.connection_losses;
        }
      }
      if (TryConnect()) {
        backoff = options_.reconnect_min;
        continue;
      }
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
      backoff = std::min(backoff * 2, options_.reconnect_max);
    }
  }

  bool TryConnect() {
    try {
      mqtt::token_ptr token = client_->connect(connect_options_);
      if (!token->wait_for(kBrokerTimeout)) {
        spdlog::warn("mqtt: connecting to the broker timed out; retrying");
        return false;
      }
      const bool session_present = token->get_connect_response().is_session_present();
      mqtt::token_ptr sub =
          client_->subscribe(mqtt::string_collection::create(topics_), qos_);
      if (!sub->wait_for(kBrokerTimeout)) {
        spdlog::warn("mqtt: subscribing timed out; reconnecting");
        client_->disconnect()->wait_for(kBrokerTimeout);
        return false;
      }
      const std::vector<mqtt::ReasonCode> granted =
          sub->get_subscribe_response().get_reason_codes();
      for (size_t i = 0; i < granted.size() && i < topics_.size(); ++i) {
        if (static_cast<int>(granted[i]) >= 0x80) {
          spdlog::error("mqtt: the broker refused the subscription to topic filter '{}'",
                        topics_[i]);
        } else if (static_cast<int>(granted[i]) < qos_[i]) {
          spdlog::warn(
              "mqtt: the broker granted QoS {} for topic filter '{}' (asked {}); "
              "messages may be lost while disconnected",
              static_cast<int>(granted[i]), topics_[i], qos_[i]);
        }
      }
      absl::MutexLock lock(&mu_);
      stats_.connected = true;
      ++stats_.connects;
      spdlog::info("mqtt: connected to the broker ({} topic filters, session {})",
                   topics_.size(), session_present ? "resumed" : "new");
      return true;
    } catch (const std::exception& e) {
      spdlog::warn("mqtt: cannot connect to the broker: {}", e.what());
      return false;
    }
  }

  void BatchLoop() {
    while (true) {
      std::vector<Message> batch;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](Impl* impl) ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl->mu_) {
              return impl->stopping_ || !impl->queue_.empty();
            },
            this));
        if (queue_.empty()) {  // stopping, and everything is stored
          batcher_done_ = true;
          return;
        }
        const size_t want = static_cast<size_t>(broker_.batch_messages);
        // Micro-batch: wait a little for more messages to share the commit.
        mu_.AwaitWithTimeout(
            absl::Condition(
                +[](Impl* impl) ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl->mu_) {
                  return impl->stopping_ ||
                         impl->queue_.size() >=
                             static_cast<size_t>(impl->broker_.batch_messages);
                },
                this),
            broker_.batch_delay);
        const size_t n = std::min(want, queue_.size());
        batch.reserve(n);
        for (size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      ProcessBatch(batch);
    }
  }

  const config::Stream* RouteOf(absl::string_view topic) const {
    for (const Route& r : routes_) {
      if (MqttTopicMatches(r.filter, topic)) return r.stream;
    }
    return nullptr;
  }

  struct Item {
    Message* message;
    store::IngestKey key;
  };

  void ProcessBatch(std::vector<Message>& batch) {
    const int64_t now_us = absl::ToUnixMicros(clock_.Now());
    int64_t unmatched = 0, duplicates = 0;
    std::vector<const config::Stream*> order;  // streams in first-seen order
    std::vector<std::vector<Item>> groups;
    absl::flat_hash_set<std::string> seen;
    std::string input;
    for (Message& m : batch) {
      const config::Stream* stream = RouteOf(m.topic);
      if (stream == nullptr) {
        ++unmatched;
        continue;
      }
      input.clear();
      absl::StrAppend(&input, stream->id, std::string(1, '\0'), m.topic,
                      std::string(1, '\0'), m.payload);
      std::string digest = mac_->Mac(input);
      if (!seen.insert(digest).second) {
        ++duplicates;
        continue;
      }
      size_t g = std::find(order.begin(), order.end(), stream) - order.begin();
      if (g == order.size()) {
        order.push_back(stream);
        groups.emplace_back();
      }
      groups[g].push_back(
          Item{&m, store::IngestKey{stream->id, std::move(digest), now_us}});
    }
    if (unmatched > 0) {
      spdlog::warn("mqtt: {} message(s) on topics no stream declares were dropped",
                   unmatched);
    }
    {
      absl::MutexLock lock(&mu_);
      stats_.messages_unmatched += unmatched;
      stats_.messages_duplicate += duplicates;
    }
    for (size_t g = 0; g < order.size(); ++g) StoreGroup(*order[g], groups[g]);
    MaybeForgetOldKeys(now_us);
  }

  // Drops items[from, end) whose key is already claimed (redeliveries of
  // messages stored earlier); counts them as duplicates.
  absl::Status DropClaimed(std::vector<Item>& items, size_t from) {
    std::vector<store::IngestKey> keys;
    keys.reserve(items.size() - from);
    for (size_t i = from; i < items.size(); ++i) keys.push_back(items[i].key);
    ASSIGN_OR_RETURN(std::vector<bool> claimed, store_.FindIngestKeys(keys));
    size_t kept = from;
    for (size_t i = from; i < items.size(); ++i) {
      if (claimed[i - from]) continue;
      if (kept != i) items[kept] = std::move(items[i]);
      ++kept;
    }
    const int64_t duplicates = static_cast<int64_t>(items.size() - kept);
    items.resize(kept);
    if (duplicates > 0) {
      absl::MutexLock lock(&mu_);
      stats_.messages_duplicate += duplicates;
    }
    return absl::OkStatus();
  }

  // Stores the messages of one stream, a transaction at a time; retries a
  // failed transaction, and reports its messages as lost after the last try.
  void StoreGroup(const config::Stream& stream, std::vector<Item>& items) {
    size_t begin = 0;
    int attempt = 0;
    absl::Status status = DropClaimed(items, 0);
    while (begin < items.size()) {
      size_t end = begin;
      if (status.ok()) status = CommitFrom(stream, items, begin, end);
      if (status.ok()) {
        begin = end;
        attempt = 0;
        continue;
      }
      if (++attempt >= kStoreAttempts) break;
      spdlog::warn("mqtt: storing a batch of stream {} failed (attempt {} of {}): {}",
                   stream.id, attempt, kStoreAttempts, std::string(status.message()));
      absl::SleepFor(absl::Milliseconds(100) * (1 << attempt));
      // Also drops what another writer claimed meanwhile (AlreadyExists).
      status = DropClaimed(items, begin);
    }
    if (!status.ok()) {
      const int64_t lost = static_cast<int64_t>(items.size() - begin);
      spdlog::error(
          "mqtt: {} message(s) of stream {} could not be stored and are lost: {}", lost,
          stream.id, std::string(status.message()));
      absl::MutexLock lock(&mu_);
      stats_.messages_lost += lost;
      if (first_error_.ok()) first_error_ = status;
    }
  }

  // Ingests items[begin, end) in one transaction with their dedupe keys,
  // ending after the message that brings the records to
  // kMaxRecordsPerCommit; sets `end`.
  absl::Status CommitFrom(const config::Stream& stream, std::vector<Item>& items,
                          size_t begin, size_t& end) {
    IngestOptions options;
    options.batch_size = kIngesterBatch;
    options.max_reported_errors = 0;
    if (options_.log_ingest) options.log_ingest = options_.log_ingest(stream);
    ASSIGN_OR_RETURN(std::unique_ptr<Ingester> ingester,
                     Ingester::Create(stream, store_, keyring_, random_, options));
    int64_t records = 0;
    size_t i = begin;
    for (; i < items.size() && records < kMaxRecordsPerCommit; ++i) {
      std::string& payload = items[i].message->payload;
      const InputFormat format = PayloadFormat(stream.mqtt->format, payload);
      absl::StatusOr<ReadSummary> read = reader_->ReadBuffer(
          payload, format,
          [&](const transform::InputRecord& record) {
            ++records;
            return ingester->Add(record);
          },
          [&](const ReadError& error) -> absl::Status {
            ingester->Reject(error.line, error.message);
            return absl::OkStatus();
          });
      if (!read.ok()) {
        if (!absl::IsInvalidArgument(read.status())) return read.status();
        // The message as a whole is unreadable (empty, not an array...).
        ingester->Reject(0, std::string(read.status().message()));
      }
      ingester->Claim(items[i].key);
    }
    RETURN_IF_ERROR(ingester->Finish());
    end = i;
    const IngestSummary& summary = ingester->summary();
    if (summary.rejected > 0) {
      spdlog::warn("mqtt: {} record(s) of stream {} were rejected", summary.rejected,
                   stream.id);
    }
    {
      absl::MutexLock lock(&mu_);
      stats_.messages_stored += static_cast<int64_t>(end - begin);
      stats_.records_accepted += summary.accepted;
      stats_.records_rejected += summary.rejected;
      ++stats_.batches;
    }
    if (options_.on_committed) options_.on_committed(stream, summary);
    return absl::OkStatus();
  }

  // Forgets dedupe keys older than the window, about once a minute.
  void MaybeForgetOldKeys(int64_t now_us) {
    if (now_us < next_sweep_us_) return;
    next_sweep_us_ = now_us + 60 * 1000000LL;
    const int64_t before = now_us - absl::ToInt64Microseconds(broker_.dedupe_window);
    absl::StatusOr<int64_t> n = store_.DeleteIngestKeysBefore(before);
    if (!n.ok()) {
      spdlog::warn("mqtt: forgetting old dedupe keys failed: {}",
                   std::string(n.status().message()));
    }
  }

  const config::CityConfig& config_;
  const config::MqttBroker broker_;
  store::Store& store_;
  crypto::Keyring& keyring_;
  RandomSource& random_;
  Clock& clock_;
  const MqttSubscriberOptions options_;

  std::vector<Route> routes_;
  std::vector<std::string> topics_;
  std::vector<int> qos_;
  std::string password_;
  std::unique_ptr<crypto::HmacSha256> mac_;
  std::unique_ptr<RecordReader> reader_;  // batch thread only
  int64_t next_sweep_us_ = 0;             // batch thread only
  std::unique_ptr<mqtt::async_client> client_;
  mqtt::connect_options connect_options_;

  mutable absl::Mutex mu_;
  std::deque<Message> queue_ ABSL_GUARDED_BY(mu_);
  MqttStats stats_ ABSL_GUARDED_BY(mu_);
  absl::Status first_error_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool batcher_done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread connector_;
  std::thread batcher_;
};

MqttSubscriber::MqttSubscriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MqttSubscriber::~MqttSubscriber() = default;

absl::StatusOr<std::unique_ptr<MqttSubscriber>> MqttSubscriber::Create(
    const config::CityConfig& config, store::Store& store, crypto::Keyring& keyring,
    RandomSource& random, Clock& clock, MqttSubscriberOptions options) {
  if (!config.mqtt.has_value()) {
    return absl::FailedPreconditionError("mqtt: the config names no mqtt broker");
  }
  if (options.reconnect_min <= absl::ZeroDuration() ||
      options.reconnect_max < options.reconnect_min || options.max_queued_messages == 0) {
    return absl::InvalidArgumentError(
        "mqtt: need 0 < reconnect_min <= reconnect_max and max_queued_messages > 0");
  }
  auto impl =
      std::make_unique<Impl>(config, store, keyring, random, clock, std::move(options));
  RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<MqttSubscriber>(new MqttSubscriber(std::move(impl)));
}

absl::Status MqttSubscriber::Start() { return impl_->Start(); }

absl::Status MqttSubscriber::Stop() { return impl_->Stop(); }

MqttStats MqttSubscriber::stats() const { return impl_->stats(); }

std::string MqttSubscriber::MetricsText() const {
  const MqttStats s = stats();
  std::string out;
  absl::StrAppend(
      &out,
      "# HELP privacity_mqtt_messages_total MQTT messages received by outcome.\n"
      "# TYPE privacity_mqtt_messages_total counter\n",
      "privacity_mqtt_messages_total{outcome=\"received\"} ", s.messages_received, "\n",
      "privacity_mqtt_messages_total{outcome=\"stored\"} ", s.messages_stored, "\n",
      "privacity_mqtt_messages_total{outcome=\"duplicate\"} ", s.messages_duplicate, "\n",
      "privacity_mqtt_messages_total{outcome=\"unmatched\"} ", s.messages_unmatched, "\n",
      "privacity_mqtt_messages_total{outcome=\"lost\"} ", s.messages_lost, "\n",
      "# HELP privacity_mqtt_records_total Records received over MQTT by outcome.\n"
      "# TYPE privacity_mqtt_records_total counter\n",
      "privacity_mqtt_records_total{outcome=\"accepted\"} ", s.records_accepted, "\n",
      "privacity_mqtt_records_total{outcome=\"rejected\"} ", s.records_rejected, "\n",
      "# HELP privacity_mqtt_connects_total Successful connections to the broker.\n"
      "# TYPE privacity_mqtt_connects_total counter\n",
      "privacity_mqtt_connects_total ", s.connects, "\n",
      "# HELP privacity_mqtt_connection_losses_total Connections to the broker lost.\n"
      "# TYPE privacity_mqtt_connection_losses_total counter\n",
      "privacity_mqtt_connection_losses_total ", s.connection_losses, "\n",
      "# HELP privacity_mqtt_connected 1 while connected to the broker.\n"
      "# TYPE privacity_mqtt_connected gauge\n",
      "privacity_mqtt_connected ", s.connected ? 1 : 0, "\n");
  return out;
}

}  // namespace privacity::ingest
