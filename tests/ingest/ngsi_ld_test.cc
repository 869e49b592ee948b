// The NGSI-LD adapter: both forms, @context in a Link header or the body,
// short names vs expanded IRIs, and every kind of bad request.
#include "ingest/ngsi_ld.h"

#include <string>
#include <vector>

#include "config/loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace privacity::ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using transform::InputRecord;
using transform::InputValue;

constexpr char kCity[] = R"(
city: {name: Test, controller: Office, contact: dpo@example.org}
purposes:
  - {id: traffic, description: Traffic, legal_basis: public-task}
streams:
  - id: vehicles
    subject: plate
    time: time
    location: location
    purposes: [traffic]
    fields:
      - {name: plate, type: string, category: subject-identifier, transform: pseudonymize}
      - {name: vehicle_id, type: string, category: direct-identifier, transform: pseudonymize}
      - {name: time, type: time, category: time}
      - {name: location, type: point, category: location, transform: {cell: 14}}
      - {name: speed, type: number, category: measurement}
      - {name: owner_ref, type: string, category: other}
    ngsi_ld:
      entity_type: Vehicle
      id_field: vehicle_id
      attributes:
        vehiclePlateIdentifier: plate
        location: location
        speed: speed
        refOwner: owner_ref
        dateObserved: time
  - id: counts
    time: time
    purposes: [traffic]
    fields:
      - {name: time, type: time, category: time}
      - {name: lat, type: number, category: location}
      - {name: lon, type: number, category: location}
      - {name: where, type: point, category: location, source: [lat, lon]}
      - {name: count, type: int, category: measurement}
    ngsi_ld:
      - entity_type: CrowdFlowObserved
        attributes: {peopleCount: count, location: where}
      - entity_type: TrafficFlowObserved
        attributes: {intensity: count}
)";

constexpr char kLink[] =
    "<https://smart-data-models.github.io/dataModel.Transportation/context.jsonld>; "
    "rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";

const absl::Time kReceived = absl::FromUnixSeconds(1767225600);  // 2026-01-01

class NgsiLdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = config::ParseConfig(kCity, "city.yaml", "");
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = std::move(*config);
    auto adapter = NgsiLdAdapter::Create(config_, limits_);
    ASSERT_TRUE(adapter.ok()) << adapter.status();
    adapter_ = std::move(*adapter);
  }

  absl::StatusOr<NgsiLdBatch> Parse(const std::string& body,
                                    NgsiLdOperation op = NgsiLdOperation::kUpsert,
                                    const std::string& content_type = "application/json",
                                    const std::string& link = kLink,
                                    NgsiLdForm form = NgsiLdForm::kAuto) {
    body_ = body;
    NgsiLdInput input;
    input.operation = op;
    input.body = body_;
    input.content_type = content_type;
    input.link = link;
    input.form = form;
    return adapter_->Parse(input, kReceived);
  }

  static const InputValue* Field(const InputRecord& r, std::string_view name) {
    return r.Find(name);
  }
  static std::string Text(const InputRecord& r, std::string_view name) {
    const InputValue* v = r.Find(name);
    return v == nullptr ? "<absent>" : std::string(v->text);
  }

  NgsiLdLimits limits_;
  config::CityConfig config_;
  std::unique_ptr<NgsiLdAdapter> adapter_;
  std::string body_;
};

constexpr char kNormalized[] = R"([{
  "id": "urn:ngsi-ld:Vehicle:fleet:1",
  "type": "Vehicle",
  "vehiclePlateIdentifier": {"type": "Property", "value": "3456ABC"},
  "license_plate": {"type": "Property", "value": "KA052134"},
  "speed": {"type": "Property", "value": 50, "observedAt": "2018-09-27T12:00:00Z"},
  "location": {"type": "GeoProperty",
               "value": {"type": "Point", "coordinates": [-3.16, 40.62]}},
  "refOwner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:7"}
}])";

