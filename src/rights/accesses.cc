#include "rights/accesses.h"

#include <algorithm>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "audit/leaves.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "nlohmann/json.hpp"

namespace privacity::rights {
namespace {

constexpr uint64_t kChunk = 1024;

absl::StatusOr<std::optional<absl::Time>> OptionalTime(const nlohmann::json& leaf,
                                                       const char* member) {
  const auto it = leaf.find(member);
  if (it == leaf.end()) return std::optional<absl::Time>();
  if (!it->is_string()) {
    return absl::DataLossError(
        absl::StrCat("decision leaf: '", member, "' is not a time"));
  }
  ASSIGN_OR_RETURN(absl::Time t, ParseTimestamp(it->get<std::string>()));
  return std::optional<absl::Time>(t);
}

std::string StringMember(const nlohmann::json& leaf, const char* member) {
  const auto it = leaf.find(member);
  return it != leaf.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

bool CellTokenContains(const std::string& token, uint64_t cell) {
  if (token.empty() || token.size() > 16 || cell == 0) return false;
  uint64_t id = 0;
  for (char c : token) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      return false;
    }
    id = (id << 4) | static_cast<uint64_t>(v);
  }
  id <<= 4 * (16 - token.size());
  if (id == 0) return false;
  // A cell id's lowest set bit marks its level; its descendants are the ids
  // within [id - (lsb - 1), id + (lsb - 1)].
  const uint64_t lsb = id & (~id + 1);
  return cell >= id - (lsb - 1) && cell <= id + (lsb - 1);
}

absl::StatusOr<std::vector<RecordPlace>> SubjectPlaces(
    store::Store& store, const std::vector<std::string>& blind_indexes) {
  std::vector<RecordPlace> places;
  for (const std::string& bi : blind_indexes) {
    ASSIGN_OR_RETURN(std::vector<store::StoredRecord> records,
                     store.FindRecordsBySubject(bi));
    for (const store::StoredRecord& r : records) {
      places.push_back(RecordPlace{r.stream, r.time_us, r.cell});
    }
  }
  return places;
}

absl::StatusOr<std::vector<Access>> ListAccesses(audit::LogStorage& log, uint64_t size,
                                                 const std::vector<RecordPlace>& places) {
  // Per stream, the subject's records by time.
  std::map<std::string, std::vector<const RecordPlace*>> by_stream;
  for (const RecordPlace& p : places) by_stream[p.stream].push_back(&p);
  for (auto& [stream, list] : by_stream) {
    std::sort(list.begin(), list.end(), [](const RecordPlace* a, const RecordPlace* b) {
      return a->time_us < b->time_us;
    });
  }
  std::vector<Access> out;
  if (by_stream.empty()) return out;
  for (uint64_t begin = 0; begin < size; begin += kChunk) {
    const uint64_t end = std::min(size, begin + kChunk);
    ASSIGN_OR_RETURN(std::vector<audit::LogEntry> entries, log.ReadEntries(begin, end));
    for (size_t i = 0; i < entries.size(); ++i) {
      // Cheap filter before parsing: only permitted decisions matter.
      const std::string& data = entries[i].data;
      if (data.find("\"type\":\"decision\"") == std::string::npos ||
          data.find("\"result\":\"permit\"") == std::string::npos) {
        continue;
      }
      absl::StatusOr<nlohmann::json> leaf = audit::ParseLeaf(data);
      if (!leaf.ok()) {
        return absl::DataLossError(
            absl::StrCat("log entry ", begin + i,
                         " is not a leaf: ", std::string(leaf.status().message())));
      }
      const std::string stream = StringMember(*leaf, "stream");
      auto records = by_stream.find(stream);
      if (records == by_stream.end()) continue;
      const auto rows = leaf->find("rows");
      if (rows == leaf->end() || !rows->is_number_integer() ||
          rows->get<int64_t>() <= 0) {
        continue;
      }
      Access access;
      access.log_index = begin + i;
      ASSIGN_OR_RETURN(access.time, ParseTimestamp(StringMember(*leaf, "time")));
      ASSIGN_OR_RETURN(access.from, OptionalTime(*leaf, "from"));
      ASSIGN_OR_RETURN(access.to, OptionalTime(*leaf, "to"));
      if (const auto area = leaf->find("area"); area != leaf->end() && area->is_array()) {
        for (const auto& cell : *area) {
          if (cell.is_string()) access.area.push_back(cell.get<std::string>());
        }
      }
      // Leaf times are floored to the second: the record may be up to a
      // second later than `time` says.
      int64_t lo = access.from ? absl::ToUnixMicros(*access.from)
                               : std::numeric_limits<int64_t>::min();
      int64_t hi = absl::ToUnixMicros(access.time + absl::Seconds(1));  // exclusive
      if (access.to) hi = std::min(hi, absl::ToUnixMicros(*access.to));
      const std::vector<const RecordPlace*>& list = records->second;
      auto first = std::lower_bound(
          list.begin(), list.end(), lo,
          [](const RecordPlace* p, int64_t t) { return p->time_us < t; });
      for (auto it = first; it != list.end() && (*it)->time_us < hi; ++it) {
        if (access.area.empty() || std::any_of(access.area.begin(), access.area.end(),
                                               [&](const std::string& token) {
                                                 return CellTokenContains(token,
                                                                          (*it)->cell);
                                               })) {
          ++access.records_covered;
        }
      }
      if (access.records_covered == 0) continue;
      access.party = StringMember(*leaf, "party");
      access.purpose = StringMember(*leaf, "purpose");
      access.stream = stream;
      access.level = StringMember(*leaf, "level");
      access.rows = rows->get<int64_t>();
      out.push_back(std::move(access));
    }
  }
  return out;
}

}  // namespace privacity::rights
