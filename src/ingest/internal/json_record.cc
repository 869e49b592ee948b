#include "ingest/internal/json_record.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ingest/record_reader.h"
#include "simdjson.h"

namespace privacity::ingest::internal {
namespace {

using transform::InputValue;

// Field names appear in errors; a hostile one is cut short and escaped.
std::string QuoteName(std::string_view name) {
  constexpr size_t kMaxShown = 64;
  const std::string_view head = name.substr(0, kMaxShown);
  std::string shown = absl::CHexEscape(absl::string_view(head.data(), head.size()));
  if (name.size() > kMaxShown) shown += "...";
  return absl::StrCat("\"", shown, "\"");
}

absl::Status MalformedError(simdjson::error_code code) {
  switch (code) {
    case simdjson::UTF8_ERROR:
      return absl::InvalidArgumentError("invalid UTF-8");
    case simdjson::NUMBER_ERROR:
      return absl::InvalidArgumentError("malformed JSON: invalid or out-of-range number");
    case simdjson::STRING_ERROR:
      return absl::InvalidArgumentError("malformed JSON: invalid escape in a string");
    case simdjson::UNESCAPED_CHARS:
      return absl::InvalidArgumentError(
          "malformed JSON: unescaped control character in a string");
    case simdjson::UNCLOSED_STRING:
      return absl::InvalidArgumentError("malformed JSON: unterminated string");
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
      return absl::InvalidArgumentError("malformed JSON: invalid literal");
    case simdjson::DEPTH_ERROR:
      return absl::InvalidArgumentError(
          absl::StrCat("malformed JSON: nested deeper than ", kMaxJsonDepth, " levels"));
    case simdjson::MEMALLOC:
    case simdjson::CAPACITY:
      return absl::ResourceExhaustedError("record too large for the JSON parser");
    default:
      return absl::InvalidArgumentError("malformed JSON: invalid structure");
  }
}

const char* TypeName(simdjson::dom::element_type type) {
  using T = simdjson::dom::element_type;
  switch (type) {
    case T::ARRAY:
      return "an array";
    case T::OBJECT:
      return "an object";
    case T::STRING:
      return "a string";
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE:
      return "a number";
    case T::BOOL:
      return "a boolean";
    case T::NULL_VALUE:
      return "null";
  }
  return "an unknown value";
}

// Returns the index of a key that repeats an earlier one, or -1. Overwrites
// `scratch`.
int64_t FindDuplicate(const std::vector<std::string_view>& keys,
                      std::vector<std::string_view>& scratch) {
  const size_t n = keys.size();
  if (n <= 16) {
    for (size_t i = 1; i < n; ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (keys[i] == keys[j]) return static_cast<int64_t>(i);
      }
    }
    return -1;
  }
  scratch.assign(keys.begin(), keys.end());
  std::sort(scratch.begin(), scratch.end());
  const auto it = std::adjacent_find(scratch.begin(), scratch.end());
  if (it == scratch.end()) return -1;
  const auto first = std::find(keys.begin(), keys.end(), *it);
  return std::find(first + 1, keys.end(), *it) - keys.begin();
}

// Rejects repeated keys in every object nested in `element`.
// REQUIRES: the element's depth is bounded by the parser's max depth.
absl::Status CheckNestedKeys(simdjson::dom::element element,
                             std::vector<std::string_view>& keys,
                             std::vector<std::string_view>& scratch) {
  if (element.is_object()) {
    const simdjson::dom::object object = element.get_object().value_unsafe();
    keys.clear();
    for (simdjson::dom::key_value_pair field : object) keys.push_back(field.key);
    const int64_t dup = FindDuplicate(keys, scratch);
    if (dup >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate key ", QuoteName(keys[dup]), " in a nested object"));
    }
    for (simdjson::dom::key_value_pair field : object) {
      absl::Status status = CheckNestedKeys(field.value, keys, scratch);
      if (!status.ok()) return status;
    }
  } else if (element.is_array()) {
    const simdjson::dom::array array = element.get_array().value_unsafe();
    for (simdjson::dom::element item : array) {
      absl::Status status = CheckNestedKeys(item, keys, scratch);
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The helpers below walk text that simdjson has already validated; the
// bounds checks only guard against a bug turning into an overread.
size_t SkipSpace(const char* data, size_t size, size_t i) {
  while (i < size && IsSpace(data[i])) ++i;
  return i;
}

// REQUIRES: data[i] == '"'. Returns the index after the closing quote.
size_t SkipString(const char* data, size_t size, size_t i) {
  for (++i; i < size; ++i) {
    if (data[i] == '\\') {
      ++i;
    } else if (data[i] == '"') {
      return i + 1;
    }
  }
  return size;
}

size_t SkipValue(const char* data, size_t size, size_t i) {
  if (i >= size) return size;
  if (data[i] == '"') return SkipString(data, size, i);
  if (data[i] == '{' || data[i] == '[') {
    int64_t depth = 0;
    while (i < size) {
      const char c = data[i];
      if (c == '"') {
        i = SkipString(data, size, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return size;
  }
  while (i < size && !IsSpace(data[i]) && data[i] != ',' && data[i] != '}' &&
         data[i] != ']') {
    ++i;
  }
  return i;
}

}  // namespace

JsonRecordParser::JsonRecordParser(size_t max_fields)
    : max_fields_(max_fields), parser_(std::make_unique<simdjson::dom::parser>()) {}

JsonRecordParser::~JsonRecordParser() = default;

absl::Status JsonRecordParser::Parse(const char* data, size_t size,
                                     transform::InputRecord& record) {
  record.fields.clear();
  // simdjson counts the document itself as one level.
  constexpr size_t kParserDepth = kMaxJsonDepth + 1;
  if (parser_->max_depth() != kParserDepth) {
    // Sets the depth limit, which later capacity growth keeps.
    if (parser_->allocate(std::max(size, simdjson::dom::MINIMAL_DOCUMENT_CAPACITY),
                          kParserDepth) != simdjson::SUCCESS) {
      return absl::ResourceExhaustedError("out of memory for the JSON parser");
    }
  }
  simdjson::dom::element root;
  if (const simdjson::error_code code =
          parser_->parse(data, size, /*realloc_if_needed=*/false).get(root);
      code != simdjson::SUCCESS) {
    return MalformedError(code);
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("record is ", TypeName(root.type()), ", not a JSON object"));
  }
  const simdjson::dom::object object = root.get_object().value_unsafe();
  // size() saturates at 2^24 - 1, which is still above any allowed limit.
  if (object.size() > max_fields_) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many fields (more than ", max_fields_, ")"));
  }
  bool has_composite = false;
  keys_.clear();
  for (simdjson::dom::key_value_pair field : object) {
    InputValue value;
    using T = simdjson::dom::element_type;
    switch (field.value.type()) {
      case T::NULL_VALUE:
        value.kind = InputValue::Kind::kNull;
        break;
      case T::BOOL:
        value.kind = InputValue::Kind::kBool;
        value.boolean = field.value.get_bool().value_unsafe();
        break;
      case T::INT64:
        value.kind = InputValue::Kind::kInteger;
        value.integer = field.value.get_int64().value_unsafe();
        break;
      case T::UINT64:  // above INT64_MAX
        value.kind = InputValue::Kind::kNumber;
        value.number = static_cast<double>(field.value.get_uint64().value_unsafe());
        break;
      case T::DOUBLE:
        value.kind = InputValue::Kind::kNumber;
        value.number = field.value.get_double().value_unsafe();
        break;
      case T::STRING:
        value.kind = InputValue::Kind::kString;
        value.text = field.value.get_string().value_unsafe();
        break;
      case T::ARRAY:
      case T::OBJECT:
        value.kind = InputValue::Kind::kComposite;  // text filled in below
        has_composite = true;
        break;
    }
    record.fields.emplace_back(field.key, value);
    keys_.push_back(field.key);
  }
  if (const int64_t dup = FindDuplicate(keys_, scratch_); dup >= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("duplicate key ", QuoteName(keys_[dup])));
  }
  if (!has_composite) return absl::OkStatus();

  for (simdjson::dom::key_value_pair field : object) {
    if (field.value.is_object() || field.value.is_array()) {
      absl::Status status = CheckNestedKeys(field.value, keys_, scratch_);
      if (!status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(status.message(), " in field ", QuoteName(field.key)));
      }
    }
  }
  return FillCompositeText(data, size, record);
}

absl::Status JsonRecordParser::FillCompositeText(const char* data, size_t size,
                                                 transform::InputRecord& record) {
  // The DOM keeps no source positions, so find each member's value text in
  // the (already validated) source; members come in source order.
  ranges_.clear();
  size_t i = SkipSpace(data, size, 0);
  if (i < size && data[i] == '{') ++i;
  while (true) {
    i = SkipSpace(data, size, i);
    if (i >= size || data[i] != '"') break;
    i = SkipString(data, size, i);
    i = SkipSpace(data, size, i);
    if (i < size && data[i] == ':') ++i;
    i = SkipSpace(data, size, i);
    const size_t begin = i;
    i = SkipValue(data, size, i);
    ranges_.emplace_back(begin, i);
    i = SkipSpace(data, size, i);
    if (i < size && data[i] == ',') ++i;
  }
  if (ranges_.size() != record.fields.size()) {
    return absl::InternalError("JSON member positions do not match the parsed record");
  }
  for (size_t f = 0; f < ranges_.size(); ++f) {
    InputValue& value = record.fields[f].second;
    if (value.kind == InputValue::Kind::kComposite) {
      value.text =
          std::string_view(data + ranges_[f].first, ranges_[f].second - ranges_[f].first);
    }
  }
  return absl::OkStatus();
}

}  // namespace privacity::ingest::internal
