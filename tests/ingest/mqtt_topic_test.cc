// MQTT topic filter matching (MQTT 3.1.1 section 4.7).
#include "gtest/gtest.h"
#include "ingest/mqtt/mqtt_subscriber.h"

namespace privacity::ingest {
namespace {

TEST(MqttTopicTest, Matches) {
  EXPECT_TRUE(MqttTopicMatches("meters/+/readings", "meters/MAC1/readings"));
  EXPECT_FALSE(MqttTopicMatches("meters/+/readings", "meters/MAC1/x/readings"));
  EXPECT_FALSE(MqttTopicMatches("meters/+/readings", "meters/MAC1"));
  EXPECT_TRUE(MqttTopicMatches("meters/#", "meters/MAC1/readings"));
  EXPECT_TRUE(MqttTopicMatches("meters/#", "meters"));  // '#' includes the parent
  EXPECT_TRUE(MqttTopicMatches("#", "a/b/c"));
  EXPECT_TRUE(MqttTopicMatches("+/+", "a/b"));
  EXPECT_TRUE(MqttTopicMatches("+", ""));  // one empty level
  EXPECT_TRUE(MqttTopicMatches("a//b", "a//b"));
  EXPECT_FALSE(MqttTopicMatches("a/b", "a/B"));  // case-sensitive
  EXPECT_FALSE(MqttTopicMatches("a/b", "a/b/"));
  // '$' topics only by name.
  EXPECT_FALSE(MqttTopicMatches("#", "$SYS/broker/uptime"));
  EXPECT_FALSE(MqttTopicMatches("+/broker/uptime", "$SYS/broker/uptime"));
  EXPECT_TRUE(MqttTopicMatches("$SYS/#", "$SYS/broker/uptime"));
}

}  // namespace
}  // namespace privacity::ingest
