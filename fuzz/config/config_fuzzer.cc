// Feeds arbitrary bytes to the city.yaml parser. Beyond not crashing, every
// text that parses must write back (ToYaml) to text that parses to the same
// written form: the writer and the parser agree on every config they accept.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "config/loader.h"
#include "config/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using privacity::config::CityConfig;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Relative map-table paths resolve into a directory that does not exist.
  const std::string base_dir = "config-fuzzer-no-tables";
  const absl::StatusOr<CityConfig> config =
      privacity::config::ParseConfig(text, "fuzz.yaml", base_dir);
  // CheckConfig must agree with ParseConfig on whether the text is valid.
  const bool valid = privacity::config::CheckConfig(text, base_dir).empty();
  if (valid != config.ok()) __builtin_trap();
  if (!config.ok()) return 0;
  const std::string written = privacity::config::ToYaml(*config);
  const absl::StatusOr<CityConfig> again =
      privacity::config::ParseConfig(written, "written.yaml", base_dir);
  if (!again.ok() || privacity::config::ToYaml(*again) != written) __builtin_trap();
  return 0;
}
