/* The counters sampler: a capture with a SYN cookie spike, a malformed
 * counter file, and this namespace's real counters. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"

static void write_text(const char *dir, const char *name, const char *text) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f != NULL) {
    fputs(text, f);
    fclose(f);
  }
}

static void capture(const char *dir, unsigned long syncookies) {
  char netstat[256];
  snprintf(netstat, sizeof netstat,
           "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed "
           "ListenOverflows ListenDrops\nTcpExt: %lu 0 0 0 0\n",
           syncookies);
  write_text(dir, "netstat", netstat);
  write_text(dir, "snmp",
             "Tcp: RtoAlgorithm ActiveOpens PassiveOpens OutRsts\n"
             "Tcp: 1 0 0 0\n");
  write_text(dir, "snmp6", "");
  write_text(dir, "dev", "Inter-|\n face |\n");
}

static void pause_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* The sampler's report as JSON holds `needle`. */
static void check_report_has(ho_sampler *s, const char *needle) {
  ho_counter_report *r = NULL;
  CHECK_RESULT(ho_sampler_report(s, &r), HO_OK);
  char *json = NULL;
  CHECK_RESULT(ho_counter_report_json(r, &json), HO_OK);
  CHECK(json != NULL && strstr(json, needle) != NULL);
  ho_string_free(json);
  ho_counter_report_free(r);
}

