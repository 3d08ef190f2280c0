/* The block set, sync diffs and the three firewall renderers. */
#include <stdlib.h>

#include "check.h"
#include "flood.h"

static ho_report *flood_report(void) {
  char *text = flood_table(300);
  ho_table *t = NULL;
  CHECK_RESULT(ho_table_parse((const uint8_t *)text, strlen(text), HO_FAMILY_V4, &t),
               HO_OK);
  free(text);
  ho_config *c = NULL;
  CHECK_RESULT(ho_config_new(&c), HO_OK);
  ho_report *r = NULL;
  CHECK_RESULT(ho_report_new(t, c, &r), HO_OK);
  ho_config_free(c);
  ho_table_free(t);
  return r;
}

static void render_all(ho_firewall *fw, ho_blockset *set, uint64_t now,
                       const char *expect) {
  char *full = NULL;
  CHECK_RESULT(ho_firewall_render_full(fw, set, now, &full), HO_OK);
  CHECK(full != NULL && strstr(full, expect) != NULL);
  size_t len = 0;
  CHECK_RESULT(ho_firewall_render_full_into(fw, set, now, NULL, 0, &len),
               HO_BUFFER_TOO_SMALL);
  CHECK(len == strlen(full));
  char *buf = malloc(len + 1);
  CHECK_RESULT(ho_firewall_render_full_into(fw, set, now, buf, len + 1, &len), HO_OK);
  CHECK_STR(buf, full);
  free(buf);
  ho_string_free(full);
}

