/* See pty.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pty.h"

#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

int atomik_open_pty(char *path, size_t size, int *keep_slave) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) return -1;
  if (ptsname_r(master, path, size) != 0) return -1;
  int slave = open(path, O_RDWR | O_NOCTTY);
  if (slave < 0) return -1;
  struct termios tio;
  if (tcgetattr(slave, &tio) == 0) {
    cfmakeraw(&tio);
    tcsetattr(slave, TCSANOW, &tio);
  }
  *keep_slave = slave;
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  return master;
}
