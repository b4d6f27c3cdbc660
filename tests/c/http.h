/* tests/c/http.h: a tiny blocking HTTP/1.1 POST over plain sockets, fixed
 * buffers, for the examples (the Rust-library one and the libcrypto one). */
#ifndef CMP_EXAMPLE_HTTP_H
#define CMP_EXAMPLE_HTTP_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* One deadline for the whole exchange: a server that trickles its answer
 * cannot stretch it (a per-recv timeout alone would let it). */
#ifndef HTTP_DEADLINE_SECS
#define HTTP_DEADLINE_SECS 20
#endif
/* http_post's result when the deadline passed. */
#define HTTP_TIMED_OUT (-2)

/* Microseconds left until deadline (<= 0: passed). */
static inline long long http_left_us(const struct timespec *deadline) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)(deadline->tv_sec - now.tv_sec) * 1000000 +
         (deadline->tv_nsec - now.tv_nsec) / 1000;
}

/* Set the socket's timeouts to what is left until deadline; -1 if nothing is. */
static inline int http_timeouts(int fd, const struct timespec *deadline) {
  long long left_us = http_left_us(deadline);
  if (left_us <= 0) return -1;
  struct timeval tv = {(time_t)(left_us / 1000000), (suseconds_t)(left_us % 1000000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return 0;
}

/* POST body to http://127.0.0.1:port/pkix/; the response body goes to out.
 * 0 on success, HTTP_TIMED_OUT after HTTP_DEADLINE_SECS, -1 otherwise
 * (including an answer that does not fit in cap bytes). */
static inline int http_post(int port, const uint8_t *body, size_t len, uint8_t *out, size_t cap,
                     size_t *out_len) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += HTTP_DEADLINE_SECS;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  http_timeouts(fd, &deadline);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char head[256];
  int hl = snprintf(head, sizeof head,
                    "POST /pkix/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                    "Content-Type: application/pkixcmp\r\nContent-Length: %zu\r\n"
                    "Connection: close\r\n\r\n", port, len);
  size_t got = 0;
  int ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
           send(fd, head, (size_t)hl, 0) == hl && send(fd, body, len, 0) == (ssize_t)len;
  int timed_out = 0;
  while (ok && got < cap) { /* the server closes after one response */
    if (http_timeouts(fd, &deadline) != 0) {
      timed_out = 1;
      break;
    }
    ssize_t n = recv(fd, out + got, cap - got, 0);
    if (n < 0) ok = 0;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  if (timed_out || (!ok && http_left_us(&deadline) <= 0)) return HTTP_TIMED_OUT;
  if (!ok || got >= cap) return -1;
  /* status line, then headers up to the blank line */
  uint8_t *end = NULL;
  for (size_t i = 0; i + 3 < got; i++)
    if (memcmp(out + i, "\r\n\r\n", 4) == 0) { end = out + i + 4; break; }
  if (!end || got < 12 || memcmp(out + 9, "200", 3) != 0) {
    fprintf(stderr, "bad HTTP response\n");
    return -1;
  }
  size_t hdr = (size_t)(end - out), clen = got - hdr;
  out[hdr - 1] = '\0';
  for (char *p = (char *)out; (p = strchr(p, '\n')) != NULL; p++)
    if (strncasecmp(p + 1, "content-length:", 15) == 0) clen = strtoul(p + 16, NULL, 10);
  if (clen > got - hdr) return -1;
  memmove(out, end, clen);
  *out_len = clen;
  return 0;
}

#endif