TEST_F(NgsiLdTest, NormalizedWithLinkHeader) {
  auto batch = Parse(kNormalized);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->groups().size(), 1u);
  const NgsiLdGroup& g = batch->groups()[0];
  EXPECT_EQ(g.stream->id, "vehicles");
  EXPECT_EQ(g.entity_types, std::vector<std::string>{"Vehicle"});
  ASSERT_EQ(g.records.size(), 1u);
  EXPECT_TRUE(g.errors.empty());
  const InputRecord& r = g.records[0];
  EXPECT_EQ(r.line, 1);
  EXPECT_EQ(Text(r, "plate"), "3456ABC");
  EXPECT_EQ(Text(r, "vehicle_id"), "urn:ngsi-ld:Vehicle:fleet:1");
  EXPECT_EQ(Text(r, "owner_ref"), "urn:ngsi-ld:Person:7");
  ASSERT_NE(Field(r, "speed"), nullptr);
  EXPECT_EQ(Field(r, "speed")->kind, InputValue::Kind::kInteger);
  EXPECT_EQ(Field(r, "speed")->integer, 50);
  // No dateObserved: the first observedAt of a mapped attribute.
  EXPECT_EQ(Text(r, "time"), "2018-09-27T12:00:00Z");
  ASSERT_NE(Field(r, "location"), nullptr);
  const auto point = nlohmann::json::parse(Field(r, "location")->text);
  EXPECT_DOUBLE_EQ(point["lat"].get<double>(), 40.62);
  EXPECT_DOUBLE_EQ(point["lon"].get<double>(), -3.16);
  // Unmapped attributes are never read.
  EXPECT_EQ(Field(r, "license_plate"), nullptr);
  EXPECT_EQ(r.fields.size(), 6u);
}

TEST_F(NgsiLdTest, KeyValuesWithContextInBody) {
  const std::string body = R"([{
    "id": "urn:ngsi-ld:Vehicle:fleet:1", "type": "Vehicle",
    "vehiclePlateIdentifier": "3456ABC", "speed": 50.5,
    "location": {"type": "Point", "coordinates": [-3.16, 40.62]},
    "dateObserved": "2018-09-27T12:00:00",
    "@context": ["https://smart-data-models.github.io/dataModel.Transportation/context.jsonld"]
  }])";
  for (NgsiLdForm form : {NgsiLdForm::kAuto, NgsiLdForm::kKeyValues}) {
    auto batch = Parse(body, NgsiLdOperation::kUpsert, "application/ld+json", "", form);
    ASSERT_TRUE(batch.ok()) << batch.status();
    const InputRecord& r = batch->groups()[0].records.at(0);
    EXPECT_EQ(Text(r, "plate"), "3456ABC");
    EXPECT_EQ(Field(r, "speed")->kind, InputValue::Kind::kNumber);
    EXPECT_DOUBLE_EQ(Field(r, "speed")->number, 50.5);
    EXPECT_EQ(Text(r, "time"), "2018-09-27T12:00:00");
    EXPECT_EQ(nlohmann::json::parse(Field(r, "location")->text)["lat"], 40.62);
  }
}

TEST_F(NgsiLdTest, KeyValuesFormTakesNormalizedLookingValuesAsWritten) {
  const std::string body =
      R"([{"id":"v","type":"Vehicle","vehiclePlateIdentifier":{"type":"Property","value":"X"}}])";
  auto forced = Parse(body, NgsiLdOperation::kUpsert, "application/json", "",
                      NgsiLdForm::kKeyValues);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ(Field(forced->groups()[0].records.at(0), "plate")->kind,
            InputValue::Kind::kComposite);
  auto detected = Parse(body, NgsiLdOperation::kUpsert, "application/json", "");
  ASSERT_TRUE(detected.ok());
  EXPECT_EQ(Text(detected->groups()[0].records.at(0), "plate"), "X");
}

TEST_F(NgsiLdTest, NoTimeAnywhereMeansTheTimeOfReceipt) {
  auto batch = Parse(R"([{"id":"v","type":"Vehicle","vehiclePlateIdentifier":"X"}])");
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(Text(batch->groups()[0].records.at(0), "time"), "2026-01-01T00:00:00Z");
}

