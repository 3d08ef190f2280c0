/* ho_table: parsing buffers, files, directories and the live tables; rows;
 * formatting; every kind of malformed row. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"

/* A listener on :80 and a half-open connection from 198.18.7.9:8080. */
static const char TCP4[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
    "retrnsmt   uid  timeout inode\n"
    "   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 "
    "00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n"
    "   1: 0100007F:0050 090712C6:1F90 03 00000000:00000000 01:00000064 "
    "00000002     0        0 0 0 0000000000000000\n";

/* A half-open connection from [2001:db8::5]:443 to [::1]:22. */
static const char TCP6[] =
    "  sl  local_address                         remote_address            "
    "            st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 00000000000000000000000001000000:0016 "
    "B80D0120000000000000000005000000:01BB 03 00000000:00000000 01:00000064 "
    "00000000     0        0 0 0 0000000000000000\n";

#define ROW_HEAD "   0: 0100007F:0050 090712C6:1F90 "

static ho_result parse_text(const char *text, uint32_t family, ho_table **out) {
  return ho_table_parse((const uint8_t *)text, strlen(text), family, out);
}

/* Field by field: a struct's padding bytes are not part of its value. */
static int same_entry(const ho_entry *a, const ho_entry *b) {
  return a->family == b->family &&
         memcmp(a->local_addr, b->local_addr, 16) == 0 &&
         a->local_port == b->local_port &&
         memcmp(a->remote_addr, b->remote_addr, 16) == 0 &&
         a->remote_port == b->remote_port && a->state == b->state &&
         a->timer == b->timer && a->slot == b->slot &&
         a->tx_queue == b->tx_queue && a->rx_queue == b->rx_queue &&
         a->timer_expires == b->timer_expires &&
         a->retransmits == b->retransmits && a->uid == b->uid &&
         a->timeout == b->timeout && a->inode == b->inode;
}

static void write_file(const char *path, const void *bytes, size_t len) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f == NULL) {
    return;
  }
  CHECK(fwrite(bytes, 1, len, f) == len);
  fclose(f);
}

static void test_rows(void) {
  ho_table *t = NULL;
  CHECK_RESULT(parse_text(TCP4, HO_FAMILY_ANY, &t), HO_OK);
  CHECK(ho_table_len(t) == 2);

  ho_entry e;
  memset(&e, 0, sizeof e);
  CHECK_RESULT(ho_table_entry(t, 0, &e), HO_OK);
  CHECK(e.family == HO_FAMILY_V4);
  CHECK(e.state == 0x0A);
  CHECK_STR(ho_tcp_state_name(e.state), "LISTEN");
  CHECK(e.local_port == 80);
  CHECK(e.inode == 4242);

  CHECK_RESULT(ho_table_entry(t, 1, &e), HO_OK);
  const uint8_t remote[16] = {198, 18, 7, 9};
  const uint8_t local[16] = {127, 0, 0, 1};
  CHECK(memcmp(e.remote_addr, remote, 16) == 0);
  CHECK(memcmp(e.local_addr, local, 16) == 0);
  CHECK(e.remote_port == 8080);
  CHECK(e.local_port == 80);
  CHECK(e.state == 3);
  CHECK_STR(ho_tcp_state_name(e.state), "SYN_RECV");
  CHECK(e.timer == 1);
  CHECK(e.timer_expires == 100);
  CHECK(e.retransmits == 2);
  CHECK(e.slot == 1);
  CHECK(e.inode == 0);

  /* Out of range: an error, and the out-parameter is left alone. */
  ho_entry before = e;
  CHECK_RESULT(ho_table_entry(t, 2, &e), HO_INDEX_OUT_OF_RANGE);
  CHECK(same_entry(&before, &e));
  CHECK_RESULT(ho_table_entry(t, (size_t)-1, &e), HO_INDEX_OUT_OF_RANGE);
  CHECK_RESULT(ho_table_entry(NULL, 0, &e), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_table_entry(t, 0, NULL), HO_NULL_PARAMETER);
  ho_table_free(t);

  /* IPv6. */
  t = NULL;
  CHECK_RESULT(parse_text(TCP6, HO_FAMILY_V6, &t), HO_OK);
  CHECK(ho_table_len(t) == 1);
  CHECK_RESULT(ho_table_entry(t, 0, &e), HO_OK);
  const uint8_t remote6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                               0,    0,    0,    0,    0, 0, 0, 5};
  const uint8_t local6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  CHECK(e.family == HO_FAMILY_V6);
  CHECK(memcmp(e.remote_addr, remote6, 16) == 0);
  CHECK(memcmp(e.local_addr, local6, 16) == 0);
  CHECK(e.remote_port == 443);
  CHECK(e.local_port == 22);
  ho_table_free(t);

  /* State names. */
  CHECK_STR(ho_tcp_state_name(1), "ESTABLISHED");
  CHECK_STR(ho_tcp_state_name(6), "TIME_WAIT");
  CHECK(ho_tcp_state_name(0) == NULL);
  CHECK(ho_tcp_state_name(14) == NULL);
  CHECK(ho_tcp_state_name(0x103) == NULL);
}

