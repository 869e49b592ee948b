// FieldTransformer: the compiled transform chain of one field.
#include "transform/field_transform.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "s2/s2cell_id.h"
#include "transform/redact.h"

namespace privacity::transform {
namespace {

using config::FieldType;
using config::TransformKind;

// What a value is between two steps of the chain.
enum class Kind { kString, kInt, kNumber, kBool, kTime, kPoint, kCell };

Kind KindOf(FieldType type) {
  switch (type) {
    case FieldType::kString:
    case FieldType::kEnum:
      return Kind::kString;
    case FieldType::kInt:
      return Kind::kInt;
    case FieldType::kNumber:
      return Kind::kNumber;
    case FieldType::kBool:
      return Kind::kBool;
    case FieldType::kTime:
      return Kind::kTime;
    case FieldType::kPoint:
      return Kind::kPoint;
  }
  return Kind::kString;
}

absl::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kString:
      return "a string";
    case Kind::kInt:
      return "an int";
    case Kind::kNumber:
      return "a number";
    case Kind::kBool:
      return "a bool";
    case Kind::kTime:
      return "a time";
    case Kind::kPoint:
      return "a point";
    case Kind::kCell:
      return "a cell";
  }
  return "a value";
}

// Names as written in city.yaml (kept here so that this module does not
// need the config library at link time).
absl::string_view TransformName(TransformKind kind) {
  switch (kind) {
    case TransformKind::kDrop:
      return "drop";
    case TransformKind::kKeep:
      return "keep";
    case TransformKind::kPseudonymize:
      return "pseudonymize";
    case TransformKind::kTimeBucket:
      return "time_bucket";
    case TransformKind::kCell:
      return "cell";
    case TransformKind::kRound:
      return "round";
    case TransformKind::kClamp:
      return "clamp";
    case TransformKind::kTruncate:
      return "truncate";
    case TransformKind::kMap:
      return "map";
    case TransformKind::kRedact:
      return "redact";
  }
  return "transform";
}

constexpr double kTwoTo62 = 4611686018427387904.0;
constexpr double kTwoTo63 = 9223372036854775808.0;

struct Step {
  TransformKind kind = TransformKind::kKeep;
  absl::Duration bucket;  // time_bucket
  int level = 0;          // cell
  // round: the step; for steps with a short decimal form (0.1, 2.5, 100)
  // also the step times 10^decimals as an integer, so that results are the
  // nearest double to the decimal multiple.
  double step = 0;
  int64_t int_step = 0;  // the step when whole, else 0
  int decimals = -1;
  double scaled_step = 0;
  // clamp
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  int64_t int_min = std::numeric_limits<int64_t>::min();
  int64_t int_max = std::numeric_limits<int64_t>::max();
  size_t length = 0;  // truncate
  // map
  std::string table_path;
  absl::flat_hash_map<std::string, std::string> table;
  std::unique_ptr<Redactor> redactor;  // redact
};

// Rounds half away from zero to a multiple of `s`. Quotients within 1e-9 of
// a tie count as ties (0.35 / 0.1 is 3.4999999999999996 in binary).
double RoundToStep(double v, const Step& s) {
  const double x = v / s.step;
  double q = std::round(x);
  const double frac = std::fabs(x - std::trunc(x));
  if (std::fabs(frac - 0.5) < 1e-9) q = std::trunc(x) + (x < 0 ? -1.0 : 1.0);
  double r =
      s.decimals >= 0 ? q * s.scaled_step / std::pow(10.0, s.decimals) : q * s.step;
  if (r == 0) r = 0;  // no negative zero
  return r;
}

absl::StatusOr<int64_t> RoundToStep(int64_t v, int64_t s) {
  const int64_t rem = v % s;  // sign of v
  int64_t base = v - rem;     // truncated toward zero: |base| <= |v|
  const int64_t abs_rem = rem < 0 ? -rem : rem;
  if (abs_rem != 0 && abs_rem >= s - abs_rem) {  // 2|rem| >= s without overflow
    if (v > 0) {
      if (base > std::numeric_limits<int64_t>::max() - s) {
        return absl::InvalidArgumentError("rounded value is out of range");
      }
      base += s;
    } else {
      if (base < std::numeric_limits<int64_t>::min() + s) {
        return absl::InvalidArgumentError("rounded value is out of range");
      }
      base -= s;
    }
  }
  return base;
}

// Keeps the first `n` code points; never splits one.
std::string TruncateCodePoints(std::string s, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {  // a lead byte
      if (count == n) {
        s.resize(i);
        return s;
      }
      ++count;
    }
  }
  return s;
}

class FieldTransformerImpl final : public FieldTransformer {
 public:
  FieldTransformerImpl(std::string field_name, std::vector<Step> steps)
      : field_name_(std::move(field_name)), steps_(std::move(steps)) {}