TEST_F(NgsiLdTest, ExpandedIrisAndInlineTermsMatchByShortName) {
  const std::string body = R"([{
    "id": "v1", "type": "https://uri.fiware.org/ns/data-models#Vehicle",
    "https://smartdatamodels.org/dataModel.Transportation/vehiclePlateIdentifier":
        {"type": "https://uri.etsi.org/ngsi-ld/Property", "value": "AB12"},
    "spd": {"type": "Property", "value": 7},
    "@context": [{"spd": "https://smartdatamodels.org/dataModel.Transportation/speed",
                  "Vehicle": {"@id": "https://uri.fiware.org/ns/data-models#Vehicle"}},
                 "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"]
  }])";
  auto batch = Parse(body, NgsiLdOperation::kUpsert, "application/ld+json", "");
  ASSERT_TRUE(batch.ok()) << batch.status();
  const InputRecord& r = batch->groups()[0].records.at(0);
  EXPECT_EQ(Text(r, "plate"), "AB12");
  EXPECT_EQ(Field(r, "speed")->integer, 7);
  EXPECT_EQ(adapter_->StreamFor("https://uri.fiware.org/ns/data-models#Vehicle")->id,
            "vehicles");
  EXPECT_EQ(adapter_->StreamFor("Vehicle")->id, "vehicles");
  EXPECT_EQ(adapter_->StreamFor("Bicycle"), nullptr);
}

TEST_F(NgsiLdTest, AnAttributeGivenTwiceIsAPerEntityError) {
  const std::string body = R"([
    {"id": "ok", "type": "Vehicle", "vehiclePlateIdentifier": "A"},
    {"id": "twice", "type": "Vehicle", "speed": 1,
     "https://smartdatamodels.org/dataModel.Transportation/speed": 2}])";
  auto batch = Parse(body);
  ASSERT_TRUE(batch.ok()) << batch.status();
  const NgsiLdGroup& g = batch->groups()[0];
  ASSERT_EQ(g.records.size(), 1u);
  ASSERT_EQ(g.errors.size(), 1u);
  EXPECT_EQ(g.errors[0].line, 2);
  EXPECT_THAT(g.errors[0].message, HasSubstr("'speed' appears more than once"));
}

TEST_F(NgsiLdTest, BadAttributesArePerEntityErrorsWithoutValues) {
  const std::string body = R"([
    {"id": "a", "type": "Vehicle", "speed": {"type": "Property", "unitCode": "KMH"}},
    {"id": "b", "type": "Vehicle", "refOwner": {"type": "Relationship", "value": "secret-x"}},
    {"id": "c", "type": "Vehicle", "location": {"type": "GeoProperty",
        "value": {"type": "Point", "coordinates": ["secret-y", 1]}}},
    {"id": "d", "type": "Vehicle", "location": {"type": "GeoProperty",
        "value": {"type": "GeometryCollection", "geometries": []}}},
    {"id": "e", "type": "Vehicle", "speed": {"type": "Property", "value": 1,
        "observedAt": 5}},
    {"id": "f", "type": "Vehicle", "speed": [{"type": "Property", "value": 1,
        "datasetId": "urn:a"}]}])";
  auto batch = Parse(body);
  ASSERT_TRUE(batch.ok()) << batch.status();
  const NgsiLdGroup& g = batch->groups()[0];
  EXPECT_TRUE(g.records.empty());
  ASSERT_EQ(g.errors.size(), 6u);
  EXPECT_THAT(g.errors[0].message, HasSubstr("a Property needs 'value'"));
  EXPECT_THAT(g.errors[1].message, HasSubstr("a Relationship needs 'object'"));
  EXPECT_THAT(g.errors[2].message, HasSubstr("GeoJSON coordinates"));
  EXPECT_THAT(g.errors[3].message, HasSubstr("must be a GeoJSON Point"));
  EXPECT_THAT(g.errors[4].message, HasSubstr("observedAt must be a string"));
  EXPECT_THAT(g.errors[5].message, HasSubstr("none is the default"));
  for (const RecordError& e : g.errors) {
    EXPECT_THAT(e.message, Not(HasSubstr("secret")));
  }
}

TEST_F(NgsiLdTest, MultiInstanceAttributesReadTheDefaultInstance) {
  const std::string body = R"([{"id": "a", "type": "Vehicle", "speed": [
      {"type": "Property", "value": 1, "datasetId": "urn:radar"},
      {"type": "Property", "value": 2}]}])";
  auto batch = Parse(body);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(Field(batch->groups()[0].records.at(0), "speed")->integer, 2);
}

