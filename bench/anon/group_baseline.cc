// Baseline for bench/anon/run_adult.sh: reads a CSV file the way
// `privacity anonymize` does and groups its records once by the raw values
// of the named columns, then prints the number of groups. This is the
// least work any anonymisation of the file has to do.
//
//   anon_group_baseline FILE COLUMN...
#include <cstdio>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "anon/csv.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FILE COLUMN...\n", argv[0]);
    return 2;
  }
  absl::StatusOr<privacity::anon::CsvTable> table =
      privacity::anon::ReadCsvTable(argv[1]);
  if (!table.ok()) {
    std::fprintf(stderr, "%s\n", std::string(table.status().message()).c_str());
    return 1;
  }
  std::vector<size_t> columns;
  for (int i = 2; i < argc; ++i) {
    std::optional<size_t> c = table->ColumnIndex(argv[i]);
    if (!c.has_value()) {
      std::fprintf(stderr, "no column named '%s'\n", argv[i]);
      return 1;
    }
    columns.push_back(*c);
  }
  absl::flat_hash_map<std::string, int64_t> groups;
  std::string key;
  for (size_t r = 0; r < table->num_rows(); ++r) {
    key.clear();
    for (size_t c : columns) {
      key.append(table->cell(r, c));
      key.push_back('\x1f');
    }
    ++groups[key];
  }
  std::printf("%zu records in %zu groups\n", table->num_rows(), groups.size());
  return 0;
}
