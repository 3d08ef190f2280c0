/* Live reads: ho_live_options and ho_table_read, of this process's own
 * namespace, through each source. */
#include <errno.h>
#include <unistd.h>

#include "check.h"

void test_live(const char *tmpdir) {
  ho_table *t = NULL;

  /* The shorthands. */
  CHECK_RESULT(ho_table_read_live(&t), HO_OK);
  CHECK(t != NULL);
  CHECK(ho_table_origin(t) == HO_ORIGIN_NETLINK ||
        ho_table_origin(t) == HO_ORIGIN_PROC);
  if (ho_table_origin(t) == HO_ORIGIN_PROC) {
    CHECK(ho_table_fallback(t) != NULL);
  } else {
    CHECK(ho_table_fallback(t) == NULL);
  }
  ho_table_free(t);
  t = NULL;
  CHECK_RESULT(ho_table_read_pid((uint32_t)getpid(), &t), HO_OK);
  CHECK(ho_table_origin(t) == HO_ORIGIN_PROC);
  ho_table_free(t);
  t = NULL;
  CHECK_RESULT(ho_table_read_pid(0xFFFFFFF0u, &t), HO_READ_IO);
  CHECK(ho_last_error_os_code() == ENOENT);
  CHECK(t == NULL);
  CHECK_RESULT(ho_table_read_live(NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_table_read_pid(1, NULL), HO_NULL_PARAMETER);

  /* Options: /proc, listeners only. */
  ho_live_options *opts = NULL;
  CHECK_RESULT(ho_live_options_new(&opts), HO_OK);
  CHECK_RESULT(ho_live_options_set_source(opts, HO_SOURCE_PROC), HO_OK);
  CHECK_RESULT(ho_live_options_set_states(opts, 1u << 10), HO_OK);
  CHECK_RESULT(ho_table_read(opts, &t), HO_OK);
  CHECK(ho_table_origin(t) == HO_ORIGIN_PROC);
  for (size_t i = 0; i < ho_table_len(t); i++) {
    ho_entry e;
    CHECK_RESULT(ho_table_entry(t, i, &e), HO_OK);
    CHECK_STR(ho_tcp_state_name(e.state), "LISTEN");
  }
  ho_table_free(t);
  t = NULL;

  /* Netlink, half-open only: works, or says why it cannot. */
  CHECK_RESULT(ho_live_options_set_source(opts, HO_SOURCE_NETLINK), HO_OK);
  CHECK_RESULT(ho_live_options_set_states(opts, HO_STATES_HALF_OPEN), HO_OK);
  ho_result r = ho_table_read(opts, &t);
  CHECK(r == HO_OK || r == HO_NETLINK_OPEN || r == HO_NETLINK_KERNEL);
  if (r == HO_OK) {
    CHECK(ho_table_origin(t) == HO_ORIGIN_NETLINK);
    ho_table_free(t);
    t = NULL;
  }

  /* Back to every state of our own namespace, by pid and by namespace file. */
  CHECK_RESULT(ho_live_options_set_source(opts, HO_SOURCE_AUTO), HO_OK);
  CHECK_RESULT(ho_live_options_set_states(opts, HO_STATES_ALL), HO_OK);
  CHECK_RESULT(ho_live_options_set_pid(opts, (uint32_t)getpid()), HO_OK);
  r = ho_table_read(opts, &t);
  CHECK(r == HO_OK);
  ho_table_free(t);
  t = NULL;
  CHECK_RESULT(ho_live_options_set_netns_path(opts, "/proc/self/ns/net"), HO_OK);
  r = ho_table_read(opts, &t);
  /* Entering a namespace needs CAP_SYS_ADMIN. */
  CHECK(r == HO_OK || r == HO_NETNS_ENTER);
  ho_table_free(t);
  t = NULL;
  CHECK_RESULT(ho_live_options_set_netns_name(opts, "ho-no-such-namespace"), HO_OK);
  CHECK_RESULT(ho_table_read(opts, &t), HO_NETNS_OPEN);
  CHECK(ho_last_error_os_code() == ENOENT);
  CHECK(strstr(ho_last_error_message(), "ho-no-such-namespace") != NULL);
  CHECK(t == NULL);
  CHECK_RESULT(ho_live_options_set_current(opts), HO_OK);
  CHECK_RESULT(ho_table_read(opts, &t), HO_OK);
  ho_table_free(t);
  t = NULL;

  /* A directory is never read through netlink. */
  CHECK_RESULT(ho_live_options_set_dir(opts, tmpdir), HO_OK);
  CHECK_RESULT(ho_live_options_set_source(opts, HO_SOURCE_NETLINK), HO_OK);
  CHECK_RESULT(ho_table_read(opts, &t), HO_LIVE_NOT_LIVE);
  CHECK(t == NULL);

  /* Bad arguments. */
  CHECK_RESULT(ho_live_options_set_source(opts, 3), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_live_options_set_source(NULL, HO_SOURCE_AUTO), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_live_options_set_states(NULL, 0), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_live_options_set_current(NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_live_options_set_pid(NULL, 1), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_live_options_set_netns_path(opts, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_live_options_set_netns_path(NULL, "/x"), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_live_options_set_netns_name(opts, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_live_options_set_dir(opts, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_live_options_set_dir(opts, "\xff"), HO_INVALID_ARGUMENT);
  CHECK_RESULT(ho_table_read(NULL, &t), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_table_read(opts, NULL), HO_NULL_PARAMETER);
  CHECK_RESULT(ho_live_options_new(NULL), HO_NULL_PARAMETER);
  ho_live_options_free(opts);
  ho_live_options_free(NULL);
  CHECK(ho_table_origin(NULL) == HO_ORIGIN_BUFFER);
  CHECK(ho_table_fallback(NULL) == NULL);
}
