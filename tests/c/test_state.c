/* Saving and restoring a block set: TTLs and strikes survive a move to
 * another clock; a missing, empty, cut, altered, foreign or inconsistent
 * state file is a typed error, never a silently empty set. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  char *buf = malloc(1 << 16);
  *len = fread(buf, 1, 1 << 16, f);
  fclose(f);
  return buf;
}

static void spill(const char *path, const char *bytes, size_t len) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f != NULL) {
    CHECK(fwrite(bytes, 1, len, f) == len);
    fclose(f);
  }
}

/* CRC-32 (IEEE), as the state file's header holds it. */
static uint32_t crc32(const char *s, size_t len) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; i++) {
    crc ^= (uint8_t)s[i];
    for (int k = 0; k < 8; k++) {
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  }
  return ~crc;
}

/* A state file with `body` and a correct header. */
static void craft(const char *path, const char *body, int records) {
  char counted[4096], text[4200];
  int m = snprintf(counted, sizeof counted, "records %d saved 0\n%s", records, body);
  int n = snprintf(text, sizeof text, "halfopen-blockset 1\ncrc32 %08x\n%s",
                   (unsigned)crc32(counted, (size_t)m), counted);
  spill(path, text, (size_t)n);
}

static ho_result load(const char *path, ho_blockset **out) {
  ho_block_config cfg;
  ho_block_config_default(&cfg);
  size_t refused = 0;
  return ho_blockset_load(path, &cfg, 0, out, &refused);
}

