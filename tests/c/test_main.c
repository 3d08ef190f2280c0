/* The C test program of libhalfopen: every exported function, with good and
 * bad input (NULL pointers, garbage bytes, truncated tables). Built with
 * -Wall -Wextra -Wpedantic -Werror against the installed header and run
 * under valgrind. Usage: test_halfopen SCRATCH_DIR */
#include <stdlib.h>

#include "check.h"

int checks_passed;
int checks_failed;

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  test_errors();
  test_table(argv[1]);
  test_live(argv[1]);
  test_counters(argv[1]);
  test_report();
  test_report_counters(argv[1]);
  test_blockset();
  test_state(argv[1]);
  test_threads();
  printf("%d passed, %d failed\n", checks_passed, checks_failed);
  return checks_failed == 0 ? 0 : 1;
}
