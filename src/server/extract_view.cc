#include "server/extract_view.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "server/audit_trail.h"
#include "server/records_view.h"
#include "transform/field_transform.h"

namespace privacity::server {
namespace {

using Rows = std::vector<std::vector<std::string>>;

bool IsQuasiIdentifier(const config::Field& field) {
  return field.category == config::FieldCategory::kQuasiIdentifier ||
         field.category == config::FieldCategory::kTime ||
         field.category == config::FieldCategory::kLocation;
}

std::string CellText(const nlohmann::ordered_json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

// A "nice" interval width (1, 2 or 5 times a power of ten) splitting
// [lo, hi] into about 16 intervals.
double IntervalWidth(double lo, double hi) {
  const double raw = std::max((hi - lo) / 16, 1e-9);
  const double p = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= raw) return m * p;
  }
  return 10 * p;
}

std::string FormatNumber(double v) {
  std::string s = absl::StrCat(v);
  return s;
}

// Numbers: intervals of width w, 2w, 4w, ... from a multiple of w, then *.
Rows NumberRows(const std::set<std::string>& values) {
  std::vector<std::pair<std::string, double>> numbers;
  for (const std::string& v : values) {
    double d;
    if (!v.empty() && absl::SimpleAtod(v, &d) && std::isfinite(d))
      numbers.emplace_back(v, d);
  }
  Rows rows;
  if (numbers.empty()) {
    for (const std::string& v : values) rows.push_back({v, "*"});
    return rows;
  }
  double lo = numbers.front().second, hi = lo;
  for (const auto& [s, d] : numbers) {
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  const double width = IntervalWidth(lo, hi);
  const double origin = std::floor(lo / width) * width;
  int levels = 1;
  while (width * (1 << levels) < hi - origin + width && levels < 12) ++levels;
  for (const std::string& v : values) {
    std::vector<std::string> row{v};
    double d;
    const bool numeric = !v.empty() && absl::SimpleAtod(v, &d) && std::isfinite(d);
    for (int l = 0; l < levels; ++l) {
      if (!numeric) {
        row.push_back(v.empty() ? "" : "*");
        continue;
      }
      const double w = width * (1 << l);
      const double start = origin + std::floor((d - origin) / w) * w;
      row.push_back(
          absl::StrCat("[", FormatNumber(start), ",", FormatNumber(start + w), ")"));
    }
    row.push_back("*");
    rows.push_back(std::move(row));
  }
  return rows;
}

// Times (RFC 3339): hour, day, month, year, *.
Rows TimeRows(const std::set<std::string>& values) {
  Rows rows;
  for (const std::string& v : values) {
    auto t = ParseTimestamp(v);
    if (!t.ok()) {
      rows.push_back({v, "*", "*", "*", "*", "*"});
      continue;
    }
    auto fmt = [&](const char* f) {
      return absl::FormatTime(f, *t, absl::UTCTimeZone());
    };
    rows.push_back(
        {v, fmt("%Y-%m-%dT%H"), fmt("%Y-%m-%d"), fmt("%Y-%m"), fmt("%Y"), "*"});
  }
  return rows;
}

// S2 cell tokens: parents two, four, six and eight levels up, then *.
Rows CellRows(const std::set<std::string>& values) {
  Rows rows;
  for (const std::string& v : values) {
    auto cell = transform::CellFromToken(v);
    std::vector<std::string> row{v};
    for (int up = 2; up <= 8; up += 2) {
      if (!cell.ok()) {
        row.push_back("*");
        continue;
      }
      const int level = std::max(0, transform::CellLevel(*cell) - up);
      row.push_back(transform::CellToken(transform::CoarsenCell(*cell, level)));
    }
    row.push_back("*");
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<std::unique_ptr<anon::Hierarchy>> HierarchyFor(
    const config::Field& field, const std::set<std::string>& values) {
  Rows rows;
  switch (field.type) {
    case config::FieldType::kInt:
    case config::FieldType::kNumber:
      rows = NumberRows(values);
      break;
    case config::FieldType::kTime:
      rows = TimeRows(values);
      break;
    case config::FieldType::kPoint:
      rows = CellRows(values);
      break;
    default:
      for (const std::string& v : values) rows.push_back({v, "*"});
  }
  return anon::Hierarchy::FromRows(rows,
                                   absl::StrCat("generated hierarchy of ", field.name));
}

}  // namespace

absl::StatusOr<ExtractResult> BuildExtract(Trust& trust,
                                           const policy::AccessRequest& request,
                                           const ExtractOptions& options) {
  if (request.level != config::AccessLevel::kExtract) {
    return absl::InvalidArgumentError("an extract must ask for the extract level");
  }
  ExtractResult result;
  result.decision = policy::Decide(trust.config(), request, trust.clock().Now());
  if (!result.decision.permitted()) {
    // Every decision is a leaf of the transparency log, denials included.
    RETURN_IF_ERROR(trust.audit()
                        .AppendDecision(trust.config(), request, result.decision, 0)
                        .status());
    return result;
  }
  policy::Obligations ob = result.decision.obligations;
  const config::Stream& stream = *trust.config().FindStream(request.stream);
  // Points leave an extract as cells at most at the agreement's level, so
  // that they can be generalised; level 16 (about 150 m) when none is set.
  if (!ob.cell_level.has_value()) ob.cell_level = 16;

  anon::CsvTable table;
  table.source = absl::StrCat("extract of ", stream.id);
  table.delimiter = ',';
  table.header = ob.fields;
  RecordsReadResult scan;
  int line = 1;
  RETURN_IF_ERROR(ReleaseRows(trust, request, ob, RecordsReadOptions{}, scan,
                              [&](const nlohmann::ordered_json& row) -> absl::Status {
                                for (const std::string& f : ob.fields) {
                                  auto it = row.find(f);
                                  table.cells.push_back(it == row.end() ? ""
                                                                        : CellText(*it));
                                }
                                table.lines.push_back(++line);
                                return absl::OkStatus();
                              }));
  if (table.num_rows() == 0) {
    RETURN_IF_ERROR(trust.audit()
                        .AppendDecision(trust.config(), request, result.decision, 0)
                        .status());
    return absl::FailedPreconditionError(absl::StrCat("no records of stream '", stream.id,
                                                      "' are released to this request"));
  }

  anon::AnonymizeOptions anonymize;
  anonymize.model.k = std::max<int64_t>(ob.k_threshold, 2);
  anonymize.model.suppression_limit = options.suppression_limit;
  anonymize.metric = options.metric;
  for (size_t c = 0; c < ob.fields.size(); ++c) {
    const config::Field* field = stream.FindField(ob.fields[c]);
    if (field == nullptr || !IsQuasiIdentifier(*field)) continue;
    std::set<std::string> values;
    for (size_t r = 0; r < table.num_rows(); ++r) values.insert(table.cell(r, c));
    ASSIGN_OR_RETURN(std::unique_ptr<anon::Hierarchy> hierarchy,
                     HierarchyFor(*field, values));
    anonymize.quasi_identifiers.push_back(
        anon::QuasiIdentifier{field->name, std::move(hierarchy)});
  }
  auto extract = anon::Anonymize(table, anonymize);
  RETURN_IF_ERROR(trust.audit()
                      .AppendDecision(trust.config(), request, result.decision,
                                      extract.ok() ? extract->report.records_out : 0)
                      .status());
  if (!extract.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no extract of stream '", stream.id, "' reaches k=", anonymize.model.k,
        " within the suppression limit: ", extract.status().message()));
  }
  result.extract = std::move(*extract);
  return result;
}

}  // namespace privacity::server
