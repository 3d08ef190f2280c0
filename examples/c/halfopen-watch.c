/*
 * halfopen-watch: a small daemon built on libhalfopen.
 *
 * Every INTERVAL seconds it reads the live TCP tables (or the next table
 * given on the command line), prints the top prefixes of half-open
 * connections with their verdicts, keeps a block set whose blocks expire
 * after a TTL, and prints the nftables batch for what changed. Pipe the
 * batches to `nft -f -` to apply them.
 *
 *   halfopen-watch [-i SECONDS] [-n ROUNDS] [-t TTL_SECONDS] [-k TOP]
 *                  [-f STATE_FILE] [-s] [-j] [TABLE...]
 *
 *   -i  seconds between rounds (default 5)
 *   -n  stop after this many rounds (default: run until killed; with
 *       tables, one round per table)
 *   -t  block TTL in seconds (default 600; repeat offenders get longer)
 *   -k  how many prefixes to print per round (default 10)
 *   -f  keep the block set in STATE_FILE: restored at start (a missing
 *       file starts an empty set; a damaged one is an error), saved after
 *       every round, so a restart keeps the blocks and their time left
 *   -s  simulated clock: start at 0 ms, advance by the interval each
 *       round, never sleep (for replaying captures; output is repeatable)
 *   -j  also print each round's report as JSON, on a line of its own
 *   TABLE  a table file (the text of /proc/net/tcp or tcp6) or a directory
 *          holding tcp and tcp6 (a capture of /proc/net); read one per round
 *          instead of the live tables
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <halfopen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct options {
  unsigned interval;
  long rounds;
  unsigned long ttl;
  unsigned top;
  int simulate;
  int json;
  const char *state;
  char **tables;
  int n_tables;
};

static int fail(const char *what, ho_result r) {
  fprintf(stderr, "halfopen-watch: %s: %s (%s)\n", what,
          ho_last_error_message(), ho_result_name(r));
  return 1;
}

static uint64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sign_names(uint32_t signs, char *buf, size_t cap) {
  buf[0] = '\0';
  for (uint32_t s = 0; s < 32; s++) {
    const char *name = ho_sign_name(s);
    if (name == NULL || !(signs & (1u << s))) {
      continue;
    }
    if (buf[0] != '\0') {
      strncat(buf, ",", cap - strlen(buf) - 1);
    }
    strncat(buf, name, cap - strlen(buf) - 1);
  }
  if (buf[0] == '\0') {
    strncat(buf, "-", cap - 1);
  }
}

/* One table for this round: the live tables, or the next file/directory. */
static ho_result read_round(const struct options *o, long round, ho_table **out) {
  if (o->n_tables == 0) {
    return ho_table_read_live(out);
  }
  const char *path = o->tables[round % o->n_tables];
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    return ho_table_read_dir(path, out);
  }
  return ho_table_read_file(path, HO_FAMILY_ANY, out);
}

static int print_report(const struct options *o, const ho_report *report) {
  size_t n = ho_report_prefix_count(report);
  for (size_t i = 0; i < n && i < o->top; i++) {
    ho_prefix p;
    ho_result r = ho_report_prefix(report, i, &p);
    if (r != HO_OK) {
      return fail("prefix", r);
    }
    char signs[256];
    sign_names(p.signs, signs, sizeof signs);
    printf("  %-24s half_open=%-6llu sources=%-6llu verdict=%-5s signs=%s\n",
           p.text, (unsigned long long)p.half_open,
           (unsigned long long)p.sources, ho_verdict_name(p.verdict), signs);
    printf("    reason: %s\n", p.reason);
  }
  if (o->json) {
    char *json = NULL;
    ho_result r = ho_report_json(report, &json);
    if (r != HO_OK) {
      return fail("report json", r);
    }
    printf("%s\n", json);
    ho_string_free(json);
  }
  return 0;
}

