/* Reports: configs (setters, JSON, every invalid setting), reports of a
 * flood table, prefixes with signs and verdicts, JSON. */
#include <stdlib.h>

#include "check.h"
#include "flood.h"

static ho_table *flood(unsigned n) {
  char *text = flood_table(n);
  ho_table *t = NULL;
  CHECK_RESULT(ho_table_parse((const uint8_t *)text, strlen(text), HO_FAMILY_V4, &t),
               HO_OK);
  free(text);
  return t;
}

static void test_config(ho_table *t) {
  ho_config *c = NULL;
  ho_report *r = NULL;
  CHECK_RESULT(ho_config_new(&c), HO_OK);

  const uint8_t v4[] = {32, 24, 16};
  const uint8_t v6[] = {128, 64, 48};
  CHECK_RESULT(ho_config_set_levels_v4(c, v4, 3), HO_OK);
  CHECK_RESULT(ho_config_set_levels_v6(c, v6, 3), HO_OK);
  CHECK_RESULT(ho_config_set_thresholds(c, 50, 0.01), HO_OK);
  CHECK_RESULT(ho_config_set_min_block_len(c, 16, 48), HO_OK);
  CHECK_RESULT(ho_config_allow(c, "203.0.113.0/24"), HO_OK);
  CHECK_RESULT(ho_config_allow(c, "2001:db8:ffff::1"), HO_OK);
  CHECK_RESULT(ho_config_set_rules(c, true, false), HO_OK);
  CHECK_RESULT(ho_config_set_limits(c, 1u << 16, 5), HO_OK);

  /* JSON round trip. */
  char *json = NULL;
  CHECK_RESULT(ho_config_json(c, &json), HO_OK);
  CHECK(strstr(json, "203.0.113.0/24") != NULL);
  ho_config *back = NULL;
  CHECK_RESULT(ho_config_from_json(json, &back), HO_OK);
  char *json2 = NULL;
  CHECK_RESULT(ho_config_json(back, &json2), HO_OK);
  CHECK_STR(json2, json);
  ho_string_free(json);
  ho_string_free(json2);
  ho_config_free(back);
  back = NULL;
  CHECK_RESULT(ho_config_from_json("{\"min_entries\": 7}", &back), HO_OK);
  ho_config_free(back);
  back = NULL;
  CHECK_RESULT(ho_config_from_json("{\"min_entries\": \"x\"}", &back), HO_JSON);
  CHECK_RESULT(ho_config_from_json("not json", &back), HO_JSON);
  CHECK(back == NULL);

  /* Each invalid setting, refused when a report is built. */
  CHECK_RESULT(ho_config_set_levels_v4(c, v4, 0), HO_OK);
  CHECK_RESULT(ho_report_new(t, c, &r), HO_CONFIG_LEVELS_EMPTY);
  const uint8_t too_long[] = {33};
  CHECK_RESULT(ho_config_set_levels_v4(c, too_long, 1), HO_OK);
  CHECK_RESULT(ho_report_new(t, c, &r), HO_CONFIG_LEVEL_TOO_LONG);
  CHECK_RESULT(ho_config_set_levels_v4(c, v4, 3), HO_OK);
  CHECK_RESULT(ho_config_set_thresholds(c, 50, 1.5), HO_OK);
  CHECK_RESULT(ho_report_new(t, c, &r), HO_CONFIG_SHARE);
  CHECK_STR(ho_last_error_field(), "min_share");
  CHECK_RESULT(ho_config_set_thresholds(c, 50, 0.01), HO_OK);
  CHECK_RESULT(ho_config_set_min_block_len(c, 40, 48), HO_OK);
  CHECK_RESULT(ho_report_new(t, c, &r), HO_CONFIG_MIN_BLOCK_LEN);
  CHECK(r == NULL);
  CHECK_RESULT(ho_config_set_min_block_len(c, 16, 48), HO_OK);
  CHECK_RESULT(ho_report_new(t, c, &r), HO_OK);
  ho_report_free(r);

  /* Allowlisting the flooded /24: allowed, never blocked. */
  CHECK_RESULT(ho_config_allow(c, "198.18.5.0/24"), HO_OK);
  r = NULL;
  CHECK_RESULT(ho_report_new(t, c, &r), HO_OK);
  ho_prefix p;
  CHECK_RESULT(ho_report_prefix(r, 0, &p), HO_OK);
  CHECK(p.verdict == HO_VERDICT_ALLOW);
  ho_report_free(r);
  CHECK_RESULT(ho_config_clear_allowlist(c), HO_OK);

  /* Bad input. */
  CHECK_RESULT(ho_config_allow(c, "198.18.5.0/33"), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_config_allow(c, "not an address"), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_config_allow(c, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_allow(NULL, "198.18.0.0/15"), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_set_levels_v4(c, NULL, 3), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_set_levels_v6(NULL, v6, 3), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_set_thresholds(NULL, 1, 0.1), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_set_min_block_len(NULL, 16, 48), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_clear_allowlist(NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_set_rules(NULL, true, true), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_set_limits(NULL, 1, 1), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_json(NULL, &json), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_json(c, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_from_json(NULL, &back), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_from_json("{}", NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_config_new(NULL), HO_NULL_PARAMETER);
  ho_config_free(c);
  ho_config_free(NULL);
}

static void test_flood_report(ho_table *t) {
  ho_config *c = NULL;
  CHECK_RESULT(ho_config_new(&c), HO_OK);
  ho_report *r = NULL;
  CHECK_RESULT(ho_report_new(t, c, &r), HO_OK);
  CHECK(ho_report_half_open(r) == 300);
  CHECK(ho_report_threshold(r) >= 3);
  CHECK(ho_report_prefix_count(r) >= 1);

  ho_prefix p;
  CHECK_RESULT(ho_report_prefix(r, 0, &p), HO_OK);
  CHECK_STR(p.text, "198.18.5.0/24");
  const uint8_t net[16] = {198, 18, 5, 0};
  CHECK(memcmp(p.addr, net, 16) == 0);
  CHECK(p.family == HO_FAMILY_V4);
  CHECK(p.prefix_len == 24);
  CHECK(p.half_open == 300);
  CHECK(p.total_half_open == 300);
  CHECK(p.sources == 254);
  CHECK(p.verdict == HO_VERDICT_BLOCK);
  CHECK_STR(ho_verdict_name(p.verdict), "block");
  CHECK(p.reason != NULL && strlen(p.reason) > 0);
  /* Every SYN-ACK retransmitted, addresses walked in order. */
  CHECK(p.signs & (1u << HO_SIGN_UNANSWERED));
  CHECK(p.signs & (1u << HO_SIGN_SEQUENTIAL_WALK));
  CHECK(!(p.signs & (1u << HO_SIGN_WELL_KNOWN_SOURCE_PORT)));
  CHECK_STR(ho_sign_name(HO_SIGN_UNANSWERED), "unanswered");
  CHECK_STR(ho_sign_name(HO_SIGN_SEQUENTIAL_WALK), "sequential_walk");
  CHECK_STR(ho_sign_name(HO_SIGN_WELL_KNOWN_SOURCE_PORT), "well_known_source_port");
  CHECK_STR(ho_sign_name(HO_SIGN_NO_COMPLETED_HANDSHAKE), "no_completed_handshake");
  CHECK_STR(ho_sign_name(HO_SIGN_SINGLE_PORT), "single_port");
  CHECK(ho_sign_name(5) == NULL);
  CHECK_STR(ho_verdict_name(HO_VERDICT_WATCH), "watch");
  CHECK_STR(ho_verdict_name(HO_VERDICT_ALLOW), "allow");
  CHECK(ho_verdict_name(3) == NULL);

  ho_prefix spare = p;
  CHECK_RESULT(ho_report_prefix(r, ho_report_prefix_count(r), &spare),
               HO_INDEX_OUT_OF_RANGE);
  CHECK(spare.text == p.text);

  /* JSON: owned, and into a buffer. */
  char *json = NULL;
  CHECK_RESULT(ho_report_json(r, &json), HO_OK);
  CHECK(strncmp(json, "{\"half_open\":300,", 17) == 0);
  CHECK(strstr(json, "\"198.18.5.0/24\"") != NULL);
  CHECK(strstr(json, "\"verdict\":\"block\"") != NULL);
  /* Parsed from a buffer: no source named. */
  CHECK(strstr(json, "\"source\"") == NULL);
  size_t len = 0;
  CHECK_RESULT(ho_report_json_into(r, NULL, 0, &len), HO_BUFFER_TOO_SMALL);
  CHECK(len == strlen(json));
  char *buf = malloc(len + 1);
  CHECK_RESULT(ho_report_json_into(r, buf, len, &len), HO_BUFFER_TOO_SMALL);
  CHECK_RESULT(ho_report_json_into(r, buf, len + 1, &len), HO_OK);
  CHECK_STR(buf, json);
  free(buf);
  ho_string_free(json);

  /* NULLs. */
  CHECK_RESULT(ho_report_new(NULL, c, &r), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_report_new(t, NULL, &r), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_report_new(t, c, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_report_prefix(NULL, 0, &p), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_report_prefix(r, 0, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_report_json(NULL, &json), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_report_json(r, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_report_json_into(NULL, NULL, 0, &len), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_report_json_into(r, NULL, 0, NULL), HO_NULL_PARAMETER);
  CHECK(ho_report_half_open(NULL) == 0);
  CHECK(ho_report_threshold(NULL) == 0);
  CHECK(ho_report_prefix_count(NULL) == 0);
  ho_report_free(r);
  ho_report_free(NULL);

  /* An empty table: no prefixes. */
  ho_table *empty = NULL;
  CHECK_RESULT(ho_table_parse((const uint8_t *)"", 0, HO_FAMILY_ANY, &empty), HO_OK);
  r = NULL;
  CHECK_RESULT(ho_report_new(empty, c, &r), HO_OK);
  CHECK(ho_report_half_open(r) == 0);
  CHECK(ho_report_prefix_count(r) == 0);
  ho_report_free(r);
  ho_table_free(empty);

  /* The live tables of this namespace, in one pass. */
  ho_live_options *opts = NULL;
  CHECK_RESULT(ho_live_options_new(&opts), HO_OK);
  r = NULL;
  CHECK_RESULT(ho_report_read(opts, c, &r), HO_OK);
  CHECK(r != NULL);
  json = NULL;
  CHECK_RESULT(ho_report_json(r, &json), HO_OK);
  CHECK(strstr(json, "\"source\":\"netlink\"") != NULL ||
        strstr(json, "\"source\":\"proc\"") != NULL);
  ho_string_free(json);
  ho_report_free(r);
  CHECK_RESULT(ho_report_read(NULL, c, &r), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_report_read(opts, NULL, &r), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_report_read(opts, c, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_live_options_set_dir(opts, "/nonexistent/halfopen"), HO_OK);
  CHECK_RESULT(ho_report_read(opts, c, &r), HO_READ_IO);
  ho_live_options_free(opts);
  ho_config_free(c);
}

void test_report(void) {
  ho_table *t = flood(300);
  test_config(t);
  test_flood_report(t);
  ho_table_free(t);
}
