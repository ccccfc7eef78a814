/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the library's messages and progress go: stderr.  On a terminal,
 * progress is one line redrawn in place; otherwise (CI logs) a progress line
 * is printed when it changes, at most every PROGRESS_PERIOD_USEC, so logs
 * show that a long step is alive without drowning in it.
 */
#include <inttypes.h>
#include <signal.h>
#include <sys/ioctl.h>

#include "cli.h"
#include "log.h"

#define PROGRESS_PERIOD_USEC (15u * 1000000u)

static bool tty;
static bool progress_shown;
static uint64_t last_progress;

static void clear_progress(void) {
        if (tty && progress_shown) {
                fputs("\r\033[K", stderr);
                progress_shown = false;
        }
}

static void log_to_stderr(int level, const char *message, void *userdata) {
        clear_progress();
        if (level <= LOG_ERR)
                fprintf(stderr, "whonix-build: error: %s\n", message);
        else if (level == LOG_WARNING)
                fprintf(stderr, "whonix-build: warning: %s\n", message);
        else
                fprintf(stderr, "%s\n", message);
}

static unsigned terminal_width(void) {
        struct winsize ws;

        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
                return ws.ws_col;
        return 80;
}

/* "m:ss", or "h:mm:ss" from an hour on. */
static void duration(double seconds, char *buf, size_t size) {
        unsigned long t = seconds > 0 ? (unsigned long) (seconds + 0.5) : 0;

        if (t >= 3600)
                snprintf(buf, size, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
        else
                snprintf(buf, size, "%lu:%02lu", t / 60, t % 60);
}

/* What the appliance printed may hold control characters: none reach the
 * terminal or the log. */
static void sanitize(char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        *s = '?';
}

static void progress_to_stderr(const ProgressEvent *e, void *userdata) {
        char line[512], tail[96] = "";
        uint64_t now = now_usec();
        unsigned width;
        int n;

        /* How long the step has run, and how long it took the last time. */
        if (e->step_started_usec && now > e->step_started_usec) {
                char el[24], ex[24];

                duration((double) (now - e->step_started_usec) / 1e6, el, sizeof el);
                if (e->step_expected_seconds > 0) {
                        duration(e->step_expected_seconds, ex, sizeof ex);
                        snprintf(tail, sizeof tail, "  %s of about %s", el, ex);
                } else
                        snprintf(tail, sizeof tail, "  %s", el);
        }
        if (e->unit == PROGRESS_PACKAGES) {
                if (e->total > 0)
                        n = snprintf(line, sizeof line, "[%s] %s  packages %" PRIu64 "/%" PRIu64 "%s", e->stage,
                                     strempty(e->what), e->done, e->total, tail);
                else
                        n = snprintf(line, sizeof line, "[%s] %s  packages %" PRIu64 "%s", e->stage, strempty(e->what),
                                     e->done, tail);
        } else if (e->total > 0)
                n = snprintf(line, sizeof line, "[%s] %s %3u%% (%.1f/%.1f MiB)%s", e->stage, strempty(e->what),
                             (unsigned) (e->done * 100 / e->total), (double) e->done / 1048576.0,
                             (double) e->total / 1048576.0, tail);
        else if (e->what)
                n = snprintf(line, sizeof line, "[%s] %s%s", e->stage, e->what, tail);
        else
                return;
        if (n < 0)
                return;
        sanitize(line);

        if (tty) {
                width = terminal_width() - 1;
                fprintf(stderr, "\r\033[K%.*s", (int) width, line);
                progress_shown = true;
                return;
        }
        if (now - last_progress < PROGRESS_PERIOD_USEC)
                return;
        last_progress = now;
        fprintf(stderr, "  %s\n", line);
}

void cli_install_sinks(const CliOptions *o) {
        tty = isatty(STDERR_FILENO);
        log_set_max_level(o->verbose ? LOG_DEBUG : LOG_INFO);
        log_set_sink(log_to_stderr, NULL);
        log_set_progress_sink(progress_to_stderr, NULL);
}

void cli_clear_progress(void) {
        clear_progress();
}

static const char *sigabbrev(int sig) {
        switch (sig) {
        case SIGINT:
                return "SIGINT";
        case SIGTERM:
                return "SIGTERM";
        case SIGHUP:
                return "SIGHUP";
        default:
                return "a signal";
        }
}

int cli_call_outcome(ErrorSlot *err, int r, const char *interrupted, const char *context) {
        clear_progress();
        if (cancel_requested()) {
                int sig = cancel_signal();

                fprintf(stderr, "whonix-build: interrupted%s%s; %s\n", sig ? " by " : "", sig ? sigabbrev(sig) : "",
                        interrupted);
                error_done(err);
                /* The shell's convention: 128 + the signal (SIGINT 130). */
                return sig > 0 ? 128 + sig : EXIT_INTERRUPTED;
        }
        if (r < 0) {
                fprintf(stderr, "whonix-build: error: %s%s%s\n", strempty(context), context ? ": " : "",
                        error_text(err, r));
                error_done(err);
                return EXIT_FAILED;
        }
        return -1;
}