static int round_once(const struct options *o, long round, uint64_t now,
                      const ho_config *config, ho_blockset *set,
                      const ho_firewall *nft) {
  ho_table *table = NULL;
  ho_result r = read_round(o, round, &table);
  if (r != HO_OK) {
    return fail("read tables", r);
  }
  ho_report *report = NULL;
  r = ho_report_new(table, config, &report);
  ho_table_free(table);
  if (r != HO_OK) {
    return fail("report", r);
  }
  printf("== round %ld at %llu ms: %llu half-open, %zu prefixes\n", round + 1,
         (unsigned long long)now, (unsigned long long)ho_report_half_open(report),
         ho_report_prefix_count(report));
  int rc = print_report(o, report);

  size_t expired = 0, blocked = 0, refused = 0;
  if (rc == 0 && (r = ho_blockset_expire(set, now, &expired)) != HO_OK) {
    rc = fail("expire", r);
  }
  if (rc == 0) {
    r = ho_blockset_add_report(set, report, (uint64_t)o->ttl * 1000u, now,
                               &blocked, &refused);
    if (r != HO_OK) {
      rc = fail("block", r);
    }
  }
  ho_report_free(report);
  if (rc != 0) {
    return rc;
  }

  ho_sync_diff *diff = NULL;
  if ((r = ho_blockset_sync_diff(set, now, &diff)) != HO_OK) {
    return fail("sync diff", r);
  }
  size_t add = 0, refresh = 0, remove = 0;
  ho_sync_diff_counts(diff, &add, &refresh, &remove);
  printf("== blocks: %zu held, %zu expired, %zu blocked from the report, "
         "%zu refused\n",
         ho_blockset_len(set), expired, blocked, refused);
  if (!ho_sync_diff_is_empty(diff)) {
    char *batch = NULL;
    r = ho_firewall_render_sync(nft, diff, set, &batch);
    if (r != HO_OK) {
      ho_sync_diff_free(diff);
      return fail("render", r);
    }
    printf("== nft batch: %zu added, %zu refreshed, %zu removed\n%s", add,
           refresh, remove, batch);
    ho_string_free(batch);
  } else {
    printf("== nft batch: no change\n");
  }
  ho_sync_diff_free(diff);
  fflush(stdout);
  return 0;
}

static int parse_number(const char *text, unsigned long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long v = strtoul(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') {
    return -1;
  }
  *out = v;
  return 0;
}

static void usage(void) {
  fprintf(stderr, "usage: halfopen-watch [-i SECONDS] [-n ROUNDS] [-t TTL_SECONDS] "
                  "[-k TOP] [-f STATE_FILE] [-s] [-j] [TABLE...]\n");
}

int main(int argc, char **argv) {
  struct options o = {5, -1, 600, 10, 0, 0, NULL, NULL, 0};
  int c;
  unsigned long v;
  while ((c = getopt(argc, argv, "i:n:t:k:f:sj")) != -1) {
    switch (c) {
    case 'i':
    case 'n':
    case 't':
    case 'k':
      if (parse_number(optarg, &v) != 0) {
        usage();
        return 2;
      }
      if (c == 'i') {
        o.interval = (unsigned)v;
      } else if (c == 'n') {
        o.rounds = (long)v;
      } else if (c == 't') {
        o.ttl = v;
      } else {
        o.top = (unsigned)v;
      }
      break;
    case 'f':
      o.state = optarg;
      break;
    case 's':
      o.simulate = 1;
      break;
    case 'j':
      o.json = 1;
      break;
    default:
      usage();
      return 2;
    }
  }
  o.tables = argv + optind;
  o.n_tables = argc - optind;
  if (o.rounds < 0 && o.n_tables > 0) {
    o.rounds = o.n_tables;
  }

  ho_config *config = NULL;
  ho_blockset *set = NULL;
  ho_firewall *nft = NULL;
  ho_block_config block_config;
  ho_result r;
  int rc = 0;
  if ((r = ho_config_new(&config)) != HO_OK) {
    return fail("config", r);
  }
  if ((r = ho_block_config_default(&block_config)) != HO_OK ||
      (r = ho_firewall_new(HO_FIREWALL_KIND_NFT, &nft)) != HO_OK) {
    rc = fail("setup", r);
  }
  if (rc == 0 && o.state != NULL) {
    size_t refused = 0;
    r = ho_blockset_load(o.state, &block_config, 0, &set, &refused);
    if (r == HO_OK) {
      printf("== restored %zu blocks from %s (%zu refused)\n",
             ho_blockset_len(set), o.state, refused);
    } else if (!(r == HO_STATE_IO && ho_last_error_os_code() == ENOENT)) {
      rc = fail("restore", r);
    }
  }
  if (rc == 0 && set == NULL && (r = ho_blockset_new(&block_config, &set)) != HO_OK) {
    rc = fail("block set", r);
  }

  uint64_t start = monotonic_ms();
  for (long round = 0; rc == 0 && (o.rounds < 0 || round < o.rounds); round++) {
    uint64_t now = o.simulate ? (uint64_t)round * o.interval * 1000u
                              : monotonic_ms() - start;
    rc = round_once(&o, round, now, config, set, nft);
    if (rc == 0 && o.state != NULL && (r = ho_blockset_save(set, o.state, now)) != HO_OK) {
      rc = fail("save", r);
    }
    if (!o.simulate && (o.rounds < 0 || round + 1 < o.rounds)) {
      sleep(o.interval);
    }
  }

  ho_firewall_free(nft);
  ho_blockset_free(set);
  ho_config_free(config);
  return rc;
}
