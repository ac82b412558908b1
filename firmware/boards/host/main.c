/*
 * Host board: the device core on Linux, behind a pseudo-terminal. It prints
 * "PORT <path>" on stdout once the PTY is ready; open that path with any
 * serial library.
 *
 *   atomik-host-board [--legacy] [--baud N] [--contexts N] [--name S] [--link PATH]
 *
 * --legacy   behave like the official FPGA board, quirks included: one
 *            context, no acks, bytes that arrive while a reply is on the
 *            wire are dropped, a partial payload swallows what follows.
 * --baud N   pace received and sent bytes to N baud, 8N1 (10 bits a byte),
 *            so line-rate measurements mean something. Without it the
 *            board runs as fast as the PTY, and in --legacy mode a reply
 *            drops the bytes that arrived together with its command.
 * --link P   also make P a symlink to the PTY.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "pty.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

typedef struct {
  int master;
  int legacy;
  int64_t byte_ns;    /* time of one byte on the line (0: unpaced) */
  int64_t rx_clock;   /* when the last received byte finished arriving */
  int64_t tx_clock;   /* when the last sent byte leaves the line */
  int64_t busy_until; /* legacy: input is dropped until then */
  int replied;
} board;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t) {
  struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop) {}
}

/*
 * Advances a line clock by n bytes and waits when it runs ahead of real
 * time. The clock is absolute, so a sleep's overshoot is paid back by the
 * following bytes; callers restart it (set it to now) when the line was idle.
 */
static int64_t line_time(int64_t *clock, size_t n, int64_t byte_ns) {
  int64_t now = now_ns();
  *clock += (int64_t)n * byte_ns;
  if (byte_ns > 0 && *clock - now > 100000) sleep_until(*clock);
  return *clock;
}

static void write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0 && !stop) {
    ssize_t w = write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= (size_t)w;
    } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      struct pollfd pfd = {fd, POLLOUT, 0};
      poll(&pfd, 1, 100);
    } else {
      return; /* the PTY is gone: the main loop notices */
    }
  }
}

static void on_tx(void *user, const uint8_t *data, size_t len) {
  board *b = user;
  if (b->byte_ns > 0) {
    if (b->tx_clock < now_ns()) b->tx_clock = now_ns(); /* the line was idle */
    line_time(&b->tx_clock, len, b->byte_ns);
  }
  write_all(b->master, data, len);
  if (b->legacy) {
    /* The official board cannot receive while it transmits: paced, that is
       until the reply's last byte has left; unpaced, the reply leaves at
       once and only the bytes that came in with the command are lost. */
    b->busy_until = b->byte_ns > 0 ? b->tx_clock : now_ns();
    b->replied = 1;
  }
}

/* A boot id that differs on every start (PROTOCOL.md, version 2); never 0, which means "unknown". */
static uint32_t draw_boot_id(void) {
  uint32_t id = 0;
  while (id == 0) {
    if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id) id = (uint32_t)now_ns() ^ (uint32_t)getpid() << 16;
  }
  return id;
}

static void usage(void) {
  fprintf(stderr, "usage: atomik-host-board [--legacy] [--baud N] [--contexts N] [--name S] [--link PATH]\n");
  exit(2);
}

int main(int argc, char **argv) {
  int legacy = 0;
  long baud = 0, contexts = 1024;
  const char *name = NULL, *link_path = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--legacy") == 0) {
      legacy = 1;
    } else if (strcmp(a, "--baud") == 0 && v) {
      baud = strtol(v, NULL, 10), i++;
      if (baud < 300 || baud > 100000000) usage();
    } else if (strcmp(a, "--contexts") == 0 && v) {
      contexts = strtol(v, NULL, 10), i++;
      if (contexts < 1 || contexts > ATOMIK_MAX_CONTEXTS) usage();
    } else if (strcmp(a, "--name") == 0 && v) {
      name = v, i++;
    } else if (strcmp(a, "--link") == 0 && v) {
      link_path = v, i++;
    } else {
      usage();
    }
  }
  if (legacy) contexts = 1;
  if (!name) name = legacy ? "host-board-legacy" : "host-board";

  prctl(PR_SET_PDEATHSIG, SIGTERM); /* do not outlive whoever started us */
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);

  char path[128];
  int slave = -1;
  board b = {0};
  b.master = atomik_open_pty(path, sizeof path, &slave);
  if (b.master < 0) {
    perror("atomik-host-board: cannot create a pseudo-terminal");
    return 1;
  }
  if (link_path) {
    unlink(link_path);
    if (symlink(path, link_path) != 0) perror("atomik-host-board: --link");
  }
  b.legacy = legacy;
  b.byte_ns = baud ? 10000000000LL / baud : 0;

  uint64_t *ref = calloc((size_t)contexts, sizeof *ref);
  uint64_t *acc = calloc((size_t)contexts, sizeof *acc);
  static atomik_device dev;
  if (!ref || !acc) return 1;
  atomik_device_init(&dev, ref, acc, (uint16_t)contexts, name, on_tx, &b, legacy);
  atomik_device_set_boot_id(&dev, draw_boot_id());

  printf("PORT %s\n", path);
  fflush(stdout);

  uint8_t buf[4096];
  /* Paced boards read a little at a time so the PTY applies backpressure. */
  size_t chunk = baud ? 64 : sizeof buf;
  int drained = 1; /* the last read emptied the PTY: the line has been idle since */
  while (!stop) {
    struct pollfd pfd = {b.master, POLLIN, 0};
    if (poll(&pfd, 1, 200) < 0 && errno != EINTR) break;
    if (!(pfd.revents & POLLIN)) continue;
    ssize_t n = read(b.master, buf, chunk);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == EIO)) continue;
      break;
    }
    if (drained) b.rx_clock = now_ns(); /* these bytes started arriving just now */
    drained = (size_t)n < chunk;
    for (ssize_t i = 0; i < n && !stop; i++) {
      int64_t arrived = b.byte_ns ? line_time(&b.rx_clock, 1, b.byte_ns) : now_ns();
      if (!legacy) {
        if (!b.byte_ns) { /* unpaced: the whole chunk at once */
          atomik_device_feed(&dev, buf, (size_t)n);
          break;
        }
        atomik_device_feed(&dev, buf + i, 1);
        continue;
      }
      if (arrived < b.busy_until) continue; /* dropped, as on the board */
      b.replied = 0;
      atomik_device_feed(&dev, buf + i, 1);
      if (b.replied && !b.byte_ns) break; /* the rest of this chunk came in while replying */
    }
  }
  if (link_path) unlink(link_path);
  close(slave);
  close(b.master);
  free(ref);
  free(acc);
  return 0;
}
