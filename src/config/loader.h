// Loading and validating city.yaml (the format is written down in
// docs/config.md).
//
// The loader reports every mistake it finds, not just the first, each with
// the 1-based line and column where it was written and a message naming the
// element ("stream 'mobility.trips' field 'birth_year': ..."). Messages quote
// config text (ids, keys, durations) but never data values. A CityConfig is
// only ever returned when the file had no mistake at all: unknown keys are
// errors too, so that a typo cannot silently drop a policy.
//
//   ASSIGN_OR_RETURN(CityConfig config, LoadConfigFile("city.yaml"));
#ifndef PRIVACITY_CONFIG_LOADER_H_
#define PRIVACITY_CONFIG_LOADER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/model.h"

namespace privacity::config {

// One mistake in a config text.
struct ConfigError {
  int line = 0;  // 1-based; 0 when not tied to a place in the text
  int column = 0;
  std::string message;
};

// "FILE:LINE:COL: message" ("FILE: message" when line is 0).
std::string FormatConfigError(std::string_view source_name, const ConfigError& error);

// Reads, parses and validates the file at `path`. Map-transform tables are
// resolved relative to the file's directory. On failure the status is
// InvalidArgument and its message holds every mistake, one
// "FILE:LINE:COL: message" line each (NotFound when the file cannot be read).
absl::StatusOr<CityConfig> LoadConfigFile(const std::string& path);

// Parses and validates `yaml_text`. `source_name` names the text in error
// messages and becomes CityConfig::source_path; `base_dir` is the directory
// that relative map-transform table paths are resolved against ("" for the
// working directory). The loader reads those tables.
absl::StatusOr<CityConfig> ParseConfig(std::string_view yaml_text,
                                       const std::string& source_name,
                                       const std::string& base_dir);

// Every mistake in `yaml_text`, ordered by position; empty when the text is
// a valid config. Arguments as for ParseConfig.
std::vector<ConfigError> CheckConfig(std::string_view yaml_text,
                                     const std::string& base_dir);

// Writes `config` back as city.yaml text that ParseConfig accepts and that
// parses to the same model (map tables are referenced by path, so parse it
// with the same base_dir). Every setting is written out, defaults included.
std::string ToYaml(const CityConfig& config);

// One line for `privacity config check`:
// "city.yaml: ok (Demo City: 6 purposes, 4 streams, 4 parties, 7 agreements, 6 sensors)".
std::string DescribeConfig(const CityConfig& config);

}  // namespace privacity::config

#endif  // PRIVACITY_CONFIG_LOADER_H_
