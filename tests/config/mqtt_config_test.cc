// The mqtt sections of city.yaml: the broker and each stream's topics.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/loader.h"
#include "config/model.h"
#include "gtest/gtest.h"

namespace privacity::config {
namespace {

std::string City(const std::string& feed, const std::string& broker) {
  return absl::StrCat(R"(city: {name: C, controller: D, contact: dpo@c.example}
purposes:
  - {id: planning, legal_basis: public-task}
streams:
  - id: meters
    time: time
    purposes: [planning]
)",
                      feed, R"(
    fields:
      - {name: time, type: time, category: time}
      - {name: kwh, type: number, category: measurement}
)",
                      broker);
}

constexpr char kFeed[] = R"(    mqtt:
      topics: ["meters/+/readings", "meters/#"]
      qos: 1
      format: ndjson)";
constexpr char kBroker[] = R"(mqtt:
  broker: tcp://127.0.0.1:1883
  client_id: privacity-city
  username: trust
  password_env: MQTT_PASSWORD
  batch_messages: 200
  batch_delay_ms: 25
  dedupe_window: 2d
)";

std::string Errors(const std::string& text) {
  std::vector<std::string> lines;
  for (const ConfigError& e : CheckConfig(text, "")) {
    lines.push_back(FormatConfigError("city.yaml", e));
  }
  return absl::StrJoin(lines, "\n");
}

TEST(MqttConfigTest, ParsesBrokerAndFeed) {
  auto config = ParseConfig(City(kFeed, kBroker), "city.yaml", "");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->mqtt.has_value());
  EXPECT_EQ(config->mqtt->uri, "tcp://127.0.0.1:1883");
  EXPECT_EQ(config->mqtt->client_id, "privacity-city");
  EXPECT_EQ(config->mqtt->password_env, "MQTT_PASSWORD");
  EXPECT_EQ(config->mqtt->batch_messages, 200);
  EXPECT_EQ(config->mqtt->batch_delay, absl::Milliseconds(25));
  EXPECT_EQ(config->mqtt->dedupe_window, absl::Hours(48));
  const Stream& s = config->streams[0];
  ASSERT_TRUE(s.mqtt.has_value());
  EXPECT_EQ(s.mqtt->topics, (std::vector<std::string>{"meters/+/readings", "meters/#"}));
  EXPECT_EQ(s.mqtt->format, MqttPayloadFormat::kNdjson);
  // Written back and read again, it is the same config.
  auto again = ParseConfig(ToYaml(*config), "city.yaml", "");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << ToYaml(*config);
  EXPECT_EQ(ToYaml(*again), ToYaml(*config));
}

TEST(MqttConfigTest, NamesEachMistake) {
  struct Case {
    std::string feed, broker, expected;
  };
  const std::vector<Case> cases = {
      {kFeed, "", "no top-level 'mqtt' broker"},
      {"", kBroker, "no stream declares 'mqtt' topics"},
      {R"(    mqtt: {topics: ["a/#/b"]})", kBroker, "must fill a whole level"},
      {R"(    mqtt: {topics: ["a/b+"]})", kBroker, "must fill a whole level"},
      {R"(    mqtt: {topics: []})", kBroker, "'topics' must not be empty"},
      {R"(    mqtt: {topics: [a], qos: 0})", kBroker, "'qos' must be between 1 and 2"},
      {R"(    mqtt: {topics: [a], format: xml})", kBroker, "not one of: json, ndjson"},
      {R"(    mqtt: {topics: [a], retain: true})", kBroker, "unknown key 'retain'"},
      {kFeed, "mqtt: {broker: http://x:1, client_id: c}\n", "tcp://HOST:PORT"},
      {kFeed, "mqtt: {broker: tcp://x, client_id: c}\n", "tcp://HOST:PORT"},
      {kFeed, "mqtt: {broker: tcp://x:1, client_id: 'a b'}\n", "'client_id' must be"},
      {kFeed, "mqtt: {broker: tcp://x:1}\n", "missing required key 'client_id'"},
      {kFeed, "mqtt: {broker: tcp://x:1, client_id: c, password_env: P}\n",
       "a password needs a 'username'"},
      {kFeed,
       "mqtt: {broker: tcp://x:1, client_id: c, username: u, password_env: P, "
       "password_file: f}\n",
       "not both"},
      {kFeed, "mqtt: {broker: tcp://x:1, client_id: c, tls: {ca_file: ca.pem}}\n",
       "'tls' needs an ssl:// broker"},
      {kFeed, "mqtt: {broker: ssl://x:8883, client_id: c, tls: {cert_file: c.pem}}\n",
       "needs both 'cert_file' and 'key_file'"},
      {kFeed, "mqtt: {broker: tcp://x:1, client_id: c, batch_delay_ms: 0}\n",
       "'batch_delay_ms' must be between 1 and 10000"},
  };
  for (const Case& c : cases) {
    const std::string errors = Errors(City(c.feed, c.broker));
    EXPECT_NE(errors.find(c.expected), std::string::npos)
        << "expected '" << c.expected << "' in:\n"
        << errors;
  }
}

TEST(MqttConfigTest, ATopicFilterFeedsOneStream) {
  const std::string two =
      absl::StrCat(R"(city: {name: C, controller: D, contact: dpo@c.example}
purposes:
  - {id: planning, legal_basis: public-task}
streams:
  - id: a
    time: time
    purposes: [planning]
    mqtt: {topics: ["x/+"]}
    fields: [{name: time, type: time, category: time}]
  - id: b
    time: time
    purposes: [planning]
    mqtt: {topics: ["x/+"]}
    fields: [{name: time, type: time, category: time}]
)",
                   kBroker);
  const std::string errors = Errors(two);
  EXPECT_NE(errors.find("already feeds another stream (line 8)"), std::string::npos)
      << errors;
}

}  // namespace
}  // namespace privacity::config
