/* tests/c/check.h: the result checks every C test uses. Each macro returns
 * -1 from the enclosing function after printing what failed (with the
 * library's last error message for a cmp_result). */
#ifndef CMP_CHECK_H
#define CMP_CHECK_H
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cmp.h"

/* The current time, as the library is told it. */
static inline uint64_t now(void) { return (uint64_t)time(NULL); }

/* Print that `what` failed with `rc` and the last error message; -1. */
static inline int fail(const char *what, cmp_result rc) {
  char msg[512];
  cmp_last_error_message(msg, sizeof msg);
  fprintf(stderr, "%s failed: %s (%u): %s\n", what, cmp_result_name(rc), (unsigned)rc, msg);
  return -1;
}

/* `call` must succeed. */
#define CHECK(call)                                                            \
  do {                                                                         \
    cmp_result rc_ = (call);                                                   \
    if (rc_ != CMP_OK) return fail(#call, rc_);                                \
  } while (0)

/* `cond` must hold. */
#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);      \
      return -1;                                                               \
    }                                                                          \
  } while (0)

/* `call` must give `want`. */
#define EXPECT_RC(call, want)                                                  \
  do {                                                                         \
    cmp_result rc_ = (call);                                                   \
    if (rc_ != (want)) {                                                       \
      char msg_[512];                                                          \
      cmp_last_error_message(msg_, sizeof msg_);                               \
      fprintf(stderr, "%s:%d: %s gave %s, expected %s: %s\n", __FILE__,        \
              __LINE__, #call, cmp_result_name(rc_), cmp_result_name(want),    \
              msg_);                                                           \
      return -1;                                                               \
    }                                                                          \
  } while (0)

#endif
