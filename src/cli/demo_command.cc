#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "config/loader.h"
#include "server/http/serve.h"
#include "server/release_view.h"

namespace privacity::cli {
namespace {

namespace fs = std::filesystem;

constexpr char kDemoLoadedKey[] = "demo.loaded";

// The demo config: as given, else examples/demo-city/city.yaml found from
// the working directory or from the binary's place in a build tree.
std::string FindDemoConfig(const std::string& given) {
  if (!given.empty()) return given;
  const fs::path relative = fs::path("examples") / "demo-city" / "city.yaml";
  if (fs::exists(relative)) return relative.string();
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (int up = 0; !ec && up < 5 && !dir.empty(); ++up, dir = dir.parent_path()) {
    if (fs::exists(dir / relative)) return (dir / relative).string();
  }
  return relative.string();
}

// The excerpt of `stream` beside the config: data/<stream>.{csv,ndjson,json}.
std::string FindStreamData(const fs::path& config_dir, const std::string& stream) {
  for (const char* ext : {".csv", ".ndjson", ".json"}) {
    const fs::path p = config_dir / "data" / (stream + ext);
    if (fs::exists(p)) return p.string();
  }
  return "";
}

// Publishes the public releases of releases.json beside the config, so the
// public portal has something to show (charged to the public budget).
absl::Status PublishDemoReleases(server::Trust& trust, const fs::path& config_dir) {
  const fs::path path = config_dir / "releases.json";
  if (!fs::exists(path)) return absl::OkStatus();
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  ASSIGN_OR_RETURN(std::vector<server::ReleaseSpec> specs,
                   server::ParseReleaseSpecs(text.str()));
  std::cout << "public releases:\n";
  for (const server::ReleaseSpec& spec : specs) {
    ASSIGN_OR_RETURN(server::PublishedRelease r, server::PublishRelease(trust, spec));
    std::cout << absl::StrFormat("  %s  %s (epsilon %g)\n", r.id, spec.title,
                                 r.summary.value("epsilon", 0.0));
  }
  return absl::OkStatus();
}

enum class DemoServe { kServe, kLoadOnly };

absl::Status RunDemo(const std::string& config_path, const std::string& data_dir,
                     DemoServe serve, const std::string& listen,
                     const std::string& web_dir) {
  ASSIGN_OR_RETURN(config::CityConfig config, config::LoadConfigFile(config_path));
  SystemClock clock;
  CryptoRandom random;
  if (!fs::exists(fs::path(data_dir) / server::kMasterKeyFile)) {
    RETURN_IF_ERROR(server::Trust::Initialize(config, data_dir, clock, random));
    std::cout << "initialised " << data_dir << "\n";
  }
  ASSIGN_OR_RETURN(std::unique_ptr<server::Trust> trust,
                   server::Trust::Open(config, data_dir, clock, random));
  ASSIGN_OR_RETURN(std::optional<std::string> loaded,
                   trust->store().GetMeta(kDemoLoadedKey));
  const fs::path config_dir = fs::path(config_path).parent_path();
  std::cout << config::DescribeConfig(trust->config()) << "\n";
  if (!loaded.has_value()) {
    for (const config::Stream& stream : trust->config().streams) {
      const std::string path = FindStreamData(config_dir, stream.id);
      if (path.empty()) continue;
      ingest::IngestSummary summary;
      RETURN_IF_ERROR(RunIngest(*trust, stream.id, path, ingest::InputFormat::kAuto,
                                ::isatty(STDERR_FILENO) == 1, summary));
      std::cout << absl::StrFormat("  %-24s %s\n", stream.id,
                                   ingest::SummaryJson(summary));
    }
    RETURN_IF_ERROR(trust->store().PutMeta(kDemoLoadedKey, FormatTimestamp(clock.Now())));
    RETURN_IF_ERROR(PublishDemoReleases(*trust, config_dir));
  } else {
    std::cout << "demo data already loaded on " << *loaded << "\n";
  }
  std::cout << "stored records:\n";
  for (const config::Stream& stream : trust->config().streams) {
    ASSIGN_OR_RETURN(int64_t n, trust->store().CountRecords(stream.id));
    std::cout << absl::StrFormat(
        "  %-24s %8d %s\n", stream.id, n,
        stream.personal() ? "(sealed per subject and epoch)" : "(no personal data)");
  }
  std::cout
      << "\ntry:\n  privacity query records --config " << config_path << " --data-dir "
      << data_dir
      << " --party energy-utility --purpose grid-planning --stream energy.meter_readings"
         " --limit 5\n";
  if (serve == DemoServe::kLoadOnly) return absl::OkStatus();
  server::HttpServerOptions http;
  http.listen = listen;
  http.web_dir = ResolveWebDir(web_dir);
  return server::ServeUntilSignal(
      *trust, http,
      [&listen, &http](int port) {
        std::cout << "\nserving the demo city on http://"
                  << listen.substr(0, listen.rfind(':')) << ":" << port
                  << (http.web_dir.empty() ? " (try /public/streams or /public/releases"
                                           : " (open it in a browser")
                  << "; Ctrl-C stops)" << std::endl;
        std::cout << "retention sweeps are off: the demo data is historical and its "
                     "streams' retention would delete it"
                  << std::endl;
      },
      server::RetentionSweeps::kOff);
}

}  // namespace

void AddDemoCommand(CLI::App& app, int& exit_code) {
  auto config_path = std::make_shared<std::string>();
  auto data_dir = std::make_shared<std::string>("demo-data");
  auto listen = std::make_shared<std::string>("127.0.0.1:8080");
  auto no_serve = std::make_shared<bool>(false);
  auto web_dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("demo", "load the demo city into a data directory");
  cmd->add_option("--config", *config_path,
                  "the demo config (default: examples/demo-city/city.yaml)");
  cmd->add_option("--data-dir", *data_dir, "the data directory")->capture_default_str();
  cmd->add_option("--listen", *listen, "HOST:PORT to serve the demo city on")
      ->capture_default_str();
  cmd->add_flag("--no-serve", *no_serve, "only load the demo city, do not serve it");
  cmd->add_option("--web-dir", *web_dir,
                  "the built portal (web/dist); default: found beside the binary or in "
                  "./web/dist; 'none' serves no portal");
  cmd->callback([config_path, data_dir, listen, no_serve, web_dir, &exit_code] {
    const absl::Status s =
        RunDemo(FindDemoConfig(*config_path), *data_dir,
                *no_serve ? DemoServe::kLoadOnly : DemoServe::kServe, *listen, *web_dir);
    if (!s.ok()) exit_code = ReportError(s);
  });
}

}  // namespace privacity::cli
