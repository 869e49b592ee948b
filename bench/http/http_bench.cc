// HTTP benchmark client and in-process baseline (bench/http/run.sh drives
// it; see docs/BENCHMARKS.md).
//
//   http_bench inprocess --data-dir=D --config=C [--records=N --batch=1000]
//       ingests the records in-process, the two ways privacity can: one
//       IngestBuffer per batch with its log leaf (what the HTTP route does
//       per request), and one streaming Ingester over everything (what
//       `privacity ingest` does). Prints "inprocess_batches R" and
//       "inprocess_stream R" in records/s.
//   http_bench ingest --port=P --token=T [--records=N --batch=1000
//       --connections=C]
//       POSTs the same records as NDJSON bodies of `batch` records over
//       keep-alive connections; prints "http_ingest R" in records/s.
//   http_bench get --port=P --path=/healthz [--seconds=S --connections=C]
//       GETs `path` over keep-alive connections for S seconds; prints
//       "get R" in requests/s.
// Raw sockets and a minimal HTTP/1.1 reader: the client should cost little
// next to the servers it measures (it shares their two cores).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/random.h"
#include "config/loader.h"
#include "ingest/ingester.h"
#include "ingest/record_reader.h"
#include "server/trust.h"

ABSL_FLAG(std::string, data_dir, "", "inprocess: an initialised data dir");
ABSL_FLAG(std::string, config, "", "inprocess: city.yaml");
ABSL_FLAG(int64_t, records, 200000, "records to send or ingest");
ABSL_FLAG(int64_t, batch, 1000, "records per request body");
ABSL_FLAG(int64_t, meters, 1000, "distinct meters");
ABSL_FLAG(int, port, 0, "server port on 127.0.0.1");
ABSL_FLAG(std::string, token, "", "bearer token (a sensor token of the stream)");
ABSL_FLAG(std::string, path, "/healthz", "get: the path");
ABSL_FLAG(double, seconds, 5, "get: how long");
ABSL_FLAG(int, connections, 4, "keep-alive connections, one thread each");
ABSL_FLAG(int64_t, offset, 0, "first record number (distinct runs, distinct records)");
ABSL_FLAG(int64_t, start, 0,
          "time of the first reading, Unix seconds; 0 = midnight UTC 40 days ago, "
          "inside the demo city's retention and linkability windows (older readings "
          "would be deleted or unlinked by the server's retention sweep mid-run)");

