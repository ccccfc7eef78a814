/* SPDX-License-Identifier: GPL-2.0-or-later */
/* whonix-build rebuilderd-report: a published release for rebuilderd. */
#include "curl-util.h"
#include "json-writer.h"
#include "rebuilderd.h"
#include "sha256.h"
#include "sign.h"
#include "sums.h"

#define DISTRO "whonix"
#define ARCHITECTURE "amd64"

static char *url_of(const char *base, const char *name) {
        size_t n = strlen(base);

        while (n > 0 && base[n - 1] == '/')
                n--;
        return strdup_printf("%.*s/%s", (int) n, base, name);
}

int rebuilderd_report_format(ErrorSlot *err, const Buildinfo *bi, const char *buildinfo_sha256, const char *base_url,
                             char **ret_json) {
        _cleanup_free_ char *flavors = strv_join(bi->flavors, "-"), *name = NULL, *version = NULL, *input = NULL;
        JsonWriter w = JSON_WRITER_INIT(err);
        int r;

        if (!flavors)
                return -ENOMEM;
        name = strdup_printf(DISTRO "-%s-%s", bi->target, flavors);
        version = strdup_printf("%s+%.12s", bi->tool_version, buildinfo_sha256);
        input = url_of(base_url, BUILDINFO_NAME);
        if (!name || !version || !input)
                return -ENOMEM;
        json_writer_open_array(&w, NULL);
        json_writer_open_object(&w, NULL);
        json_writer_string(&w, "name", name);
        json_writer_string(&w, "version", version);
        json_writer_string(&w, "distro", DISTRO);
        json_writer_string(&w, "suite", bi->target);
        json_writer_string(&w, "architecture", ARCHITECTURE);
        json_writer_string(&w, "input_url", input);
        json_writer_open_array(&w, "artifacts");
        for (size_t i = 0; i < bi->n_artifacts; i++) {
                _cleanup_free_ char *url = url_of(base_url, bi->artifacts[i].name);

                if (!url) {
                        json_writer_done(&w);
                        return -ENOMEM;
                }
                json_writer_open_object(&w, NULL);
                json_writer_string(&w, "name", bi->artifacts[i].name);
                json_writer_string(&w, "version", version);
                json_writer_string(&w, "url", url);
                json_writer_close(&w);
        }
        json_writer_close(&w);
        json_writer_close(&w);
        json_writer_close(&w);
        r = json_writer_finish(&w, ret_json);
        json_writer_done(&w);
        return r;
}

static int download(ErrorSlot *err, const RebuilderdOptions *o, const char *dir, const char *name, uint64_t max) {
        _cleanup_free_ char *url = url_of(o->base_url, name), *dest = path_join(dir, name);

        if (!url || !dest)
                return -ENOMEM;
        return curl_download_file(err, url, o->proxy, dest, max, name);
}

/* Each artifact of the buildinfo, listed in SHA256SUMS with its SHA256. */
static int check_artifacts(ErrorSlot *err, const Buildinfo *bi, const SumsEntry *sums, size_t n) {
        for (size_t i = 0; i < bi->n_artifacts; i++) {
                const SumsEntry *e = sums_find(sums, n, bi->artifacts[i].name);

                if (!e)
                        return error_set(err, -EBADMSG, "'%s' of the buildinfo is not in " SUMS_NAME,
                                         bi->artifacts[i].name);
                if (!streq(e->sha256, bi->artifacts[i].sha256))
                        return error_set(err, -EBADMSG, "'%s': the buildinfo says sha256 %s, " SUMS_NAME " %s",
                                         bi->artifacts[i].name, bi->artifacts[i].sha256, e->sha256);
        }
        return 0;
}

static int check_signatures(ErrorSlot *err, const char *dir, const char *key_file) {
        _cleanup_(sign_report_freep) SignReport *rep = NULL;
        int r;

        r = sign_verify_names(err, dir, key_file, (char *[]) { (char *) BUILDINFO_NAME, NULL }, &rep);
        if (r < 0)
                return r;
        for (size_t i = 0; i < rep->n_verdicts; i++)
                if (rep->verdicts[i].r < 0)
                        return error_set(err, rep->verdicts[i].r, "'%s': %s", rep->verdicts[i].name,
                                         rep->verdicts[i].message);
        return 0;
}

int rebuilderd_report(ErrorSlot *err, const RebuilderdOptions *o, char **ret_json) {
        _cleanup_(buildinfo_freep) Buildinfo *bi = NULL;
        _cleanup_free_ char *dir = NULL, *info = NULL, *sha = NULL;
        SumsEntry *sums = NULL;
        size_t n = 0;
        int r;

        if (isempty(o->base_url))
                return -EINVAL;
        r = mkdtemp_in(NULL, "whonix-build-report", &dir);
        if (r < 0)
                return error_set_errno(err, r, "cannot create a temporary directory");
        info = path_join(dir, BUILDINFO_NAME);
        if (!info) {
                r = -ENOMEM;
                goto finish;
        }
        if ((r = download(err, o, dir, SUMS_NAME, SUMS_MAX)) < 0 ||
            (r = download(err, o, dir, BUILDINFO_NAME, BUILDINFO_SIZE_MAX)) < 0)
                goto finish;
        if (o->key_file) {
                if ((r = download(err, o, dir, SIGN_SUMS_SIG_NAME, SIGN_SIG_MAX)) < 0 ||
                    (r = download(err, o, dir, BUILDINFO_NAME ".asc", SIGN_SIG_MAX)) < 0 ||
                    (r = check_signatures(err, dir, o->key_file)) < 0)
                        goto finish;
        }
        if ((r = sign_read_sums(err, dir, &sums, &n)) < 0)
                goto finish;
        r = sha256_file(info, &sha);
        if (r < 0) {
                r = error_set_errno(err, r, "cannot read '%s'", info);
                goto finish;
        }
        const SumsEntry *listed = sums_find(sums, n, BUILDINFO_NAME);
        if (!listed || !streq(listed->sha256, sha)) {
                r = listed ? error_set(err, -EBADMSG, BUILDINFO_NAME " has sha256 %s, " SUMS_NAME " says %s", sha,
                                       listed->sha256)
                           : error_set(err, -EBADMSG, BUILDINFO_NAME " is not listed in " SUMS_NAME);
                goto finish;
        }
        if ((r = buildinfo_load(err, info, &bi)) < 0 || (r = check_artifacts(err, bi, sums, n)) < 0)
                goto finish;
        r = rebuilderd_report_format(err, bi, sha, o->base_url, ret_json);
finish:
        sums_entries_free(sums, n);
        (void) rm_rf(dir);
        return r < 0 ? r : 0;
}
