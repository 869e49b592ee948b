#include "rights/subject_data.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "crypto/crypto.h"
#include "nlohmann/json.hpp"
#include "transform/pipeline.h"

namespace privacity::rights {
namespace {

using Json = nlohmann::ordered_json;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<Json> ParsePayload(const SubjectRecord& r) {
  Json j = Json::parse(r.payload_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::DataLossError(absl::StrCat("record ", r.id, " of stream ", r.stream,
                                            ": payload is not a JSON object"));
  }
  return j;
}

void AppendCsvCell(const std::string& cell, std::string& out) {
  if (cell.find_first_of(",\"\r\n") == std::string::npos) {
    out.append(cell);
    return;
  }
  out.push_back('"');
  for (char c : cell) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string CellText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

}  // namespace

absl::StatusOr<SubjectData> LoadSubjectData(store::Store& store, crypto::Keyring& keyring,
                                            const std::string& blind_index) {
  if (blind_index.empty())
    return absl::InvalidArgumentError("subject data: blind index is empty");
  ASSIGN_OR_RETURN(std::vector<store::StoredRecord> records,
                   store.FindRecordsBySubject(blind_index));
  SubjectData data;
  absl::flat_hash_map<int64_t, std::unique_ptr<crypto::Aead>> keys;
  for (const store::StoredRecord& r : records) {
    SubjectRecord out;
    out.id = r.id;
    out.stream = r.stream;
    out.time = absl::FromUnixMicros(r.time_us);
    if (r.key_id == 0) {
      out.payload_json = r.payload;
    } else {
      auto it = keys.find(r.key_id);
      if (it == keys.end()) {
        absl::StatusOr<crypto::UnwrappedKey> key = keyring.GetById(r.key_id);
        if (absl::IsNotFound(key.status())) {
          ++data.unreadable;
          continue;
        }
        if (!key.ok()) return key.status();
        ASSIGN_OR_RETURN(std::unique_ptr<crypto::Aead> aead,
                         crypto::Aead::Create(key->key));
        it = keys.emplace(r.key_id, std::move(aead)).first;
      }
      absl::StatusOr<std::string> opened =
          it->second->Open(r.payload, transform::PayloadAssociatedData(r.stream, r.id));
      if (!opened.ok()) {
        return absl::DataLossError(absl::StrCat("record ", r.id, " of stream ", r.stream,
                                                ": payload does not open under its key"));
      }
      out.payload_json = *std::move(opened);
    }
    RETURN_IF_ERROR(ParsePayload(out).status());
    data.records.push_back(std::move(out));
  }
  return data;
}

absl::StatusOr<SubjectData> LoadSubjectData(
    store::Store& store, crypto::Keyring& keyring,
    const std::vector<std::string>& blind_indexes) {
  if (blind_indexes.empty()) {
    return absl::InvalidArgumentError("subject data: no blind index given");
  }
  SubjectData all;
  for (const std::string& bi : blind_indexes) {
    ASSIGN_OR_RETURN(SubjectData one, LoadSubjectData(store, keyring, bi));
    all.unreadable += one.unreadable;
    for (SubjectRecord& r : one.records) all.records.push_back(std::move(r));
  }
  std::sort(all.records.begin(), all.records.end(),
            [](const SubjectRecord& a, const SubjectRecord& b) { return a.id < b.id; });
  return all;
}

absl::StatusOr<SubjectData> ServeSubjectData(
    store::Store& store, crypto::Keyring& keyring, RequestsDesk& desk,
    const std::vector<std::string>& blind_indexes, store::RightsRequestKind kind) {
  if (kind != store::RightsRequestKind::kAccess &&
      kind != store::RightsRequestKind::kExport) {
    return absl::InvalidArgumentError(
        "subject data: the request kind must be access or export");
  }
  if (blind_indexes.empty() || blind_indexes.front().empty()) {
    return absl::InvalidArgumentError("subject data: blind index is empty");
  }
  ASSIGN_OR_RETURN(LoggedRequest request, desk.Open(kind, blind_indexes.front()));
  absl::StatusOr<SubjectData> data = LoadSubjectData(store, keyring, blind_indexes);
  if (!data.ok()) {
    // The failure is the trust's: the request stays open for the desk.
    return data.status();
  }
  RequestFacts facts;
  facts.records = static_cast<int64_t>(data->records.size());
  RETURN_IF_ERROR(desk.Complete(request.request.id,
                                absl::StrCat(data->records.size(), " records"), facts)
                      .status());
  return data;
}

absl::StatusOr<SubjectData> ServeSubjectData(store::Store& store,
                                             crypto::Keyring& keyring, RequestsDesk& desk,
                                             const std::string& blind_index,
                                             store::RightsRequestKind kind) {
  return ServeSubjectData(store, keyring, desk, std::vector<std::string>{blind_index},
                          kind);
}

std::string ExportJson(const SubjectData& data, absl::Time exported_at) {
  Json out = Json::object();
  out["exported_at"] = Rfc3339(exported_at);
  Json streams = Json::array();
  std::map<std::string, size_t> index;  // stream -> position in `streams`
  for (const SubjectRecord& r : data.records) {
    auto [it, added] = index.emplace(r.stream, streams.size());
    if (added) streams.push_back(Json{{"stream", r.stream}, {"records", Json::array()}});
    Json fields = Json::parse(r.payload_json, nullptr, /*allow_exceptions=*/false);
    if (!fields.is_object()) fields = Json::object();  // LoadSubjectData checked it
    streams[it->second]["records"].push_back(Json{
        {"record_id", r.id}, {"time", Rfc3339(r.time)}, {"fields", std::move(fields)}});
  }
  out["streams"] = std::move(streams);
  out["unreadable"] = data.unreadable;
  return out.dump();
}

absl::StatusOr<std::vector<CsvFile>> ExportCsv(const SubjectData& data) {
  struct Table {
    std::vector<std::string> columns;
    absl::flat_hash_map<std::string, size_t> column_index;
    std::vector<std::pair<const SubjectRecord*, Json>> rows;
  };
  std::vector<std::pair<std::string, Table>> tables;
  absl::flat_hash_map<std::string, size_t> table_index;
  for (const SubjectRecord& r : data.records) {
    ASSIGN_OR_RETURN(Json fields, ParsePayload(r));
    auto [it, added] = table_index.emplace(r.stream, tables.size());
    if (added) tables.emplace_back(r.stream, Table{});
    Table& t = tables[it->second].second;
    for (const auto& [name, value] : fields.items()) {
      if (t.column_index.emplace(name, t.columns.size()).second)
        t.columns.push_back(name);
    }
    t.rows.emplace_back(&r, std::move(fields));
  }
  std::vector<CsvFile> files;
  for (auto& [stream, t] : tables) {
    std::string csv = "record_id,record_time";
    for (const std::string& c : t.columns) {
      csv.push_back(',');
      AppendCsvCell(c, csv);
    }
    csv.append("\r\n");
    for (const auto& [record, fields] : t.rows) {
      absl::StrAppend(&csv, record->id, ",", Rfc3339(record->time));
      for (const std::string& c : t.columns) {
        csv.push_back(',');
        auto f = fields.find(c);
        if (f != fields.end()) AppendCsvCell(CellText(*f), csv);
      }
      csv.append("\r\n");
    }
    files.push_back(CsvFile{stream, std::move(csv)});
  }
  return files;
}

std::string CsvSections(const std::vector<CsvFile>& files) {
  std::string out;
  for (const CsvFile& f : files) {
    absl::StrAppend(&out, "# stream: ", f.stream, "\r\n", f.content, "\r\n");
  }
  return out;
}

}  // namespace privacity::rights
