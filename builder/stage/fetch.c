/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "curl-util.h"
#include "fetch.h"
#include "gpgme-util.h"
#include "key-pins.h"
#include "log.h"
#include "sha256.h"

SourceInfo *source_info_free(SourceInfo *si) {
        if (!si)
                return NULL;
        free(si->mirror);
        free(si->suite);
        free(si->codename);
        free(si->inrelease_path);
        free(si->inrelease_sha256);
        free(si->signer_fingerprint);
        free(si->keyring_path);
        release_free(si->release);
        free(si);
        return NULL;
}

static int check_release(ErrorSlot *err, const char *url, const char *suite, const ReleaseFile *rel, bool pinned) {
        if (!streq_ptr(rel->suite, suite) && !streq_ptr(rel->codename, suite))
                return error_set(err, -EBADMSG, "'%s' is the Release file of suite '%s' (codename '%s'), not of '%s'",
                                 url, strempty(rel->suite), strempty(rel->codename), suite);

        /* A release's own InRelease, named by its hash, stays what it was
         * after its Valid-Until (a snapshot, a published mirror). */
        if (rel->valid_until && !pinned) {
                int64_t until;

                if (release_parse_date(rel->valid_until, &until) < 0)
                        return error_set(err, -EBADMSG, "'%s' has an invalid Valid-Until '%s'", url, rel->valid_until);
                if (until < (int64_t) time(NULL))
                        return error_set(err, -ESTALE, "'%s' has expired: valid until %s", url, rel->valid_until);
        }

        if (!release_find(rel, "main/binary-amd64/Packages.xz") && !release_find(rel, "main/binary-amd64/Packages"))
                return error_set(err, -EBADMSG, "'%s' lists no main/binary-amd64/Packages(.xz)", url);
        return 0;
}

#define NEWEST_FILE "newest-date"

/* Rollback and freeze: Debian's InRelease has no Valid-Until, so a mirror
 * could replay any older signed one, with the vulnerable packages it lists.
 * The cache remembers the newest Date it accepted per suite; an older one
 * is refused, as is one from the future (beyond FETCH_DATE_SKEW); an old
 * one is only warned about (the stable suite's InRelease changes only with
 * point releases). */
static int check_date(ErrorSlot *err, const char *url, const ReleaseFile *rel, const char *dir, bool pinned,
                      int64_t *ret_newest) {
        _cleanup_free_ char *path = path_join(dir, NEWEST_FILE), *text = NULL;
        int64_t date, newest = 0, now = (int64_t) time(NULL);
        size_t size;
        int r;

        if (!path)
                return -ENOMEM;
        if (!rel->date || release_parse_date(rel->date, &date) < 0)
                return error_set(err, -EBADMSG, "'%s' has no valid Date", url);
        *ret_newest = date;
        if (pinned)
                return 0;  /* a rebuild of a release names its InRelease by hash */
        if (date > now + FETCH_DATE_SKEW)
                return error_set(err, -EBADMSG,
                                 "'%s' is dated %s, %" PRId64 " s in the future by this machine's clock: "
                                 "refused; check the clock",
                                 url, rel->date, date - now);
        r = read_full_file(path, 64, &text, &size);
        if (r < 0 && r != -ENOENT)
                return error_set_errno(err, r, "cannot read '%s'", path);
        if (r >= 0 && (sscanf(text, "%" SCNd64, &newest) != 1 || newest < 0))
                return error_set(err, -EBADMSG, "'%s' is not a date (seconds since 1970)", path);
        if (date < newest)
                return error_set(err, -ESTALE,
                                 "'%s' is dated %s, older than the InRelease this cache already accepted for the "
                                 "suite (%" PRId64 " s newer): the mirror may replay an old archive; refused (to go "
                                 "back on purpose, remove '%s')",
                                 url, rel->date, newest - date, path);
        if (now - date > FETCH_MAX_AGE)
                log_warning("'%s' is dated %s, %" PRId64 " days ago: is the mirror up to date?", url, rel->date,
                            (now - date) / 86400);
        *ret_newest = date > newest ? date : newest;
        return 0;
}

/* The fingerprints keys_dir/suites allows to sign suite (what names
 * what is being checked, for the message). */
static int suite_key_pins(ErrorSlot *err, const char *keys_dir, const char *suite, const char *what, char ***ret) {
        _cleanup_free_ char *pins_path = path_join(keys_dir, KEY_PINS_FILE), *pins_text = NULL;
        _cleanup_(key_pins_freep) KeyPins *pins = NULL;
        char * const *suite_pins;
        size_t pins_size;
        int r;

        if (!pins_path)
                return -ENOMEM;
        r = read_full_file(pins_path, KEY_PINS_MAX_SIZE, &pins_text, &pins_size);
        if (r == -EFBIG)
                return error_set(err, r, "%s: file is larger than 64 KiB", pins_path);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '%s', which says which keys may sign which suite",
                                       pins_path);
        r = key_pins_parse(err, pins_path, pins_text, pins_size, &pins);
        if (r < 0)
                return r;
        suite_pins = key_pins_for(pins, suite);
        if (!suite_pins)
                return error_set(err, -ENOKEY,
                                 "cannot check '%s': %s pins no key for suite '%s' (add a line 'SUITE "
                                 "FINGERPRINT...')",
                                 what, pins_path, suite);
        *ret = strv_copy(suite_pins);
        return *ret ? 0 : -ENOMEM;
}

