/* A pseudo-terminal for a virtual board: shared by the host board and the RTL board. */
#ifndef ATOMIK_PTY_H
#define ATOMIK_PTY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Opens a PTY master (non-blocking) and writes the slave's path to `path`.
 * The slave is put in raw mode and kept open in *keep_slave, so that the
 * master sees no hang-ups while no client is connected. Returns -1 on error.
 */
int atomik_open_pty(char *path, size_t size, int *keep_slave);

#ifdef __cplusplus
}
#endif

#endif
