/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fetch/verify stage against a fake mirror: a temporary directory with
 * dists/<suite>/InRelease files clearsigned by a throwaway key, served both
 * as file:// and by a python3 http.server on 127.0.0.1 (loopback only; no
 * other network).  Also curl_download_file()'s all-or-nothing behaviour.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "curl-util.h"
#include "fetch.h"
#include "gpg-test-util.h"
#include "log.h"
#include "sha256.h"
#include "tap.h"

static char *tmp_root, *mirror_dir, *keys_dir;
static TestSigner good_key, unknown_key, extra_key;

static char *tmp_path(const char *name) {
        return path_join(tmp_root, name);
}

static void format_date(time_t t, char buf[64]) {
        struct tm tm;
        strftime(buf, 64, "%a, %d %b %Y %H:%M:%S UTC", gmtime_r(&t, &tm));
}

/* Writes mirror/dists/<dir>/InRelease: a Release text for suite (codename
 * "<suite>-code"), valid until now + valid_for seconds, signed by signer. */
static int make_suite_at(const char *dir, const char *suite, long valid_for, bool with_index, TestSigner *signer,
                         bool tamper, time_t when) {
        _cleanup_free_ char *text = NULL, *signed_text = NULL, *d = NULL, *path = NULL, *rel = NULL;
        char date[64], until[64];
        size_t size;
        int r;

        format_date(when, date);
        format_date(time(NULL) + valid_for, until);
        text = strdup_printf("Origin: Test\nLabel: Test\nSuite: %s\nCodename: %s-code\nDate: %s\nValid-Until: %s\n"
                             "Architectures: amd64\nComponents: main\nSHA256:\n"
                             " e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 %s\n",
                             suite, suite, date, until,
                             with_index ? "main/binary-amd64/Packages.xz" : "main/binary-i386/Packages.xz");
        rel = strdup_printf("dists/%s", dir);
        d = rel ? path_join(mirror_dir, rel) : NULL;
        path = d ? path_join(d, "InRelease") : NULL;
        if (!text || !path)
                return -ENOMEM;
        r = test_signer_clearsign(signer, text, &signed_text, &size);
        if (r < 0)
                return r;
        if (tamper) {
                char *c = strstr(signed_text, "Origin: Test");
                if (!c)
                        return -EINVAL;
                c[8] = 't';
        }
        r = mkdir_p(d, 0755);
        if (r < 0)
                return r;
        return write_file_atomic(path, signed_text, size, 0644);
}

static int make_suite(const char *dir, const char *suite, long valid_for, bool with_index, TestSigner *signer,
                      bool tamper) {
        return make_suite_at(dir, suite, valid_for, with_index, signer, tamper, time(NULL));
}

/* Rollback: a cache that accepted an InRelease refuses an older one for
 * the suite (unless pinned), keeps what it had, and refuses one from the
 * future. */
