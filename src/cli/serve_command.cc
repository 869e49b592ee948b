#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/status_macros.h"
#include "server/http/serve.h"
#include "server/static_files.h"

namespace privacity::cli {
namespace {

struct ServeCommandOptions {
  TrustOptions trust;
  server::HttpServerOptions http;
};

absl::Status RunServe(ServeCommandOptions o) {
  o.http.web_dir = ResolveWebDir(o.http.web_dir);
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(std::unique_ptr<server::Trust> trust,
                   OpenTrust(o.trust, clock, random));
  return server::ServeUntilSignal(*trust, o.http, [&o](int port) {
    const bool tls = !o.http.tls_cert_file.empty();
    std::cout << "serving " << o.trust.data_dir << " on " << (tls ? "https" : "http")
              << "://" << o.http.listen.substr(0, o.http.listen.rfind(':')) << ":" << port
              << " (SIGINT or SIGTERM stops)" << std::endl;
  });
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ServeCommandOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "serve the trust's HTTP API");
  AddTrustOptions(*cmd, o->trust);
  cmd->add_option("--listen", o->http.listen,
                  "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--tls-cert", o->http.tls_cert_file,
                  "PEM certificate chain (enables TLS)");
  cmd->add_option("--tls-key", o->http.tls_key_file, "PEM private key (with --tls-cert)");
  cmd->add_option("--web-dir", o->http.web_dir,
                  "the built portal (web/dist); default: found beside the binary or in "
                  "./web/dist; 'none' serves no portal");
  cmd->callback([o, &exit_code] {
    const absl::Status s = RunServe(*o);
    if (!s.ok()) exit_code = ReportError(s);
  });
}

}  // namespace privacity::cli