TEST_F(NgsiLdTest, TypedLiteralsAndLineStringsAndTwoSourcePoints) {
  const std::string body = R"([{
    "id": "urn:ngsi-ld:CrowdFlowObserved:1", "type": "CrowdFlowObserved",
    "peopleCount": {"type": "Property", "value": 100},
    "location": {"type": "GeoProperty", "value": {"type": "LineString",
        "coordinates": [[-4.0, 41.0], [-5.0, 42.0]]}}
  }])";
  auto batch = Parse(body);
  ASSERT_TRUE(batch.ok()) << batch.status();
  const InputRecord& r = batch->groups()[0].records.at(0);
  EXPECT_EQ(batch->groups()[0].stream->id, "counts");
  EXPECT_DOUBLE_EQ(Field(r, "lat")->number, 41.5);
  EXPECT_DOUBLE_EQ(Field(r, "lon")->number, -4.5);
  EXPECT_EQ(Field(r, "count")->integer, 100);

  auto typed = Parse(R"([{"id":"v","type":"Vehicle","dateObserved":{"type":"Property",
      "value":{"@type":"DateTime","@value":"2021-05-11T06:30:00.020Z"}}}])");
  ASSERT_TRUE(typed.ok()) << typed.status();
  EXPECT_EQ(Text(typed->groups()[0].records.at(0), "time"), "2021-05-11T06:30:00.020Z");
}

TEST_F(NgsiLdTest, EntitiesOfSeveralStreamsAreGrouped) {
  auto batch = Parse(R"([{"id":"a","type":"CrowdFlowObserved","peopleCount":1},
                         {"id":"b","type":"Vehicle","vehiclePlateIdentifier":"X"},
                         {"id":"c","type":"TrafficFlowObserved","intensity":3}])");
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->entities(), 3);
  ASSERT_EQ(batch->groups().size(), 2u);
  EXPECT_EQ(batch->groups()[0].stream->id, "counts");
  EXPECT_EQ(batch->groups()[0].entity_types,
            (std::vector<std::string>{"CrowdFlowObserved", "TrafficFlowObserved"}));
  EXPECT_EQ(batch->groups()[0].records.at(1).line, 3);
  EXPECT_EQ(batch->groups()[1].stream->id, "vehicles");
}

TEST_F(NgsiLdTest, CreateTakesOneEntityAndNotifyTakesANotification) {
  auto created = Parse(R"({"id":"v","type":"Vehicle","vehiclePlateIdentifier":"X"})",
                       NgsiLdOperation::kCreate);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->entities(), 1);
  EXPECT_FALSE(Parse("[]", NgsiLdOperation::kCreate).ok());

  const std::string notification = R"({
    "id": "urn:ngsi-ld:Notification:1", "type": "Notification",
    "subscriptionId": "urn:ngsi-ld:Subscription:1",
    "notifiedAt": "2024-05-01T10:00:00.000Z",
    "data": [{"id": "v", "type": "Vehicle", "vehiclePlateIdentifier": "X"}]})";
  auto notified = Parse(notification, NgsiLdOperation::kNotify);
  ASSERT_TRUE(notified.ok()) << notified.status();
  EXPECT_EQ(Text(notified->groups()[0].records.at(0), "time"), "2024-05-01T10:00:00Z");
  // Context once for the whole notification, in the body.
  nlohmann::json ld = nlohmann::json::parse(notification);
  ld["@context"] = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld";
  EXPECT_TRUE(Parse(ld.dump(), NgsiLdOperation::kNotify, "application/ld+json", "").ok());

  auto wrong = Parse(R"({"type":"Subscription","data":[]})", NgsiLdOperation::kNotify);
  EXPECT_THAT(wrong.status().message(), HasSubstr("\"Notification\""));
  auto no_data = Parse(R"({"type":"Notification"})", NgsiLdOperation::kNotify);
  EXPECT_THAT(no_data.status().message(), HasSubstr("'data'"));
  auto bad_time = Parse(R"({"type":"Notification","notifiedAt":"soon","data":[]})",
                        NgsiLdOperation::kNotify);
  EXPECT_THAT(bad_time.status().message(), HasSubstr("notifiedAt"));
}