static void test_rollback(const char *mirror) {
        _cleanup_free_ char *cache = tmp_path("cache-rollback"), *cached = NULL, *before = NULL, *newest = NULL;
        _cleanup_free_ char *cached_path = NULL, *newest_path = NULL;
        ErrorSlot err = {};
        size_t n1 = 0, n2 = 0, n3 = 0;
        time_t now = time(NULL);
        int r;

        if (!tap_ok(cache && make_suite_at("roll", "roll", 86400, true, &good_key, false, now - 3600) == 0,
                    "rollback: the mirror serves an InRelease dated an hour ago"))
                return;
        {
                _cleanup_(source_info_freep) SourceInfo *si = NULL;

                r = fetch_sources(&err, mirror, NULL, "roll", keys_dir, cache, false, &si);
                tap_ok(r == 0, "rollback: it is accepted (%s)", r < 0 ? error_text(&err, r) : "ok");
                error_done(&err);
        }
        cached_path = path_join(cache, "sources/roll-code/InRelease");
        newest_path = path_join(cache, "sources/roll-code/newest-date");
        r = newest_path ? read_full_file(newest_path, 64, &newest, &n3) : -ENOMEM;
        tap_ok(r == 0 && strtoll(newest, NULL, 10) >= (long long) now - 3601 &&
                       strtoll(newest, NULL, 10) <= (long long) now - 3599,
               "rollback: the cache records its Date (%s)", r == 0 ? strstrip(newest) : "none");
        (void) read_full_file(cached_path, 1024 * 1024, &before, &n1);

        /* The mirror now replays one from a day earlier. */
        if (!tap_ok(make_suite_at("roll", "roll", 86400 * 3, true, &good_key, false, now - 90000) == 0,
                    "rollback: the mirror replays an InRelease of a day before"))
                return;
        {
                _cleanup_(source_info_freep) SourceInfo *si = NULL;

                r = fetch_sources(&err, mirror, NULL, "roll", keys_dir, cache, false, &si);
                tap_ok(r == -ESTALE && !si && err.message && strstr(err.message, "older than the InRelease this cache "
                                                                                 "already accepted"),
                       "rollback: the older one is refused: %s", error_text(&err, r));
                error_done(&err);
        }
        tap_ok(read_full_file(cached_path, 1024 * 1024, &cached, &n2) == 0 && before && n1 == n2 &&
                       memcmp(before, cached, n1) == 0,
               "rollback: the cache keeps the newer InRelease");
        {
                _cleanup_(source_info_freep) SourceInfo *si = NULL;

                r = fetch_sources(&err, mirror, NULL, "roll", keys_dir, cache, true, &si);
                tap_ok(r == 0, "rollback: a pinned rebuild (its InRelease named by hash) may use the older one (%s)",
                       r < 0 ? error_text(&err, r) : "ok");
                error_done(&err);
        }
        free(newest);
        newest = NULL;
        tap_ok(read_full_file(newest_path, 64, &newest, &n3) == 0 &&
                       strtoll(newest, NULL, 10) >= (long long) now - 3601,
               "rollback: and the pinned fetch leaves the newest Date as it was");

        if (!tap_ok(make_suite_at("roll", "roll", 86400 * 3, true, &good_key, false, now + 2 * 86400) == 0,
                    "rollback: the mirror serves an InRelease dated in two days"))
                return;
        {
                _cleanup_(source_info_freep) SourceInfo *si = NULL;

                r = fetch_sources(&err, mirror, NULL, "roll", keys_dir, cache, false, &si);
                tap_ok(r == -EBADMSG && err.message && strstr(err.message, "in the future"),
                       "rollback: one from the future is refused: %s", error_text(&err, r));
                error_done(&err);
        }
}

static bool dir_is_empty_or_missing(const char *path) {
        struct dirent *de;
        DIR *d = opendir(path);
        bool empty = true;

        if (!d)
                return errno == ENOENT;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        empty = false;
        closedir(d);
        return empty;
}

static void check_good(const char *mirror, const char *what) {
        _cleanup_(source_info_freep) SourceInfo *si = NULL;
        _cleanup_free_ char *cache = NULL, *served = NULL, *cached = NULL, *want_path = NULL, *served_path = NULL;
        _cleanup_free_ char *mirror_slash = strdup_printf("%s//", mirror), *tag = strdup_printf("cache-good-%s", what);
        _cleanup_free_ char *served_sha = NULL;
        ErrorSlot err = {};
        size_t served_size = 0, cached_size = 0;
        struct stat st;
        int r;

        cache = tag ? tmp_path(tag) : NULL;
        r = fetch_sources(&err, mirror_slash, NULL, "good", keys_dir, cache, false, &si);
        tap_ok(r == 0, "%s: good InRelease is accepted: %s", what, r < 0 ? error_text(&err, r) : "ok");
        error_done(&err);
        if (r < 0)
                return;

        served_path = path_join(mirror_dir, "dists/good/InRelease");
        (void) read_full_file(served_path, 1024 * 1024, &served, &served_size);
        served_sha = served ? sha256_hex(served, served_size) : NULL;
        want_path = path_join(cache, "sources/good-code/InRelease");

        tap_ok(streq(si->mirror, mirror) && streq(si->suite, "good") && streq_ptr(si->codename, "good-code"),
               "%s: mirror normalized (%s), suite, codename", what, si->mirror);
        tap_ok(streq_ptr(si->inrelease_path, want_path) &&
                       read_full_file(si->inrelease_path, 1024 * 1024, &cached, &cached_size) == 0 &&
                       served && cached_size == served_size && memcmp(cached, served, served_size) == 0,
               "%s: InRelease cached byte for byte at %s", what, strempty(si->inrelease_path));
        tap_ok(served_sha && streq_ptr(si->inrelease_sha256, served_sha), "%s: sha256 of the downloaded bytes %s",
               what, strempty(si->inrelease_sha256));
        tap_ok(streq_ptr(si->signer_fingerprint, good_key.fpr), "%s: signer fingerprint", what);
        tap_ok(si->keyring_path && endswith(si->keyring_path, "/sources/keyring.gpg") &&
                       stat(si->keyring_path, &st) == 0 && st.st_size > 0,
               "%s: keyring exported to %s", what, strempty(si->keyring_path));
        tap_ok(si->release && si->release->n_entries == 1 && streq_ptr(si->release->origin, "Test"),
               "%s: parsed Release attached", what);
}

