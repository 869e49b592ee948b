// Record reader throughput on generated smart-meter readings, against
// simdjson's own parse of the same bytes in the same run.
//
//   BM_SimdjsonIterateMany  baseline: iterate_many over the NDJSON, touching
//                           nothing (stage 1 plus document boundaries)
//   BM_SimdjsonDomPerLine   baseline: the DOM parse of every line, which is
//                           what the reader does per record
//   BM_Ndjson{Buffer,File}  RecordReader, every record delivered
//   BM_JsonArrayBuffer      the same readings as one JSON array
//   BM_LineSplit            baseline for CSV: memchr over the lines
//   BM_Csv{Buffer,File}     RecordReader on the same readings as CSV
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "ingest/record_reader.h"
#include "simdjson.h"

namespace privacity::ingest {
namespace {

constexpr int kRecords = 1000000;

enum class Shape { kNdjson, kJsonArray, kCsv };

// {"LCLid":"MAC000002","tstp":"2013-01-01 00:30:00","energy(kWh/hh)":0.219}
// with varying meter, time and reading; deterministic, no randomness needed.
std::string Generate(Shape shape) {
  std::string out;
  out.reserve(static_cast<size_t>(kRecords) * 80);
  if (shape == Shape::kJsonArray) out += "[\n";
  if (shape == Shape::kCsv) out += "LCLid,tstp,energy(kWh/hh)\n";
  char buf[160];
  for (int i = 0; i < kRecords; ++i) {
    const int meter = 2 + i % 5000;
    const int slot = (i / 5000) % 48;
    const int day = 1 + (i / 240000) % 28;
    const int milli = static_cast<int>((int64_t{i} * 7919) % 2000);
    int n;
    if (shape == Shape::kCsv) {
      n = std::snprintf(buf, sizeof buf, "MAC%06d,2013-01-%02d %02d:%02d:00,%d.%03d\n",
                        meter, day, slot / 2, (slot % 2) * 30, milli / 1000,
                        milli % 1000);
    } else {
      n = std::snprintf(buf, sizeof buf,
                        "{\"LCLid\":\"MAC%06d\",\"tstp\":\"2013-01-%02d %02d:%02d:00\","
                        "\"energy(kWh/hh)\":%d.%03d}%s\n",
                        meter, day, slot / 2, (slot % 2) * 30, milli / 1000, milli % 1000,
                        shape == Shape::kJsonArray && i + 1 < kRecords ? "," : "");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  if (shape == Shape::kJsonArray) out += "]\n";
  return out;
}

const std::string& Data(Shape shape) {
  // Generated once per process; leaked on purpose (no static destructors).
  static const std::string* const kNdjson = new std::string(Generate(Shape::kNdjson));
  static const std::string* const kArray = new std::string(Generate(Shape::kJsonArray));
  static const std::string* const kCsv = new std::string(Generate(Shape::kCsv));
  switch (shape) {
    case Shape::kNdjson:
      return *kNdjson;
    case Shape::kJsonArray:
      return *kArray;
    case Shape::kCsv:
      break;
  }
  return *kCsv;
}

// Writes the data to a temporary file for the duration of a benchmark.
class TempFile {
 public:
  TempFile(const std::string& content, const char* extension)
      : path_((std::filesystem::temp_directory_path() /
               absl::StrCat("privacity_ingest_bench_", ::getpid(), extension))
                  .string()) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void SetCounters(benchmark::State& state, const std::string& data, int64_t records) {
  state.SetItemsProcessed(state.iterations() * records);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
}

void BM_SimdjsonIterateMany(benchmark::State& state) {
  const simdjson::padded_string padded(Data(Shape::kNdjson));
  simdjson::ondemand::parser parser;
  int64_t docs = 0;
  for (auto _ : state) {
    simdjson::ondemand::document_stream stream;
    if (parser.iterate_many(padded).get(stream) != simdjson::SUCCESS) {
      state.SkipWithError("iterate_many failed");
      return;
    }
    docs = 0;
    for (auto doc : stream) {
      benchmark::DoNotOptimize(doc);
      ++docs;
    }
  }
  if (docs != kRecords) state.SkipWithError("wrong document count");
  SetCounters(state, Data(Shape::kNdjson), kRecords);
}
BENCHMARK(BM_SimdjsonIterateMany)->Unit(benchmark::kMillisecond);

void BM_SimdjsonDomPerLine(benchmark::State& state) {
  const simdjson::padded_string padded(Data(Shape::kNdjson));
  simdjson::dom::parser parser;
  for (auto _ : state) {
    const char* p = padded.data();
    const char* const end = p + padded.size();
    int64_t docs = 0;
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (nl == nullptr) nl = end;
      simdjson::dom::element element;
      if (parser.parse(p, nl - p, false).get(element) == simdjson::SUCCESS) ++docs;
      p = nl + 1;
    }
    benchmark::DoNotOptimize(docs);
  }
  SetCounters(state, Data(Shape::kNdjson), kRecords);
}
BENCHMARK(BM_SimdjsonDomPerLine)->Unit(benchmark::kMillisecond);

void BM_LineSplit(benchmark::State& state) {
  const std::string& data = Data(Shape::kCsv);
  for (auto _ : state) {
    const char* p = data.data();
    const char* const end = p + data.size();
    int64_t lines = 0;
    while (const void* nl = std::memchr(p, '\n', end - p)) {
      p = static_cast<const char*>(nl) + 1;
      ++lines;
    }
    benchmark::DoNotOptimize(lines);
  }
  SetCounters(state, data, kRecords);
}
BENCHMARK(BM_LineSplit)->Unit(benchmark::kMillisecond);

// Reads with a callback that looks at every field, as a pipeline would.
void RunReader(benchmark::State& state, Shape shape, bool from_file) {
  const std::string& data = Data(shape);
  const char* extension =
      shape == Shape::kCsv ? ".csv" : (shape == Shape::kNdjson ? ".ndjson" : ".json");
  std::optional<TempFile> file;
  if (from_file) file.emplace(data, extension);
  ReaderLimits limits;
  limits.chunk_bytes = static_cast<size_t>(state.range(0));
  auto reader = RecordReader::Create(limits);
  if (!reader.ok()) {
    state.SkipWithError("Create failed");
    return;
  }
  int64_t records = 0;
  size_t touched = 0;
  auto on_record = [&](const transform::InputRecord& record) {
    ++records;
    for (const auto& [name, value] : record.fields)
      touched += name.size() + value.text.size();
    return absl::OkStatus();
  };
  auto on_error = [&](const ReadError&) {
    return absl::InternalError("unexpected bad record");
  };
  for (auto _ : state) {
    records = 0;
    absl::StatusOr<ReadSummary> summary =
        from_file
            ? (*reader)->ReadFile(file->path(), InputFormat::kAuto, on_record, on_error)
            : (*reader)->ReadBuffer(data, InputFormat::kAuto, on_record, on_error);
    if (!summary.ok() || records != kRecords) {
      state.SkipWithError("read failed");
      return;
    }
  }
  benchmark::DoNotOptimize(touched);
  SetCounters(state, data, kRecords);
}

void BM_NdjsonBuffer(benchmark::State& state) { RunReader(state, Shape::kNdjson, false); }
void BM_NdjsonFile(benchmark::State& state) { RunReader(state, Shape::kNdjson, true); }
void BM_JsonArrayBuffer(benchmark::State& state) {
  RunReader(state, Shape::kJsonArray, false);
}
void BM_CsvBuffer(benchmark::State& state) { RunReader(state, Shape::kCsv, false); }
void BM_CsvFile(benchmark::State& state) { RunReader(state, Shape::kCsv, true); }

// The argument is the chunk size.
BENCHMARK(BM_NdjsonBuffer)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NdjsonFile)->Arg(64 << 10)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonArrayBuffer)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsvBuffer)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsvFile)->Arg(64 << 10)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace privacity::ingest

BENCHMARK_MAIN();