TEST_F(NgsiLdTest, ContextRules) {
  const std::string with_context =
      R"([{"id":"v","type":"Vehicle","@context":"https://example.org/c.jsonld"}])";
  const std::string without = R"([{"id":"v","type":"Vehicle"}])";
  // ld+json: the context in the body, never in a Link header.
  EXPECT_TRUE(
      Parse(with_context, NgsiLdOperation::kUpsert, "application/ld+json", "").ok());
  auto link_too = Parse(with_context, NgsiLdOperation::kUpsert, "application/ld+json");
  EXPECT_THAT(link_too.status().message(), HasSubstr("Link header"));
  auto missing = Parse(without, NgsiLdOperation::kUpsert, "application/ld+json", "");
  EXPECT_THAT(missing.status().message(), HasSubstr("entity 1 has no @context"));
  // json: never in the body; the Link header is optional.
  auto in_body = Parse(with_context, NgsiLdOperation::kUpsert, "application/json", "");
  EXPECT_EQ(NgsiLdErrorCode(in_body.status()), "invalid-ngsi-ld");
  EXPECT_THAT(in_body.status().message(), HasSubstr("application/ld+json"));
  EXPECT_TRUE(Parse(without, NgsiLdOperation::kUpsert, "application/json", "").ok());
  EXPECT_TRUE(Parse(without, NgsiLdOperation::kUpsert, "", "").ok());
  // Other links may share the header; a malformed one is refused.
  EXPECT_TRUE(Parse(without, NgsiLdOperation::kUpsert, "application/json",
                    std::string("<https://example.org/a>; rel=\"next\", ") + kLink)
                  .ok());
  auto garbled = Parse(without, NgsiLdOperation::kUpsert, "application/json",
                       "https://example.org/c.jsonld; rel=context");
  EXPECT_THAT(garbled.status().message(), HasSubstr("Link header is malformed"));
  auto bad_context = Parse(R"([{"id":"v","type":"Vehicle","@context":5}])",
                           NgsiLdOperation::kUpsert, "application/ld+json", "");
  EXPECT_THAT(bad_context.status().message(), HasSubstr("@context must be"));
  auto media = Parse(without, NgsiLdOperation::kUpsert, "text/plain", "");
  EXPECT_EQ(NgsiLdErrorCode(media.status()), "unsupported-media-type");
}

TEST_F(NgsiLdTest, MalformedJsonNamesTheByteOffset) {
  auto batch = Parse(R"([{"id": "v", "type": "Vehicle",,}])");
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(NgsiLdErrorCode(batch.status()), "malformed-json");
  // The second comma, the 32nd byte.
  EXPECT_THAT(std::string(batch.status().message()),
              HasSubstr("(first error at byte 32)"));
  auto utf8 = Parse("[{\"id\": \"v\xff\", \"type\": \"Vehicle\"}]");
  EXPECT_EQ(NgsiLdErrorCode(utf8.status()), "malformed-json");
  auto deep = Parse(std::string(100, '[') + std::string(100, ']'));
  EXPECT_THAT(deep.status().message(), HasSubstr("nests deeper"));
  auto empty = Parse("");
  EXPECT_THAT(empty.status().message(), HasSubstr("empty"));
}

TEST_F(NgsiLdTest, WrongShapesAreRefusedAsAWhole) {
  struct Case {
    const char* body;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"id":"v","type":"Vehicle"})", "JSON array of entities"},
           {R"([])", "no entities"},
           {R"([{"id":"v","type":"Vehicle"}, 7])", "entity 2 is not a JSON object"},
           {R"([{"type":"Vehicle"}])", "entity 1 needs 'id'"},
           {R"([{"id":5,"type":"Vehicle"}])", "entity 1 needs 'id'"},
           {R"([{"id":"v"}])", "entity 1 needs 'type'"},
           {R"([{"id":"v","type":["Vehicle","Car"]}])", "several types"}}) {
    auto batch = Parse(c.body);
    ASSERT_FALSE(batch.ok()) << c.body;
    EXPECT_EQ(NgsiLdErrorCode(batch.status()), "invalid-ngsi-ld") << c.body;
    EXPECT_THAT(batch.status().message(), HasSubstr(c.message)) << c.body;
  }
}

TEST_F(NgsiLdTest, UnknownTypesAreNamedButHostileOnesAreNot) {
  auto batch = Parse(R"([{"id":"v","type":"Vehicle"},{"id":"b","type":"Bicycle"}])");
  ASSERT_FALSE(batch.ok());
  EXPECT_TRUE(absl::IsNotFound(batch.status()));
  EXPECT_EQ(NgsiLdErrorCode(batch.status()), "unknown-entity-type");
  EXPECT_THAT(batch.status().message(), HasSubstr("entity 2"));
  EXPECT_THAT(batch.status().message(), HasSubstr("'Bicycle'"));
  auto hostile = Parse(R"([{"id":"v","type":"<script>alert(1)</script> AB-12-CD"}])");
  EXPECT_EQ(NgsiLdErrorCode(hostile.status()), "unknown-entity-type");
  EXPECT_THAT(hostile.status().message(), Not(HasSubstr("AB-12-CD")));
  EXPECT_THAT(hostile.status().message(), Not(HasSubstr("script")));
}