/* Fails with want, the message names the URL and contains want_msg. */
static void check_bad(const char *mirror, const char *what, const char *suite, int want, const char *want_msg) {
        _cleanup_(source_info_freep) SourceInfo *si = NULL;
        _cleanup_free_ char *tag = strdup_printf("cache-%s-%s", suite, what), *cache = NULL;
        _cleanup_free_ char *url = strdup_printf("%s/dists/%s/InRelease", mirror, suite);
        ErrorSlot err = {};
        int r;

        cache = tag ? tmp_path(tag) : NULL;
        r = fetch_sources(&err, mirror, NULL, suite, keys_dir, cache, false, &si);
        tap_ok(r == want && !si && err.message && strstr(err.message, url) && strstr(err.message, want_msg),
               "%s: %s -> %s", what, suite, error_text(&err, r));
        tap_ok(dir_is_empty_or_missing(cache), "%s: %s: nothing written into the cache", what, suite);
        error_done(&err);
}

/* Pinned (a rebuild naming its InRelease by hash, or a snapshot of the
 * archive): an InRelease past its Valid-Until is taken, its signature
 * still checked. */
static void check_pinned_expired(const char *mirror, const char *what) {
        _cleanup_(source_info_freep) SourceInfo *si = NULL, *bad = NULL;
        _cleanup_free_ char *tag = strdup_printf("cache-pinned-%s", what), *cache = NULL;
        ErrorSlot err = {};
        int r;

        cache = tag ? tmp_path(tag) : NULL;
        r = fetch_sources(&err, mirror, NULL, "expired", keys_dir, cache, true, &si);
        tap_ok(r == 0 && si && si->release && si->release->valid_until,
               "%s: pinned: an InRelease past its Valid-Until is taken (r=%d %s)", what, r, strempty(err.message));
        error_clear(&err);
        r = fetch_sources(&err, mirror, NULL, "tampered", keys_dir, cache, true, &bad);
        tap_ok(r == -EBADMSG && !bad, "%s: pinned: its signature is still checked (%s)", what, strempty(err.message));
        error_done(&err);
}

static void run_mirror_tests(const char *mirror, const char *what, bool http) {
        check_good(mirror, what);
        check_pinned_expired(mirror, what);
        check_bad(mirror, what, "tampered", -EBADMSG, "failed: signature is bad");
        check_bad(mirror, what, "unknown", -ENOKEY, "failed: signed by unknown key");
        check_bad(mirror, what, "expired", -ESTALE, "has expired");
        check_bad(mirror, what, "wrongsuite", -EBADMSG, "not of 'wrongsuite'");
        check_bad(mirror, what, "noindex", -EBADMSG, "main/binary-amd64/Packages");
        check_bad(mirror, what, "missing", -ENOENT, http ? "HTTP status 404" : "failed to download");
        /* keys/suites: a suite with no line; a key of keys/ not pinned. */
        check_bad(mirror, what, "nopin", -ENOKEY, "pins no key for suite 'nopin'");
        check_bad(mirror, what, "extra", -ENOKEY, "which is in the keys directory but not pinned for this suite");
}

/* ---- curl_download_file() ---- */

static unsigned progress_calls;
static uint64_t progress_last_done, progress_last_total;

static void progress_sink(const ProgressEvent *e, void *userdata) {
        if (streq(e->stage, "fetch") && streq_ptr(e->what, "InRelease") && e->unit == PROGRESS_BYTES) {
                progress_calls++;
                progress_last_done = e->done;
                progress_last_total = e->total;
        }
}

