/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * whonix-build sources against a fake archive: a temporary directory with a
 * clearsigned InRelease (throwaway key), xz and gzip Packages indexes of two
 * components (one only by hash, as a mirror keeps an index that changed) and
 * a pool, served as file://.  A buildinfo pins three of its packages, and a
 * tool from the archive: debootstrap, a real .deb (ar, data.tar.gz).  Then
 * the pinned debootstrap of a build (debootstrap-pin.h) from the same
 * archive: found in the signed index, fetched, unpacked, kept for offline.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "archive-util.h"
#include "debootstrap-pin.h"
#include "fetch.h"
#include "gpg-test-util.h"
#include "log.h"
#include "sha256.h"
#include "sources.h"
#include "tap.h"

static char *root, *mirror, *data_dir;
static TestSigner key;

typedef struct Deb {
        const char *name, *version, *arch, *component, *content;
        size_t size; /* of content; 0: strlen */
        bool pinned;
        char sha[65];
        char *filename;
} Deb;

static Deb debs[] = {
        { .name = "aa", .version = "1.0-1", .arch = "amd64", .component = "main", .content = "the aa package", .pinned = true },
        { .name = "bb", .version = "2:2.0", .arch = "all", .component = "main", .content = "bb, architecture all, an epoch", .pinned = true },
        { .name = "dd", .version = "4", .arch = "amd64", .component = "main", .content = "in the index, not pinned: never fetched" },
        { .name = "cc", .version = "3", .arch = "amd64", .component = "contrib", .content = "cc from contrib", .pinned = true },
        /* content: a real .deb, made by make_deb(). */
        { .name = "debootstrap", .version = "1.0.141", .arch = "all", .component = "main" },
};
#define DEBOOTSTRAP 4

static size_t deb_size(const Deb *d) {
        return d->size ?: strlen(d->content);
}

/* One archive member (or tar entry) of n bytes. */
static int add_member(struct archive *a, const char *name, mode_t mode, const void *p, size_t n) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();

        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, mode);
        archive_entry_set_size(e, (la_int64_t) n);
        if (archive_write_header(a, e) != ARCHIVE_OK || archive_write_data(a, p, n) != (la_ssize_t) n)
                return -EIO;
        return 0;
}

/* A Debian package of debootstrap's shape: debian-binary, control.tar.gz,
 * data.tar.gz with its program and its functions. */
static int make_deb(char **ret, size_t *ret_size) {
        static char data[1u << 16], deb[1u << 17];
        size_t data_n = 0, deb_n = 0;
        int r;
        {
                _cleanup_(archive_write_freep) struct archive *t = archive_write_new();
                if (!t || archive_write_set_format_ustar(t) != ARCHIVE_OK || archive_write_add_filter_gzip(t) != ARCHIVE_OK ||
                    archive_write_open_memory(t, data, sizeof data, &data_n) != ARCHIVE_OK)
                        return -EIO;
                if ((r = add_member(t, "./usr/sbin/debootstrap", 0755, "#!/bin/sh\necho pinned\n", 22)) < 0 ||
                    (r = add_member(t, "./usr/share/debootstrap/functions", 0644, "# functions\n", 12)) < 0)
                        return r;
                if (archive_write_close(t) != ARCHIVE_OK)
                        return -EIO;
        }
        {
                _cleanup_(archive_write_freep) struct archive *a = archive_write_new();
                if (!a || archive_write_set_format_ar_svr4(a) != ARCHIVE_OK ||
                    archive_write_open_memory(a, deb, sizeof deb, &deb_n) != ARCHIVE_OK)
                        return -EIO;
                if ((r = add_member(a, "debian-binary", 0644, "2.0\n", 4)) < 0 ||
                    (r = add_member(a, "control.tar.gz", 0644, "not read", 8)) < 0 ||
                    (r = add_member(a, "data.tar.gz", 0644, data, data_n)) < 0)
                        return r;
                if (archive_write_close(a) != ARCHIVE_OK)
                        return -EIO;
        }
        *ret = malloc(deb_n);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, deb, deb_n);
        *ret_size = deb_n;
        return 0;
}

static char *in(const char *dir, const char *rel) {
        return path_join(dir, rel);
}

