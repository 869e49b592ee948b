#include "dpia/dpia.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "policy/decision.h"
#include "transform/field_transform.h"

namespace privacity::dpia {
namespace {

using nlohmann::json;

// Uniform in [0, n) (the modulo bias is negligible for a measurement).
size_t Below(RandomSource& random, size_t n) { return random.NextUint64() % n; }

std::string Percent(double v) { return absl::StrFormat("%.1f%%", 100.0 * v); }

std::string DescribeTransform(const config::Transform& t) {
  const std::string kind(config::ToString(t.kind));
  switch (t.kind) {
    case config::TransformKind::kTimeBucket:
      return absl::StrCat(kind, " ", FormatDurationSpec(t.bucket));
    case config::TransformKind::kCell:
      return absl::StrCat(kind, " level ", t.cell_level);
    case config::TransformKind::kRound:
      return absl::StrCat(kind, " ", t.step);
    case config::TransformKind::kClamp:
      return absl::StrCat(kind, " [", t.min ? absl::StrCat(*t.min) : "", ", ",
                          t.max ? absl::StrCat(*t.max) : "", "]");
    case config::TransformKind::kTruncate:
      return absl::StrCat(kind, " ", t.length);
    case config::TransformKind::kMap:
      return absl::StrCat(kind, " level ", t.level);
    default:
      return kind;
  }
}

std::string DescribeGeneralisation(const Generalisation& g) {
  return absl::StrCat(g.time_bucket > absl::ZeroDuration()
                          ? FormatDurationSpec(g.time_bucket)
                          : "as stored",
                      " x cell level ", g.cell_level);
}

// The stored generalisation of the stream: its time field's bucket and its
// location field's cell level.
Generalisation StoredGeneralisation(const config::Stream& stream) {
  Generalisation g;
  if (const config::Field* f = stream.FindField(stream.time_field)) {
    for (const config::Transform& t : f->transforms) {
      if (t.kind == config::TransformKind::kTimeBucket) g.time_bucket = t.bucket;
    }
  }
  if (const config::Field* f = stream.FindField(stream.location_field)) {
    for (const config::Transform& t : f->transforms) {
      if (t.kind == config::TransformKind::kCell) g.cell_level = t.cell_level;
    }
  }
  return g;
}

bool IsQuasiIdentifier(const config::Field& f) {
  return f.category == config::FieldCategory::kQuasiIdentifier ||
         f.category == config::FieldCategory::kLocation ||
         f.category == config::FieldCategory::kTime;
}

std::string QiValue(const config::Field& f, const json& v, const Generalisation& g) {
  if (v.is_null()) return "";
  if (f.type == config::FieldType::kTime && v.is_string()) {
    auto t = ParseTimestamp(v.get<std::string>());
    if (t.ok()) return FormatTimestamp(transform::CoarsenTime(*t, g.time_bucket));
  }
  if (f.type == config::FieldType::kPoint && v.is_string()) {
    auto cell = transform::CellFromToken(v.get<std::string>());
    if (cell.ok())
      return transform::CellToken(transform::CoarsenCell(*cell, g.cell_level));
  }
  return v.is_string() ? v.get<std::string>() : v.dump();
}

struct ViewSpec {
  const config::Agreement* agreement = nullptr;  // null: stored data
  Generalisation g;
  std::vector<const config::Field*> qis;
  bool linkable = false;
};

std::vector<std::vector<TracePoint>> Traces(const std::vector<StoredView>& records,
                                            const Generalisation& g) {
  absl::flat_hash_map<std::string, size_t> index;
  std::vector<std::vector<TracePoint>> traces;
  for (const StoredView& r : records) {
    if (r.pseudonym.empty()) continue;
    auto [it, inserted] = index.emplace(r.pseudonym, traces.size());
    if (inserted) traces.emplace_back();
    traces[it->second].push_back(Generalise({r.time_us, r.cell}, g));
  }
  return traces;
}

absl::Status Measure(const config::Stream& stream, const std::vector<StoredView>& records,
                     const ViewSpec& spec, int k, double threshold, RandomSource& random,
                     ViewMeasures& out) {
  out.agreement = spec.agreement ? spec.agreement->id : "";
  out.generalisation = spec.g;
  out.linkable = spec.linkable;
  std::vector<std::vector<std::string>> rows;
  rows.reserve(records.size());
  for (const StoredView& r : records) {
    std::vector<std::string> row;
    for (const config::Field* f : spec.qis) {
      auto it = r.fields.find(f->name);
      row.push_back(it == r.fields.end() ? "" : QiValue(*f, *it, spec.g));
    }
    rows.push_back(std::move(row));
  }
  if (!spec.qis.empty()) {
    ASSIGN_OR_RETURN(KShareResult ks, MeasureKShare(rows, k));
    for (const config::Field* f : spec.qis) ks.quasi_identifiers.push_back(f->name);
    out.k_share = std::move(ks);
  }
  if (!spec.linkable || stream.location_field.empty()) return absl::OkStatus();
  const std::vector<std::vector<TracePoint>> traces = Traces(records, spec.g);
  ASSIGN_OR_RETURN(out.unicity_p2, MeasureUnicity(traces, 2, random));
  ASSIGN_OR_RETURN(out.unicity_p4, MeasureUnicity(traces, 4, random));
  if (out.unicity_p2->unicity <= threshold) return absl::OkStatus();
  // The finest generalisation at or above the view's that brings p = 2
  // unicity under the threshold: candidates by rank (steps coarser).
  std::vector<absl::Duration> buckets = {spec.g.time_bucket};
  for (absl::Duration d :
       {absl::Minutes(30), absl::Hours(1), absl::Hours(2), absl::Hours(4), absl::Hours(8),
        absl::Hours(24), absl::Hours(24 * 7)}) {
    if (d > spec.g.time_bucket) buckets.push_back(d);
  }
  std::vector<int> levels = {spec.g.cell_level};
  for (int l : {16, 15, 14, 13, 12, 11, 10, 9, 8, 6, 4}) {
    if (l < spec.g.cell_level) levels.push_back(l);
  }
  const int max_rank = static_cast<int>(buckets.size() + levels.size()) - 2;
  for (int rank = 1; rank <= max_rank; ++rank) {
    for (int ti = std::max(0, rank - static_cast<int>(levels.size()) + 1);
         ti < static_cast<int>(buckets.size()) && ti <= rank; ++ti) {
      const Generalisation candidate{buckets[ti], levels[rank - ti]};
      ASSIGN_OR_RETURN(UnicityResult u,
                       MeasureUnicity(Traces(records, candidate), 2, random));
      if (u.unicity <= threshold) {
        out.recommended = candidate;
        out.recommended_p2 = u;
        return absl::OkStatus();
      }
    }
  }
  out.recommend_dp = true;
  return absl::OkStatus();
}

json Inventory(const config::CityConfig& config, const config::Stream& stream) {
  json fields = json::array();
  for (const config::Field& f : stream.fields) {
    std::vector<std::string> transforms;
    for (const config::Transform& t : f.transforms)
      transforms.push_back(DescribeTransform(t));
    fields.push_back({{"name", f.name},
                      {"type", std::string(config::ToString(f.type))},
                      {"category", std::string(config::ToString(f.category))},
                      {"stored", !f.dropped()},
                      {"transforms", transforms}});
  }
  json purposes = json::array();
  for (const std::string& id : stream.purposes) {
    json p = {{"id", id}};
    if (const config::Purpose* purpose = config.FindPurpose(id)) {
      p["description"] = purpose->description;
      p["legal_basis"] = std::string(config::ToString(purpose->legal_basis));
      p["mandatory"] = purpose->mandatory;
    }
    purposes.push_back(p);
  }
  json recipients = json::array();
  for (const config::Agreement& a : config.agreements) {
    if (a.stream != stream.id) continue;
    json r = {{"agreement", a.id},
              {"party", a.party},
              {"level", std::string(config::ToString(a.level))},
              {"purposes", a.purposes},
              {"fields", policy::ReleasedFields(stream, a)}};
    if (const config::Party* p = config.FindParty(a.party)) {
      r["party_name"] = p->name;
      r["party_kind"] = std::string(config::ToString(p->kind));
    }
    if (a.time_granularity)
      r["time_granularity"] = FormatDurationSpec(*a.time_granularity);
    if (a.cell_level) r["cell_level"] = *a.cell_level;
    if (a.k_threshold > 0) r["k"] = a.k_threshold;
    if (a.budget) {
      r["budget"] = {{"epsilon", a.budget->epsilon},
                     {"delta", a.budget->delta},
                     {"period", FormatDurationSpec(a.budget->period)}};
    }
    r["valid_until"] =
        a.valid_until ? json(FormatTimestamp(*a.valid_until)) : json(nullptr);
    r["delete_after"] =
        a.delete_after ? json(FormatDurationSpec(*a.delete_after)) : json(nullptr);
    r["no_onward_sharing"] = a.no_onward_sharing;
    recipients.push_back(r);
  }
  json subjects = nullptr;
  if (stream.personal()) {
    subjects = {
        {"field", stream.subject_field},
        {"description",
         absl::StrCat("the person, household or vehicle named by '", stream.subject_field,
                      "', pseudonymised per ", FormatDurationSpec(stream.epoch))}};
  }
  return {{"stream", stream.id},
          {"description", stream.description},
          {"personal", stream.personal()},
          {"subjects", subjects},
          {"legal_basis", std::string(config::ToString(stream.legal_basis))},
          {"fields", fields},
          {"purposes", purposes},
          {"recipients", recipients},
          {"retention", FormatDurationSpec(stream.retention)},
          {"linkability", FormatDurationSpec(stream.linkability)},
          {"pseudonym_epoch", FormatDurationSpec(stream.epoch)},
          {"controller", config.city.controller},
          {"contact", config.city.contact}};
}

void RuleRisks(const config::CityConfig& config, const config::Stream& stream,
               std::vector<Risk>& risks) {
  for (const config::Field& f : stream.fields) {
    if (f.dropped()) continue;
    const bool pseudonymised = std::any_of(
        f.transforms.begin(), f.transforms.end(), [](const config::Transform& t) {
          return t.kind == config::TransformKind::kPseudonymize;
        });
    if ((f.category == config::FieldCategory::kDirectIdentifier ||
         f.category == config::FieldCategory::kSubjectIdentifier) &&
        !pseudonymised) {
      risks.push_back(
          {"identifier-stored", Severity::kHigh, "",
           absl::StrCat("field '", f.name, "' is an identifier stored as given"),
           "none: add the pseudonymize transform or drop the field"});
    }
    if (f.category == config::FieldCategory::kFreeText) {
      const bool redacted = std::any_of(f.transforms.begin(), f.transforms.end(),
                                        [](const config::Transform& t) {
                                          return t.kind == config::TransformKind::kRedact;
                                        });
      risks.push_back(
          {"free-text", redacted ? Severity::kMedium : Severity::kHigh, "",
           absl::StrCat("free text in '", f.name, "' may name people"),
           redacted ? "redaction of plates, e-mail addresses, phone numbers and MAC "
                      "addresses at ingest; other names can remain"
                    : "none: add a redact transform or drop the field"});
    }
    if (f.category == config::FieldCategory::kSensitive) {
      risks.push_back({"special-category", Severity::kHigh, "",
                       absl::StrCat("field '", f.name, "' holds sensitive data"),
                       "sealed per subject; release only as DP aggregates"});
    }
  }
  if (!stream.personal()) return;
  if (stream.linkability > absl::Hours(24 * 90)) {
    risks.push_back({"long-linkability", Severity::kMedium, "",
                     absl::StrCat("records stay linkable to their subject for ",
                                  FormatDurationSpec(stream.linkability)),
                     "blind indexes and pseudonym keys are destroyed after the window"});
  }
  if (stream.retention > absl::Hours(24 * 365)) {
    risks.push_back(
        {"long-retention", Severity::kLow, "",
         absl::StrCat("records are kept ", FormatDurationSpec(stream.retention)),
         "the retention sweeper deletes older records"});
  }
  for (const std::string& id : stream.purposes) {
    const config::Purpose* p = config.FindPurpose(id);
    if (p != nullptr && p->legal_basis == config::LegalBasis::kConsent) {
      risks.push_back({"consent-purpose", Severity::kLow, "",
                       absl::StrCat("purpose '", id, "' rests on consent"),
                       "records of subjects without consent are withheld at every read"});
    }
  }
  for (const config::Agreement& a : config.agreements) {
    if (a.stream != stream.id) continue;
    if (a.level == config::AccessLevel::kRecords) {
      const std::vector<std::string> fields = policy::ReleasedFields(stream, a);
      const bool pseudonym =
          std::find(fields.begin(), fields.end(), stream.subject_field) != fields.end();
      risks.push_back(
          {"record-level-release", pseudonym ? Severity::kMedium : Severity::kLow, a.id,
           absl::StrCat("'", a.party, "' receives records",
                        pseudonym ? " with the subject's pseudonym" : ""),
           absl::StrCat(
               "pseudonyms change every ", FormatDurationSpec(stream.epoch),
               a.time_granularity ? absl::StrCat("; times coarsened to ",
                                                 FormatDurationSpec(*a.time_granularity))
                                  : "",
               a.cell_level ? absl::StrCat("; cells to level ", *a.cell_level) : "",
               a.delete_after
                   ? absl::StrCat("; deleted after ", FormatDurationSpec(*a.delete_after))
                   : "",
               a.no_onward_sharing ? "; no onward sharing" : "")});
      if (!a.valid_until.has_value()) {
        risks.push_back({"open-ended-agreement", Severity::kLow, a.id,
                         "a records-level agreement without an end date",
                         "every read is a decision in the transparency log"});
      }
    }
    if (a.level == config::AccessLevel::kExtract && a.k_threshold < 5) {
      risks.push_back({"low-k", Severity::kMedium, a.id,
                       absl::StrCat("extracts need only k = ", a.k_threshold),
                       "optimal full-domain generalisation with suppression"});
    }
    if (a.budget && a.budget->epsilon > 1.0) {
      risks.push_back({"high-epsilon", Severity::kMedium, a.id,
                       absl::StrCat("a DP budget of epsilon ", a.budget->epsilon, " per ",
                                    FormatDurationSpec(a.budget->period)),
                       "per-subject contribution bounding; the budget is enforced"});
    }
  }
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Markdown table cells: no pipes or newlines from config strings.
std::string Cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string ViewName(const ViewMeasures& v) {
  return v.agreement.empty() ? "stored data" : absl::StrCat("agreement ", v.agreement);
}

}  // namespace

std::string_view ToString(Severity s) {
  switch (s) {
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
  }
  return "low";
}

TracePoint Generalise(const TracePoint& p, const Generalisation& g) {
  TracePoint out = p;
  if (g.time_bucket > absl::ZeroDuration()) {
    out.time_us = absl::ToUnixMicros(
        transform::CoarsenTime(absl::FromUnixMicros(p.time_us), g.time_bucket));
  }
  if (p.cell != 0) {
    out.cell = transform::CoarsenCell(transform::CellId{p.cell}, g.cell_level).id;
  }
  return out;
}

absl::StatusOr<UnicityResult> MeasureUnicity(
    const std::vector<std::vector<TracePoint>>& traces, int p, RandomSource& random) {
  if (p < 1) return absl::InvalidArgumentError("unicity: p must be at least 1");
  UnicityResult result;
  result.p = p;
  result.traces = static_cast<int64_t>(traces.size());
  std::vector<std::vector<TracePoint>> distinct(traces.size());
  absl::flat_hash_map<TracePoint, std::vector<uint32_t>> holders;
  for (size_t i = 0; i < traces.size(); ++i) {
    std::vector<TracePoint>& d = distinct[i];
    d = traces[i];
    std::sort(d.begin(), d.end(), [](const TracePoint& a, const TracePoint& b) {
      return std::pair(a.time_us, a.cell) < std::pair(b.time_us, b.cell);
    });
    d.erase(std::unique(d.begin(), d.end()), d.end());
    for (const TracePoint& point : d) holders[point].push_back(static_cast<uint32_t>(i));
  }
  std::vector<const std::vector<uint32_t>*> lists;
  for (size_t i = 0; i < distinct.size(); ++i) {
    std::vector<TracePoint>& d = distinct[i];
    if (d.size() < static_cast<size_t>(p)) continue;
    ++result.eligible;
    // p distinct points by a partial Fisher-Yates shuffle.
    for (int j = 0; j < p; ++j) std::swap(d[j], d[j + Below(random, d.size() - j)]);
    lists.clear();
    for (int j = 0; j < p; ++j) lists.push_back(&holders.at(d[j]));
    std::sort(lists.begin(), lists.end(),
              [](const auto* a, const auto* b) { return a->size() < b->size(); });
    int64_t matching = 0;
    for (uint32_t candidate : *lists[0]) {
      bool all = true;
      for (size_t l = 1; all && l < lists.size(); ++l) {
        all = std::binary_search(lists[l]->begin(), lists[l]->end(), candidate);
      }
      if (all && ++matching > 1) break;
    }
    if (matching == 1) ++result.unique;
  }
  result.unicity = result.eligible == 0 ? 0.0
                                        : static_cast<double>(result.unique) /
                                              static_cast<double>(result.eligible);
  return result;
}

absl::StatusOr<KShareResult> MeasureKShare(
    const std::vector<std::vector<std::string>>& rows, int k) {
  if (k < 1) return absl::InvalidArgumentError("k-share: k must be at least 1");
  std::map<std::vector<std::string>, int64_t> classes;
  for (const auto& row : rows) ++classes[row];
  KShareResult out;
  out.k = k;
  out.records = static_cast<int64_t>(rows.size());
  out.classes = static_cast<int64_t>(classes.size());
  std::vector<int64_t> sizes;
  sizes.reserve(classes.size());
  for (const auto& [key, n] : classes) {
    sizes.push_back(n);
    if (n < k) out.in_small_classes += n;
  }
  out.share = out.records == 0 ? 0.0
                               : static_cast<double>(out.in_small_classes) /
                                     static_cast<double>(out.records);
  ASSIGN_OR_RETURN(out.risk, anon::ComputeRisk(sizes, {}));
  return out;
}

absl::StatusOr<DpiaReport> RunDpia(const config::CityConfig& config,
                                   const config::Stream& stream, RecordSource& source,
                                   RandomSource& random, absl::Time now) {
  DpiaReport report;
  report.stream = stream.id;
  report.generated = now;
  report.k = config.dpia.k;
  report.unicity_threshold = config.dpia.unicity_threshold;
  report.k_share_threshold = config.dpia.k_share_threshold;
  report.inventory = Inventory(config, stream);
  std::vector<StoredView> records;
  RETURN_IF_ERROR(source.Scan(stream, [&records](const StoredView& r) {
    records.push_back(r);
    return absl::OkStatus();
  }));
  report.records = static_cast<int64_t>(records.size());
  report.inventory["records"] = report.records;

  std::vector<ViewSpec> specs;
  ViewSpec stored;
  stored.g = StoredGeneralisation(stream);
  stored.linkable = stream.personal();
  for (const config::Field& f : stream.fields) {
    if (!f.dropped() && IsQuasiIdentifier(f)) stored.qis.push_back(&f);
  }
  specs.push_back(stored);
  for (const config::Agreement& a : config.agreements) {
    if (a.stream != stream.id || a.level != config::AccessLevel::kRecords) continue;
    ViewSpec v;
    v.agreement = &a;
    v.g = stored.g;
    if (a.time_granularity && *a.time_granularity > v.g.time_bucket) {
      v.g.time_bucket = *a.time_granularity;
    }
    if (a.cell_level && *a.cell_level < v.g.cell_level) v.g.cell_level = *a.cell_level;
    for (const std::string& name : policy::ReleasedFields(stream, a)) {
      const config::Field* f = stream.FindField(name);
      if (f == nullptr) continue;
      if (name == stream.subject_field) v.linkable = stream.personal();
      if (IsQuasiIdentifier(*f)) v.qis.push_back(f);
    }
    specs.push_back(v);
  }
  for (const ViewSpec& spec : specs) {
    ViewMeasures m;
    RETURN_IF_ERROR(
        Measure(stream, records, spec, report.k, report.unicity_threshold, random, m));
    report.views.push_back(std::move(m));
  }

  RuleRisks(config, stream, report.risks);
  for (const ViewMeasures& v : report.views) {
    if (v.unicity_p2 && v.unicity_p2->unicity > report.unicity_threshold) {
      std::string fix =
          v.recommended
              ? absl::StrCat("generalise to ", DescribeGeneralisation(*v.recommended),
                             " (p = 2 unicity ", Percent(v.recommended_p2->unicity), ")")
              : "no generalisation tried is enough: release DP aggregates instead of "
                "records";
      report.risks.push_back(
          {"unique-traces", v.agreement.empty() ? Severity::kMedium : Severity::kHigh,
           v.agreement,
           absl::StrCat(v.agreement.empty()
                            ? "stored traces"
                            : absl::StrCat("agreement '", v.agreement, "'"),
                        ": 2 points at ", DescribeGeneralisation(v.generalisation),
                        " single out ", Percent(v.unicity_p2->unicity),
                        " of traces (threshold ", Percent(report.unicity_threshold), ")"),
           absl::StrCat("recommended: ", fix)});
    }
    if (v.k_share && v.k_share->share > report.k_share_threshold) {
      report.risks.push_back(
          {"small-classes",
           v.agreement.empty() || !stream.personal() ? Severity::kMedium
                                                     : Severity::kHigh,
           v.agreement,
           absl::StrCat(ViewName(v), ": ", Percent(v.k_share->share),
                        " of records are in classes smaller than k = ", report.k,
                        " over ", absl::StrJoin(v.k_share->quasi_identifiers, ", ")),
           v.agreement.empty()
               ? "stored data is only released through the agreements' views"
               : "coarsen the agreement's granularity or release k-anonymous extracts"});
    }
  }
  std::stable_sort(report.risks.begin(), report.risks.end(),
                   [](const Risk& a, const Risk& b) { return a.severity > b.severity; });
  return report;
}

json ToJson(const DpiaReport& r) {
  json risks = json::array();
  for (const Risk& risk : r.risks) {
    risks.push_back(
        {{"id", risk.id},
         {"severity", std::string(std::string(ToString(risk.severity)))},
         {"agreement", risk.agreement.empty() ? json(nullptr) : json(risk.agreement)},
         {"description", risk.description},
         {"mitigation", risk.mitigation}});
  }
  auto unicity = [](const std::optional<UnicityResult>& u) -> json {
    if (!u) return nullptr;
    return {{"p", u->p},
            {"traces", u->traces},
            {"eligible", u->eligible},
            {"unique", u->unique},
            {"unicity", u->unicity}};
  };
  auto generalisation = [](const Generalisation& g) -> json {
    return {{"time_bucket", g.time_bucket > absl::ZeroDuration()
                                ? json(FormatDurationSpec(g.time_bucket))
                                : json(nullptr)},
            {"cell_level", g.cell_level}};
  };
  json views = json::array();
  for (const ViewMeasures& v : r.views) {
    json j = {{"view", v.agreement.empty() ? "stored" : "records"},
              {"agreement", v.agreement.empty() ? json(nullptr) : json(v.agreement)},
              {"generalisation", generalisation(v.generalisation)},
              {"linkable", v.linkable},
              {"unicity_p2", unicity(v.unicity_p2)},
              {"unicity_p4", unicity(v.unicity_p4)}};
    if (v.k_share) {
      j["k_share"] = {{"k", v.k_share->k},
                      {"quasi_identifiers", v.k_share->quasi_identifiers},
                      {"records", v.k_share->records},
                      {"classes", v.k_share->classes},
                      {"in_small_classes", v.k_share->in_small_classes},
                      {"share", v.k_share->share},
                      {"prosecutor_max", v.k_share->risk.prosecutor_max},
                      {"prosecutor_average", v.k_share->risk.prosecutor_average},
                      {"unique_share", v.k_share->risk.unique_share}};
    } else {
      j["k_share"] = nullptr;
    }
    j["high_risk"] = v.unicity_p2 && v.unicity_p2->unicity > r.unicity_threshold &&
                     !v.agreement.empty();
    if (v.recommended) {
      j["recommendation"] = {{"generalisation", generalisation(*v.recommended)},
                             {"unicity_p2", v.recommended_p2->unicity}};
    } else if (v.recommend_dp) {
      j["recommendation"] = {{"dp_aggregate", true}};
    } else {
      j["recommendation"] = nullptr;
    }
    views.push_back(std::move(j));
  }
  return {
      {"stream", r.stream},
      {"generated", FormatTimestamp(r.generated)},
      {"records", r.records},
      {"thresholds",
       {{"k", r.k}, {"unicity", r.unicity_threshold}, {"k_share", r.k_share_threshold}}},
      {"inventory", r.inventory},
      {"risks", risks},
      {"measures", views}};
}

std::string ToMarkdown(const DpiaReport& r) {
  const json& inv = r.inventory;
  std::string md =
      absl::StrCat("# DPIA: ", r.stream, "\n\n", inv["description"].get<std::string>(),
                   "\n\nGenerated ", FormatTimestamp(r.generated), " over ", r.records,
                   " stored records. Controller: ", inv["controller"].get<std::string>(),
                   " (", inv["contact"].get<std::string>(), ").\n\n");
  absl::StrAppend(&md, "## Inventory\n\n");
  if (inv["subjects"].is_null()) {
    absl::StrAppend(&md, "Subjects: none (no personal data).\n\n");
  } else {
    absl::StrAppend(&md, "Subjects: ", inv["subjects"]["description"].get<std::string>(),
                    ".\n\n");
  }
  absl::StrAppend(
      &md, "| field | type | category | stored | transforms |\n|---|---|---|---|---|\n");
  for (const json& f : inv["fields"]) {
    std::vector<std::string> t = f["transforms"].get<std::vector<std::string>>();
    absl::StrAppend(&md, "| ", Cell(f["name"].get<std::string>()), " | ",
                    f["type"].get<std::string>(), " | ", f["category"].get<std::string>(),
                    " | ", f["stored"].get<bool>() ? "yes" : "no", " | ",
                    Cell(absl::StrJoin(t, ", ")), " |\n");
  }
  absl::StrAppend(&md, "\nPurposes and legal bases:\n\n");
  for (const json& p : inv["purposes"]) {
    absl::StrAppend(&md, "- ", Cell(p["id"].get<std::string>()), " (",
                    p.value("legal_basis", "?"), "): ", Cell(p.value("description", "")),
                    "\n");
  }
  absl::StrAppend(&md,
                  "\nRecipients:\n\n| agreement | party | level | purposes | fields "
                  "|\n|---|---|---|---|---|\n");
  for (const json& a : inv["recipients"]) {
    absl::StrAppend(
        &md, "| ", Cell(a["agreement"].get<std::string>()), " | ",
        Cell(a.value("party_name", a["party"].get<std::string>())), " | ",
        a["level"].get<std::string>(), " | ",
        Cell(absl::StrJoin(a["purposes"].get<std::vector<std::string>>(), ", ")), " | ",
        Cell(absl::StrJoin(a["fields"].get<std::vector<std::string>>(), ", ")), " |\n");
  }
  absl::StrAppend(&md, "\nRetention ", inv["retention"].get<std::string>(),
                  "; linkable for ", inv["linkability"].get<std::string>(),
                  "; pseudonyms change every ", inv["pseudonym_epoch"].get<std::string>(),
                  ".\n\n## Risks\n\n");
  absl::StrAppend(&md, "| severity | risk | about | mitigation |\n|---|---|---|---|\n");
  for (const Risk& risk : r.risks) {
    absl::StrAppend(&md, "| ", std::string(ToString(risk.severity)), " | ",
                    Cell(risk.description), " | ",
                    risk.agreement.empty() ? "-" : Cell(risk.agreement), " | ",
                    Cell(risk.mitigation), " |\n");
  }
  absl::StrAppend(&md, "\n## Measured re-identification risk\n\n");
  absl::StrAppend(
      &md,
      "| view | generalisation | unicity p=2 | unicity p=4 | records in classes < k=",
      r.k, " | recommendation |\n|---|---|---|---|---|---|\n");
  for (const ViewMeasures& v : r.views) {
    auto u = [](const std::optional<UnicityResult>& x) {
      return x ? absl::StrCat(Percent(x->unicity), " of ", x->eligible)
               : std::string("-");
    };
    std::string rec = "-";
    if (v.recommended) {
      rec = absl::StrCat(DescribeGeneralisation(*v.recommended), " (",
                         Percent(v.recommended_p2->unicity), ")");
    } else if (v.recommend_dp) {
      rec = "DP aggregates instead of records";
    }
    absl::StrAppend(&md, "| ", Cell(ViewName(v)), " | ",
                    DescribeGeneralisation(v.generalisation), " | ", u(v.unicity_p2),
                    " | ", u(v.unicity_p4), " | ",
                    v.k_share ? Percent(v.k_share->share) : "-", " | ", rec, " |\n");
  }
  absl::StrAppend(&md,
                  "\nUnicity: the share of traces (one pseudonym's (time bucket, cell) "
                  "points) singled out by p of their points drawn at random "
                  "(de Montjoye et al. 2013). Threshold ",
                  Percent(r.unicity_threshold), ".\n");
  return md;
}

std::string ToHtml(const DpiaReport& r) {
  const json j = ToJson(r);
  const json& inv = r.inventory;
  std::string h = absl::StrCat(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>DPIA: ",
      HtmlEscape(r.stream),
      "</title>"
      "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;"
      "padding:0 "
      "1rem;color:#111;background:#fff}table{border-collapse:collapse;width:100%}"
      "th,td{border:1px solid #666;padding:.3rem;text-align:left;vertical-align:top}"
      ".high{color:#8b0000;font-weight:bold}.medium{color:#7a4a00}</style></head><body>"
      "<h1>DPIA: ",
      HtmlEscape(r.stream), "</h1><p>", HtmlEscape(inv["description"].get<std::string>()),
      "</p><p>Generated ", FormatTimestamp(r.generated), " over ", r.records,
      " stored records.</p>");
  absl::StrAppend(&h,
                  "<h2>Inventory</h2><table><thead><tr><th scope=\"col\">field</th>"
                  "<th scope=\"col\">category</th><th scope=\"col\">stored</th>"
                  "<th scope=\"col\">transforms</th></tr></thead><tbody>");
  for (const json& f : inv["fields"]) {
    absl::StrAppend(
        &h, "<tr><td>", HtmlEscape(f["name"].get<std::string>()), "</td><td>",
        HtmlEscape(f["category"].get<std::string>()), "</td><td>",
        f["stored"].get<bool>() ? "yes" : "no", "</td><td>",
        HtmlEscape(absl::StrJoin(f["transforms"].get<std::vector<std::string>>(), ", ")),
        "</td></tr>");
  }
  absl::StrAppend(&h,
                  "</tbody></table><h2>Risks</h2><table><thead><tr><th scope=\"col\">"
                  "severity</th><th scope=\"col\">risk</th><th scope=\"col\">mitigation"
                  "</th></tr></thead><tbody>");
  for (const Risk& risk : r.risks) {
    absl::StrAppend(&h, "<tr><td class=\"", std::string(ToString(risk.severity)), "\">",
                    std::string(ToString(risk.severity)), "</td><td>",
                    HtmlEscape(risk.description), "</td><td>",
                    HtmlEscape(risk.mitigation), "</td></tr>");
  }
  absl::StrAppend(&h,
                  "</tbody></table><h2>Measured re-identification risk</h2><table>"
                  "<thead><tr><th scope=\"col\">view</th><th scope=\"col\">unicity p=2"
                  "</th><th scope=\"col\">unicity p=4</th><th scope=\"col\">"
                  "records in classes &lt; k</th></tr></thead><tbody>");
  for (const ViewMeasures& v : r.views) {
    auto u = [](const std::optional<UnicityResult>& x) {
      return x ? Percent(x->unicity) : std::string("-");
    };
    absl::StrAppend(&h, "<tr><td>", HtmlEscape(ViewName(v)), "</td><td>", u(v.unicity_p2),
                    "</td><td>", u(v.unicity_p4), "</td><td>",
                    v.k_share ? Percent(v.k_share->share) : "-", "</td></tr>");
  }
  absl::StrAppend(&h, "</tbody></table></body></html>\n");
  return h;
}

}  // namespace privacity::dpia
