// Builders for input records and fields in the transform tests.
#ifndef PRIVACITY_TESTS_TRANSFORM_TEST_UTIL_H_
#define PRIVACITY_TESTS_TRANSFORM_TEST_UTIL_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/model.h"
#include "transform/value.h"

namespace privacity::transform::testing {

inline InputValue Null() { return InputValue{}; }
inline InputValue Str(std::string_view s) {
  InputValue v;
  v.kind = InputValue::Kind::kString;
  v.text = s;
  return v;
}
inline InputValue Int(int64_t i) {
  InputValue v;
  v.kind = InputValue::Kind::kInteger;
  v.integer = i;
  return v;
}
inline InputValue Num(double d) {
  InputValue v;
  v.kind = InputValue::Kind::kNumber;
  v.number = d;
  return v;
}
inline InputValue Bool(bool b) {
  InputValue v;
  v.kind = InputValue::Kind::kBool;
  v.boolean = b;
  return v;
}
inline InputValue Composite(std::string_view raw_json) {
  InputValue v;
  v.kind = InputValue::Kind::kComposite;
  v.text = raw_json;
  return v;
}

// The views in the record point at the caller's strings (literals here).
inline InputRecord JsonRecord(
    std::initializer_list<std::pair<std::string_view, InputValue>> fields) {
  InputRecord r;
  r.origin = InputRecord::Origin::kJson;
  r.line = 1;
  r.fields.assign(fields.begin(), fields.end());
  return r;
}
inline InputRecord TextRecord(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  InputRecord r;
  r.origin = InputRecord::Origin::kText;
  r.line = 1;
  for (const auto& [name, text] : fields) r.fields.emplace_back(name, Str(text));
  return r;
}

inline config::Field MakeField(std::string name, config::FieldType type) {
  config::Field f;
  f.name = std::move(name);
  f.type = type;
  return f;
}

}  // namespace privacity::transform::testing

#endif  // PRIVACITY_TESTS_TRANSFORM_TEST_UTIL_H_
