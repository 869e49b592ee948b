// `privacity log ...`: the transparency log from the command line.
//   check-proof FILE   checks an inclusion or consistency proof given as JSON
//                      (exit 0 holds, 1 does not hold, 2 unreadable input).
//   verify, prove      need the store and server; registered so that usage
//                      is stable, they report that they are not yet available.
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "audit/proof_check.h"
#include "cli/commands.h"

namespace privacity::cli {
namespace {

// Options of the commands still to come. CLI11 writes into them, so the
// callbacks own them.
struct VerifyOptions {
  std::string url;
  std::string data_dir;
  std::string since;
};

int NotYetAvailable(const char* name) {
  std::cerr << "privacity: log " << name << " is not yet available\n";
  return 2;
}

}  // namespace

void AddLogCommand(CLI::App& app, int& exit_code) {
  CLI::App* log = app.add_subcommand(
      "log", "the transparency log: check proofs, verify the log, prove entries");
  log->require_subcommand(1);

  auto file = std::make_shared<std::string>();
  CLI::App* check = log->add_subcommand(
      "check-proof",
      "check an inclusion proof (leafIdx, treeSize, root, leafHash, proof) or a "
      "consistency proof (size1, size2, root1, root2, proof) given as JSON with "
      "base64 hashes; exit 0 when it holds, 1 when not, 2 when unreadable");
  check->add_option("file", *file, "the proof as a JSON file")->required();
  check->callback([file, &exit_code] {
    const audit::ProofCheck result = audit::CheckProofFile(*file);
    if (result.verdict == audit::ProofVerdict::kMalformed) {
      std::cerr << "privacity: " << *file << ": " << result.message << "\n";
    } else {
      std::cout << result.message << "\n";
    }
    exit_code = audit::ExitCode(result.verdict);
  });

  auto verify_options = std::make_shared<VerifyOptions>();
  CLI::App* verify = log->add_subcommand(
      "verify",
      "check the log's checkpoint signature, its consistency with an earlier "
      "checkpoint, and rebuild the tree from tiles and entries");
  verify->add_option("--url", verify_options->url, "base URL of a running trust");
  verify->add_option("--data-dir", verify_options->data_dir,
                     "the trust's data directory");
  verify->add_option("--since", verify_options->since, "an earlier checkpoint file");
  verify->callback([verify_options, &exit_code] {
    (void)verify_options;  // owned here so CLI11's targets outlive parsing
    exit_code = NotYetAvailable("verify");
  });

  auto index = std::make_shared<uint64_t>(0);
  CLI::App* prove = log->add_subcommand("prove", "print the inclusion proof of an entry");
  prove->add_option("--index", *index, "the entry's index");
  prove->callback([index, &exit_code] {
    (void)index;
    exit_code = NotYetAvailable("prove");
  });
}

}  // namespace privacity::cli