static void run_download_tests(const char *mirror, const char *what) {
        _cleanup_free_ char *url = strdup_printf("%s/dists/good/InRelease", mirror);
        _cleanup_free_ char *missing_url = strdup_printf("%s/dists/missing/InRelease", mirror);
        _cleanup_free_ char *tag = strdup_printf("download-%s", what), *dir = NULL, *dest = NULL, *data = NULL;
        ErrorSlot err = {};
        size_t size = 0;
        int r;

        dir = tag ? tmp_path(tag) : NULL;
        dest = dir ? path_join(dir, "file") : NULL;
        if (!dest || mkdir(dir, 0755) < 0) {
                tap_ok(false, "%s: set up download dir", what);
                return;
        }

        progress_calls = 0;
        log_set_progress_sink(progress_sink, NULL);
        r = curl_download_file(&err, url, NULL, dest, 1024 * 1024, "InRelease");
        log_set_progress_sink(NULL, NULL);
        tap_ok(r == 0 && read_full_file(dest, 1024 * 1024, &data, &size) == 0 && size > 100,
               "%s: curl_download_file() %s", what, r < 0 ? error_text(&err, r) : "ok");
        tap_ok(progress_calls > 0 && progress_last_done == size && progress_last_total == size,
               "%s: progress reported (%u calls, last %" PRIu64 "/%" PRIu64 ")", what, progress_calls,
               progress_last_done, progress_last_total);
        error_done(&err);

        /* Failures leave dest as it was and no temporary file behind. */
        (void) write_file_atomic(dest, "old", 3, 0644);
        r = curl_download_file(&err, url, NULL, dest, 100, "InRelease");
        tap_ok(r == -EFBIG && strstr(strempty(err.message), "larger than 100 bytes"), "%s: max_size enforced: %s",
               what, error_text(&err, r));
        error_done(&err);
        r = curl_download_file(&err, missing_url, NULL, dest, 1024 * 1024, "InRelease");
        tap_ok(r == -ENOENT && strstr(strempty(err.message), missing_url), "%s: missing file: %s", what,
               error_text(&err, r));
        error_done(&err);
        free(data);
        data = NULL;
        {
                struct dirent *de;
                DIR *d = opendir(dir);
                unsigned n = 0;

                while (d && (de = readdir(d)))
                        if (de->d_name[0] != '.')
                                n++;
                if (d)
                        closedir(d);
                tap_ok(read_full_file(dest, 100, &data, &size) == 0 && streq(data, "old") && n == 1,
                       "%s: failed downloads left dest untouched and no temporary files (%u entries)", what, n);
        }
        {
                _cleanup_free_ char *mem = NULL;
                r = curl_download_memory(&err, url, NULL, 1024 * 1024, &mem, &size);
                tap_ok(r == 0 && size > 100 && strlen(mem) == size && startswith(mem, "-----BEGIN PGP SIGNED"),
                       "%s: curl_download_memory()", what);
                error_done(&err);
        }
}

/* ---- loopback HTTP server ---- */

static int free_port(void) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof(a);
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0 ||
            getsockname(fd, (struct sockaddr *) &a, &l) < 0)
                return -errno;
        return ntohs(a.sin_port);
}

static bool port_accepts(int port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        return fd >= 0 && connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0;
}

static pid_t start_http_server(const char *dir, int *ret_port) {
        char portbuf[16];
        int port = free_port();
        pid_t pid;

        if (port <= 0)
                return -1;
        snprintf(portbuf, sizeof(portbuf), "%d", port);
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                char *argv[] = { (char *) "python3", (char *) "-m", (char *) "http.server", (char *) "--bind",
                                 (char *) "127.0.0.1", portbuf, (char *) "--directory", (char *) dir, NULL };
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                if (null >= 0) {
                        (void) dup2(null, STDIN_FILENO);
                        (void) dup2(null, STDOUT_FILENO);
                        (void) dup2(null, STDERR_FILENO);
                }
                execvp(argv[0], argv);
                _exit(127);
        }
        for (int i = 0; i < 200; i++) {
                int status;

                if (port_accepts(port)) {
                        *ret_port = port;
                        return pid;
                }
                if (waitpid(pid, &status, WNOHANG) == pid)
                        return -1;
                usleep(50 * 1000);
        }
        kill(pid, SIGTERM);
        (void) waitpid(pid, NULL, 0);
        return -1;
}

static void stop_http_server(pid_t pid) {
        if (pid <= 0)
                return;
        (void) kill(pid, SIGTERM);
        (void) waitpid(pid, NULL, 0);
}

