/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "cancel.h"
#include "spawn.h"

extern char **environ;

static const char *tail_of(const char *s, size_t max) {
        size_t l = strlen(s);
        return l > max ? s + l - max : s;
}

int spawn_run_stdin(ErrorSlot *err, char * const *argv, char * const *extra_env, int stdin_fd, char **ret_output) {
        _cleanup_free_ char *out = NULL, *cmd = NULL;
        _cleanup_strv_free_ char **env = NULL;
        int pipefd[2], status;
        size_t n = 0, alloc = 0;
        pid_t pid;

        if (cancel_requested())
                return error_set(err, -ECANCELED, "interrupted");
        cmd = strv_join(argv, " ");
        if (!cmd)
                return -ENOMEM;

        if (extra_env) {
                /* extra_env overrides: getenv() takes the first entry of a
                 * name, so the caller's own is left out. */
                STRV_FOREACH(e, environ) {
                        const char *eq = strchr(*e, '=');
                        size_t name_len = eq ? (size_t) (eq - *e) + 1 : strlen(*e);
                        bool overridden = false;

                        STRV_FOREACH(x, extra_env)
                                if (strncmp(*x, *e, name_len) == 0 && (*x)[name_len - 1] == '=') {
                                        overridden = true;
                                        break;
                                }
                        if (!overridden && strv_extend(&env, *e) < 0)
                                return -ENOMEM;
                }
                if (strv_extend_strv(&env, extra_env) < 0)
                        return -ENOMEM;
        }

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return error_set_errno(err, -errno, "cannot create pipe for '%s'", argv[0]);

        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return error_set_errno(err, r, "cannot fork for '%s'", argv[0]);
        }
        if (pid == 0) {
                int in = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (in < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(pipefd[1], STDOUT_FILENO) < 0 ||
                    dup2(pipefd[1], STDERR_FILENO) < 0)
                        _exit(127);
                /* Restore default signal dispositions the parent may have changed. */
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                signal(SIGPIPE, SIG_DFL);
                if (env)
                        execvpe(argv[0], argv, env);
                else
                        execvp(argv[0], argv);
                /* The pipe: the child's output, which the parent reads. */
                dprintf(pipefd[1], "cannot execute '%s': %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(pipefd[1]);
        /* A Ctrl-C kills it with the appliances; one that came while it
         * was being started found nothing to kill. */
        cancel_watch_pid(pid);
        if (cancel_requested())
                (void) kill(pid, SIGKILL);

        for (;;) {
                char buf[8192];
                ssize_t k = read(pipefd[0], buf, sizeof buf);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (k == 0)
                        break;
                if (n + (size_t) k + 1 > alloc) {
                        size_t want = alloc ? alloc * 2 : 16384;
                        while (want < n + (size_t) k + 1)
                                want *= 2;
                        if (want > SPAWN_OUTPUT_MAX + 1) {
                                /* Keep the tail: it carries the error. */
                                size_t drop = n + (size_t) k + 1 - SPAWN_OUTPUT_MAX;
                                if (drop > n)
                                        drop = n;
                                memmove(out, out + drop, n - drop);
                                n -= drop;
                                want = SPAWN_OUTPUT_MAX + 1;
                        }
                        if (want > alloc) {
                                char *c = realloc(out, want);
                                if (!c) {
                                        close(pipefd[0]);
                                        (void) kill(pid, SIGKILL);
                                        (void) waitpid(pid, NULL, 0);
                                        cancel_unwatch_pid(pid);
                                        return -ENOMEM;
                                }
                                out = c;
                                alloc = want;
                        }
                }
                memcpy(out + n, buf, (size_t) k);
                n += (size_t) k;
        }
        close(pipefd[0]);
        if (!out) {
                out = strdup("");
                if (!out)
                        return -ENOMEM;
        } else
                out[n] = 0;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        int r = -errno;
                        cancel_unwatch_pid(pid);
                        return error_set_errno(err, r, "cannot wait for '%s'", argv[0]);
                }
        cancel_unwatch_pid(pid);
        if (cancel_requested())
                return error_set(err, -ECANCELED, "interrupted");

        if (WIFSIGNALED(status))
                return error_set(err, -EINTR, "'%s' was killed by signal %d", cmd, WTERMSIG(status));
        if (WEXITSTATUS(status) != 0)
                return error_set(err, -EPROTO, "'%s' failed with exit status %d:\n%s", cmd,
                                 WEXITSTATUS(status), tail_of(strstrip(out), 2000));
        if (ret_output)
                *ret_output = TAKE_PTR(out);
        return 0;
}

int spawn_run(ErrorSlot *err, char * const *argv, char * const *extra_env, char **ret_output) {
        return spawn_run_stdin(err, argv, extra_env, -1, ret_output);
}

bool program_in_path(const char *name) {
        const char *path = getenv("PATH") ?: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
        _cleanup_strv_free_ char **dirs = NULL;

        if (strchr(name, '/'))
                return access(name, X_OK) == 0;
        if (strv_split(path, ":", &dirs) < 0)
                return false;
        STRV_FOREACH(d, dirs) {
                _cleanup_free_ char *p = path_join(*d, name);
                if (p && access(p, X_OK) == 0)
                        return true;
        }
        return false;
}