TEST_F(NgsiLdTest, OversizedBodiesAndTooManyEntities) {
  limits_.max_body_bytes = 64;
  limits_.max_entities = 2;
  auto adapter = NgsiLdAdapter::Create(config_, limits_);
  ASSERT_TRUE(adapter.ok());
  adapter_ = std::move(*adapter);
  auto big = Parse("[" + std::string(100, ' ') + "]");
  EXPECT_TRUE(absl::IsResourceExhausted(big.status()));
  EXPECT_EQ(NgsiLdErrorCode(big.status()), "body-too-large");
  EXPECT_THAT(big.status().message(), HasSubstr("larger than 64 bytes"));
  auto many = Parse(R"([{"id":"a","type":"V"},{},{}])");
  EXPECT_EQ(NgsiLdErrorCode(many.status()), "body-too-large");
  EXPECT_THAT(many.status().message(), HasSubstr("more than 2 entities"));
  limits_.max_entities = 0;
  EXPECT_FALSE(NgsiLdAdapter::Create(config_, limits_).ok());
}

TEST(NgsiLdConfigTest, MappingsAreCheckedWithPositions) {
  const std::string base = R"(city: {name: T, controller: O, contact: d@example.org}
purposes:
  - {id: p, description: P, legal_basis: public-task}
streams:
  - id: s
    time: time
    purposes: [p]
    fields:
      - {name: time, type: time, category: time}
      - {name: n, type: int, category: measurement}
)";
  struct Case {
    std::string yaml;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"    ngsi_ld: {entity_type: A, attributes: {x: nope}}\n",
            "city.yaml:11:47: stream 's' ngsi_ld: the target field 'nope' is not "
            "declared"},
           {"    ngsi_ld: {entity_type: A, attributes: {x: n, y: n}}\n",
            "duplicate target field 'n'"},
           {"    ngsi_ld: {entity_type: \"a b\", attributes: {x: n}}\n",
            "is not an NGSI-LD short name"},
           {"    ngsi_ld: {entity_type: A, attributes: {\"https://x/y\": n}}\n",
            "write the last segment"},
           {"    ngsi_ld: {entity_type: A, id_field: n}\n",
            "the id field 'n' must be of type string"},
           {"    ngsi_ld: {entity_type: A, attributes: {x: n}, observed_at: n}\n",
            "the observed_at field 'n' must be of type time"},
           {"    ngsi_ld: {entity_type: A}\n", "maps no attribute"},
           {"    ngsi_ld: {entity_type: A, attributes: {x: n}, extra: 1}\n",
            "unknown key 'extra'"},
           {"    ngsi_ld:\n      - {entity_type: A, attributes: {x: n}}\n"
            "      - {entity_type: A, attributes: {y: n}}\n",
            "duplicate NGSI-LD entity type 'A'"},
           {"    ngsi_ld: []\n", "must not be empty"}}) {
    auto config = config::ParseConfig(base + c.yaml, "city.yaml", "");
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_THAT(config.status().message(), HasSubstr(c.message)) << c.yaml;
  }
  auto ok = config::ParseConfig(
      base + "    ngsi_ld: {entity_type: A, attributes: {x: n}}\n", "city.yaml", "");
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->streams[0].ngsi_ld.size(), 1u);
  const config::NgsiLdMapping& m = ok->streams[0].ngsi_ld[0];
  EXPECT_EQ(m.entity_type, "A");
  EXPECT_EQ(m.observed_at, "time");
  EXPECT_EQ(m.attributes, (std::vector<std::pair<std::string, std::string>>{{"x", "n"}}));
  // Written back and read again, the mapping is the same.
  auto again = config::ParseConfig(config::ToYaml(*ok), "city.yaml", "");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->streams[0].ngsi_ld[0].attributes, m.attributes);
  EXPECT_EQ(again->streams[0].ngsi_ld[0].entity_type, "A");
}

}  // namespace
}  // namespace privacity::ingest
