#include "server/aggregate_view.h"

#include <cmath>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "crypto/crypto.h"
#include "rights/consent.h"
#include "server/record_access.h"
#include "transform/pipeline.h"

namespace privacity::server {
namespace {

using json = nlohmann::ordered_json;

absl::Status KeyError(std::string_view key, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("aggregate request: \"", std::string(key), "\" ", std::string(why)));
}

absl::StatusOr<std::string> GetString(const json& v, std::string_view key) {
  if (!v.is_string()) return KeyError(key, "must be a string");
  return v.get<std::string>();
}

absl::StatusOr<double> GetNumber(const json& v, std::string_view key) {
  if (!v.is_number()) return KeyError(key, "must be a number");
  const double d = v.get<double>();
  if (!std::isfinite(d)) return KeyError(key, "must be finite");
  return d;
}

absl::StatusOr<int64_t> GetInteger(const json& v, std::string_view key) {
  if (!v.is_number_integer()) return KeyError(key, "must be an integer");
  return v.get<int64_t>();
}

absl::StatusOr<absl::Time> GetTime(const json& v, std::string_view key) {
  ASSIGN_OR_RETURN(std::string s, GetString(v, key));
  auto t = ParseTimestamp(s);
  if (!t.ok()) return KeyError(key, "must be an RFC 3339 timestamp");
  return *t;
}

// The query as charged and cached: every parameter that changes the
// release, in a fixed order (the party is implied by the agreement).
json CanonicalQuery(const AggregateRequest& r) {
  json q = json::object();
  q["stream"] = r.stream;
  q["purpose"] = r.purpose;
  q["metric"] = std::string(dp::ToString(r.metric));
  q["mechanism"] = std::string(dp::ToString(r.mechanism));
  q["group_by"] = r.group_by;
  q["from"] = r.from ? json(FormatTimestamp(*r.from)) : json(nullptr);
  q["to"] = r.to ? json(FormatTimestamp(*r.to)) : json(nullptr);
  q["value"] = r.value;
  q["lower"] = r.lower ? json(*r.lower) : json(nullptr);
  q["upper"] = r.upper ? json(*r.upper) : json(nullptr);
  q["quantiles"] = r.metric == dp::Metric::kQuantiles ? json(r.quantiles) : json(nullptr);
  q["epsilon"] = r.epsilon;
  q["delta"] = r.delta;
  q["max_partitions"] = r.max_partitions;
  q["max_records_per_partition"] = r.max_records_per_partition;
  return q;
}

}  // namespace