  absl::StatusOr<Value> Apply(Value value) const override {
    if (std::holds_alternative<std::monostate>(value)) return value;
    for (const Step& step : steps_) {
      absl::Status status = ApplyStep(step, value);
      if (!status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("field '", field_name_, "': ", status.message()));
      }
    }
    return value;
  }

 private:
  static absl::Status Mismatch(const Step& step) {
    return absl::InvalidArgumentError(
        absl::StrCat(TransformName(step.kind), " cannot apply to this kind of value"));
  }

  absl::Status ApplyStep(const Step& step, Value& value) const {
    switch (step.kind) {
      case TransformKind::kDrop:
      case TransformKind::kKeep:
      case TransformKind::kPseudonymize:
        return absl::OkStatus();
      case TransformKind::kTimeBucket: {
        auto* t = std::get_if<absl::Time>(&value);
        if (t == nullptr) return Mismatch(step);
        *t = CoarsenTime(*t, step.bucket);
        return absl::OkStatus();
      }
      case TransformKind::kCell: {
        if (const auto* p = std::get_if<GeoPoint>(&value)) {
          const CellId cell = CellOf(*p, step.level);
          if (!IsValidCell(cell)) {
            return absl::InvalidArgumentError("point has no cell (not finite)");
          }
          value = cell;
          return absl::OkStatus();
        }
        if (auto* c = std::get_if<CellId>(&value)) {
          if (!IsValidCell(*c))
            return absl::InvalidArgumentError("cell is not a valid S2 cell");
          *c = CoarsenCell(*c, step.level);
          return absl::OkStatus();
        }
        return Mismatch(step);
      }
      case TransformKind::kRound: {
        if (auto* i = std::get_if<int64_t>(&value)) {
          if (step.int_step == 0) return Mismatch(step);  // fractional step
          ASSIGN_OR_RETURN(*i, RoundToStep(*i, step.int_step));
          return absl::OkStatus();
        }
        if (auto* d = std::get_if<double>(&value)) {
          const double r = RoundToStep(*d, step);
          if (!std::isfinite(r))
            return absl::InvalidArgumentError("rounded value is out of range");
          *d = r;
          return absl::OkStatus();
        }
        return Mismatch(step);
      }
      case TransformKind::kClamp: {
        if (auto* i = std::get_if<int64_t>(&value)) {
          *i = std::clamp(*i, step.int_min, step.int_max);
          return absl::OkStatus();
        }
        if (auto* d = std::get_if<double>(&value)) {
          *d = std::clamp(*d, step.min, step.max);
          return absl::OkStatus();
        }
        return Mismatch(step);
      }
      case TransformKind::kTruncate: {
        auto* s = std::get_if<std::string>(&value);
        if (s == nullptr) return Mismatch(step);
        *s = TruncateCodePoints(std::move(*s), step.length);
        return absl::OkStatus();
      }
      case TransformKind::kMap: {
        std::string key;
        if (auto* s = std::get_if<std::string>(&value)) {
          key = std::move(*s);
        } else if (const auto* i = std::get_if<int64_t>(&value)) {
          key = absl::StrCat(*i);
        } else {
          return Mismatch(step);
        }
        const auto it = step.table.find(key);
        if (it == step.table.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("value not in hierarchy ", step.table_path));
        }
        value = it->second;
        return absl::OkStatus();
      }
      case TransformKind::kRedact: {
        auto* s = std::get_if<std::string>(&value);
        if (s == nullptr) return Mismatch(step);
        *s = step.redactor->Redact(*s);
        return absl::OkStatus();
      }
    }
    return Mismatch(step);
  }

  std::string field_name_;
  std::vector<Step> steps_;
};

absl::Status CheckKind(Kind in, std::initializer_list<Kind> allowed, TransformKind kind) {
  for (Kind k : allowed) {
    if (in == k) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(TransformName(kind), " cannot apply to ", KindName(in), " value"));
}

