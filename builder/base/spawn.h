/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Running host programs.  Always an argv array, never a shell string; the
 * child gets /dev/null as stdin and every other fd closed on exec.  Output
 * (stdout and stderr together) is captured up to a bound and, on failure,
 * its tail goes into the ErrorSlot so the user sees why.
 */

#include "error.h"

#define SPAWN_OUTPUT_MAX (4u * 1024u * 1024u)

/* Run argv[0] (looked up in PATH) with argv; wait for it.  Non-zero exit is
 * -EPROTO (message names the program, exit status and output tail); a signal
 * is -EINTR.  ret_output may be NULL. */
int spawn_run(ErrorSlot *err, char * const *argv, char * const *extra_env, char **ret_output);

/* The same with stdin_fd as the child's stdin (a pipe the caller feeds
 * from another thread, say); -1 is /dev/null.  The caller keeps and closes
 * stdin_fd; it should be O_CLOEXEC, as should the pipe's other end, so that
 * the child holds only its own copy. */
int spawn_run_stdin(ErrorSlot *err, char * const *argv, char * const *extra_env, int stdin_fd, char **ret_output);

/* Is the program found in PATH? */
bool program_in_path(const char *name);
