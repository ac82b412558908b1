// The RTL board: the Verilated design behind a pseudo-terminal. Bytes a
// client writes to the PTY are shifted into the design's uart_rx bit by
// bit; what it sends on uart_tx is decoded and written back. It prints
// "PORT <path>" when ready and runs until SIGTERM or its parent exits.
//
//   atomik-rtl-board [--link PATH]
//
// CLKS_PER_BIT (the design's baud divider) is fixed at build time; with
// ATOMIK_RTL_BOOT_ID (the framed design) each start draws the boot id its
// HELLO_REPLY carries, as a board does at power-on. The
// simulation runs as fast as it can while there is traffic and sleeps in
// poll() when the line and the design are idle.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "Vdesign.h"
#include "line.h"
#include "pty.h"

#ifndef CLKS_PER_BIT
#error "build with -DCLKS_PER_BIT=N, the design's baud divider"
#endif

static volatile sig_atomic_t stop;
static void on_signal(int) { stop = 1; }

// Writes everything, waiting while the PTY is full; false when it is gone.
static bool write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0 && !stop) {
    ssize_t w = write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= (size_t)w;
    } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      struct pollfd pfd = {fd, POLLOUT, 0};
      poll(&pfd, 1, 100);
    } else {
      return false;
    }
  }
  return true;
}

#ifdef ATOMIK_RTL_BOOT_ID
// A boot id that differs on every start (PROTOCOL.md, version 2); never 0, which means "unknown".
static uint32_t draw_boot_id() {
  uint32_t id = 0;
  while (id == 0) {
    if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id) {
      struct timespec t;
      clock_gettime(CLOCK_MONOTONIC, &t);
      id = (uint32_t)t.tv_nsec ^ ((uint32_t)getpid() << 16);
    }
  }
  return id;
}
#endif

int main(int argc, char **argv) {
  const char *link_path = nullptr;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--link") == 0 && i + 1 < argc) {
      link_path = argv[++i];
    } else {
      fprintf(stderr, "usage: atomik-rtl-board [--link PATH]\n");
      return 2;
    }
  }
  prctl(PR_SET_PDEATHSIG, SIGTERM); // do not outlive whoever started us
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);

  char path[128];
  int slave = -1;
  int master = atomik_open_pty(path, sizeof path, &slave);
  if (master < 0) {
    perror("atomik-rtl-board: cannot create a pseudo-terminal");
    return 1;
  }
  if (link_path) {
    unlink(link_path);
    if (symlink(path, link_path) != 0) perror("atomik-rtl-board: --link");
  }

  static Vdesign design;
#ifdef ATOMIK_RTL_BOOT_ID
  design.boot_id = draw_boot_id();
#endif
  Line<Vdesign> line(design, CLKS_PER_BIT);
  printf("PORT %s\n", path);
  fflush(stdout);

  // Simulate a few byte times between system calls; keep only a few bytes
  // queued so the PTY applies backpressure to the client.
  const uint64_t slice = CLKS_PER_BIT * 40 > 256 ? CLKS_PER_BIT * 40 : 256;
  const size_t low_water = 16;
  uint8_t buf[64];
  while (!stop) {
    if (line.idle()) {
      struct pollfd pfd = {master, POLLIN, 0};
      if (poll(&pfd, 1, 200) < 0 && errno != EINTR) break;
      if (!(pfd.revents & POLLIN)) continue;
    }
    if (line.queued() < low_water) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n > 0) {
        line.send(buf, (size_t)n);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR && errno != EIO)) {
        break;
      }
    }
    for (uint64_t i = 0; i < slice && !line.idle(); i++) line.tick();
    std::vector<uint8_t> &out = line.received();
    if (!out.empty()) {
      if (!write_all(master, out.data(), out.size())) break;
      out.clear();
    }
  }
  design.final();
  if (link_path) unlink(link_path);
  close(slave);
  close(master);
  return 0;
}