static void test_sets(void) {
  ho_block_config cfg;
  CHECK_RESULT(ho_block_config_default(&cfg), HO_OK);
  CHECK(cfg.default_ttl_ms == 600000);
  CHECK(cfg.escalation_factor == 2);
  ho_blockset *set = NULL;
  CHECK_RESULT(ho_blockset_new(&cfg, &set), HO_OK);
  CHECK(ho_blockset_len(set) == 0);

  /* From a report: the flooded /24. */
  ho_report *r = flood_report();
  size_t n = 0, refused = 9;
  CHECK_RESULT(ho_blockset_add_report(set, r, 60000, 1000, &n, &refused), HO_OK);
  CHECK(n == 1 && refused == 0);
  CHECK(ho_blockset_len(set) == 1);
  ho_block b;
  CHECK_RESULT(ho_blockset_block(set, 0, &b), HO_OK);
  CHECK_STR(b.text, "198.18.5.0/24");
  CHECK(b.family == HO_FAMILY_V4 && b.prefix_len == 24);
  CHECK(b.expires_ms == 61000);
  CHECK(b.first_seen_ms == 1000 && b.last_seen_ms == 1000);
  CHECK(b.strikes == 1);
  ho_prefix p;
  CHECK_RESULT(ho_report_prefix(r, 0, &p), HO_OK);
  CHECK_STR(b.reason, p.reason);

  /* A single add, an extension, a covered one, a covering one. */
  ho_added a;
  CHECK_RESULT(ho_blockset_add(set, "2001:db8:1::/48", "scan", 30000, 2000, &a), HO_OK);
  CHECK(a.kind == HO_ADDED_KIND_NEW && a.strikes == 1 && a.expires_ms == 32000);
  CHECK_RESULT(ho_blockset_add(set, "198.18.5.0/24", "again", 60000, 5000, &a), HO_OK);
  CHECK(a.kind == HO_ADDED_KIND_EXTENDED && a.expires_ms == 65000);
  CHECK_RESULT(ho_blockset_add(set, "198.18.5.7", "one", 60000, 5000, &a), HO_OK);
  CHECK(a.kind == HO_ADDED_KIND_COVERED);
  CHECK_RESULT(ho_blockset_add(set, "198.18.4.0/22", "wider", 0, 6000, &a), HO_OK);
  CHECK(a.kind == HO_ADDED_KIND_NEW && a.absorbed == 1);
  CHECK(a.expires_ms == 6000 + cfg.default_ttl_ms);
  CHECK(ho_blockset_len(set) == 2);

  /* Lookups. */
  bool found = false;
  CHECK_RESULT(ho_blockset_lookup(set, "198.18.6.9", &b, &found), HO_OK);
  CHECK(found);
  CHECK_STR(b.text, "198.18.4.0/22");
  CHECK_RESULT(ho_blockset_lookup(set, "192.0.2.1", &b, &found), HO_OK);
  CHECK(!found);

  /* The sync diff and its batches. */
  ho_sync_diff *d = NULL;
  CHECK_RESULT(ho_blockset_sync_diff(set, 6000, &d), HO_OK);
  size_t add = 0, refresh = 0, remove = 0;
  CHECK_RESULT(ho_sync_diff_counts(d, &add, &refresh, &remove), HO_OK);
  CHECK(add == 2 && refresh == 0 && remove == 0);
  CHECK(!ho_sync_diff_is_empty(d));

  ho_firewall *nft = NULL, *ipset = NULL, *fwd = NULL;
  CHECK_RESULT(ho_firewall_new(HO_FIREWALL_KIND_NFT, &nft), HO_OK);
  CHECK_RESULT(ho_firewall_new(HO_FIREWALL_KIND_IPSET, &ipset), HO_OK);
  CHECK_RESULT(ho_firewall_new(HO_FIREWALL_KIND_FIREWALLD, &fwd), HO_OK);
  char *text = NULL;
  CHECK_RESULT(ho_firewall_render_sync(nft, d, set, &text), HO_OK);
  CHECK(strstr(text, "198.18.4.0/22") != NULL);
  CHECK(strstr(text, "2001:db8:1::/48") != NULL);
  size_t len = 0;
  CHECK_RESULT(ho_firewall_render_sync_into(nft, d, set, NULL, 0, &len),
               HO_BUFFER_TOO_SMALL);
  CHECK(len == strlen(text));
  char *buf = malloc(len + 1);
  CHECK_RESULT(ho_firewall_render_sync_into(nft, d, set, buf, len + 1, &len), HO_OK);
  CHECK_STR(buf, text);
  free(buf);
  ho_string_free(text);
  CHECK_RESULT(ho_firewall_render_sync(ipset, d, set, &text), HO_OK);
  CHECK(strstr(text, "add halfopen4 198.18.4.0/22") != NULL);
  ho_string_free(text);
  CHECK_RESULT(ho_firewall_render_sync(fwd, d, set, &text), HO_OK);
  CHECK(strstr(text, "firewall-cmd --ipset=halfopen4 --add-entry=198.18.4.0/22\n") != NULL);
  ho_string_free(text);
  ho_sync_diff_free(d);

  /* Nothing changed: an empty diff renders to nothing. */
  d = NULL;
  CHECK_RESULT(ho_blockset_sync_diff(set, 6001, &d), HO_OK);
  CHECK(ho_sync_diff_is_empty(d));
  CHECK_RESULT(ho_firewall_render_sync(ipset, d, set, &text), HO_OK);
  CHECK_STR(text, "");
  ho_string_free(text);
  ho_sync_diff_free(d);

  /* Full renders, setup. */
  render_all(nft, set, 7000, "table inet halfopen");
  render_all(ipset, set, 7000, "198.18.4.0/22");
  render_all(fwd, set, 7000, "--add-entry=198.18.4.0/22");
  CHECK_RESULT(ho_firewall_render_setup(fwd, &text), HO_OK);
  CHECK(strstr(text, "firewall-cmd") != NULL);
  ho_string_free(text);
  CHECK_RESULT(ho_firewall_render_setup(nft, &text), HO_OK);
  CHECK_STR(text, "");
  ho_string_free(text);
  CHECK_RESULT(ho_firewall_set_drop_privileged_source_syn(nft, true), HO_OK);
  render_all(nft, set, 7000, "sport < 1024");
  CHECK_RESULT(ho_firewall_set_drop_privileged_source_syn(fwd, true), HO_OK);
  CHECK_RESULT(ho_firewall_set_drop_privileged_source_syn(ipset, true),
               HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_blockset_mark_synced(set, 7000), HO_OK);
  d = NULL;
  CHECK_RESULT(ho_blockset_sync_diff(set, 7000, &d), HO_OK);
  CHECK(ho_sync_diff_is_empty(d));
  ho_sync_diff_free(d);
  CHECK_RESULT(ho_blockset_forget_synced(set), HO_OK);
  d = NULL;
  CHECK_RESULT(ho_blockset_sync_diff(set, 7000, &d), HO_OK);
  CHECK_RESULT(ho_sync_diff_counts(d, &add, &refresh, &remove), HO_OK);
  CHECK(add == 2);
  ho_sync_diff_free(d);

  /* Expiry: the IPv6 block ends at 32000; the removal is in the diff. */
  CHECK_RESULT(ho_blockset_expire(set, 31999, &n), HO_OK);
  CHECK(n == 0);
  CHECK_RESULT(ho_blockset_expire(set, 32000, &n), HO_OK);
  CHECK(n == 1);
  d = NULL;
  CHECK_RESULT(ho_blockset_sync_diff(set, 32000, &d), HO_OK);
  CHECK_RESULT(ho_sync_diff_counts(d, &add, &refresh, &remove), HO_OK);
  CHECK(add == 0 && remove == 1);
  CHECK_RESULT(ho_firewall_render_sync(nft, d, set, &text), HO_OK);
  CHECK(strstr(text, "2001:db8:1::/48") != NULL);
  ho_string_free(text);
  ho_sync_diff_free(d);

  /* Seen again: second strike, TTL doubled. */
  CHECK_RESULT(ho_blockset_add(set, "2001:db8:1::/48", "scan", 30000, 40000, &a), HO_OK);
  CHECK(a.strikes == 2 && a.expires_ms == 100000);

  /* Release, allow, release all. */
  bool released = false;
  CHECK_RESULT(ho_blockset_release(set, "2001:db8:1::/48", 41000, &released), HO_OK);
  CHECK(released);
  CHECK_RESULT(ho_blockset_release(set, "2001:db8:1::/48", 41000, &released), HO_OK);
  CHECK(!released);
  CHECK_RESULT(ho_blockset_allow(set, "198.18.5.0/24", 42000, &n), HO_OK);
  CHECK(n == 1);
  CHECK(ho_blockset_len(set) == 0);
  CHECK_RESULT(ho_blockset_add(set, "198.18.5.128/25", "x", 1000, 43000, &a),
               HO_BLOCK_ALLOWLISTED);
  CHECK(strstr(ho_last_error_message(), "198.18.5.0/24") != NULL);
  CHECK_RESULT(ho_blockset_add_report(set, r, 1000, 43000, &n, &refused), HO_OK);
  CHECK(n == 0 && refused == 1);
  ho_block_stats stats;
  CHECK_RESULT(ho_blockset_stats(set, &stats), HO_OK);
  CHECK(stats.refused_allowlisted == 2 && stats.refused_full == 0);
  CHECK_RESULT(ho_blockset_add(set, "192.0.2.0/24", "x", 1000, 43000, &a), HO_OK);
  CHECK_RESULT(ho_blockset_release_all(set, 44000, &n), HO_OK);
  CHECK(n == 1);
  ho_blockset_free(set);

  /* A full set. */
  cfg.capacity = 1;
  set = NULL;
  CHECK_RESULT(ho_blockset_new(&cfg, &set), HO_OK);
  CHECK_RESULT(ho_blockset_add(set, "192.0.2.0/24", "x", 1000, 0, &a), HO_OK);
  CHECK_RESULT(ho_blockset_add(set, "198.51.100.0/24", "x", 1000, 0, &a), HO_BLOCK_FULL);
  CHECK_RESULT(ho_blockset_stats(set, &stats), HO_OK);
  CHECK(stats.refused_full == 1);
  CHECK_RESULT(ho_blockset_stats(NULL, &stats), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_stats(set, NULL), HO_NULL_PARAMETER);

  /* Bad input and NULLs. */
  CHECK_RESULT(ho_blockset_add(set, "300.1.2.3", "x", 1000, 0, &a), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_blockset_add(set, "", "x", 1000, 0, &a), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_blockset_add(set, "192.0.2.0/24", "\xff", 1000, 0, &a),
               HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_blockset_add(NULL, "192.0.2.0/24", "x", 1, 0, &a), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_add(set, NULL, "x", 1, 0, &a), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_add(set, "192.0.2.0/24", NULL, 1, 0, &a), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_add(set, "192.0.2.0/24", "x", 1, 0, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_add_report(set, NULL, 1, 0, &n, &refused), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_add_report(NULL, r, 1, 0, &n, &refused), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_add_report(set, r, 1, 0, NULL, &refused), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_add_report(set, r, 1, 0, &n, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_expire(NULL, 0, &n), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_expire(set, 0, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_release(set, "x", 0, &released), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_blockset_release(set, NULL, 0, &released), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_release(set, "192.0.2.0/24", 0, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_release_all(NULL, 0, &n), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_release_all(set, 0, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_allow(set, "x", 0, &n), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_blockset_allow(NULL, "192.0.2.0/24", 0, &n), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_allow(set, "192.0.2.0/24", 0, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_block(set, 5, &b), HO_INDEX_OUT_OF_RANGE);
  CHECK_RESULT(ho_blockset_block(NULL, 0, &b), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_block(set, 0, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_lookup(set, "x", &b, &found), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_blockset_lookup(set, "192.0.2.1", NULL, &found), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_lookup(set, "192.0.2.1", &b, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_lookup(NULL, "192.0.2.1", &b, &found), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_sync_diff(NULL, 0, &d), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_sync_diff(set, 0, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_mark_synced(NULL, 0), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_forget_synced(NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_sync_diff_counts(NULL, &add, &refresh, &remove), HO_NULL_PARAMETER);
  d = NULL;
  CHECK_RESULT(ho_blockset_sync_diff(set, 0, &d), HO_OK);
  CHECK_RESULT(ho_sync_diff_counts(d, NULL, &refresh, &remove), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_render_sync(NULL, d, set, &text), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_render_sync(nft, NULL, set, &text), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_render_sync(nft, d, NULL, &text), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_render_sync(nft, d, set, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_render_sync_into(nft, d, set, NULL, 0, NULL), HO_NULL_PARAMETER);
  ho_sync_diff_free(d);
  CHECK(ho_sync_diff_is_empty(NULL));
  CHECK_RESULT(ho_firewall_render_full(nft, NULL, 0, &text), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_render_full(NULL, set, 0, &text), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_render_full(nft, set, 0, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_render_full_into(nft, set, 0, NULL, 0, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_render_setup(NULL, &text), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_render_setup(nft, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_set_drop_privileged_source_syn(NULL, true), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_block_config_default(NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_new(NULL, &set), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_blockset_new(&cfg, NULL), HO_NULL_PARAMETER);
  CHECK(ho_blockset_len(NULL) == 0);
  ho_blockset_free(set);
  ho_blockset_free(NULL);
  ho_sync_diff_free(NULL);
  ho_report_free(r);
  ho_firewall_free(nft);
  ho_firewall_free(ipset);
  ho_firewall_free(fwd);
  ho_firewall_free(NULL);
}

static void test_named_renderers(void) {
  ho_firewall *fw = NULL;
  CHECK_RESULT(ho_firewall_new_nft_named("ho_test", "b4", "b6", "pre", &fw), HO_OK);
  ho_block_config cfg;
  CHECK_RESULT(ho_block_config_default(&cfg), HO_OK);
  ho_blockset *set = NULL;
  CHECK_RESULT(ho_blockset_new(&cfg, &set), HO_OK);
  char *text = NULL;
  CHECK_RESULT(ho_firewall_render_full(fw, set, 0, &text), HO_OK);
  CHECK(strstr(text, "table inet ho_test") != NULL);
  CHECK(strstr(text, "set b4") != NULL);
  ho_string_free(text);
  ho_firewall_free(fw);
  fw = NULL;
  CHECK_RESULT(ho_firewall_new_ipset_named("s4", "s6", &fw), HO_OK);
  ho_firewall_free(fw);
  fw = NULL;
  CHECK_RESULT(ho_firewall_new_firewalld_named("s4", "s6", "drop", &fw), HO_OK);
  ho_firewall_free(fw);
  fw = NULL;
  CHECK_RESULT(ho_firewall_new_nft_named("bad name", "b4", "b6", "pre", &fw),
               HO_FIREWALL_BAD_NAME);
  CHECK_RESULT(ho_firewall_new_ipset_named("s4;", "s6", &fw), HO_FIREWALL_BAD_NAME);
  CHECK_RESULT(ho_firewall_new_firewalld_named("s4", "s6", "", &fw), HO_FIREWALL_BAD_NAME);
  CHECK(fw == NULL);
  CHECK_RESULT(ho_firewall_new(3, &fw), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_firewall_new(HO_FIREWALL_KIND_NFT, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_new_nft_named(NULL, "b4", "b6", "pre", &fw), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_new_nft_named("t", "b4", "b6", "pre", NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_new_ipset_named("s4", NULL, &fw), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_firewall_new_firewalld_named("s4", "s6", NULL, &fw), HO_NULL_PARAMETER);
  ho_blockset_free(set);
}

void test_blockset(void) {
  test_sets();
  test_named_renderers();
}