void test_state(const char *tmpdir) {
  char path[4200], bad[4200];
  snprintf(path, sizeof path, "%s/blocks.state", tmpdir);
  snprintf(bad, sizeof bad, "%s/bad.state", tmpdir);

  ho_block_config cfg;
  CHECK_RESULT(ho_block_config_default(&cfg), HO_OK);
  ho_blockset *set = NULL;
  CHECK_RESULT(ho_blockset_new(&cfg, &set), HO_OK);
  ho_added a;
  CHECK_RESULT(ho_blockset_add(set, "198.18.0.0/16", "syn flood", 60000, 1000, &a), HO_OK);
  CHECK_RESULT(ho_blockset_add(set, "2001:db8:5::/48", "reason with spaces, 100%", 30000,
                               2000, &a), HO_OK);
  CHECK_RESULT(ho_blockset_add(set, "192.0.2.0/24", "short", 1000, 2000, &a), HO_OK);
  size_t n = 0;
  CHECK_RESULT(ho_blockset_expire(set, 3000, &n), HO_OK);
  CHECK(n == 1);
  CHECK_RESULT(ho_blockset_save(set, path, 5000), HO_OK);
  ho_blockset_free(set);

  /* Restored on another clock: the same blocks, the same time left. */
  set = NULL;
  size_t refused = 9;
  CHECK_RESULT(ho_blockset_load(path, &cfg, 100000, &set, &refused), HO_OK);
  CHECK(refused == 0);
  CHECK(ho_blockset_len(set) == 2);
  ho_block b;
  CHECK_RESULT(ho_blockset_block(set, 0, &b), HO_OK);
  CHECK_STR(b.text, "198.18.0.0/16");
  CHECK_STR(b.reason, "syn flood");
  CHECK(b.expires_ms == 100000 + (61000 - 5000));
  CHECK(b.first_seen_ms == 100000 - 4000);
  CHECK_RESULT(ho_blockset_block(set, 1, &b), HO_OK);
  CHECK_STR(b.text, "2001:db8:5::/48");
  CHECK_STR(b.reason, "reason with spaces, 100%");
  CHECK(b.expires_ms == 100000 + (32000 - 5000));
  /* The ended block's strike is remembered: seen again, it escalates. */
  CHECK_RESULT(ho_blockset_add(set, "192.0.2.0/24", "again", 1000, 100000, &a), HO_OK);
  CHECK(a.strikes == 2 && a.expires_ms == 102000);
  ho_blockset_free(set);

  /* A smaller capacity refuses the blocks past it, and says so. */
  ho_block_config small = cfg;
  small.capacity = 1;
  set = NULL;
  CHECK_RESULT(ho_blockset_load(path, &small, 0, &set, &refused), HO_OK);
  CHECK(ho_blockset_len(set) == 1 && refused == 1);
  ho_blockset_free(set);

  /* Every cut of the file is an error, never a partial set. */
  size_t len = 0;
  char *text = slurp(path, &len);
  CHECK(text != NULL && len > 40);
  int cuts_refused = 0;
  for (size_t cut = 0; text != NULL && cut < len; cut++) {
    spill(bad, text, cut);
    set = NULL;
    ho_result r = load(bad, &set);
    if (r != HO_OK && r != HO_PANIC && set == NULL) {
      cuts_refused++;
    } else {
      fprintf(stderr, "cut at %zu: %s\n", cut, ho_result_name(r));
      ho_blockset_free(set);
    }
  }
  CHECK(cuts_refused == (int)len);
  /* Every flipped byte too. */
  int flips_refused = 0;
  for (size_t i = 0; text != NULL && i < len; i++) {
    text[i] ^= 0x20;
    spill(bad, text, len);
    text[i] ^= 0x20;
    set = NULL;
    ho_result r = load(bad, &set);
    if (r != HO_OK && r != HO_PANIC && set == NULL) {
      flips_refused++;
    } else {
      ho_blockset_free(set);
    }
  }
  CHECK(flips_refused == (int)len);

  /* Each kind of defect, with its own code. */
  spill(bad, "", 0);
  CHECK_RESULT(load(bad, &set), HO_STATE_EMPTY);
  spill(bad, "\x7f" "ELF\x02\x01\x01\0\0\0\n", 11);
  CHECK_RESULT(load(bad, &set), HO_STATE_NOT_A_STATE_FILE);
  CHECK(ho_last_error_line() == 1);
  {
    const char *v2 = "halfopen-blockset 2\ncrc32 00000000\nrecords 0 saved 0\nend\n";
    spill(bad, v2, strlen(v2));
  }
  CHECK_RESULT(load(bad, &set), HO_STATE_VERSION);
  if (text != NULL) {
    text[len - 6] ^= 0x01;
    spill(bad, text, len);
    CHECK_RESULT(load(bad, &set), HO_STATE_CHECKSUM);
  }
  {
    const char *cut = "halfopen-blockset 1\ncrc32 00000000\nrecords 3 saved 0\n";
    spill(bad, cut, strlen(cut));
  }
  CHECK_RESULT(load(bad, &set), HO_STATE_TRUNCATED);
  craft(bad, "block 198.18.0.0/16 soon 1 0 0 x\nend\n", 1);
  CHECK_RESULT(load(bad, &set), HO_STATE_BAD);
  CHECK(ho_last_error_line() == 4);
  CHECK(ho_last_error_field() != NULL);
  craft(bad, "block 198.18.0.0/16 1000 1 0 0 x\nblock 198.18.7.0/24 1000 1 0 0 y\nend\n", 2);
  CHECK_RESULT(load(bad, &set), HO_STATE_OVERLAP);
  CHECK(ho_last_error_line() == 5);
  CHECK(set == NULL);
  free(text);

  /* Missing files and directories. */
  snprintf(bad, sizeof bad, "%s/missing/blocks.state", tmpdir);
  CHECK_RESULT(load(bad, &set), HO_STATE_IO);
  CHECK(ho_last_error_os_code() == ENOENT);
  ho_blockset *empty = NULL;
  CHECK_RESULT(ho_blockset_new(&cfg, &empty), HO_OK);
  CHECK_RESULT(ho_blockset_save(empty, bad, 0), HO_STATE_IO);
  CHECK(ho_last_error_os_code() == ENOENT);

  /* NULLs and bad text. */
  CHECK_RESULT(ho_blockset_save(NULL, path, 0), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_save(empty, NULL, 0), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_save(empty, "\xff", 0), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_blockset_load(NULL, &cfg, 0, &set, &refused), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_load(path, NULL, 0, &set, &refused), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_load(path, &cfg, 0, NULL, &refused), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_load(path, &cfg, 0, &set, NULL), HO_NULL_PARAMETER);
  CHECK(set == NULL);
  ho_blockset_free(empty);
}
