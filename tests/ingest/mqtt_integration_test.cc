// MQTT ingest end to end against a real Mosquitto broker (Debian's
// `mosquitto`), started on a free loopback port with a private config and
// persistence: 10,000 smart-meter readings published at QoS 1, the broker
// killed and restarted midway, privacity itself stopped and restarted while
// the publisher goes on, and some messages published twice (a publisher's
// retry). Every reading must be stored exactly once or reported as lost.
// Skips, saying why, when the mosquitto binary is absent.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "ingest/mqtt/mqtt_subscriber.h"
#include "mqtt/async_client.h"
#include "nlohmann/json.hpp"
#include "server/trust.h"
#include "store/store.h"

namespace privacity::ingest {
namespace {

namespace fs = std::filesystem;

constexpr int kReadings = 10000;
constexpr int kMeters = 50;
constexpr char kStream[] = "energy.meter_readings";

std::string FindMosquitto() {
  for (const char* p : {"/usr/sbin/mosquitto", "/usr/bin/mosquitto",
                        "/usr/local/sbin/mosquitto", "/usr/local/bin/mosquitto"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool PortOpen(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return open;
}

// A Mosquitto process with its own config and persistence folder. It is
// killed when this object goes away, on every path out of the test.
class Broker {
 public:
  Broker(std::string binary, fs::path dir, int port)
      : binary_(std::move(binary)), dir_(std::move(dir)), port_(port) {
    // Run as whoever runs the test: as root, mosquitto would otherwise
    // switch to the user 'mosquitto', who cannot write the test's folder.
    const passwd* me = ::getpwuid(::getuid());
    std::ofstream conf(dir_ / "mosquitto.conf");
    if (me != nullptr) conf << "user " << me->pw_name << "\n";
    conf << "listener " << port_ << " 127.0.0.1\n"
         << "allow_anonymous true\n"
         << "persistence true\n"
         << "persistence_location " << (dir_ / "").string() << "\n"
         << "persistence_file mosquitto.db\n"
         << "autosave_interval 1\n"
         // Keep every message queued for an offline persistent session.
         << "max_queued_messages 0\n"
         << "max_queued_bytes 0\n"
         << "log_dest file " << (dir_ / "mosquitto.log").string() << "\n";
  }
  ~Broker() { Kill(SIGKILL); }

  // Starts the broker and waits until it accepts connections.
  bool Start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string conf = (dir_ / "mosquitto.conf").string();
      ::execl(binary_.c_str(), binary_.c_str(), "-c", conf.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (pid_ < 0) return false;
    for (int i = 0; i < 200; ++i) {
      if (PortOpen(port_)) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  // Stops the broker with `signal` and reaps it. SIGTERM lets it write its
  // persistence file; SIGKILL does not.
  void Kill(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string uri() const { return absl::StrCat("tcp://127.0.0.1:", port_); }

 private:
  std::string binary_;
  fs::path dir_;
  int port_;
  pid_t pid_ = -1;
};

// Publishes at QoS 1 and waits for each PUBACK, reconnecting and retrying
// while the broker is away (so a message may reach the broker twice).
class Publisher {
 public:
  explicit Publisher(const std::string& uri) : client_(uri, "meter-gateway", nullptr) {
    options_.set_mqtt_version(MQTTVERSION_3_1_1);
    options_.set_clean_session(false);
    options_.set_connect_timeout(std::chrono::seconds(2));
  }
  ~Publisher() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait_for(std::chrono::seconds(2));
    } catch (const std::exception&) {
    }
  }

  // Returns false only after a minute of failed tries.
  bool Publish(const std::string& topic, const std::string& payload) {
    const absl::Time deadline = absl::Now() + absl::Minutes(1);
    while (absl::Now() < deadline) {
      try {
        if (!client_.is_connected()) {
          client_.connect(options_)->wait_for(std::chrono::seconds(3));
        }
        mqtt::delivery_token_ptr token =
            client_.publish(topic, payload.data(), payload.size(), 1, false);
        if (token->wait_for(std::chrono::seconds(3))) return true;
      } catch (const std::exception&) {
        ++retries_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  int retries() const { return retries_; }

 private:
  mqtt::async_client client_;
  mqtt::connect_options options_;
  int retries_ = 0;
};

std::string CityYaml(const std::string& broker_uri) {
  return absl::StrCat(R"(city:
  name: MQTT Test City
  controller: Test Data Office
  contact: dpo@test.example
purposes:
  - id: grid-planning
    legal_basis: public-task
streams:
  - id: energy.meter_readings
    time: time
    purposes: [grid-planning]
    mqtt:
      topics: ["meters/+/readings"]
      qos: 1
      format: json
    fields:
      - name: meter
        type: string
        category: other
        required: true
      - name: seq
        type: int
        category: other
        required: true
      - name: time
        type: time
        category: time
        required: true
      - name: energy_kwh
        type: number
        category: measurement
        min: 0
        max: 10
mqtt:
  broker: ")",
                      broker_uri, R"("
  client_id: privacity-mqtt-test
  keep_alive: 2s
  batch_messages: 500
  batch_delay_ms: 20
)");
}

std::string Reading(int seq) {
  const int meter = seq % kMeters;
  return absl::StrCat(R"({"meter":"MAC)", 100000 + meter, R"(","seq":)", seq,
                      R"(,"time":"2025-06-01T)", (seq / 60) % 24 < 10 ? "0" : "",
                      (seq / 60) % 24, ":", seq % 60 < 10 ? "0" : "", seq % 60,
                      R"(:00Z","energy_kwh":0.)", 100 + seq % 900, "}");
}

std::string Topic(int seq) {
  return absl::StrCat("meters/MAC", 100000 + seq % kMeters, "/readings");
}

class MqttIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mosquitto_ = FindMosquitto();
    if (mosquitto_.empty()) {
      GTEST_SKIP() << "the mosquitto binary is not installed (Debian package "
                      "'mosquitto'); skipping the MQTT integration test";
    }
    char tmpl[] = "/tmp/privacity-mqtt-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "broker");
    fs::create_directories(dir_ / "data");
  }
  void TearDown() override {
    if (dir_.empty()) return;
    if (HasFailure()) {
      std::ifstream log(dir_ / "broker" / "mosquitto.log");
      std::printf("mosquitto log:\n%s\n",
                  std::string(std::istreambuf_iterator<char>(log), {}).c_str());
    }
    fs::remove_all(dir_);
  }

  std::unique_ptr<MqttSubscriber> NewSubscriber(server::Trust& trust) {
    MqttSubscriberOptions options;
    options.reconnect_min = absl::Milliseconds(50);
    options.reconnect_max = absl::Milliseconds(500);
    options.log_ingest = [this, &trust](const config::Stream& stream) -> IngestLogger {
      IngestLogger log = trust.audit().LoggerFor(stream.id);
      return [this, log](const IngestSummary& s, const std::string& digest,
                         LastBatchWriter write) {
        ++leaves_;
        EXPECT_EQ(digest.size(), 32u);
        return log(s, digest, write);
      };
    };
    auto subscriber =
        MqttSubscriber::Create(trust.config(), trust.store(), trust.keyring(),
                               trust.random(), trust.clock(), options);
    EXPECT_TRUE(subscriber.ok()) << subscriber.status();
    if (!subscriber.ok()) return nullptr;
    EXPECT_TRUE((*subscriber)->Start().ok());
    return std::move(*subscriber);
  }

  static bool WaitFor(const std::function<bool()>& done, absl::Duration limit) {
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  std::string mosquitto_;
  fs::path dir_;
  ManualClock clock_{absl::FromUnixSeconds(1767225600)};
  CryptoRandom random_;
  int leaves_ = 0;
};

TEST_F(MqttIntegrationTest, EveryReadingStoredOnceOrReportedLost) {
  const int port = FreeLoopbackPort();
  ASSERT_GT(port, 0);
  Broker broker(mosquitto_, dir_ / "broker", port);
  ASSERT_TRUE(broker.Start()) << "mosquitto did not start";

  auto config = config::ParseConfig(CityYaml(broker.uri()), "city.yaml", "");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(
      server::Trust::Initialize(*config, (dir_ / "data").string(), clock_, random_).ok());
  auto trust = server::Trust::Open(*config, (dir_ / "data").string(), clock_, random_);
  ASSERT_TRUE(trust.ok()) << trust.status();

  MqttStats total;
  auto add = [&total](const MqttStats& s) {
    total.messages_received += s.messages_received;
    total.messages_stored += s.messages_stored;
    total.messages_duplicate += s.messages_duplicate;
    total.messages_unmatched += s.messages_unmatched;
    total.messages_lost += s.messages_lost;
    total.records_accepted += s.records_accepted;
    total.records_rejected += s.records_rejected;
    total.connects += s.connects;
  };

  std::unique_ptr<MqttSubscriber> subscriber = NewSubscriber(**trust);
  ASSERT_NE(subscriber, nullptr);
  ASSERT_TRUE(WaitFor([&] { return subscriber->stats().connected; }, absl::Seconds(10)));

  Publisher publisher(broker.uri());
  int republished = 0;
  for (int seq = 0; seq < kReadings; ++seq) {
    ASSERT_TRUE(publisher.Publish(Topic(seq), Reading(seq))) << "publish " << seq;
    // A publisher's retry after a lost PUBACK: the same message again.
    if (seq % 50 == 7) {
      ASSERT_TRUE(publisher.Publish(Topic(seq), Reading(seq)));
      ++republished;
    }
    if (seq == kReadings * 3 / 10) {
      // The broker stops (SIGTERM: it writes its persistence file) and comes
      // back on the same port; privacity reconnects and subscribes again.
      broker.Kill(SIGTERM);
      ASSERT_TRUE(broker.Start()) << "mosquitto did not restart";
    }
    if (seq == kReadings * 4 / 10) {
      // By now privacity has reconnected on its own.
      ASSERT_TRUE(
          WaitFor([&] { return subscriber->stats().connects >= 2; }, absl::Seconds(20)))
          << "privacity did not reconnect after the broker restart";
    }
    if (seq == kReadings * 6 / 10) {
      // privacity stops (storing what it received) and starts again later;
      // the broker queues the readings published meanwhile for its session.
      ASSERT_TRUE(subscriber->Stop().ok());
      add(subscriber->stats());
      subscriber.reset();
    }
    if (seq == kReadings * 7 / 10) {
      subscriber = NewSubscriber(**trust);
      ASSERT_NE(subscriber, nullptr);
    }
  }
  ASSERT_NE(subscriber, nullptr);
  // Everything published is either stored, a dropped duplicate, or lost.
  const int64_t expected_messages = kReadings + republished;
  ASSERT_TRUE(WaitFor(
      [&] {
        const MqttStats s = subscriber->stats();
        return total.messages_stored + total.messages_duplicate + total.messages_lost +
                   s.messages_stored + s.messages_duplicate + s.messages_lost >=
               expected_messages;
      },
      absl::Seconds(60)))
      << "not every message arrived";
  ASSERT_TRUE(subscriber->Stop().ok());
  add(subscriber->stats());
  subscriber.reset();
  broker.Kill(SIGTERM);

  // Count what is in the store, and that no reading is there twice.
  std::map<int64_t, int> copies;
  ASSERT_TRUE((*trust)
                  ->store()
                  .ScanRecords(store::RecordQuery{.stream = kStream},
                               [&](const store::StoredRecord& r) {
                                 const auto j = nlohmann::json::parse(r.payload);
                                 ++copies[j.at("seq").get<int64_t>()];
                                 return absl::OkStatus();
                               })
                  .ok());
  int64_t twice = 0;
  for (const auto& [seq, n] : copies) twice += n > 1;
  const int64_t stored = static_cast<int64_t>(copies.size());
  const int64_t reported = total.messages_lost + total.records_rejected;
  std::printf(
      "mqtt: %lld stored, %lld reported lost, %lld duplicates dropped, %lld received, "
      "%lld connects, %d publisher retries\n",
      static_cast<long long>(stored), static_cast<long long>(reported),
      static_cast<long long>(total.messages_duplicate),
      static_cast<long long>(total.messages_received),
      static_cast<long long>(total.connects), publisher.retries());
  EXPECT_EQ(twice, 0) << "readings stored more than once";
  EXPECT_EQ(stored + reported, kReadings);
  EXPECT_EQ(*(*trust)->store().CountRecords(kStream), stored);
  EXPECT_EQ(total.records_accepted, stored);
  EXPECT_GE(total.messages_duplicate, republished);
  EXPECT_EQ(total.messages_unmatched, 0);
  EXPECT_EQ(total.connects, 3);  // first, after the broker restart, after ours
  EXPECT_GT(leaves_, 0);
}

TEST_F(MqttIntegrationTest, BadPayloadsAreReportedNotStored) {
  const int port = FreeLoopbackPort();
  ASSERT_GT(port, 0);
  Broker broker(mosquitto_, dir_ / "broker", port);
  ASSERT_TRUE(broker.Start()) << "mosquitto did not start";
  auto config = config::ParseConfig(CityYaml(broker.uri()), "city.yaml", "");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(
      server::Trust::Initialize(*config, (dir_ / "data").string(), clock_, random_).ok());
  auto trust = server::Trust::Open(*config, (dir_ / "data").string(), clock_, random_);
  ASSERT_TRUE(trust.ok()) << trust.status();
  std::unique_ptr<MqttSubscriber> subscriber = NewSubscriber(**trust);
  ASSERT_NE(subscriber, nullptr);
  ASSERT_TRUE(WaitFor([&] { return subscriber->stats().connected; }, absl::Seconds(10)));

  Publisher publisher(broker.uri());
  // Malformed JSON, a wrong type, an array of two good readings, and one
  // pretty-printed object over several lines.
  ASSERT_TRUE(publisher.Publish(Topic(1), "{\"meter\":"));
  ASSERT_TRUE(publisher.Publish(
      Topic(2), R"({"meter":"M","seq":"two","time":"2025-06-01T00:00:00Z"})"));
  ASSERT_TRUE(
      publisher.Publish(Topic(3), absl::StrCat("[", Reading(3), ",", Reading(4), "]")));
  ASSERT_TRUE(publisher.Publish(
      Topic(5),
      "{\n  \"meter\": \"M5\",\n  \"seq\": 5,\n  \"time\": \"2025-06-01T00:00:00Z\"\n}"));
  ASSERT_TRUE(WaitFor([&] { return subscriber->stats().messages_stored >= 4; },
                      absl::Seconds(20)));
  ASSERT_TRUE(subscriber->Stop().ok());
  const MqttStats s = subscriber->stats();
  EXPECT_EQ(s.records_accepted, 3);
  EXPECT_EQ(s.records_rejected, 2);
  EXPECT_EQ(s.messages_stored, 4);
  EXPECT_EQ(*(*trust)->store().CountRecords(kStream), 3);
  const std::string metrics = subscriber->MetricsText();
  EXPECT_NE(metrics.find("privacity_mqtt_records_total{outcome=\"rejected\"} 2"),
            std::string::npos)
      << metrics;
}

}  // namespace
}  // namespace privacity::ingest