namespace privacity {
namespace {

constexpr char kStream[] = "energy.meter_readings";
using Seconds = std::chrono::duration<double>;

// `batch` half-hourly readings per body, meters interleaved, as NDJSON in
// the demo city's input names.
std::vector<std::string> Bodies(int64_t records, int64_t batch, int64_t meters,
                                int64_t offset) {
  std::vector<std::string> bodies;
  int64_t start_seconds = absl::GetFlag(FLAGS_start);
  if (start_seconds == 0)
    start_seconds = (absl::ToUnixSeconds(absl::Now()) / 86400 - 40) * 86400;
  const absl::Time start = absl::FromUnixSeconds(start_seconds);
  std::string body;
  for (int64_t i = offset; i < offset + records; ++i) {
    const absl::Time t = start + absl::Minutes(30) * (i / meters);
    absl::StrAppendFormat(
        &body, "{\"LCLid\":\"MAC%06d\",\"tstp\":\"%s\",\"energy(kWh/hh)\":%.3f}\n",
        static_cast<int>(i % meters),
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()),
        static_cast<double>((i * 7919) % 2000) / 1000.0);
    if ((i - offset + 1) % batch == 0) {
      bodies.push_back(std::move(body));
      body.clear();
    }
  }
  if (!body.empty()) bodies.push_back(std::move(body));
  return bodies;
}

int InProcess() {
  auto config = config::LoadConfigFile(absl::GetFlag(FLAGS_config));
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  SystemClock clock;
  CryptoRandom random;
  auto trust = server::Trust::Open(*config, absl::GetFlag(FLAGS_data_dir), clock, random);
  if (!trust.ok()) {
    std::fprintf(stderr, "%s\n", std::string(trust.status().message()).c_str());
    return 1;
  }
  const config::Stream& stream = *(*trust)->config().FindStream(kStream);
  const int64_t n = absl::GetFlag(FLAGS_records);
  const int64_t offset = absl::GetFlag(FLAGS_offset);
  // Per batch, with its ingest leaf and a pooled pipeline: the work of one
  // HTTP request.
  std::vector<std::string> bodies =
      Bodies(n, absl::GetFlag(FLAGS_batch), absl::GetFlag(FLAGS_meters), offset);
  const ingest::IngestOptions options = (*trust)->RequestIngestOptions(stream);
  auto t0 = std::chrono::steady_clock::now();
  int64_t accepted = 0;
  for (const std::string& body : bodies) {
    auto summary = ingest::IngestBuffer(stream, (*trust)->store(), (*trust)->keyring(),
                                        (*trust)->random(), body,
                                        ingest::InputFormat::kNdjson, options);
    if (!summary.ok()) {
      std::fprintf(stderr, "%s\n", std::string(summary.status().message()).c_str());
      return 1;
    }
    accepted += summary->accepted;
  }
  const double batches_s = Seconds(std::chrono::steady_clock::now() - t0).count();
  if (accepted != n) {
    std::fprintf(stderr, "accepted %lld of %lld\n", static_cast<long long>(accepted),
                 static_cast<long long>(n));
    return 1;
  }
  // One streaming Ingester over all the (next) records.
  bodies = Bodies(n, absl::GetFlag(FLAGS_batch), absl::GetFlag(FLAGS_meters), offset + n);
  t0 = std::chrono::steady_clock::now();
  auto ingester = ingest::Ingester::Create(stream, (*trust)->store(), (*trust)->keyring(),
                                           (*trust)->random(), ingest::IngestOptions{});
  auto reader = ingest::RecordReader::Create(ingest::ReaderLimits{});
  if (!ingester.ok() || !reader.ok()) return 1;
  for (const std::string& body : bodies) {
    auto read = (*reader)->ReadBuffer(
        body, ingest::InputFormat::kNdjson,
        [&](const transform::InputRecord& r) { return (*ingester)->Add(r); },
        [&](const ingest::ReadError&) { return absl::OkStatus(); });
    if (!read.ok()) return 1;
  }
  if (!(*ingester)->Finish().ok() || (*ingester)->summary().accepted != n) return 1;
  const double stream_s = Seconds(std::chrono::steady_clock::now() - t0).count();
  std::printf("inprocess_batches %.0f\ninprocess_stream %.0f\n", n / batches_s,
              n / stream_s);
  return 0;
}

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads one response (Content-Length bodies only); returns its status and
// leaves the body in `body`. `buffer` keeps bytes read past the response.
int ReadResponse(int fd, std::string& buffer, std::string& body) {
  char chunk[65536];
  size_t header_end;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return -1;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  int status = 0;
  if (buffer.size() < 12 || !absl::SimpleAtoi(buffer.substr(9, 3), &status)) return -1;
  size_t length = 0;
  const std::string head = buffer.substr(0, header_end);
  for (const char* name : {"Content-Length: ", "content-length: "}) {
    const size_t at = head.find(name);
    if (at != std::string::npos) {
      const size_t end = head.find("\r\n", at);
      (void)absl::SimpleAtoi(head.substr(at + 16, end - at - 16), &length);
    }
  }
  const size_t total = header_end + 4 + length;
  while (buffer.size() < total) {
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return -1;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  body.assign(buffer, header_end + 4, length);
  buffer.erase(0, total);
  return status;
}

int HttpIngest() {
  const int port = absl::GetFlag(FLAGS_port);
  const int connections = absl::GetFlag(FLAGS_connections);
  const int64_t n = absl::GetFlag(FLAGS_records);
  const std::vector<std::string> bodies =
      Bodies(n, absl::GetFlag(FLAGS_batch), absl::GetFlag(FLAGS_meters),
             absl::GetFlag(FLAGS_offset));
  std::vector<std::string> requests;
  for (const std::string& body : bodies) {
    requests.push_back(absl::StrCat(
        "POST /v1/streams/", kStream, "/records HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        "Authorization: Bearer ", absl::GetFlag(FLAGS_token),
        "\r\nContent-Type: application/x-ndjson\r\nContent-Length: ", body.size(),
        "\r\n\r\n", body));
  }
  std::atomic<size_t> next{0};
  std::atomic<int64_t> accepted{0};
  std::atomic<int> failures{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      const int fd = Connect(port);
      if (fd < 0) {
        ++failures;
        return;
      }
      std::string buffer, body;
      for (size_t i; (i = next.fetch_add(1)) < requests.size();) {
        if (!SendAll(fd, requests[i]) || ReadResponse(fd, buffer, body) != 200) {
          ++failures;
          break;
        }
        const size_t at = body.find("\"accepted\":");
        int64_t a = 0;
        if (at != std::string::npos) {
          (void)absl::SimpleAtoi(body.substr(at + 11, body.find(',', at) - at - 11), &a);
        }
        accepted += a;
      }
      ::close(fd);
    });
  }
  for (std::thread& t : threads) t.join();
  const double s = Seconds(std::chrono::steady_clock::now() - t0).count();
  if (failures > 0 || accepted != n) {
    std::fprintf(stderr, "http ingest: %d failures, %lld of %lld accepted\n",
                 failures.load(), static_cast<long long>(accepted.load()),
                 static_cast<long long>(n));
    return 1;
  }
  std::printf("http_ingest %.0f\n", n / s);
  return 0;
}

int Get() {
  const int port = absl::GetFlag(FLAGS_port);
  const std::string request = absl::StrCat("GET ", absl::GetFlag(FLAGS_path),
                                           " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto duration = Seconds(absl::GetFlag(FLAGS_seconds));
  std::atomic<int64_t> done{0};
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int c = 0; c < absl::GetFlag(FLAGS_connections); ++c) {
    threads.emplace_back([&] {
      const int fd = Connect(port);
      if (fd < 0) {
        ++failures;
        return;
      }
      std::string buffer, body;
      int64_t mine = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (!SendAll(fd, request) || ReadResponse(fd, buffer, body) != 200) {
          ++failures;
          break;
        }
        ++mine;
      }
      done += mine;
      ::close(fd);
    });
  }
  std::this_thread::sleep_for(duration);
  stop = true;
  for (std::thread& t : threads) t.join();
  const double s = Seconds(std::chrono::steady_clock::now() - t0).count();
  if (failures > 0) {
    std::fprintf(stderr, "get %s: %d failures\n", absl::GetFlag(FLAGS_path).c_str(),
                 failures.load());
    return 1;
  }
  std::printf("get %.0f\n", done / s);
  return 0;
}

}  // namespace
}  // namespace privacity

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string mode = args.size() > 1 ? args[1] : "";
  if (mode == "inprocess") return privacity::InProcess();
  if (mode == "ingest") return privacity::HttpIngest();
  if (mode == "get") return privacity::Get();
  std::fprintf(stderr, "usage: http_bench inprocess|ingest|get [--flags]\n");
  return 2;
}