static int write_at(const char *dir, const char *rel, const void *p, size_t n) {
        _cleanup_free_ char *path = in(dir, rel), *parent = NULL;
        int r;

        if (!path || !(parent = strdup(path)))
                return -ENOMEM;
        *strrchr(parent, '/') = 0;
        r = mkdir_p(parent, 0755);
        return r < 0 ? r : write_file_atomic(path, p, n, 0644);
}

static int compress_to(const char *path, const char *text, bool xz) {
        _cleanup_(archive_write_freep) struct archive *a = archive_write_new();
        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();

        if (!a || !e)
                return -ENOMEM;
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_pathname(e, "Packages");
        if ((xz ? archive_write_add_filter_xz(a) : archive_write_add_filter_gzip(a)) != ARCHIVE_OK ||
            archive_write_set_format_raw(a) != ARCHIVE_OK || archive_write_open_filename(a, path) != ARCHIVE_OK ||
            archive_write_header(a, e) != ARCHIVE_OK ||
            archive_write_data(a, text, strlen(text)) != (la_ssize_t) strlen(text) || archive_write_close(a) != ARCHIVE_OK)
                return -EIO;
        return 0;
}

/* One Release line for the file at rel under dists/trixie. */
static int release_line(FILE *f, const char *rel) {
        _cleanup_free_ char *path = NULL, *hex = NULL, *dists = in(mirror, "dists/trixie");
        struct stat st;
        int r;

        path = dists ? in(dists, rel) : NULL;
        if (!path)
                return -ENOMEM;
        if (stat(path, &st) < 0)
                return -errno;
        r = sha256_file(path, &hex);
        if (r < 0)
                return r;
        fprintf(f, " %s %lld %s\n", hex, (long long) st.st_size, rel);
        return 0;
}

/* The archive, signed; *ret_sha the InRelease's SHA256.  extra changes the
 * Release text (a later archive). */
static int make_archive(const char *extra, char **ret_sha) {
        _cleanup_free_ char *main_text = NULL, *contrib_text = NULL, *release = NULL, *signed_text = NULL;
        size_t ms = 0, cs = 0, rs = 0, size;
        FILE *mf = open_memstream(&main_text, &ms), *cf = open_memstream(&contrib_text, &cs);
        int r;

        if (!mf || !cf)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(debs); i++) {
                Deb *d = &debs[i];
                _cleanup_free_ char *hex = sha256_hex(d->content, deb_size(d));
                const char *v = strchr(d->version, ':') ? strchr(d->version, ':') + 1 : d->version;

                free(d->filename);
                d->filename = strdup_printf("pool/%s/%c/%s/%s_%s_%s.deb", d->component, d->name[0], d->name, d->name,
                                            v, d->arch);
                if (!hex || !d->filename)
                        return -ENOMEM;
                memcpy(d->sha, hex, 65);
                r = write_at(mirror, d->filename, d->content, deb_size(d));
                if (r < 0)
                        return r;
                fprintf(streq(d->component, "main") ? mf : cf,
                        "Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Someone <a@example.org>\n"
                        "Filename: %s\nSize: %zu\nSHA256: %s\nDescription: test\n continued\n\n",
                        d->name, d->version, d->arch, d->filename, deb_size(d), d->sha);
        }
        fclose(mf);
        fclose(cf);

        _cleanup_free_ char *main_xz = in(mirror, "dists/trixie/main/binary-amd64/Packages.xz"),
                            *main_gz = in(mirror, "dists/trixie/main/binary-amd64/Packages.gz"),
                            *contrib_xz = in(mirror, "dists/trixie/contrib/binary-amd64/Packages.xz");
        if (!main_xz || !main_gz || !contrib_xz)
                return -ENOMEM;
        if ((r = write_at(mirror, "dists/trixie/main/binary-amd64/.keep", "", 0)) < 0 ||
            (r = write_at(mirror, "dists/trixie/contrib/binary-amd64/.keep", "", 0)) < 0 ||
            (r = compress_to(main_xz, main_text, true)) < 0 || (r = compress_to(main_gz, main_text, false)) < 0 ||
            (r = compress_to(contrib_xz, contrib_text, true)) < 0)
                return r;

        FILE *f = open_memstream(&release, &rs);
        if (!f)
                return -ENOMEM;
        fprintf(f, "Origin: Debian\nLabel: Debian\nSuite: stable\nCodename: trixie\nDate: Sat, 09 Aug 2025 10:00:00 UTC\n"
                   "Acquire-By-Hash: yes\nArchitectures: amd64 i386\nComponents: main contrib\n%sSHA256:\n",
                extra);
        if ((r = release_line(f, "main/binary-amd64/Packages.xz")) < 0 ||
            (r = release_line(f, "main/binary-amd64/Packages.gz")) < 0 ||
            (r = release_line(f, "contrib/binary-amd64/Packages.xz")) < 0) {
                fclose(f);
                return r;
        }
        /* Listed, never served: another architecture's index, and
         * Contents; neither may be fetched. */
        fprintf(f, " %s 10 main/binary-i386/Packages.xz\n %s 20 main/Contents-amd64.gz\n", debs[0].sha, debs[1].sha);
        fclose(f);

        /* The contrib index only by hash (the mirror has a newer one by
         * name): it must be fetched by hash. */
        _cleanup_free_ char *hex = NULL, *by_hash = NULL, *by_hash_dir = in(mirror, "dists/trixie/contrib/binary-amd64/by-hash/SHA256");
        if ((r = sha256_file(contrib_xz, &hex)) < 0 || !by_hash_dir || mkdir_p(by_hash_dir, 0755) < 0 ||
            !(by_hash = in(by_hash_dir, hex)) || rename(contrib_xz, by_hash) < 0 ||
            (r = write_file_atomic(contrib_xz, "newer", 5, 0644)) < 0)
                return r < 0 ? r : -EIO;

        r = test_signer_clearsign(&key, release, &signed_text, &size);
        if (r < 0)
                return r;
        r = write_at(mirror, "dists/trixie/InRelease", signed_text, size);
        if (r < 0)
                return r;
        *ret_sha = sha256_hex(signed_text, size);
        return *ret_sha ? 0 : -ENOMEM;
}

