// Values as they flow through the ingest pipeline.
//
// InputRecord: one record as a parser (NDJSON, JSON array, CSV, NGSI-LD,
// MQTT) read it, before validation. Views point into the parser's buffers
// and are valid only during the callback that receives the record.
//
// Value: one field after validation against its declared type.
#ifndef PRIVACITY_TRANSFORM_VALUE_H_
#define PRIVACITY_TRANSFORM_VALUE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/time/time.h"

namespace privacity::transform {

struct InputValue {
  enum class Kind {
    kNull,
    kBool,
    kInteger,
    kNumber,
    kString,     // `text` holds the unescaped string
    kComposite,  // `text` holds the raw JSON of an object or array
  };
  Kind kind = Kind::kNull;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string_view text;
};

struct InputRecord {
  // JSON inputs carry types; text inputs (CSV) carry every value as a
  // string, which validation then parses according to the declared type.
  enum class Origin { kJson, kText };
  Origin origin = Origin::kJson;
  int64_t line = 0;  // 1-based line (or element index) in the source
  std::vector<std::pair<std::string_view, InputValue>> fields;

  const InputValue* Find(std::string_view name) const {
    for (const auto& [k, v] : fields) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

struct GeoPoint {
  double latitude = 0;
  double longitude = 0;
  bool operator==(const GeoPoint&) const = default;
};

// An S2 cell, as produced by the cell transform.
struct CellId {
  uint64_t id = 0;
  bool operator==(const CellId&) const = default;
};

// std::monostate is an absent (null) optional value.
using Value = std::variant<std::monostate, std::string, int64_t, double, bool, absl::Time,
                           GeoPoint, CellId>;

}  // namespace privacity::transform

#endif  // PRIVACITY_TRANSFORM_VALUE_H_