// Compiles one step; `kind` is the value's kind before it and after it.
absl::StatusOr<Step> Compile(const config::Transform& t, Kind& kind) {
  Step s;
  s.kind = t.kind;
  switch (t.kind) {
    case TransformKind::kDrop:
    case TransformKind::kKeep:
    case TransformKind::kPseudonymize:
      break;
    case TransformKind::kTimeBucket:
      RETURN_IF_ERROR(CheckKind(kind, {Kind::kTime}, t.kind));
      if (t.bucket <= absl::ZeroDuration() || t.bucket == absl::InfiniteDuration()) {
        return absl::InvalidArgumentError("time_bucket needs a positive bucket");
      }
      s.bucket = t.bucket;
      break;
    case TransformKind::kCell:
      RETURN_IF_ERROR(CheckKind(kind, {Kind::kPoint, Kind::kCell}, t.kind));
      if (t.cell_level < 0 || t.cell_level > S2CellId::kMaxLevel) {
        return absl::InvalidArgumentError(
            absl::StrCat("cell level must be between 0 and ", S2CellId::kMaxLevel));
      }
      s.level = t.cell_level;
      kind = Kind::kCell;
      break;
    case TransformKind::kRound:
      RETURN_IF_ERROR(CheckKind(kind, {Kind::kInt, Kind::kNumber}, t.kind));
      if (!std::isfinite(t.step) || t.step <= 0) {
        return absl::InvalidArgumentError("round needs a positive step");
      }
      s.step = t.step;
      if (std::floor(t.step) == t.step && t.step <= kTwoTo62) {
        s.int_step = static_cast<int64_t>(t.step);
      } else if (kind == Kind::kInt) {
        return absl::InvalidArgumentError(
            "round on an int value needs a whole-number step (at most 2^62)");
      }
      for (int d = 0; d <= 9; ++d) {
        const double scaled = t.step * std::pow(10.0, d);
        if (scaled > 1e15) break;
        const double off = std::fabs(scaled - std::round(scaled));
        if (off <= 1e-9 || off <= 4 * std::numeric_limits<double>::epsilon() * scaled) {
          s.decimals = d;
          s.scaled_step = std::round(scaled);
          break;
        }
      }
      break;
    case TransformKind::kClamp:
      RETURN_IF_ERROR(CheckKind(kind, {Kind::kInt, Kind::kNumber}, t.kind));
      if (!t.min.has_value() && !t.max.has_value()) {
        return absl::InvalidArgumentError("clamp needs a min, a max or both");
      }
      if ((t.min.has_value() && !std::isfinite(*t.min)) ||
          (t.max.has_value() && !std::isfinite(*t.max))) {
        return absl::InvalidArgumentError("clamp bounds must be finite");
      }
      if (t.min.has_value() && t.max.has_value() && *t.min > *t.max) {
        return absl::InvalidArgumentError("clamp min is greater than max");
      }
      if (t.min.has_value()) {
        s.min = *t.min;
        s.int_min = *t.min <= -kTwoTo63  ? std::numeric_limits<int64_t>::min()
                    : *t.min >= kTwoTo63 ? std::numeric_limits<int64_t>::max()
                                         : static_cast<int64_t>(std::ceil(*t.min));
      }
      if (t.max.has_value()) {
        s.max = *t.max;
        s.int_max = *t.max >= kTwoTo63    ? std::numeric_limits<int64_t>::max()
                    : *t.max <= -kTwoTo63 ? std::numeric_limits<int64_t>::min()
                                          : static_cast<int64_t>(std::floor(*t.max));
      }
      if (kind == Kind::kInt && s.int_min > s.int_max) {
        return absl::InvalidArgumentError("clamp range holds no integer");
      }
      break;
    case TransformKind::kTruncate:
      RETURN_IF_ERROR(CheckKind(kind, {Kind::kString}, t.kind));
      if (t.length <= 0)
        return absl::InvalidArgumentError("truncate needs a positive length");
      s.length = static_cast<size_t>(t.length);
      break;
    case TransformKind::kMap:
      RETURN_IF_ERROR(CheckKind(kind, {Kind::kString, Kind::kInt}, t.kind));
      if (t.table.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("map table is empty (hierarchy ", t.table_path, " not loaded)"));
      }
      s.table_path = t.table_path;
      s.table.reserve(t.table.size());
      for (const auto& [raw, general] : t.table) s.table.emplace(raw, general);
      kind = Kind::kString;
      break;
    case TransformKind::kRedact: {
      RETURN_IF_ERROR(CheckKind(kind, {Kind::kString}, t.kind));
      ASSIGN_OR_RETURN(s.redactor, Redactor::Create(t.patterns));
      break;
    }
  }
  return s;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FieldTransformer>> FieldTransformer::Create(
    const config::Field& field) {
  Kind kind = KindOf(field.type);
  std::vector<Step> steps;
  steps.reserve(field.transforms.size());
  for (size_t i = 0; i < field.transforms.size(); ++i) {
    const config::Transform& t = field.transforms[i];
    absl::StatusOr<Step> step = Compile(t, kind);
    if (!step.ok()) {
      std::string where;
      if (t.location.line > 0) {
        where = absl::StrCat(" at ", t.location.line, ":", t.location.column);
      }
      return absl::InvalidArgumentError(
          absl::StrCat("field '", field.name, "', transform ", i + 1, " (",
                       TransformName(t.kind), ")", where, ": ", step.status().message()));
    }
    // No-op steps are not kept.
    if (t.kind != TransformKind::kDrop && t.kind != TransformKind::kKeep &&
        t.kind != TransformKind::kPseudonymize) {
      steps.push_back(*std::move(step));
    }
  }
  return std::make_unique<FieldTransformerImpl>(field.name, std::move(steps));
}

}  // namespace privacity::transform
