/* A minimal test harness for the C tests: CHECK counts, and main() ends
 * with the "N passed, N failed" line. */
#ifndef HALFOPEN_TEST_CHECK_H
#define HALFOPEN_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include <halfopen.h>

extern int checks_passed;
extern int checks_failed;

/* The test groups, one file each. */
void test_errors(void);
void test_table(const char *tmpdir);
void test_live(const char *tmpdir);
void test_counters(const char *tmpdir);
void test_report_counters(const char *tmpdir);
void test_report(void);
void test_blockset(void);
void test_state(const char *tmpdir);
void test_threads(void);

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      checks_passed++;                                                         \
    } else {                                                                   \
      checks_failed++;                                                         \
      fprintf(stderr, "%s:%d: FAILED: %s (last error: %s)\n", __FILE__,        \
              __LINE__, #cond, ho_last_error_message());                       \
    }                                                                          \
  } while (0)

#define CHECK_RESULT(call, expected)                                           \
  do {                                                                         \
    ho_result got_ = (call);                                                   \
    if (got_ == (ho_result)(expected)) {                                       \
      checks_passed++;                                                         \
    } else {                                                                   \
      checks_failed++;                                                         \
      fprintf(stderr, "%s:%d: FAILED: %s gave %s, expected %s (%s)\n",         \
              __FILE__, __LINE__, #call, ho_result_name(got_),                 \
              ho_result_name(expected), ho_last_error_message());              \
    }                                                                          \
  } while (0)

#define CHECK_STR(got, expected)                                               \
  do {                                                                         \
    const char *got_s_ = (got);                                                \
    const char *exp_s_ = (expected);                                           \
    if (got_s_ != NULL && strcmp(got_s_, exp_s_) == 0) {                       \
      checks_passed++;                                                         \
    } else {                                                                   \
      checks_failed++;                                                         \
      fprintf(stderr, "%s:%d: FAILED: %s is \"%s\", expected \"%s\"\n",        \
              __FILE__, __LINE__, #got, got_s_ ? got_s_ : "(null)", exp_s_);   \
    }                                                                          \
  } while (0)


#endif