void test_counters(const char *tmpdir) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/counters", tmpdir);
  CHECK(mkdir(dir, 0700) == 0);

  /* A spike of SYN cookies between two samples. */
  capture(dir, 0);
  ho_sampler *s = NULL;
  CHECK_RESULT(ho_sampler_new_dir(dir, 8, &s), HO_OK);
  CHECK(ho_sampler_len(s) == 0);
  CHECK_RESULT(ho_sampler_sample(s), HO_OK);
  pause_ms(20);
  capture(dir, 100000);
  CHECK_RESULT(ho_sampler_sample(s), HO_OK);
  CHECK(ho_sampler_len(s) == 2);

  ho_counter_report *r = NULL;
  CHECK_RESULT(ho_sampler_report(s, &r), HO_OK);
  size_t n = ho_counter_report_alert_count(r);
  CHECK(n >= 1);
  int syn_flood = 0;
  for (size_t i = 0; i < n; i++) {
    ho_alert a;
    CHECK_RESULT(ho_counter_report_alert(r, i, &a), HO_OK);
    CHECK(a.message != NULL && strlen(a.message) > 0);
    if (a.kind == HO_ALERT_KIND_SYN_FLOOD) {
      syn_flood = 1;
      CHECK_STR(a.counter, "TcpExt.SyncookiesSent");
      CHECK(a.rate > 1000.0);
      CHECK(!isnan(a.baseline) || a.baseline != a.baseline);
    }
  }
  CHECK(syn_flood);
  ho_alert spare;
  CHECK_RESULT(ho_counter_report_alert(r, n, &spare), HO_INDEX_OUT_OF_RANGE);
  CHECK_RESULT(ho_counter_report_alert(NULL, 0, &spare), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_counter_report_alert(r, 0, NULL), HO_NULL_PARAMETER);

  char *json = NULL;
  CHECK_RESULT(ho_counter_report_json(r, &json), HO_OK);
  CHECK(json != NULL && json[0] == '{');
  CHECK(strstr(json, "\"syn_flood\"") != NULL);
  size_t len = 0;
  CHECK_RESULT(ho_counter_report_json_into(r, NULL, 0, &len), HO_BUFFER_TOO_SMALL);
  CHECK(len == strlen(json));
  char *copy = malloc(len + 1);
  CHECK_RESULT(ho_counter_report_json_into(r, copy, len + 1, &len), HO_OK);
  CHECK_STR(copy, json);
  free(copy);
  ho_string_free(json);
  CHECK_RESULT(ho_counter_report_json(NULL, &json), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_counter_report_json(r, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_counter_report_json_into(r, NULL, 0, NULL), HO_NULL_PARAMETER);
  ho_counter_report_free(r);

  /* A sample not after the one before it cannot give a rate: the capture's
   * clock is the process's, so this cannot be forced here; a malformed file
   * can. */
  write_text(dir, "snmp", "Tcp: RtoAlgorithm OutRsts\nTcp: 1 x9\n");
  CHECK_RESULT(ho_sampler_sample(s), HO_COUNTER_PARSE_BAD_VALUE);
  CHECK(ho_last_error_line() == 2);
  CHECK_STR(ho_last_error_field(), "Tcp.OutRsts");
  write_text(dir, "snmp", "Tcp: RtoAlgorithm OutRsts\n");
  CHECK_RESULT(ho_sampler_sample(s), HO_COUNTER_PARSE_MISSING_VALUES);
  write_text(dir, "snmp", "Tcp: RtoAlgorithm OutRsts\nTcp: 1\n");
  CHECK_RESULT(ho_sampler_sample(s), HO_COUNTER_PARSE_COLUMN_MISMATCH);
  ho_sampler_free(s);

  /* A missing directory. */
  s = NULL;
  CHECK_RESULT(ho_sampler_new_dir("/nonexistent/halfopen", 4, &s), HO_OK);
  CHECK_RESULT(ho_sampler_sample(s), HO_COUNTER_IO);
  CHECK(ho_last_error_os_code() == 2);
  ho_sampler_free(s);

  /* This namespace's real counters, by default and by pid. */
  s = NULL;
  CHECK_RESULT(ho_sampler_new(4, &s), HO_OK);
  CHECK_RESULT(ho_sampler_sample(s), HO_OK);
  pause_ms(10);
  CHECK_RESULT(ho_sampler_sample(s), HO_OK);
  check_report_has(s, "\"rates\"");
  ho_sampler_free(s);
  s = NULL;
  CHECK_RESULT(ho_sampler_new_pid((uint32_t)getpid(), 4, &s), HO_OK);
  CHECK_RESULT(ho_sampler_sample(s), HO_OK);
  ho_sampler_free(s);

  /* By namespace file: our own, entered from a helper thread (root only),
     a file that is no namespace, a file that is not there. */
  s = NULL;
  CHECK_RESULT(ho_sampler_new_netns("/proc/self/ns/net", 4, &s), HO_OK);
  if (geteuid() == 0) {
    CHECK_RESULT(ho_sampler_sample(s), HO_OK);
    check_report_has(s, "\"settings\"");
  } else {
    CHECK_RESULT(ho_sampler_sample(s), HO_NETNS_ENTER);
  }
  ho_sampler_free(s);
  s = NULL;
  CHECK_RESULT(ho_sampler_new_netns("/proc/self/status", 4, &s), HO_OK);
  CHECK_RESULT(ho_sampler_sample(s), HO_NETNS_ENTER);
  CHECK(strstr(ho_last_error_message(), "/proc/self/status") != NULL);
  ho_sampler_free(s);
  s = NULL;
  CHECK_RESULT(ho_sampler_new_netns("/nonexistent/halfopen-ns", 4, &s), HO_OK);
  CHECK_RESULT(ho_sampler_sample(s), HO_NETNS_OPEN);
  CHECK(ho_last_error_os_code() == 2);
  ho_sampler_free(s);

  /* NULLs. */
  CHECK_RESULT(ho_sampler_new(4, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_sampler_new_pid(1, 4, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_sampler_new_dir(NULL, 4, &s), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_sampler_new_netns(NULL, 4, &s), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_sampler_new_netns("/proc/self/ns/net", 4, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_sampler_sample(NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_sampler_report(NULL, &r), HO_NULL_PARAMETER);
  CHECK(ho_sampler_len(NULL) == 0);
  CHECK(ho_counter_report_alert_count(NULL) == 0);
  ho_sampler_free(NULL);
  ho_counter_report_free(NULL);
}

void test_report_counters(const char *tmpdir) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/counters2", tmpdir);
  CHECK(mkdir(dir, 0700) == 0);
  capture(dir, 0);
  ho_sampler *s = NULL;
  CHECK_RESULT(ho_sampler_new_dir(dir, 4, &s), HO_OK);
  CHECK_RESULT(ho_sampler_sample(s), HO_OK);
  pause_ms(20);
  capture(dir, 50000);
  CHECK_RESULT(ho_sampler_sample(s), HO_OK);
  ho_counter_report *cr = NULL;
  CHECK_RESULT(ho_sampler_report(s, &cr), HO_OK);

  ho_table *t = NULL;
  CHECK_RESULT(ho_table_parse((const uint8_t *)"", 0, HO_FAMILY_ANY, &t), HO_OK);
  ho_config *c = NULL;
  CHECK_RESULT(ho_config_new(&c), HO_OK);
  ho_report *r = NULL;
  CHECK_RESULT(ho_report_new(t, c, &r), HO_OK);
  char *json = NULL;
  CHECK_RESULT(ho_report_json(r, &json), HO_OK);
  CHECK(strstr(json, "\"alerts\"") == NULL);
  ho_string_free(json);
  CHECK_RESULT(ho_report_add_counters(r, cr), HO_OK);
  CHECK_RESULT(ho_report_json(r, &json), HO_OK);
  CHECK(strstr(json, "\"kind\":\"syn_flood\"") != NULL);
  CHECK(strstr(json, "\"rates\"") != NULL);
  ho_string_free(json);
  CHECK_RESULT(ho_report_add_counters(NULL, cr), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_report_add_counters(r, NULL), HO_NULL_PARAMETER);
  ho_report_free(r);
  ho_config_free(c);
  ho_table_free(t);
  ho_counter_report_free(cr);
  ho_sampler_free(s);
}