absl::StatusOr<AggregateRequest> ParseAggregateRequest(std::string_view body) {
  const json doc =
      json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return absl::InvalidArgumentError("aggregate request: malformed JSON");
  if (!doc.is_object())
    return absl::InvalidArgumentError("aggregate request: must be a JSON object");
  AggregateRequest r;
  bool has_metric = false, has_epsilon = false;
  for (const auto& [key, v] : doc.items()) {
    if (key == "purpose") {
      ASSIGN_OR_RETURN(r.purpose, GetString(v, key));
    } else if (key == "stream") {
      ASSIGN_OR_RETURN(r.stream, GetString(v, key));
    } else if (key == "metric") {
      ASSIGN_OR_RETURN(std::string m, GetString(v, key));
      auto metric = dp::ParseMetric(m);
      if (!metric) {
        return KeyError(
            key,
            "is not one of count, distinct_subjects, sum, mean, quantiles, histogram");
      }
      r.metric = *metric;
      has_metric = true;
    } else if (key == "mechanism") {
      ASSIGN_OR_RETURN(std::string m, GetString(v, key));
      if (m == "laplace") {
        r.mechanism = dp::Mechanism::kLaplace;
      } else if (m == "gaussian") {
        r.mechanism = dp::Mechanism::kGaussian;
      } else {
        return KeyError(key, "is not one of laplace, gaussian");
      }
    } else if (key == "group_by") {
      if (!v.is_array()) return KeyError(key, "must be an array of strings");
      for (const json& g : v) {
        if (!g.is_string()) return KeyError(key, "must be an array of strings");
        r.group_by.push_back(g.get<std::string>());
      }
    } else if (key == "from") {
      ASSIGN_OR_RETURN(r.from, GetTime(v, key));
    } else if (key == "to") {
      ASSIGN_OR_RETURN(r.to, GetTime(v, key));
    } else if (key == "value") {
      ASSIGN_OR_RETURN(r.value, GetString(v, key));
    } else if (key == "lower") {
      ASSIGN_OR_RETURN(r.lower, GetNumber(v, key));
    } else if (key == "upper") {
      ASSIGN_OR_RETURN(r.upper, GetNumber(v, key));
    } else if (key == "quantiles") {
      if (!v.is_array()) return KeyError(key, "must be an array of numbers");
      r.quantiles.clear();
      for (const json& q : v) {
        ASSIGN_OR_RETURN(double d, GetNumber(q, key));
        r.quantiles.push_back(d);
      }
    } else if (key == "epsilon") {
      ASSIGN_OR_RETURN(r.epsilon, GetNumber(v, key));
      has_epsilon = true;
    } else if (key == "delta") {
      ASSIGN_OR_RETURN(r.delta, GetNumber(v, key));
    } else if (key == "max_partitions") {
      ASSIGN_OR_RETURN(r.max_partitions, GetInteger(v, key));
    } else if (key == "max_records_per_partition") {
      ASSIGN_OR_RETURN(r.max_records_per_partition, GetInteger(v, key));
    } else {
      // The key itself is request text; name it only by position.
      return absl::InvalidArgumentError(
          "aggregate request: unknown key (allowed: purpose, stream, metric, mechanism, "
          "group_by, from, to, value, lower, upper, quantiles, epsilon, delta, "
          "max_partitions, "
          "max_records_per_partition)");
    }
  }
  if (r.purpose.empty()) return KeyError("purpose", "is required");
  if (!has_metric) return KeyError("metric", "is required");
  if (!has_epsilon) return KeyError("epsilon", "is required");
  return r;
}

json AggregateResult::ToJson() const {
  if (!decision.permitted()) {
    json e = json::object();
    e["error"] = "denied";
    e["reason"] = std::string(policy::ReasonCode(decision.reason));
    e["detail"] = decision.detail;
    return e;
  }
  json out = answer;
  out["cached"] = cached;
  out["charged"] = {{"epsilon", charged.TotalEpsilon()},
                    {"delta", charged.TotalDelta()},
                    {"rho", charged.rho}};
  out["remaining"] = {{"epsilon", remaining.epsilon}, {"delta", remaining.delta}};
  return out;
}

absl::StatusOr<AggregateResult> RunAggregate(Trust& trust,
                                             const AggregateRequest& request) {
  dp::ExactNoise noise(trust.random());
  return RunAggregateWithNoise(trust, request, noise);
}

absl::StatusOr<AggregateResult> RunAggregateWithNoise(Trust& trust,
                                                      const AggregateRequest& request,
                                                      dp::NoiseSource& noise) {
  return RunAggregateAtLevel(trust, request, config::AccessLevel::kAggregate, noise);
}

absl::StatusOr<nlohmann::ordered_json> BudgetOverview(Trust& trust,
                                                      const std::string& party) {
  const absl::Time now = trust.clock().Now();
  json budgets = json::array();
  for (const config::Agreement& a : trust.config().agreements) {
    if (a.party != party || !a.budget.has_value()) continue;
    dp::BudgetAccountant accountant(trust.store(), a.id, *a.budget, now);
    ASSIGN_OR_RETURN(dp::BudgetStatus st, accountant.Status());
    json b = json::object();
    b["agreement"] = a.id;
    b["stream"] = a.stream;
    b["level"] = std::string(config::ToString(a.level));
    b["purposes"] = a.purposes;
    b["cap"] = {{"epsilon", st.cap.epsilon},
                {"delta", st.cap.delta},
                {"period", FormatDurationSpec(st.cap.period)}};
    b["period"] = {{"number", st.period},
                   {"start", FormatTimestamp(st.period_start)},
                   {"end", FormatTimestamp(st.period_end)}};
    b["spent"] = {{"epsilon", st.spent.TotalEpsilon()},
                  {"delta", st.spent.TotalDelta()},
                  {"pure_epsilon", st.spent.epsilon},
                  {"rho", st.spent.rho},
                  {"rho_delta", st.spent.rho_delta}};
    b["remaining"] = {{"epsilon", st.remaining.epsilon}, {"delta", st.remaining.delta}};
    budgets.push_back(std::move(b));
  }
  json out = json::object();
  out["party"] = party;
  out["time"] = FormatTimestamp(now);
  out["budgets"] = std::move(budgets);
  return out;
}

