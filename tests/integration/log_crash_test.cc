// The transparency log survives kill -9 during heavy ingest, 20 times in a
// row. A child process (log_crash_child.cc) ingests batches and signs
// checkpoints; the test kills it at a random moment, then reopens the trust
// as a restarted server would and checks:
//   - the log's stored tree is intact (every entry and node rehashes);
//   - a checkpoint signed now is consistent with every checkpoint ever
//     stored before, across all rounds;
//   - every batch the child acknowledged has its ingest leaf (matched by the
//     batch digest in the leaf).
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "audit/checkpoint.h"
#include "audit/leaves.h"
#include "audit/log.h"
#include "audit/merkle.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/trust.h"

extern char** environ;

namespace privacity {
namespace {

namespace fs = std::filesystem;

const std::string kCity =
    (fs::path(PRIVACITY_SOURCE_DIR) / "examples" / "demo-city" / "city.yaml").string();

struct Child {
  pid_t pid = -1;
  int out = -1;  // read end of its stdout
};

Child Spawn(const std::string& data_dir, uint64_t seed) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  const std::string seed_text = std::to_string(seed);
  std::vector<char*> args = {
      const_cast<char*>(LOG_CRASH_CHILD), const_cast<char*>(kCity.c_str()),
      const_cast<char*>(data_dir.c_str()), const_cast<char*>(seed_text.c_str()), nullptr};
  Child child;
  if (posix_spawn(&child.pid, LOG_CRASH_CHILD, &actions, nullptr, args.data(), environ) !=
      0) {
    child.pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  child.out = fds[0];
  return child;
}

// Complete "ack <hex>" lines of `buffer`, consumed.
void TakeAcks(std::string& buffer, std::vector<std::string>& acks) {
  size_t nl;
  while ((nl = buffer.find('\n')) != std::string::npos) {
    const std::string line = buffer.substr(0, nl);
    buffer.erase(0, nl + 1);
    if (line.rfind("ack ", 0) == 0) acks.push_back(line.substr(4));
  }
}

class LogCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "privacity-crash-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto config = config::LoadConfigFile(kCity);
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
    ASSERT_TRUE(server::Trust::Initialize(config_, dir_, clock_, random_).ok());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  SystemClock clock_;
  CryptoRandom random_;
  std::string dir_;
  config::CityConfig config_;
};

TEST_F(LogCrashTest, KillNineDuringIngestTwentyTimes) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::set<std::string> acked;           // every digest acknowledged so far
  std::map<uint64_t, std::string> seen;  // every checkpoint seen: size -> note
  uint64_t scanned = 0;                  // entries whose digests are collected
  std::set<std::string> logged;          // digests of ingest leaves
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round, ", seed ", seed));
    Child child = Spawn(dir_, seed * 100 + round);
    ASSERT_GT(child.pid, 0);
    // Wait for the first acknowledged batch, then kill at a random moment.
    std::string buffer;
    std::vector<std::string> acks;
    char chunk[4096];
    while (acks.empty()) {
      const ssize_t n = ::read(child.out, chunk, sizeof(chunk));
      ASSERT_GT(n, 0) << "the child exited before acknowledging a batch";
      buffer.append(chunk, static_cast<size_t>(n));
      TakeAcks(buffer, acks);
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 300000)(rng)));
    ASSERT_EQ(::kill(child.pid, SIGKILL), 0);
    ssize_t n;
    while ((n = ::read(child.out, chunk, sizeof(chunk))) > 0) {
      buffer.append(chunk, static_cast<size_t>(n));
    }
    TakeAcks(buffer, acks);
    ::close(child.out);
    int status = 0;
    ASSERT_EQ(::waitpid(child.pid, &status, 0), child.pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child failed on its own (status " << status << ")";
    acked.insert(acks.begin(), acks.end());

    // Restart.
    auto trust = server::Trust::Open(config_, dir_, clock_, random_);
    ASSERT_TRUE(trust.ok()) << trust.status();
    server::AuditTrail& trail = (*trust)->audit();
    audit::LogStorage& storage = trail.storage();
    ASSERT_TRUE(audit::VerifyStorage(storage).ok());
    auto note = trail.Checkpoint();
    ASSERT_TRUE(note.ok()) << note.status();
    auto latest = audit::OpenCheckpoint(*note, trail.verifier(), trail.origin());
    ASSERT_TRUE(latest.ok());
    ASSERT_TRUE(trail.log().Reload().ok());
    EXPECT_EQ(latest->size, trail.log().head().size);

    // Every checkpoint stored so far, and every one seen in earlier rounds.
    for (uint64_t size = seen.empty() ? 0 : seen.rbegin()->first; size <= latest->size;
         ++size) {
      auto row = (*trust)->store().log().GetCheckpoint(size);
      ASSERT_TRUE(row.ok());
      if (row->has_value()) seen.emplace(size, (*row)->note);
    }
    for (const auto& [size, earlier_note] : seen) {
      auto row = (*trust)->store().log().GetCheckpoint(size);
      ASSERT_TRUE(row.ok() && row->has_value());
      EXPECT_EQ((*row)->note, earlier_note);
      auto earlier =
          audit::OpenCheckpoint(earlier_note, trail.verifier(), trail.origin());
      ASSERT_TRUE(earlier.ok());
      auto proof = trail.log().ConsistencyProof(size, latest->size);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(audit::VerifyConsistency(size, latest->size, *proof, earlier->root,
                                           latest->root)
                      .ok())
          << "checkpoint " << size << " is not consistent with " << latest->size;
    }

    // Every acknowledged batch has its leaf.
    auto entries = storage.ReadEntries(scanned, latest->size);
    ASSERT_TRUE(entries.ok());
    for (const audit::LogEntry& e : *entries) {
      auto leaf = audit::ParseLeaf(e.data);
      ASSERT_TRUE(leaf.ok());
      if ((*leaf)["type"] == "ingest_batch") {
        logged.insert((*leaf)["digest"].get<std::string>());
      }
    }
    scanned = latest->size;
    for (const std::string& digest : acked) {
      EXPECT_TRUE(logged.count(digest))
          << "acknowledged batch " << digest << " has no leaf";
    }
  }
  EXPECT_GE(acked.size(), 20u);
  EXPECT_GE(seen.size(), 20u);
}

}  // namespace
}  // namespace privacity