static char *buildinfo_text(const char *inrelease_sha, const char *extra_pkg) {
        _cleanup_free_ char *pk = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&pk, &n);

        if (!f)
                return NULL;
        /* gateway: aa, bb; workstation: bb, cc (sorted by name). */
        fprintf(f, "Packages-gateway:\n %s %s %s %s %zu\n %s %s %s %s %zu\n", debs[0].name, debs[0].version,
                debs[0].arch, debs[0].sha, strlen(debs[0].content), debs[1].name, debs[1].version, debs[1].arch,
                debs[1].sha, strlen(debs[1].content));
        fprintf(f, "Packages-workstation:\n %s %s %s %s %zu\n %s %s %s %s %zu\n%s", debs[1].name, debs[1].version,
                debs[1].arch, debs[1].sha, strlen(debs[1].content), debs[3].name, debs[3].version, debs[3].arch,
                debs[3].sha, strlen(debs[3].content), extra_pkg ?: "");
        fclose(f);
        return strdup_printf("Format: whonix-buildinfo 2\nTool-Version: 0.1.0\nTool-Commit: 3149ed09a953\n"
                             "Recipe-Tree-SHA256: %s\nTarget: kvm\nFlavors: gateway workstation\nSuite: trixie\n"
                             "Mirror: file://%s\nInRelease-SHA256: %s\nInRelease-Signer: %s\nSource-Date-Epoch: 1\n"
                             "Seed: whonix-build\nTools:\n debootstrap %s archive\n zlib 1.2.13 host\n"
                             "%sArtifacts:\n %s 10 Whonix-Gateway.qcow2\n",
                             debs[0].sha, mirror, inrelease_sha, key.fpr, debs[DEBOOTSTRAP].version, pk, debs[0].sha);
}

static bool file_is_n(const char *dir, const char *rel, const char *content, size_t size) {
        _cleanup_free_ char *path = in(dir, rel), *text = NULL;
        size_t n;

        return path && read_full_file(path, 1u << 20, &text, &n) == 0 && n == size && memcmp(text, content, n) == 0;
}

static bool file_is(const char *dir, const char *rel, const char *content) {
        return file_is_n(dir, rel, content, strlen(content));
}

static bool exists(const char *dir, const char *rel) {
        _cleanup_free_ char *path = in(dir, rel);
        return path && access(path, F_OK) == 0;
}

