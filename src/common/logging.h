// Application logging. Rule: log messages carry no personal data: no raw
// identifiers, blind indexes, pseudonyms or payload values. Log counts,
// stream ids, record line numbers and field names only.
#ifndef PRIVACITY_COMMON_LOGGING_H_
#define PRIVACITY_COMMON_LOGGING_H_

#include "spdlog/spdlog.h"

namespace privacity {

enum class LogLevel { kQuiet, kInfo, kDebug };

// Configures the default logger to write to stderr at `level`.
void InitLogging(LogLevel level);

}  // namespace privacity

#endif  // PRIVACITY_COMMON_LOGGING_H_