int inrelease_check(ErrorSlot *err, const char *what, const char *data, size_t size, const char *suite,
                    const char *keys_dir, bool pinned, ReleaseFile **ret_release, char **ret_signer) {
        _cleanup_(release_freep) ReleaseFile *rel = NULL;
        _cleanup_strv_free_ char **suite_pins = NULL;
        _cleanup_free_ char *plain = NULL, *signer = NULL;
        size_t plain_size;
        int r;

        /* Only the keys keys/suites pins for this suite count. */
        r = suite_key_pins(err, keys_dir, suite, what, &suite_pins);
        if (r < 0)
                return r;
        r = gpgme_verify_clearsigned_pinned(err, keys_dir, suite_pins, data, size, &plain, &plain_size, &signer);
        if (r < 0)
                return error_prefix(err, r, "signature check of '%s' failed", what);
        log_debug("fetch: %s is signed by %s", what, signer);

        r = release_parse(err, plain, plain_size, &rel);
        if (r < 0)
                return error_prefix(err, r, "'%s'", what);
        r = check_release(err, what, suite, rel, pinned);
        if (r < 0)
                return r;
        *ret_release = TAKE_PTR(rel);
        *ret_signer = TAKE_PTR(signer);
        return 0;
}

int fetch_sources(ErrorSlot *err, const char *mirror, const char *proxy, const char *suite, const char *keys_dir, const char *cache_dir,
                  bool pinned, SourceInfo **ret) {
        _cleanup_(source_info_freep) SourceInfo *si = NULL;
        _cleanup_free_ char *url = NULL, *data = NULL, *sources_dir = NULL, *dir = NULL;
        _cleanup_free_ char *newest_path = NULL, *newest_text = NULL;
        _cleanup_strv_free_ char **suite_pins = NULL;
        size_t size, n;
        int64_t newest = 0;
        int r;

        if (!name_is_plain(suite))
                return error_set(err, -EINVAL, "invalid suite name '%s'", suite);
        n = strlen(mirror);
        while (n > 0 && mirror[n - 1] == '/')
                n--;
        if (n == 0)
                return error_set(err, -EINVAL, "invalid mirror URL '%s'", mirror);

        si = calloc(1, sizeof(SourceInfo));
        if (!si)
                return -ENOMEM;
        si->mirror = strndup(mirror, n);
        si->suite = strdup(suite);
        if (!si->mirror || !si->suite)
                return -ENOMEM;

        url = strdup_printf("%s/dists/%s/InRelease", si->mirror, suite);
        if (!url)
                return -ENOMEM;
        r = curl_download_memory(err, url, proxy, RELEASE_SIZE_MAX, &data, &size);
        if (r < 0)
                return r;
        si->inrelease_sha256 = sha256_hex(data, size);
        if (!si->inrelease_sha256)
                return -ENOMEM;

        r = inrelease_check(err, url, data, size, suite, keys_dir, pinned, &si->release, &si->signer_fingerprint);
        if (r < 0)
                return r;

        si->codename = strdup(si->release->codename ?: suite);
        if (!si->codename)
                return -ENOMEM;

        /* Everything checks out; only now touch the cache. */
        sources_dir = path_join(cache_dir, "sources");
        if (!sources_dir)
                return -ENOMEM;
        dir = path_join(sources_dir, name_is_plain(si->codename) ? si->codename : suite);
        si->inrelease_path = dir ? path_join(dir, "InRelease") : NULL;
        si->keyring_path = path_join(sources_dir, "keyring.gpg");
        if (!si->inrelease_path || !si->keyring_path)
                return -ENOMEM;
        r = check_date(err, url, si->release, dir, pinned, &newest);
        if (r < 0)
                return r;

        r = mkdir_p(dir, 0755);
        if (r < 0)
                return error_set_errno(err, r, "failed to create '%s'", dir);
        r = write_file_atomic(si->inrelease_path, data, size, 0644);
        if (r < 0)
                return error_set_errno(err, r, "failed to write '%s'", si->inrelease_path);
        if (!pinned) {
                newest_path = path_join(dir, NEWEST_FILE);
                newest_text = strdup_printf("%" PRId64 "\n", newest);
                if (!newest_path || !newest_text)
                        return -ENOMEM;
                r = write_file_atomic(newest_path, newest_text, strlen(newest_text), 0644);
                if (r < 0)
                        return error_set_errno(err, r, "failed to write '%s'", newest_path);
        }
        r = suite_key_pins(err, keys_dir, suite, url, &suite_pins);
        if (r < 0)
                return r;
        r = gpgme_export_keyring(err, keys_dir, suite_pins, si->keyring_path);
        if (r < 0)
                return r;

        log_debug("fetch: %s (%s) verified, %zu index files, InRelease sha256 %s", suite, si->codename,
                  si->release->n_entries, si->inrelease_sha256);
        *ret = TAKE_PTR(si);
        return 0;
}
