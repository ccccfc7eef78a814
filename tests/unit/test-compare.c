/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image manifests: the reader, and the difference lines verify prints. */
#include "compare.h"
#include "tap.h"

#define SA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const char meta_a[] =
        "d 755 0 0 4096 1764000000.0000000000 \t\n"
        "d 755 0 0 4096 1764000000.0000000000 etc\t\n"
        "f 644 0 0 5 1764000000.0000000000 etc/hostname\t\n"
        "f 640 0 42 900 1764000000.0000000000 etc/shadow\t\n"
        "l 777 0 0 7 1764000000.0000000000 etc/awk\t/usr/bin/mawk\n"
        "f 644 0 0 10 1764000000.0000000000 var/log/dpkg.log\t\n"
        "f 644 0 0 10 1764000000.0000000000 .wb-manifest-meta\t\n";
static const char sums_a[] =
        SA "  ./etc/hostname\n" SA "  ./etc/shadow\n" SA "  ./var/log/dpkg.log\n";
static const char meta_b[] =
        "d 755 0 0 4096 1764000000.0000000000 \t\n"
        "d 755 0 0 4096 1764000000.0000000000 etc\t\n"
        "f 644 0 0 5 1764000000.0000000000 etc/hostname\t\n"
        "f 600 0 0 900 1764000001.0000000000 etc/shadow\t\n"
        "l 777 0 0 7 1764000000.0000000000 etc/awk\t/usr/bin/gawk\n"
        "f 644 0 0 3 1764000000.0000000000 var/cache/new\t\n";
static const char sums_b[] = SB "  ./etc/hostname\n" SA "  ./etc/shadow\n" SA "  ./var/cache/new\n";

static Manifest *parse(const char *m, const char *s, ErrorSlot *err, int *r) {
        Manifest *x = NULL;
        *r = manifest_parse(err, m, strlen(m), s, strlen(s), &x);
        return x;
}

int main(void) {
        _cleanup_(manifest_freep) Manifest *a = NULL, *b = NULL;
        _cleanup_strv_free_ char **lines = NULL, **same = NULL;
        _cleanup_free_ char *joined = NULL;
        ErrorSlot err = {};
        int r;

        tap_plan_lazy();
        a = parse(meta_a, sums_a, &err, &r);
        tap_ok(r == 0 && a && a->n == 5, "manifest A: 5 entries, the root and the manifest file left out (r=%d %s)", r,
               strempty(err.message));
        b = parse(meta_b, sums_b, &err, &r);
        tap_ok(r == 0 && b && b->n == 5, "manifest B parses (r=%d %s)", r, strempty(err.message));
        if (!a || !b)
                return tap_done();
        tap_ok(streq(a->items[0].path, "/etc") && streq(a->items[1].path, "/etc/awk") && a->items[3].uid == 0 &&
                       a->items[3].gid == 42 && a->items[3].mode == 0640 && streq(a->items[1].target, "/usr/bin/mawk"),
               "entries are sorted by path with their metadata");

        r = manifest_diff(a, b, &lines);
        joined = strv_join(lines, "\n");
        tap_ok(r == 0 && joined &&
                       streq(joined, "target /usr/bin/mawk -> /usr/bin/gawk  /etc/awk\n"
                                     "content  /etc/hostname\n"
                                     "mode 0640 -> 0600  /etc/shadow\n"
                                     "owner 0:42 -> 0:0  /etc/shadow\n"
                                     "mtime 1764000000.0000000000 -> 1764000001.0000000000  /etc/shadow\n"
                                     "only in B  /var/cache/new\n"
                                     "only in A  /var/log/dpkg.log"),
               "one line per difference, by path: %s", strempty(joined));
        r = manifest_diff(a, a, &same);
        tap_ok(r == 0 && same && strv_length(same) == 0, "a manifest equals itself");

        static const struct {
                const char *meta, *sums, *message;
        } bad[] = {
                { "x 755 0 0 1 1 a\t\n", "", "not '<type>" },
                { "f 855 0 0 1 1 a\t\n", "", "not '<type>" },
                { "f 644 0 0 1 1 a\n", "", "no link target" },
                { "f 644 0 0 1 1 a\t\nf 644 0 0 1 1 a\t\n", "", "twice" },
                { "f 644 0 0 1 1 a\t\n", SA " ./a\n", "not '<sha256>" },
                { "f 644 0 0 1 1 a\t\n", SA "  ./b\n", "not a listed file" },
                { "d 755 0 0 1 1 a\t\n", SA "  ./a\n", "not a listed file" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(manifest_freep) Manifest *x = parse(bad[i].meta, bad[i].sums, &err, &r);
                tap_ok(r == -EBADMSG && !x && strstr(strempty(err.message), bad[i].message), "refused: %s (%s)",
                       bad[i].message, strempty(err.message));
                error_clear(&err);
        }
        {
                _cleanup_(manifest_freep) Manifest *x = parse("f 644 0 0 1 1 a\\nb\t\n", "\\" SA "  ./a\\nb\n", &err, &r);
                tap_ok(r == 0 && x && x->n == 1 && !x->items[0].sha256[0],
                       "an escaped sha256sum line leaves the content unknown, not an error");
                error_clear(&err);
        }
        {
                /* Same files, superblocks that differ in the count of
                 * kilobytes written, its checksum and one unnamed byte. */
                _cleanup_(manifest_freep) Manifest *x = parse(meta_a, sums_a, &err, &r), *y = parse(meta_a, sums_a, &err, &r);
                _cleanup_strv_free_ char **sl = NULL, **none = NULL;
                _cleanup_free_ char *sj = NULL;
                uint8_t sa[SUPERBLOCK_SIZE] = {}, sbk[SUPERBLOCK_SIZE] = {}, junk[SUPERBLOCK_SIZE] = {};

                sa[0x38] = sbk[0x38] = 0x53;
                sa[0x39] = sbk[0x39] = 0xef;
                sa[0x178] = 0x00; sa[0x179] = 0x58; sa[0x17a] = 0x08;   /* 546816 */
                sbk[0x178] = 0x00; sbk[0x179] = 0x54; sbk[0x17a] = 0x08; /* 545792 */
                sa[0x3fc] = 1;
                sbk[0x3fc] = 2;
                sa[0x300] = 7;
                if (x && y) {
                        manifest_set_superblock(x, sa);
                        manifest_set_superblock(y, sbk);
                        r = manifest_diff(x, y, &sl);
                        sj = strv_join(sl, "\n");
                        tap_ok(r == 0 && sj &&
                                       streq(sj, "superblock s_kbytes_written 546816 -> 545792\n"
                                                 "superblock bytes 0x300-0x300\n"
                                                 "superblock bytes 0x3fc-0x3ff (s_checksum)"),
                               "differing superblock fields are named: %s", strempty(sj));
                        manifest_set_superblock(y, junk);
                        r = manifest_diff(x, y, &none);
                        tap_ok(r == 0 && none && strv_length(none) == 0 && !y->has_superblock,
                               "without the ext magic a superblock is not compared");
                } else
                        tap_ok(false, "manifests for the superblock test parse");
                error_clear(&err);
        }
        return tap_done();
}
