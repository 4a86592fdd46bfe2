/*
 * Pid files: a process's pid as the whole text of a private file, for
 * `xipc ls` to tell who owns an endpoint. Built on the platform's text
 * files, so the same on every OS.
 */
#ifndef XIPC_CORE_PIDFILE_H
#define XIPC_CORE_PIDFILE_H

#include <stdint.h>

#include "xipc/xipc.h"

/* Write this process's pid into @p path (private, written in place). */
xipc_err xipc__pidfile_write(const char *path);

/* The pid in @p path; 0 when it is absent, not ours or garbage. */
uint32_t xipc__pidfile_read(const char *path);

#endif
