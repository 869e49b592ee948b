// Status propagation helpers, in the manner of RETURN_IF_ERROR/ASSIGN_OR_RETURN.
#ifndef PRIVACITY_COMMON_STATUS_MACROS_H_
#define PRIVACITY_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PRIVACITY_CONCAT_INNER_(a, b) a##b
#define PRIVACITY_CONCAT_(a, b) PRIVACITY_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::absl::Status _privacity_status = (expr); \
    if (!_privacity_status.ok()) {             \
      return _privacity_status;                \
    }                                          \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (which may be a declaration).
#define ASSIGN_OR_RETURN(lhs, rexpr)                                                  \
  PRIVACITY_ASSIGN_OR_RETURN_IMPL_(PRIVACITY_CONCAT_(_privacity_statusor_, __LINE__), \
                                   lhs, rexpr)

#define PRIVACITY_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                     \
  if (!statusor.ok()) {                                        \
    return std::move(statusor).status();                       \
  }                                                            \
  lhs = std::move(statusor).value()

#endif  // PRIVACITY_COMMON_STATUS_MACROS_H_
