/* A synthetic flood table for the C tests: `n` half-open entries from
 * 198.18.5.1 upwards (one /24) to 127.0.0.1:80, with a listener, in the
 * kernel's /proc/net/tcp format (little-endian host words). */
#ifndef HALFOPEN_TEST_FLOOD_H
#define HALFOPEN_TEST_FLOOD_H

#include <stdio.h>
#include <stdlib.h>

static char *flood_table(unsigned n) {
  size_t cap = 256 + (size_t)(n + 1) * 160;
  char *text = malloc(cap);
  size_t len = 0;
  len += (size_t)snprintf(text + len, cap - len,
                          "  sl  local_address rem_address   st tx_queue "
                          "rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
                          "   0: 00000000:0050 00000000:0000 0A 00000000:00000000 "
                          "00:00000000 00000000     0        0 4242 1 "
                          "0000000000000000 100 0 0 10 0\n");
  for (unsigned i = 0; i < n; i++) {
    unsigned host = 1 + i % 254;
    unsigned word = ((unsigned)host << 24) | (5u << 16) | (18u << 8) | 198u;
    len += (size_t)snprintf(text + len, cap - len,
                            "%4u: 0100007F:0050 %08X:%04X 03 00000000:00000000 "
                            "01:00000064 00000001     0        0 0 0 "
                            "0000000000000000\n",
                            i + 1, word, 40000 + i % 1000);
  }
  return text;
}

#endif
