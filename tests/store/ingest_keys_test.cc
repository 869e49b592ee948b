// Ingest dedupe keys: claimed in the records' transaction, found again,
// forgotten after their window.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "store/store.h"

namespace privacity::store {
namespace {

class IngestKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privacity-ingest-keys-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = OpenStore("sqlite:privacity.db", dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  StoredRecord Record(int64_t id) {
    StoredRecord r;
    r.id = id;
    r.stream = "s";
    r.time_us = id;
    r.payload = "{}";
    return r;
  }
  static IngestKey Key(char c, int64_t time_us = 100) {
    return IngestKey{"s", std::string(32, c), time_us};
  }

  std::string dir_;
  StorePtr store_;
};

TEST_F(IngestKeysTest, ClaimedWithRecordsOrNotAtAll) {
  ASSERT_TRUE(store_->ReserveRecordIds(10).ok());
  ASSERT_TRUE(
      store_->AppendRecordsOnce({Record(1), Record(2)}, {Key('a'), Key('b')}).ok());
  auto found = store_->FindIngestKeys(
      {Key('a'), Key('c'), Key('b'), IngestKey{"t", std::string(32, 'a'), 0}});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, (std::vector<bool>{true, false, true, false}));

  // A key claimed before: nothing of the call is written.
  const absl::Status again = store_->AppendRecordsOnce({Record(3)}, {Key('c'), Key('a')});
  EXPECT_TRUE(absl::IsAlreadyExists(again)) << again;
  EXPECT_EQ(*store_->CountRecords("s"), 2);
  EXPECT_EQ(*store_->FindIngestKeys({Key('c')}), std::vector<bool>{false});

  // Keys without records (messages whose records were all rejected).
  ASSERT_TRUE(store_->AppendRecordsOnce({}, {Key('c')}).ok());
  EXPECT_EQ(*store_->FindIngestKeys({Key('c')}), std::vector<bool>{true});

  // A malformed key is refused before anything is written.
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_->AppendRecordsOnce({Record(4)}, {IngestKey{"s", "short", 0}})));
  EXPECT_EQ(*store_->CountRecords("s"), 2);
}

TEST_F(IngestKeysTest, ForgottenAfterTheirWindow) {
  ASSERT_TRUE(store_->AppendRecordsOnce({}, {Key('a', 100), Key('b', 200)}).ok());
  auto deleted = store_->DeleteIngestKeysBefore(150);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(*store_->FindIngestKeys({Key('a'), Key('b')}),
            (std::vector<bool>{false, true}));
}

}  // namespace
}  // namespace privacity::store
