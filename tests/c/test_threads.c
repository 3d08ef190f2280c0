/* The sharing the header promises: one table, config and report read from
 * several threads at once give the same results as one thread; each
 * thread keeps its own last error. */
#include <pthread.h>
#include <stdlib.h>

#include "check.h"
#include "flood.h"

#define THREADS 4
#define ROUNDS 20

struct shared {
  const ho_table *table;
  const ho_config *config;
  const ho_report *report;
  const char *json;
};

struct result {
  int same_json;
  int same_prefixes;
  int own_errors;
};

static void *reader(void *arg) {
  const struct shared *s = arg;
  struct result *res = calloc(1, sizeof *res);
  if (res == NULL) {
    return NULL;
  }
  for (int i = 0; i < ROUNDS; i++) {
    ho_report *mine = NULL;
    char *json = NULL;
    if (ho_report_new(s->table, s->config, &mine) == HO_OK &&
        ho_report_json(mine, &json) == HO_OK && strcmp(json, s->json) == 0) {
      res->same_json++;
    }
    ho_string_free(json);
    ho_report_free(mine);

    ho_prefix p;
    if (ho_report_prefix(s->report, 0, &p) == HO_OK &&
        strcmp(p.text, "198.18.5.0/24") == 0 && p.verdict == HO_VERDICT_BLOCK) {
      res->same_prefixes++;
    }

    /* An error of this thread's own, with its own text. */
    ho_table *t = NULL;
    char bad[64];
    snprintf(bad, sizeof bad, "   0: 0100007F:0050 0100007F:%04d 03\n", i);
    if (ho_table_parse((const uint8_t *)bad, strlen(bad), HO_FAMILY_V4, &t) ==
            HO_PARSE_COLUMN_COUNT &&
        ho_last_error_line() == 1 &&
        strstr(ho_last_error_message(), "line 1: expected at least") != NULL) {
      res->own_errors++;
    }
  }
  return res;
}

void test_threads(void) {
  char *text = flood_table(300);
  ho_table *table = NULL;
  CHECK_RESULT(ho_table_parse((const uint8_t *)text, strlen(text), HO_FAMILY_V4, &table),
               HO_OK);
  free(text);
  ho_config *config = NULL;
  CHECK_RESULT(ho_config_new(&config), HO_OK);
  ho_report *report = NULL;
  CHECK_RESULT(ho_report_new(table, config, &report), HO_OK);
  char *json = NULL;
  CHECK_RESULT(ho_report_json(report, &json), HO_OK);

  /* This thread's last error, which the others must not touch. */
  CHECK_RESULT(ho_table_parse(NULL, 0, HO_FAMILY_ANY, &table), HO_NULL_PARAMETER);

  struct shared s = {table, config, report, json};
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) {
    CHECK(pthread_create(&threads[i], NULL, reader, &s) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    void *out = NULL;
    CHECK(pthread_join(threads[i], &out) == 0);
    struct result *res = out;
    CHECK(res != NULL);
    if (res != NULL) {
      CHECK(res->same_json == ROUNDS);
      CHECK(res->same_prefixes == ROUNDS);
      CHECK(res->own_errors == ROUNDS);
    }
    free(res);
  }
  CHECK_RESULT(ho_last_error_code(), HO_NULL_PARAMETER);
  CHECK_STR(ho_last_error_message(), "null parameter: buf");

  ho_string_free(json);
  ho_report_free(report);
  ho_config_free(config);
  ho_table_free(table);
}
