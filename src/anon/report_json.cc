#include "anon/anonymizer.h"
#include "nlohmann/json.hpp"

namespace privacity::anon {
namespace {

nlohmann::json RiskJson(const RiskSummary& r) {
  return {
      {"records", r.records},
      {"classes", r.classes},
      {"prosecutor_average", r.prosecutor_average},
      {"prosecutor_max", r.prosecutor_max},
      {"journalist_average", r.journalist_average},
      {"journalist_max", r.journalist_max},
      {"marketer", r.marketer},
      {"unique_share", r.unique_share},
      {"population_table", r.population},
  };
}

}  // namespace

std::string FormatReportJson(const AnonymizeReport& report, const ReportTiming& timing) {
  nlohmann::json model = {{"k", report.model.k},
                          {"suppression_limit", report.model.suppression_limit}};
  if (report.sensitive_column.has_value()) model["sensitive"] = *report.sensitive_column;
  if (report.model.l_diversity.has_value()) {
    model["l"] = report.model.l_diversity->l;
    model["l_variant"] = report.model.l_diversity->variant == LDiversityVariant::kDistinct
                             ? "distinct"
                             : "entropy";
  }
  if (report.model.t_closeness.has_value()) {
    model["t"] = report.model.t_closeness->t;
    model["t_distance"] = report.model.t_closeness->distance == TClosenessDistance::kEqual
                              ? "equal"
                              : "ordered";
  }
  nlohmann::json transformation = nlohmann::json::array();
  for (const ColumnLevel& c : report.transformation) {
    transformation.push_back(
        {{"column", c.column}, {"level", c.level}, {"levels", c.levels}});
  }
  nlohmann::json out = {
      {"model", model},
      {"metric",
       {{"name", std::string(UtilityMetricName(report.metric))},
        {"value", report.metric_value}}},
      {"transformation", transformation},
      {"records_in", report.records_in},
      {"records_out", report.records_out},
      {"suppressed", report.suppressed},
      {"classes", report.classes},
      {"risk",
       {{"before", RiskJson(report.risk_before)},
        {"after", RiskJson(report.risk_after)}}},
      {"search",
       {{"lattice_nodes", report.search.lattice_nodes},
        {"evaluated_nodes", report.search.evaluated_nodes}}},
  };
  if (timing.anonymize_ms.has_value() || timing.total_ms.has_value()) {
    nlohmann::json time = nlohmann::json::object();
    if (timing.anonymize_ms.has_value()) time["anonymize"] = *timing.anonymize_ms;
    if (timing.total_ms.has_value()) time["total"] = *timing.total_ms;
    out["time_ms"] = time;
  }
  return out.dump(2);
}

}  // namespace privacity::anon
