// See and export: a subject's records across streams, each payload opened
// with its own data key, for the subject alone (the caller has verified
// them, rights/session.h). Records are found by blind index, so records
// already unlinked (past their stream's linkability window) are no longer
// theirs to see: they are anonymous.
//
// Export formats:
//   JSON  {"exported_at":"<RFC 3339>","streams":[{"stream":"<id>",
//          "records":[{"record_id":N,"time":"<RFC 3339>","fields":{...}}]}],
//          "unreadable":N}
//         `fields` is the stored payload as it was sealed (pseudonyms of
//         the record's epoch, coarsened values).
//   CSV   one file per stream (RFC 4180, CRLF line ends): a header
//         "record_id,record_time,<fields in order of first appearance>" and one
//         row per record; strings as they are, other JSON values in their
//         JSON text, a missing field empty. CsvSections joins the files into
//         one download, each preceded by a line "# stream: <id>" and
//         followed by an empty line.
#ifndef PRIVACITY_RIGHTS_SUBJECT_DATA_H_
#define PRIVACITY_RIGHTS_SUBJECT_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/keyring.h"
#include "rights/requests.h"
#include "store/store.h"

namespace privacity::rights {

struct SubjectRecord {
  int64_t id = 0;
  std::string stream;
  absl::Time time;
  std::string payload_json;  // the opened payload: one JSON object
};

struct SubjectData {
  std::vector<SubjectRecord> records;  // in id order
  // Records whose data key is gone (destroyed by erasure or retention in
  // the meantime): nothing of them can be shown.
  int64_t unreadable = 0;
};

// Loads and opens the subject's records. DataLoss when a payload does not
// open under its key (tampering) or is not a JSON object.
absl::StatusOr<SubjectData> LoadSubjectData(store::Store& store, crypto::Keyring& keyring,
                                            const std::string& blind_index);
// The same over several blind indexes of one person (merged in id order).
absl::StatusOr<SubjectData> LoadSubjectData(
    store::Store& store, crypto::Keyring& keyring,
    const std::vector<std::string>& blind_indexes);

// LoadSubjectData, recorded on the desk as an access or export request
// (received, then completed with the record count as detail and in its
// leaf).
// REQUIRES: kind is kAccess or kExport.
absl::StatusOr<SubjectData> ServeSubjectData(
    store::Store& store, crypto::Keyring& keyring, RequestsDesk& desk,
    const std::vector<std::string>& blind_indexes, store::RightsRequestKind kind);
absl::StatusOr<SubjectData> ServeSubjectData(store::Store& store,
                                             crypto::Keyring& keyring, RequestsDesk& desk,
                                             const std::string& blind_index,
                                             store::RightsRequestKind kind);

std::string ExportJson(const SubjectData& data, absl::Time exported_at);

struct CsvFile {
  std::string stream;
  std::string content;
};
// One file per stream, streams in order of their first record. DataLoss
// when a payload is not a JSON object.
absl::StatusOr<std::vector<CsvFile>> ExportCsv(const SubjectData& data);
std::string CsvSections(const std::vector<CsvFile>& files);

}  // namespace privacity::rights

#endif  // PRIVACITY_RIGHTS_SUBJECT_DATA_H_