int main(void) {
        _cleanup_free_ char *file_mirror = NULL, *http_mirror = NULL, *asc = NULL;
        pid_t server;
        int port = 0, r;

        tap_plan_lazy();
        if (!program_in_path("gpg"))
                return tap_skip_all("gpg is not installed");
        if (mkdtemp_in(NULL, "test-fetch", &tmp_root) < 0)
                return tap_skip_all("cannot create a temporary directory");
        setenv("TMPDIR", tmp_root, 1);
        /* The loopback server must be reached directly, whatever proxy the
         * environment names. */
        setenv("no_proxy", "127.0.0.1", 1);
        setenv("NO_PROXY", "127.0.0.1", 1);

        mirror_dir = tmp_path("mirror");
        keys_dir = tmp_path("keys");
        asc = keys_dir ? path_join(keys_dir, "test-archive.asc") : NULL;
        if (!asc || mkdir(mirror_dir, 0755) < 0 || mkdir(keys_dir, 0755) < 0)
                return tap_skip_all("cannot set up the fake mirror");

        r = test_signer_new(&good_key, "Test Archive <archive@example.org>", 0);
        if (r == 0)
                r = test_signer_new(&unknown_key, "Someone Else <else@example.org>", 0);
        if (r == 0)
                r = test_signer_new(&extra_key, "Extra Key <extra@example.org>", 0);
        if (r == 0)
                r = test_signer_export(&good_key, asc);
        if (r == 0) {
                /* In keys/ too, but pinned for no suite. */
                _cleanup_free_ char *extra_asc = path_join(keys_dir, "extra.asc");

                r = extra_asc ? test_signer_export(&extra_key, extra_asc) : -ENOMEM;
        }
        if (r == 0) {
                _cleanup_free_ char *pins = path_join(keys_dir, "suites");
                _cleanup_free_ char *text = strdup_printf(
                        "# test pins\ngood %1$s\ntampered %1$s\nunknown %1$s\nexpired %1$s\nwrongsuite %1$s\n"
                        "noindex %1$s\nroll %1$s\nextra %1$s\n",
                        good_key.fpr);

                r = pins && text ? write_file_atomic(pins, text, strlen(text), 0644) : -ENOMEM;
        }
        tap_ok(r == 0, "throwaway archive key, an unknown key and an unpinned one; keys/ and keys/suites");

        r = 0;
        r = r < 0 ? r : make_suite("good", "good", 86400, true, &good_key, false);
        r = r < 0 ? r : make_suite("tampered", "tampered", 86400, true, &good_key, true);
        r = r < 0 ? r : make_suite("unknown", "unknown", 86400, true, &unknown_key, false);
        r = r < 0 ? r : make_suite("expired", "expired", -3600, true, &good_key, false);
        r = r < 0 ? r : make_suite("wrongsuite", "othersuite", 86400, true, &good_key, false);
        r = r < 0 ? r : make_suite("noindex", "noindex", 86400, false, &good_key, false);
        r = r < 0 ? r : make_suite("nopin", "nopin", 86400, true, &good_key, false);
        r = r < 0 ? r : make_suite("extra", "extra", 86400, true, &extra_key, false);
        tap_ok(r == 0, "fake mirror with good, tampered, unknown-key, expired, wrong-suite, no-index suites");

        file_mirror = strdup_printf("file://%s", mirror_dir);
        run_mirror_tests(file_mirror, "file", false);
        run_download_tests(file_mirror, "file");
        test_rollback(file_mirror);

        server = start_http_server(mirror_dir, &port);
        if (server > 0) {
                http_mirror = strdup_printf("http://127.0.0.1:%d", port);
                run_mirror_tests(http_mirror, "http", true);
                run_download_tests(http_mirror, "http");
                stop_http_server(server);
        } else
                tap_diag("python3 -m http.server could not be started: HTTP cases not run");

        {
                _cleanup_(source_info_freep) SourceInfo *si = NULL;
                ErrorSlot err = {};

                r = fetch_sources(&err, file_mirror, NULL, "../good", keys_dir, tmp_root, false, &si);
                tap_ok(r == -EINVAL, "suite with a slash is refused: %s", error_text(&err, r));
                error_done(&err);
        }

        test_signer_done(&good_key);
        test_signer_done(&unknown_key);
        test_signer_done(&extra_key);
        (void) rm_rf(tmp_root);
        free(tmp_root);
        free(mirror_dir);
        free(keys_dir);
        return tap_done();
}
