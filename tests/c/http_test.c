/* tests/c/http_test.c: the examples' HTTP client (tests/c/http.h) against
 * hostile loopback servers: one that accepts and never answers, one that
 * trickles a byte per second, one that sends an endless body. It must give
 * up at its deadline (HTTP_TIMED_OUT) or when its buffer is full, never hang.
 *
 *   http_test
 */
#define HTTP_DEADLINE_SECS 2
#include "http.h"

#include <signal.h>
#include <sys/wait.h>

enum behaviour { SILENT, TRICKLE, ENDLESS };

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A child process serving one connection on a fresh loopback port. */
static pid_t serve(enum behaviour b, int *port) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof addr;
  if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
      listen(listener, 1) != 0 || getsockname(listener, (struct sockaddr *)&addr, &alen) != 0) {
    perror("listen");
    exit(1);
  }
  *port = ntohs(addr.sin_port);
  pid_t pid = fork();
  if (pid != 0) {
    close(listener);
    return pid;
  }
  signal(SIGPIPE, SIG_IGN);
  int fd = accept(listener, NULL, NULL);
  char buf[4096];
  if (fd < 0 || recv(fd, buf, sizeof buf, 0) <= 0) _exit(0);
  const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\n\r\n";
  switch (b) {
  case SILENT:
    sleep(30);
    break;
  case TRICKLE:
    for (int i = 0; i < 30; i++) {
      char c = head[i % (int)strlen(head)];
      if (send(fd, &c, 1, 0) != 1) break;
      sleep(1);
    }
    break;
  case ENDLESS:
    if (send(fd, head, strlen(head), 0) < 0) break;
    memset(buf, 0x30, sizeof buf);
    for (int i = 0; i < 100000; i++)
      if (send(fd, buf, sizeof buf, 0) < 0) break;
    break;
  }
  _exit(0);
}

static int failures;

static void expect(enum behaviour b, const char *name, int want, double min, double max) {
  int port;
  pid_t child = serve(b, &port);
  static uint8_t out[64 * 1024];
  size_t out_len = 0;
  double started = seconds();
  int rc = http_post(port, (const uint8_t *)"\x30\x00", 2, out, sizeof out, &out_len);
  double took = seconds() - started;
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  int ok = rc == want && took >= min && took < max;
  printf("%s %s: rc %d after %.2f s\n", ok ? "ok" : "FAILED", name, rc, took);
  if (!ok) failures++;
}

int main(void) {
  expect(SILENT, "silent server", HTTP_TIMED_OUT, 1.9, 5);
  expect(TRICKLE, "trickling server", HTTP_TIMED_OUT, 1.9, 5);
  /* the 64 KiB buffer fills long before the deadline */
  expect(ENDLESS, "endless body", -1, 0, 1.9);
  return failures ? 1 : 0;
}
