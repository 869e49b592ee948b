// privacity register list | comments SENSOR: the sensor register
// (docs/register.md) from the command line, for the controller.
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "register/register.h"

namespace privacity::cli {
namespace {

struct RegisterCommandOptions {
  TrustOptions trust;
  std::string sensor;
  bool json = false;
};

absl::Status RunList(const RegisterCommandOptions& o) {
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(std::unique_ptr<server::Trust> trust,
                   OpenTrust(o.trust, clock, random));
  registry::SensorRegister reg(trust->config(), trust->store(), clock);
  ASSIGN_OR_RETURN(std::vector<registry::RegisterEntry> entries, reg.List());
  if (o.json) {
    std::cout << registry::RegisterJson(trust->config(), entries).dump(2) << "\n";
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat("%-28s %-24s %-9s %-8s %s\n", "sensor", "stream", "status",
                               "comments", "until");
  for (const registry::RegisterEntry& e : entries) {
    std::cout << absl::StrFormat(
        "%-28s %-24s %-9s %-8d %s\n", e.sensor.id, e.sensor.stream,
        registry::ToString(e.status), e.comments,
        e.sensor.comments_until ? FormatTimestamp(*e.sensor.comments_until) : "-");
  }
  return absl::OkStatus();
}

absl::Status RunComments(const RegisterCommandOptions& o) {
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(std::unique_ptr<server::Trust> trust,
                   OpenTrust(o.trust, clock, random));
  registry::SensorRegister reg(trust->config(), trust->store(), clock);
  ASSIGN_OR_RETURN(std::vector<registry::Comment> comments, reg.Comments(o.sensor));
  if (o.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const registry::Comment& c : comments) {
      list.push_back({{"time", FormatTimestamp(c.time)},
                      {"kind", std::string(registry::ToString(c.kind))},
                      {"text", c.text}});
    }
    std::cout << list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
    return absl::OkStatus();
  }
  std::cerr << comments.size() << " comment(s) on " << o.sensor << "\n";
  for (const registry::Comment& c : comments) {
    std::cout << "--- " << FormatTimestamp(c.time) << " " << registry::ToString(c.kind)
              << "\n"
              << c.text << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddRegisterCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RegisterCommandOptions>();
  CLI::App* cmd = app.add_subcommand("register", "the sensor register");
  cmd->require_subcommand(1);
  CLI::App* list = cmd->add_subcommand("list", "list the sensors and their status");
  AddTrustOptions(*list, o->trust);
  list->add_flag("--json", o->json, "print the register as JSON");
  list->callback([o, &exit_code] {
    if (absl::Status s = RunList(*o); !s.ok()) exit_code = ReportError(s);
  });
  CLI::App* comments =
      cmd->add_subcommand("comments", "print the public's comments on a proposed sensor");
  AddTrustOptions(*comments, o->trust);
  comments->add_option("SENSOR", o->sensor, "the sensor id")->required();
  comments->add_flag("--json", o->json, "print the comments as JSON");
  comments->callback([o, &exit_code] {
    if (absl::Status s = RunComments(*o); !s.ok()) exit_code = ReportError(s);
  });
}

}  // namespace privacity::cli
