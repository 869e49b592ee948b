#include "common/logging.h"

#include "spdlog/sinks/stdout_color_sinks.h"

namespace privacity {

void InitLogging(LogLevel level) {
  auto logger = spdlog::stderr_color_mt("privacity");
  switch (level) {
    case LogLevel::kQuiet:
      logger->set_level(spdlog::level::warn);
      break;
    case LogLevel::kInfo:
      logger->set_level(spdlog::level::info);
      break;
    case LogLevel::kDebug:
      logger->set_level(spdlog::level::debug);
      break;
  }
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);
}

}  // namespace privacity
