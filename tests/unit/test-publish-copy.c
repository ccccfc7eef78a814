/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The export's copy of a cached image into the release (stage/publish-copy.c):
 * copied and hashed in one read; kept, with no byte written, when the
 * release holds the same bytes; copied when what is there differs, is no
 * regular file, or is not there. */
#include <sys/stat.h>
#include <unistd.h>

#include "publish-copy.h"
#include "tap.h"
#include "util.h"

static char *dir;

static char *path(const char *name) {
        return path_join(dir, name);
}

static char *fill(const char *name, size_t size, uint32_t seed) {
        _cleanup_free_ char *data = malloc(size ? size : 1);
        char *p = path(name);

        if (!data || !p)
                return NULL;
        for (size_t i = 0; i < size; i++) {
                seed = seed * 1103515245u + 12345u;
                data[i] = (char) (seed >> 16);
        }
        if (write_file_atomic(p, data, size, 0644) < 0) {
                free(p);
                return NULL;
        }
        return p;
}

static ino_t inode(const char *p) {
        struct stat st;
        return stat(p, &st) == 0 ? st.st_ino : 0;
}

int main(void) {
        ErrorSlot err = {};
        char sha[SHA256_HEX_SIZE];
        bool kept = true;
        int r;

        tap_plan_lazy();
        if (mkdtemp_in(NULL, "test-publish-copy", &dir) < 0) {
                tap_ok(false, "a temporary directory");
                return tap_done();
        }
        /* 3 MiB and a bit: several chunks and a partial last one. */
        _cleanup_free_ char *from = fill("cached", 3 * 1048576 + 4321, 7), *want = NULL;
        _cleanup_free_ char *d1 = path("d1"), *out = path("out"), *d2 = path("d2"), *d3 = path("d3"), *d4 = path("d4"),
                            *d5 = path("d5"), *link_to = path("link");
        r = from ? sha256_file(from, &want) : -ENOMEM;
        tap_ok(r == 0, "a cached image of 3 MiB and a bit");

        r = publish_copy(&err, from, out, d1, 0640, sha, &kept);
        tap_ok(r == 0 && !kept && streq(sha, want), "nothing in the release: copied, its digest the file's (%s)",
               r < 0 ? err.message : sha);
        {
                _cleanup_free_ char *got = NULL;
                struct stat st;
                tap_ok(sha256_file(d1, &got) == 0 && streq(got, want) && stat(d1, &st) == 0 &&
                               (st.st_mode & 07777) == 0640,
                       "... the copy holds the bytes, with the mode asked for");
        }
        tap_ok(rename(d1, out) == 0, "published");

        r = publish_copy(&err, from, out, d2, 0644, sha, &kept);
        tap_ok(r == 0 && kept && streq(sha, want) && inode(d2) == inode(out),
               "the same bytes in the release: kept (a link to it, nothing written), the same digest");

        {
                _cleanup_free_ char *other = fill("other", 3 * 1048576 + 4321, 8), *got = NULL;
                tap_ok(other && rename(other, out) == 0, "the release's file replaced by other bytes of the same size");
                r = publish_copy(&err, from, out, d3, 0644, sha, &kept);
                tap_ok(r == 0 && !kept && streq(sha, want) && inode(d3) != inode(out) && sha256_file(d3, &got) == 0 &&
                               streq(got, want),
                       "... then copied: the cached bytes, their digest");
        }
        {
                /* One byte changed at the very end. */
                _cleanup_free_ char *near = NULL;
                FILE *f;
                int c = -1;
                tap_ok(rename(d3, out) == 0 && (f = fopen(out, "r+")) && fseek(f, -1, SEEK_END) == 0 &&
                               (c = fgetc(f)) != EOF && fseek(f, -1, SEEK_END) == 0 && fputc(c ^ 0x55, f) != EOF &&
                               fclose(f) == 0,
                       "the release's file differs from the cached one in its last byte");
                r = publish_copy(&err, from, out, d4, 0644, sha, &kept);
                tap_ok(r == 0 && !kept && streq(sha, want) && sha256_file(d4, &near) == 0 && streq(near, want),
                       "... then copied");
        }
        tap_ok(unlink(out) == 0 && symlink(from, out) == 0, "the release's name a symbolic link to the cached file");
        r = publish_copy(&err, from, out, d5, 0644, sha, &kept);
        tap_ok(r == 0 && !kept && streq(sha, want) && inode(d5) != inode(from), "... then copied, not followed");

        r = publish_copy(&err, from, NULL, d5, 0644, sha, &kept);
        tap_ok(r < 0 && err.message && strstr(err.message, "cannot copy"), "a destination that exists: refused (%s)",
               strempty(err.message));
        error_clear(&err);
        r = publish_copy(&err, link_to, NULL, d1, 0644, sha, &kept);
        tap_ok(r < 0 && err.message && strstr(err.message, "cannot read"), "a missing source: refused, naming it");
        error_done(&err);
        (void) rm_rf(dir);
        free(dir);
        return tap_done();
}
