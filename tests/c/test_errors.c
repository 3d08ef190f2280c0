/* Result codes, the last error and its per-thread state, the version. */
#include <pthread.h>
#include <stdlib.h>

#include "check.h"

static const char BAD_ROW[] =
    "  sl  local_address rem_address   st\n"
    "   0: 0100007F:0050 0100007F:ZZZZ 03 00000000:00000000 00:00000000 "
    "00000000 0 0 0\n";

static void *fail_in_thread(void *arg) {
  ho_table *t = NULL;
  (void)arg;
  /* A NULL buffer on this thread; the main thread's error stays. */
  return (void *)(size_t)ho_table_parse(NULL, 0, HO_FAMILY_ANY, &t);
}

void test_errors(void) {
  /* Version. */
  CHECK_STR(ho_version(), HALFOPEN_VERSION);

  /* Names of codes. */
  CHECK_STR(ho_result_name(HO_OK), "HO_OK");
  CHECK_STR(ho_result_name(HO_NULL_PARAMETER), "HO_NULL_PARAMETER");
  CHECK_STR(ho_result_name(HO_PANIC), "HO_PANIC");
  CHECK_STR(ho_result_name(HO_PARSE_BAD_HEX), "HO_PARSE_BAD_HEX");
  CHECK_STR(ho_result_name(HO_READ_IO), "HO_READ_IO");
  CHECK(ho_result_name(99) == NULL);
  CHECK(ho_result_name(0xFFFFFFFFu) == NULL);
  CHECK(HO_OK == 0);

  /* A parse error: code, text, line and field. */
  ho_table *t = NULL;
  CHECK_RESULT(ho_table_parse((const uint8_t *)BAD_ROW, sizeof BAD_ROW - 1,
                              HO_FAMILY_V4, &t),
               HO_PARSE_BAD_HEX);
  CHECK(t == NULL);
  CHECK_RESULT(ho_last_error_code(), HO_PARSE_BAD_HEX);
  CHECK_STR(ho_last_error_message(),
            "line 2: field rem_port: not hexadecimal: \"ZZZZ\"");
  CHECK(ho_last_error_line() == 2);
  CHECK_STR(ho_last_error_field(), "rem_port");
  CHECK(ho_last_error_os_code() == 0);

  /* The copy into a caller's buffer: length query, too small, enough. */
  size_t len = 0;
  const size_t want = strlen(ho_last_error_message());
  CHECK_RESULT(ho_last_error_message_into(NULL, 0, &len), HO_BUFFER_TOO_SMALL);
  CHECK(len == want);
  char small[8];
  memset(small, 'x', sizeof small);
  CHECK_RESULT(ho_last_error_message_into(small, sizeof small, &len),
               HO_BUFFER_TOO_SMALL);
  CHECK(small[0] == 'x');
  char *big = malloc(want + 1);
  CHECK_RESULT(ho_last_error_message_into(big, want + 1, &len), HO_OK);
  CHECK_STR(big, ho_last_error_message());
  free(big);
  CHECK_RESULT(ho_last_error_message_into(small, sizeof small, NULL),
               HO_NULL_PARAMETER);
  /* Copying leaves the last error as it was. */
  CHECK_RESULT(ho_last_error_code(), HO_PARSE_BAD_HEX);

  /* The last error is per thread. */
  pthread_t thread;
  void *code = NULL;
  CHECK(pthread_create(&thread, NULL, fail_in_thread, NULL) == 0);
  CHECK(pthread_join(thread, &code) == 0);
  CHECK((ho_result)(size_t)code == HO_NULL_PARAMETER);
  CHECK_RESULT(ho_last_error_code(), HO_PARSE_BAD_HEX);
  CHECK(ho_last_error_line() == 2);

  /* An error without a line or field. */
  CHECK_RESULT(ho_table_parse(NULL, 10, HO_FAMILY_ANY, &t), HO_NULL_PARAMETER);
  CHECK_STR(ho_last_error_message(), "null parameter: buf");
  CHECK(ho_last_error_line() == 0);
  CHECK(ho_last_error_field() == NULL);

  /* Success clears the last error. */
  CHECK_RESULT(ho_table_parse((const uint8_t *)"", 0, HO_FAMILY_ANY, &t), HO_OK);
  CHECK_STR(ho_last_error_message(), "");
  CHECK_RESULT(ho_last_error_code(), HO_OK);
  CHECK(ho_last_error_line() == 0);
  CHECK(ho_table_len(t) == 0);
  ho_table_free(t);
}