int main(void) {
        _cleanup_free_ char *sha = NULL, *info = NULL, *info_path = NULL, *out = NULL, *keys = NULL, *asc = NULL,
                            *pins = NULL, *pins_text = NULL, *cache = NULL;
        ErrorSlot err = {};
        int r;

        tap_plan_lazy();
        log_set_max_level(LOG_ERR);
        r = mkdtemp_in(NULL, "test-sources", &root);
        tap_ok(r == 0, "a temporary directory");
        if (r < 0)
                return tap_done();
        mirror = in(root, "mirror");
        data_dir = in(root, "data");
        out = in(root, "out");
        cache = in(root, "cache");
        keys = data_dir ? in(data_dir, "keys") : NULL;
        asc = keys ? in(keys, "archive.asc") : NULL;
        pins = keys ? in(keys, "suites") : NULL;
        info_path = in(root, "whonix.buildinfo");
        if (!asc || !pins || !out || !cache || !info_path || mkdir_p(keys, 0755) < 0) {
                tap_ok(false, "the test's paths");
                return tap_done();
        }
        r = test_signer_new(&key, "Test Archive <archive@example.org>", 0);
        if (r == 0)
                r = test_signer_export(&key, asc);
        pins_text = key.fpr ? strdup_printf("trixie %s\n", key.fpr) : NULL;
        if (r == 0)
                r = pins_text ? write_file_atomic(pins, pins_text, strlen(pins_text), 0644) : -ENOMEM;
        _cleanup_free_ char *deb = NULL;
        if (r == 0 && (r = make_deb(&deb, &debs[DEBOOTSTRAP].size)) == 0)
                debs[DEBOOTSTRAP].content = deb;
        if (r == 0)
                r = make_archive("", &sha);
        info = sha ? buildinfo_text(sha, NULL) : NULL;
        if (r == 0)
                r = info ? write_file_atomic(info_path, info, strlen(info), 0644) : -ENOMEM;
        tap_ok(r == 0, "a fake archive (main, contrib; xz and gzip; one index only by hash), signed; a buildinfo pinning 3 of its packages and its debootstrap (r=%d)", r);
        if (r < 0)
                goto done;

        SourcesOptions o = { .buildinfo_path = info_path, .output_dir = out, .data_dir = data_dir };
        SourcesReport rep = {};

        r = sources_write(&err, &o, &rep);
        tap_ok(r == 0 && rep.n_packages == 4 && rep.n_indexes == 3 && rep.n_downloaded == 7,
               "sources: 3 packages and debootstrap, 3 index files, all downloaded (r=%d, %zu, %zu, %zu; %s)", r, rep.n_packages,
               rep.n_indexes, rep.n_downloaded, strempty(err.message));
        error_clear(&err);
        tap_ok(file_is(out, debs[0].filename, debs[0].content) && file_is(out, debs[1].filename, debs[1].content) &&
                       file_is(out, debs[3].filename, debs[3].content),
               "every pinned .deb at its index's Filename, with its bytes");
        tap_ok(file_is_n(out, debs[DEBOOTSTRAP].filename, debs[DEBOOTSTRAP].content, debs[DEBOOTSTRAP].size),
               "the tool the build took from the archive (debootstrap) is published too");
        tap_ok(!exists(out, debs[2].filename), "a package in the index but not pinned is not in the mirror");
        tap_ok(file_is(out, "whonix.buildinfo", info), "the buildinfo beside them");
        {
                _cleanup_free_ char *a = in(mirror, "dists/trixie/InRelease"), *b = in(out, "dists/trixie/InRelease"),
                                    *ha = NULL, *hb = NULL;
                tap_ok(a && b && sha256_file(a, &ha) == 0 && sha256_file(b, &hb) == 0 && streq(ha, hb) && streq(hb, sha),
                       "the pinned InRelease, byte for byte");
        }
        {
                _cleanup_free_ char *xz = in(out, "dists/trixie/main/binary-amd64/Packages.xz"), *hex = NULL,
                                    *by = NULL;
                struct stat a, b;
                if (xz && sha256_file(xz, &hex) == 0)
                        by = strdup_printf("%s/dists/trixie/main/binary-amd64/by-hash/SHA256/%s", out, hex);
                tap_ok(by && stat(xz, &a) == 0 && stat(by, &b) == 0 && a.st_ino == b.st_ino,
                       "each index also by hash, where apt asks for it");
        }
        tap_ok(exists(out, "dists/trixie/contrib/binary-amd64/Packages.xz") &&
                       !file_is(out, "dists/trixie/contrib/binary-amd64/Packages.xz", "newer"),
               "the index the mirror keeps only by hash was fetched by hash, not the newer one by name");
        tap_ok(!exists(out, "dists/trixie/main/binary-i386") && !exists(out, "dists/trixie/main/Contents-amd64.gz"),
               "no other architecture's index, no Contents");
        sources_report_done(&rep);

        r = sources_write(&err, &o, &rep);
        tap_ok(r == 0 && rep.n_downloaded == 0 && rep.n_packages == 4,
               "run again: everything is there and checked, nothing downloaded (r=%d, %zu)", r, rep.n_downloaded);
        error_clear(&err);
        sources_report_done(&rep);

        /* The pinned debootstrap of a build from this archive. */
        {
                _cleanup_(source_info_freep) SourceInfo *si = NULL;
                _cleanup_(debootstrap_pin_done) DebootstrapPin pin = {}, again = {};
                _cleanup_free_ char *pcache = in(root, "pin-cache"), *url = strdup_printf("file://%s", mirror),
                                    *pin_file = NULL, *moved = in(root, "mirror-away"), *tar = NULL;
                size_t n = 0;

                r = pcache && url ? fetch_sources(&err, url, NULL, "trixie", keys, pcache, true, &si) : -ENOMEM;
                r = r < 0 ? r : debootstrap_pin(&err, si, "amd64", NULL, pcache, &pin);
                tap_ok(r == 0 && streq_ptr(pin.version, "1.0.141") && streq(pin.sha256, debs[DEBOOTSTRAP].sha) &&
                               streq_ptr(pin.filename, debs[DEBOOTSTRAP].filename),
                       "debootstrap pinned: the version, .deb and pool path the signed index gives (r=%d %s)", r,
                       strempty(err.message));
                error_clear(&err);
                r = pin.tar_path ? read_full_file(pin.tar_path, 1u << 20, &tar, &n) : -ENOENT;
                tap_ok(r == 0 && n % 512 == 0 && memmem(tar, n, "usr/sbin/debootstrap", 20) &&
                               memmem(tar, n, "echo pinned", 11) && memmem(tar, n, "usr/share/debootstrap/functions", 31),
                       "its files, unpacked from the .deb's data.tar.gz into a plain tar (%zu bytes)", n);
                pin_file = si ? strdup_printf("%s/tools/debootstrap/%s.pin", pcache, si->inrelease_sha256) : NULL;
                tap_ok(pin_file && access(pin_file, F_OK) == 0, "the pin is kept per InRelease");
                /* Offline: the mirror gone, the cache has all it needs. */
                r = moved && rename(mirror, moved) == 0 ? debootstrap_pin(&err, si, "amd64", NULL, pcache, &again) : -EIO;
                tap_ok(r == 0 && streq(again.sha256, pin.sha256), "again with the mirror gone: from the cache (r=%d %s)",
                       r, strempty(err.message));
                error_clear(&err);
                debootstrap_pin_done(&again);
                /* A cached .deb changed: fetched again, and the mirror is gone. */
                _cleanup_free_ char *cached_deb = strdup_printf("%s/tools/debootstrap/%s.deb", pcache, pin.sha256);
                r = cached_deb ? write_file_atomic(cached_deb, "changed", 7, 0644) : -ENOMEM;
                r = r < 0 ? r : debootstrap_pin(&err, si, "amd64", NULL, pcache, &again);
                tap_ok(r < 0 && strstr(strempty(err.message), debs[DEBOOTSTRAP].filename),
                       "a changed cached .deb is not used: fetched again, which fails offline, naming it (%s)",
                       strempty(err.message));
                error_clear(&err);
                debootstrap_pin_done(&again);
                if (moved)
                        (void) rename(moved, mirror);
                r = debootstrap_pin(&err, si, "amd64", NULL, pcache, &again);
                tap_ok(r == 0 && access(pin.tar_path, F_OK) == 0, "with the mirror back: fetched and unpacked again (%s)",
                       strempty(err.message));
                error_clear(&err);
                /* An archive with no debootstrap for the architecture. */
                (void) unlink(pin_file);
                debootstrap_pin_done(&again);
                r = debootstrap_pin(&err, si, "i386", NULL, pcache, &again);
                tap_ok(r == -ENOENT && strstr(strempty(err.message), "main/binary-i386"),
                       "an architecture the InRelease has no index for: refused, naming it (%s)", strempty(err.message));
                error_clear(&err);
        }

        /* One .deb changed on the mirror: refused, naming it. */
        {
                _cleanup_free_ char *mine = in(out, debs[3].filename);
                (void) unlink(mine);
                r = write_at(mirror, debs[3].filename, "cc, changed", 11);
                r = r < 0 ? r : sources_write(&err, &o, &rep);
                _cleanup_free_ char *part = mine ? strdup_printf("%s.part", mine) : NULL;
                tap_ok(r == -EBADMSG && strstr(strempty(err.message), "is not cc 3 (amd64)") &&
                               strstr(strempty(err.message), debs[3].sha) && !exists("/", mine + 1) &&
                               part && access(part, F_OK) < 0,
                       "a changed .deb on the mirror is refused, named with its pinned SHA256, and not kept (%s)",
                       strempty(err.message));
                error_clear(&err);
                sources_report_done(&rep);
                (void) write_at(mirror, debs[3].filename, debs[3].content, strlen(debs[3].content));
        }

        /* A pinned package no index lists. */
        {
                _cleanup_free_ char *extra = strdup_printf(" zz 1 amd64 %s 5\n", debs[0].sha),
                                    *text = extra ? buildinfo_text(sha, extra) : NULL,
                                    *p = in(root, "extra.buildinfo");
                SourcesOptions x = o;
                x.buildinfo_path = p;
                r = text && p ? write_file_atomic(p, text, strlen(text), 0644) : -ENOMEM;
                r = r < 0 ? r : sources_write(&err, &x, &rep);
                tap_ok(r == -ENOENT && strstr(strempty(err.message), "'zz' 1 (amd64), pinned by the buildinfo, is in no index"),
                       "a pinned package that no index lists is refused (%s)", strempty(err.message));
                error_clear(&err);
                sources_report_done(&rep);
        }

        /* The archive moves on: its InRelease is no longer the pinned one. */
        _cleanup_free_ char *sha2 = NULL;
        r = make_archive("Version: 13.99\n", &sha2);
        r = r < 0 ? r : sources_write(&err, &o, &rep);
        tap_ok(r == -ESTALE && strstr(strempty(err.message), "the archive has moved on"),
               "a mirror whose InRelease is not the pinned one: refused, saying why (%s)", strempty(err.message));
        error_clear(&err);
        sources_report_done(&rep);

        /* ... but the cache kept the pinned one. */
        {
                _cleanup_free_ char *old = in(out, "dists/trixie/InRelease"), *text = NULL, *cached = in(cache, "sources/trixie/InRelease");
                size_t n;
                r = old && cached && read_full_file(old, 1u << 20, &text, &n) == 0 ? 0 : -EIO;
                r = r < 0 ? r : write_at(cache, "sources/trixie/InRelease", text, n);
                o.cache_dir = cache;
                r = r < 0 ? r : sources_write(&err, &o, &rep);
                tap_ok(r == 0 && streq_ptr(rep.inrelease_from, cached),
                       "the pinned InRelease from the cache, when the mirror has moved on (r=%d, from %s; %s)", r,
                       strempty(rep.inrelease_from), strempty(err.message));
                error_clear(&err);
                sources_report_done(&rep);
        }

        /* A cached InRelease changed by one byte is not taken for it. */
        {
                _cleanup_free_ char *cached = in(cache, "sources/trixie/InRelease"), *text = NULL;
                size_t n;
                r = cached && read_full_file(cached, 1u << 20, &text, &n) == 0 ? 0 : -EIO;
                if (r == 0) {
                        char *c = strstr(text, "Label: Debian");
                        if (c)
                                c[7] = 'd';
                        r = write_file_atomic(cached, text, n, 0644);
                }
                r = r < 0 ? r : sources_write(&err, &o, &rep);
                tap_ok(r == -ESTALE, "a cached InRelease that is not the pinned one is not used (r=%d %s)", r,
                       strempty(err.message));
                error_clear(&err);
                sources_report_done(&rep);
        }

done:
        test_signer_done(&key);
        for (size_t i = 0; i < ELEMENTSOF(debs); i++)
                free(debs[i].filename);
        (void) rm_rf(root);
        free(root);
        free(mirror);
        free(data_dir);
        return tap_done();
}
