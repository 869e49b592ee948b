// The log's HTTP handlers (server/log_routes.h), called directly.
#include "server/log_routes.h"

#include <string>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/log.h"
#include "audit/note.h"
#include "audit/proof_check.h"
#include "audit/tiles.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "trust_fixture.h"

namespace privacity::audit {
namespace {

using server::HttpRequest;
using server::HttpResponse;
using testing::TrustFixture;

HttpRequest Get(std::string path, std::map<std::string, std::string> query = {}) {
  HttpRequest request;
  request.method = "GET";
  request.path = std::move(path);
  request.query = std::move(query);
  return request;
}

std::string Header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

class LogRoutesTest : public TrustFixture {};

TEST_F(LogRoutesTest, CheckpointAndKey) {
  server::AuditTrail& trail = trust_->audit();
  EXPECT_EQ(server::HandleLogCheckpoint(trail, Get("/log/checkpoint")).status, 404);
  ASSERT_TRUE(trail.Checkpoint().ok());
  HttpResponse checkpoint = server::HandleLogCheckpoint(trail, Get("/log/checkpoint"));
  EXPECT_EQ(checkpoint.status, 200);
  HttpResponse key = server::HandleLogKey(trail, Get("/log/key"));
  ASSERT_EQ(key.status, 200);
  ASSERT_FALSE(key.body.empty());
  // What a client fetches is enough to verify the checkpoint.
  auto verifier = NoteVerifier::FromVerifierKey(key.body.substr(0, key.body.size() - 1));
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  auto opened = OpenCheckpoint(checkpoint.body, **verifier, trail.origin());
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->size, 5u);
  HttpRequest post = Get("/log/key");
  post.method = "POST";
  EXPECT_EQ(server::HandleLogKey(trail, post).status, 400);
}

TEST_F(LogRoutesTest, TilesRebuildTheSignedTree) {
  server::AuditTrail& trail = trust_->audit();
  AppendFiller(300);
  auto note = trail.Checkpoint();
  ASSERT_TRUE(note.ok());
  auto checkpoint = OpenCheckpoint(*note, trail.verifier(), trail.origin());
  ASSERT_TRUE(checkpoint.ok());
  ASSERT_EQ(checkpoint->size, 305u);
  // Entries appended after the checkpoint are not served.
  AppendFiller(2);

  // A verifier fetching every tile over the handlers rebuilds the root.
  class RouteSource final : public TileSource {
   public:
    explicit RouteSource(server::AuditTrail& trail) : trail_(trail) {}
    absl::StatusOr<std::string> Fetch(const TileId& tile) override {
      HttpResponse r = server::HandleLogTile(trail_, Get("/log/" + TilePath(tile)));
      if (r.status != 200) return absl::NotFoundError(r.body);
      return r.body;
    }

   private:
    server::AuditTrail& trail_;
  } source(trail);
  EXPECT_TRUE(VerifyTiles(source, checkpoint->size, checkpoint->root, {}).ok());

  HttpResponse full = server::HandleLogTile(trail, Get("/log/tile/0/000"));
  ASSERT_EQ(full.status, 200);
  EXPECT_EQ(full.body.size(), 256u * 32);
  EXPECT_NE(Header(full, "Cache-Control").find("immutable"), std::string::npos);
  HttpResponse partial = server::HandleLogTile(trail, Get("/log/tile/0/001.p/49"));
  ASSERT_EQ(partial.status, 200);
  EXPECT_EQ(partial.body.size(), 49u * 32);
  EXPECT_EQ(Header(partial, "Cache-Control").find("immutable"), std::string::npos);
  HttpResponse bundle = server::HandleLogTile(trail, Get("/log/tile/entries/001.p/49"));
  ASSERT_EQ(bundle.status, 200);
  auto entries = ParseEntryBundle(bundle.body, 49);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_TRUE(ParseLeaf(entries->back()).ok());
  // Beyond the checkpoint, or not a canonical path.
  EXPECT_EQ(server::HandleLogTile(trail, Get("/log/tile/0/001.p/51")).status, 404);
  EXPECT_EQ(server::HandleLogTile(trail, Get("/log/tile/0/002")).status, 404);
  EXPECT_EQ(server::HandleLogTile(trail, Get("/log/tile/0/1")).status, 400);
}

TEST_F(LogRoutesTest, ProofsInTheCheckProofLayout) {
  server::AuditTrail& trail = trust_->audit();
  AppendFiller(20);
  ASSERT_TRUE(trail.Checkpoint().ok());
  HttpResponse inclusion = server::HandleLogInclusionProof(
      trail, Get("/log/proof/inclusion", {{"index", "7"}}));
  ASSERT_EQ(inclusion.status, 200) << inclusion.body;
  auto json = nlohmann::json::parse(inclusion.body);
  EXPECT_EQ(json["leafIdx"], 7);
  EXPECT_EQ(json["treeSize"], 25);
  EXPECT_EQ(CheckProofJson(inclusion.body).verdict, ProofVerdict::kHolds);

  HttpResponse at_size = server::HandleLogInclusionProof(
      trail, Get("/log/proof/inclusion", {{"index", "3"}, {"size", "9"}}));
  ASSERT_EQ(at_size.status, 200);
  EXPECT_EQ(CheckProofJson(at_size.body).verdict, ProofVerdict::kHolds);

  HttpResponse consistency = server::HandleLogConsistencyProof(
      trail, Get("/log/proof/consistency", {{"from", "6"}, {"to", "25"}}));
  ASSERT_EQ(consistency.status, 200) << consistency.body;
  EXPECT_EQ(CheckProofJson(consistency.body).verdict, ProofVerdict::kHolds);

  // A proof edited in transit no longer holds.
  json["leafIdx"] = 8;
  EXPECT_EQ(CheckProofJson(json.dump()).verdict, ProofVerdict::kFails);

  for (const auto& query : std::vector<std::map<std::string, std::string>>{
           {},
           {{"index", "x"}},
           {{"index", "-1"}},
           {{"index", "25"}},
           {{"index", "1"}, {"size", "1000"}}}) {
    EXPECT_EQ(
        server::HandleLogInclusionProof(trail, Get("/log/proof/inclusion", query)).status,
        400);
  }
  EXPECT_EQ(server::HandleLogConsistencyProof(
                trail, Get("/log/proof/consistency", {{"from", "9"}, {"to", "3"}}))
                .status,
            400);
}

}  // namespace
}  // namespace privacity::audit