absl::StatusOr<AggregateResult> RunAggregateAtLevel(Trust& trust,
                                                    const AggregateRequest& request,
                                                    config::AccessLevel level,
                                                    dp::NoiseSource& noise) {
  AggregateResult result;
  const config::CityConfig& config = trust.config();
  const absl::Time now = trust.clock().Now();

  policy::AccessRequest access;
  access.party = request.party;
  access.purpose = request.purpose;
  access.stream = request.stream;
  access.level = level;
  access.from = request.from;
  access.to = request.to;
  const config::Stream* stream = config.FindStream(request.stream);
  // Fields the release reads: the measured one and grouped enum fields.
  if (stream != nullptr) {
    if (!request.value.empty()) access.fields.push_back(request.value);
    for (const std::string& g : request.group_by) {
      if (g.rfind("time:", 0) != 0 && g.rfind("cell:", 0) != 0)
        access.fields.push_back(g);
    }
  }
  result.decision = policy::Decide(config, access, now);
  if (!result.decision.permitted()) {
    RETURN_IF_ERROR(
        trust.audit().AppendDecision(config, access, result.decision, 0).status());
    return result;
  }
  const policy::Obligations& ob = result.decision.obligations;
  if (stream == nullptr || !ob.budget.has_value()) {
    return absl::InternalError("permitted aggregate without stream or budget");
  }

  // The query, validated against the stream and the agreement.
  dp::AggregateSpec spec;
  spec.metric = request.metric;
  spec.mechanism = request.mechanism;
  for (const std::string& g : request.group_by) {
    ASSIGN_OR_RETURN(dp::GroupBy group, dp::ParseGroupBy(g, *stream));
    if (group.kind == dp::GroupBy::Kind::kTime && ob.time_granularity &&
        group.bucket < *ob.time_granularity) {
      return absl::InvalidArgumentError(absl::StrCat(
          "group_by \"", g, "\": finer than the agreement's time granularity ",
          FormatDurationSpec(*ob.time_granularity)));
    }
    if (group.kind == dp::GroupBy::Kind::kCell && ob.cell_level &&
        group.cell_level > *ob.cell_level) {
      return absl::InvalidArgumentError(
          absl::StrCat("group_by \"", g, "\": finer than the agreement's cell level ",
                       *ob.cell_level));
    }
    spec.group_by.push_back(std::move(group));
  }
  spec.from = request.from;
  spec.to = request.to;
  spec.cell_area = stream->area ? stream->area : config.city.area;
  spec.value_field = request.value;
  spec.lower = request.lower;
  spec.upper = request.upper;
  spec.quantiles = request.quantiles;
  spec.epsilon = request.epsilon;
  spec.delta = request.delta;
  spec.max_partitions = request.max_partitions;
  spec.max_records_per_partition = request.max_records_per_partition;
  ASSIGN_OR_RETURN(std::unique_ptr<dp::Aggregator> aggregator,
                   dp::Aggregator::Create(*stream, std::move(spec)));

  // Scan, open, apply consent and objection, and feed the aggregator.
  store::RecordQuery query;
  query.stream = stream->id;
  if (request.from) query.from_us = absl::ToUnixMicros(*request.from);
  if (request.to) query.to_us = absl::ToUnixMicros(*request.to);
  ConsentCache consent(trust.store(), request.purpose);
  PayloadOpener opener(trust.keyring(), *stream);
  // A count by time and cell reads no payload: times, cells and blind
  // indexes are columns. The data key must still exist, as for opening
  // (an erasure destroys the keys before it deletes the rows).
  const bool open_payloads = aggregator->needs_payload();
  const nlohmann::json no_payload = nlohmann::json::object();
  RETURN_IF_ERROR(
      trust.store().ScanRecords(query, [&](const store::StoredRecord& r) -> absl::Status {
        ASSIGN_OR_RETURN(const bool withheld, Withheld(*stream, ob, r, consent));
        if (withheld) {
          ++result.withheld;
          return absl::OkStatus();
        }
        if (!open_payloads) {
          ASSIGN_OR_RETURN(const bool live, opener.KeyExists(r));
          if (!live) return absl::OkStatus();  // erased subject
          return aggregator->Add(r.blind_index, r.time_us, r.cell, no_payload);
        }
        ASSIGN_OR_RETURN(std::optional<std::string> plaintext, opener.Open(r));
        if (!plaintext.has_value()) return absl::OkStatus();  // erased subject
        const nlohmann::json payload = nlohmann::json::parse(*plaintext, nullptr, false);
        if (!payload.is_object()) {
          return absl::DataLossError(
              absl::StrCat("record ", r.id, " has a corrupt payload"));
        }
        return aggregator->Add(r.blind_index, r.time_us, r.cell, payload);
      }));

  // Noise, then one atomic step that charges the budget and stores the
  // noised answer: nothing is returned before that step succeeds, and the
  // cached answer is the one charged for.
  ASSIGN_OR_RETURN(dp::AggregateRelease release, aggregator->Release(noise));
  json answer = CanonicalQuery(request);
  answer["epsilon"] = release.loss.TotalEpsilon();
  answer["delta"] = release.loss.TotalDelta();
  if (release.loss.rho > 0) answer["rho"] = release.loss.rho;
  answer["agreement"] = ob.agreement_id;
  // Tells a fresh charge from a cached one (the ledger returns the stored
  // answer either way).
  answer["release_id"] = HexEncode(trust.random().Bytes(16));
  if (request.metric == dp::Metric::kSum || request.metric == dp::Metric::kMean ||
      request.metric == dp::Metric::kQuantiles) {
    const config::Field* f = stream->FindField(request.value);
    answer["lower"] = request.lower ? *request.lower : f->min.value_or(0);
    answer["upper"] = request.upper ? *request.upper : f->max.value_or(0);
  }
  answer["unit_of_privacy"] = stream->personal() ? "subject" : "record";
  const json table = release.ToJson();
  for (const auto& [k, v] : table.items()) answer[k] = v;

  // A consent change or an erasure since a cached answer makes it stale
  // (rights/consent.h, DataVersion): the version is part of the key.
  ASSIGN_OR_RETURN(const std::string data_version,
                   rights::DataVersion(trust.store(), request.purpose));
  const std::string key = HexEncode(
      crypto::Sha256(absl::StrCat(CanonicalQuery(request).dump(), data_version)));
  dp::BudgetAccountant accountant(trust.store(), ob.agreement_id, *ob.budget, now);
  auto charged = accountant.Charge(key, release.loss, answer.dump());
  if (!charged.ok()) {
    // Logged as a permitted decision that released nothing.
    RETURN_IF_ERROR(
        trust.audit().AppendDecision(config, access, result.decision, 0).status());
    return charged.status();
  }
  const std::string fresh = answer.dump();
  if (charged->result != fresh) {
    result.cached = true;
    result.answer = json::parse(charged->result, nullptr, false);
    if (!result.answer.is_object())
      return absl::DataLossError("cached aggregate answer is corrupt");
  } else {
    result.answer = std::move(answer);
    result.charged = release.loss;
  }
  ASSIGN_OR_RETURN(result.remaining, accountant.Remaining());
  const int64_t rows = result.answer.contains("rows")
                           ? static_cast<int64_t>(result.answer["rows"].size())
                           : 0;
  RETURN_IF_ERROR(
      trust.audit().AppendDecision(config, access, result.decision, rows).status());
  return result;
}

}  // namespace privacity::server