struct bad_case {
  const char *text;
  uint32_t family;
  ho_result code;
  uint64_t line;
  const char *field;
};

static void test_malformed(void) {
  static const struct bad_case cases[] = {
      {ROW_HEAD "\n", HO_FAMILY_V4, HO_PARSE_COLUMN_COUNT, 1, NULL},
      {ROW_HEAD "03 00000000:00000000 01:00000064 00000001 x 0 0\n",
       HO_FAMILY_V4, HO_PARSE_BAD_DECIMAL, 1, "uid"},
      {ROW_HEAD "03 00000000:00000000 01:00000064 00000001 99999999999 0 0\n",
       HO_FAMILY_V4, HO_PARSE_OUT_OF_RANGE, 1, "uid"},
      {ROW_HEAD "42 00000000:00000000 01:00000064 00000001 0 0 0\n",
       HO_FAMILY_V4, HO_PARSE_UNKNOWN_STATE, 1, "st"},
      {"\n" ROW_HEAD "03 0000000G:00000000 01:00000064 00000001 0 0 0\n",
       HO_FAMILY_V4, HO_PARSE_BAD_HEX, 2, "tx_queue"},
      {"   0: 0100007F00:0050 090712C6:1F90 03 00000000:00000000 01:00000064 "
       "00000001 0 0 0\n",
       HO_FAMILY_ANY, HO_PARSE_UNKNOWN_FAMILY, 1, "local_address"},
      {"   0: 0100007F0050 090712C6:1F90 03 00000000:00000000 01:00000064 "
       "00000001 0 0 0\n",
       HO_FAMILY_V4, HO_PARSE_MALFORMED, 1, "local_address"},
      {ROW_HEAD "03 00000000:00000000 01:00000064 00000001 0 0 0 1 \xff\n",
       HO_FAMILY_V4, HO_PARSE_NOT_TEXT, 1, "trailing"},
      {ROW_HEAD "03 00000000:00000000 01:00000064 00000001 0 0 0",
       HO_FAMILY_V4, HO_PARSE_TRUNCATED, 1, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ho_table *t = (ho_table *)&t; /* must stay untouched on failure */
    ho_table *const sentinel = t;
    CHECK_RESULT(parse_text(cases[i].text, cases[i].family, &t), cases[i].code);
    CHECK(t == sentinel);
    CHECK(ho_last_error_line() == cases[i].line);
    if (cases[i].field == NULL) {
      CHECK(ho_last_error_field() == NULL);
    } else {
      CHECK_STR(ho_last_error_field(), cases[i].field);
    }
    CHECK(strlen(ho_last_error_message()) > 0);
  }

  /* An IPv6 row in a table said to be IPv4. */
  ho_table *t = NULL;
  CHECK_RESULT(parse_text(TCP6, HO_FAMILY_V4, &t), HO_PARSE_ADDRESS_WIDTH);
  CHECK(ho_last_error_line() == 2);
  CHECK_STR(ho_last_error_field(), "local_address");

  /* A cut table: every whole row is fine, the last one is not. */
  const size_t cut = strlen(TCP4) - 7;
  CHECK_RESULT(ho_table_parse((const uint8_t *)TCP4, cut, HO_FAMILY_ANY, &t),
               HO_PARSE_TRUNCATED);
  CHECK(ho_last_error_line() == 3);
  CHECK(t == NULL);

  /* Garbage bytes, NULs included: an error, never a crash. */
  uint8_t garbage[4096];
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < sizeof garbage; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    garbage[i] = (uint8_t)x;
  }
  ho_result r = ho_table_parse(garbage, sizeof garbage, HO_FAMILY_ANY, &t);
  CHECK(r != HO_OK && r != HO_PANIC);
  CHECK(ho_result_name(r) != NULL);
  CHECK(ho_last_error_line() >= 1);
  CHECK(t == NULL);
  for (size_t len = 0; len < 300; len += 7) {
    r = ho_table_parse(garbage, len, HO_FAMILY_V6, &t);
    CHECK(r != HO_PANIC);
    if (r == HO_OK) {
      ho_table_free(t);
      t = NULL;
    }
  }

  /* Bad arguments. */
  CHECK_RESULT(parse_text(TCP4, 5, &t), HO_INVALID_ARGUMENT);
  CHECK_RESULT(parse_text(TCP4, HO_FAMILY_ANY, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_table_parse(NULL, 0, HO_FAMILY_ANY, &t), HO_NULL_PARAMETER);
  CHECK(t == NULL);
}

static void test_files(const char *tmpdir) {
  char dir[4096], path[4096 + 16];
  snprintf(dir, sizeof dir, "%s/net", tmpdir);
  CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST);
  snprintf(path, sizeof path, "%s/tcp", dir);
  write_file(path, TCP4, strlen(TCP4));

  /* A file, and a directory laid out like /proc/net without tcp6. */
  ho_table *t = NULL;
  CHECK_RESULT(ho_table_read_file(path, HO_FAMILY_V4, &t), HO_OK);
  CHECK(ho_table_len(t) == 2);
  ho_table_free(t);
  t = NULL;
  CHECK_RESULT(ho_table_read_file(path, HO_FAMILY_ANY, &t), HO_OK);
  ho_table_free(t);
  t = NULL;
  CHECK_RESULT(ho_table_read_dir(dir, &t), HO_OK);
  CHECK(ho_table_len(t) == 2);
  ho_table_free(t);

  /* With tcp6: IPv4 rows first. */
  snprintf(path, sizeof path, "%s/tcp6", dir);
  write_file(path, TCP6, strlen(TCP6));
  t = NULL;
  CHECK_RESULT(ho_table_read_dir(dir, &t), HO_OK);
  CHECK(ho_table_len(t) == 3);
  ho_entry e;
  CHECK_RESULT(ho_table_entry(t, 2, &e), HO_OK);
  CHECK(e.family == HO_FAMILY_V6);

  /* Formatting: the text reads back to the same rows. */
  char *text = NULL;
  CHECK_RESULT(ho_table_format(t, HO_FAMILY_V6, &text), HO_OK);
  ho_table *back = NULL;
  CHECK_RESULT(parse_text(text, HO_FAMILY_V6, &back), HO_OK);
  CHECK(ho_table_len(back) == 1);
  ho_entry e2;
  CHECK_RESULT(ho_table_entry(back, 0, &e2), HO_OK);
  CHECK(same_entry(&e, &e2));
  ho_table_free(back);

  size_t len = 0;
  CHECK_RESULT(ho_table_format_into(t, HO_FAMILY_V6, NULL, 0, &len),
               HO_BUFFER_TOO_SMALL);
  CHECK(len == strlen(text));
  char *buf = malloc(len + 1);
  CHECK_RESULT(ho_table_format_into(t, HO_FAMILY_V6, buf, len, &len),
               HO_BUFFER_TOO_SMALL);
  CHECK_RESULT(ho_table_format_into(t, HO_FAMILY_V6, buf, len + 1, &len),
               HO_OK);
  CHECK_STR(buf, text);
  free(buf);
  ho_string_free(text);
  text = NULL;
  CHECK_RESULT(ho_table_format(t, HO_FAMILY_V4, &text), HO_OK);
  back = NULL;
  CHECK_RESULT(parse_text(text, HO_FAMILY_V4, &back), HO_OK);
  CHECK(ho_table_len(back) == 2);
  ho_table_free(back);
  ho_string_free(text);
  CHECK_RESULT(ho_table_format(t, HO_FAMILY_ANY, &text), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_table_format(NULL, HO_FAMILY_V4, &text), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_table_format(t, HO_FAMILY_V4, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_table_format_into(NULL, HO_FAMILY_V4, NULL, 0, &len),
               HO_NULL_PARAMETER);
  CHECK_RESULT(ho_table_format_into(t, HO_FAMILY_V4, NULL, 0, NULL),
               HO_NULL_PARAMETER);
  ho_table_free(t);
  ho_string_free(NULL);

  /* A file whose line is longer than any kernel row. */
  snprintf(path, sizeof path, "%s/long", tmpdir);
  size_t long_len = 100000;
  char *long_line = malloc(long_len);
  memset(long_line, 'A', long_len);
  long_line[long_len - 1] = '\n';
  write_file(path, long_line, long_len);
  free(long_line);
  t = NULL;
  CHECK_RESULT(ho_table_read_file(path, HO_FAMILY_V4, &t), HO_PARSE_LINE_TOO_LONG);
  CHECK(ho_last_error_line() == 1);
  CHECK(t == NULL);

  /* Missing files: errno comes through. */
  snprintf(path, sizeof path, "%s/missing", tmpdir);
  CHECK_RESULT(ho_table_read_file(path, HO_FAMILY_V4, &t), HO_READ_IO);
  CHECK(ho_last_error_os_code() == ENOENT);
  CHECK(strstr(ho_last_error_message(), "missing") != NULL);
  CHECK_RESULT(ho_table_read_dir(path, &t), HO_READ_IO);
  CHECK(ho_last_error_os_code() == ENOENT);
  CHECK(t == NULL);

  /* Not UTF-8, NULL. */
  CHECK_RESULT(ho_table_read_file("/tmp/\xff", HO_FAMILY_V4, &t),
               HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_table_read_file(NULL, HO_FAMILY_V4, &t), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_table_read_file(path, 7, &t), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_table_read_file(path, HO_FAMILY_V4, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_table_read_dir(NULL, &t), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_table_read_dir(dir, NULL), HO_NULL_PARAMETER);
}

void test_table(const char *tmpdir) {
  test_rows();
  test_malformed();
  test_files(tmpdir);
}
