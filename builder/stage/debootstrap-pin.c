/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>

#include "archive-util.h"
#include "checked-download.h"
#include "debootstrap-pin.h"
#include "packages.h"
#include "sha256.h"

/* A compressed index file, and what it decompresses to. */
#define INDEX_FILE_MAX (256u << 20)
/* debootstrap's files: some 300 KiB. */
#define DEB_TAR_MAX (64u << 20)
#define PIN_MAX 4096u

void debootstrap_pin_done(DebootstrapPin *p) {
        free(p->version);
        free(p->filename);
        free(p->tar_path);
        *p = (DebootstrapPin) {};
}

int debootstrap_pin_parse(const char *line, DebootstrapPin *ret) {
        _cleanup_strv_free_ char **f = NULL;
        uint64_t size;

        if (strv_split(line, " ", &f) < 0)
                return -ENOMEM;
        if (strv_length(f) != 4 || isempty(f[0]) || strchr(f[0], '/') || !sha256_hex_valid(f[1]) ||
            safe_atou64(f[2], &size) < 0 || isempty(f[3]) || f[3][0] == '/' || strstr(f[3], ".."))
                return -EBADMSG;
        *ret = (DebootstrapPin) { .version = strdup(f[0]), .filename = strdup(f[3]), .size = size };
        memcpy(ret->sha256, f[1], sizeof ret->sha256);
        if (!ret->version || !ret->filename) {
                debootstrap_pin_done(ret);
                return -ENOMEM;
        }
        return 0;
}

/* The index of the archive's main component for arch, as the InRelease
 * lists it: .xz, else .gz. */
static const struct ReleaseEntry *main_index(const ReleaseFile *rel, const char *arch) {
        const struct ReleaseEntry *e = NULL;

        STRV_FOREACH(ext, ((char *[]) { (char *) "xz", (char *) "gz", NULL })) {
                _cleanup_free_ char *path = strdup_printf("main/binary-%s/Packages.%s", arch, *ext);
                if (path && (e = release_find(rel, path)))
                        break;
        }
        return e;
}

/* From the signed index: which debootstrap the archive has. */
static int resolve(ErrorSlot *err, const SourceInfo *si, const char *arch, const char *proxy, const char *dir,
                   const char *pin_path) {
        _cleanup_free_ char *index = NULL, *packed = NULL, *text = NULL, *line = NULL;
        _cleanup_(package_list_freep) PackageList *found = NULL;
        const struct ReleaseEntry *e = main_index(si->release, arch);
        size_t packed_size, text_size;
        const Package *p;
        int r;

        if (!e)
                return error_set(err, -ENOENT, "the InRelease of '%s' lists no main/binary-%s Packages index",
                                 si->suite, arch);
        index = strdup_printf("%s/index-%s", dir, e->sha256);
        if (!index)
                return -ENOMEM;
        r = index_download(err, si->mirror, si->suite, proxy, e, index);
        if (r >= 0 && (r = read_full_file(index, INDEX_FILE_MAX, &packed, &packed_size)) < 0)
                r = error_set_errno(err, r, "cannot read '%s'", index);
        if (r >= 0)
                r = archive_decompress_memory(err, e->path, packed, packed_size, PACKAGES_SIZE_MAX, &text, &text_size);
        (void) unlink(index);
        if (r < 0)
                return r;
        r = package_index_find(err, text, text_size, "debootstrap", "all", &found);
        if (r < 0)
                return error_prefix(err, r, "'%s' of '%s'", e->path, si->suite);
        p = &found->items[0];
        line = strdup_printf("%s %s %" PRIu64 " %s\n", p->version, p->sha256, p->size, p->filename);
        if (!line)
                return -ENOMEM;
        r = write_file_atomic(pin_path, line, strlen(line), 0644);
        if (r < 0)
                return error_set_errno(err, r, "cannot write '%s'", pin_path);
        return 0;
}

int debootstrap_pin(ErrorSlot *err, const SourceInfo *si, const char *architecture, const char *proxy,
                    const char *cache_dir, DebootstrapPin *ret) {
        _cleanup_free_ char *dir = NULL, *pin_path = NULL, *line = NULL, *deb = NULL, *url = NULL, *tar = NULL,
                            *files = NULL;
        _cleanup_(debootstrap_pin_done) DebootstrapPin pin = {};
        size_t size;
        int r;

        dir = strdup_printf("%s/tools/debootstrap", cache_dir);
        pin_path = dir ? strdup_printf("%s/%s.pin", dir, si->inrelease_sha256) : NULL;
        if (!pin_path)
                return -ENOMEM;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return error_set_errno(err, r, "cannot create '%s'", dir);
        if (access(pin_path, F_OK) < 0 && (r = resolve(err, si, architecture, proxy, dir, pin_path)) < 0)
                return error_prefix(err, r, "cannot find debootstrap in the pinned archive");
        r = read_full_file(pin_path, PIN_MAX, &line, &size);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '%s'", pin_path);
        if (size > 0 && line[size - 1] == '\n')
                line[size - 1] = 0;
        r = debootstrap_pin_parse(line, &pin);
        if (r < 0)
                return r == -ENOMEM ? r : error_set(err, r, "'%s' is not a debootstrap pin (remove it)", pin_path);

        deb = strdup_printf("%s/%s.deb", dir, pin.sha256);
        tar = strdup_printf("%s/%s.tar", dir, pin.sha256);
        if (!deb || !tar)
                return -ENOMEM;
        r = checked_file_present(deb, pin.size, pin.sha256);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '%s'", deb);
        if (r == 0) {
                (void) unlink(tar); /* made from another file */
                url = strdup_printf("%s/%s", si->mirror, pin.filename);
                if (!url)
                        return -ENOMEM;
                r = download_checked(err, url, proxy, deb, pin.size, pin.sha256, "debootstrap of the pinned archive");
                if (r < 0)
                        return r;
        }
        if (access(tar, F_OK) < 0) {
                r = archive_deb_data_tar(err, deb, DEB_TAR_MAX, &files, &size);
                if (r < 0)
                        return r;
                r = write_file_atomic(tar, files, size, 0644);
                if (r < 0)
                        return error_set_errno(err, r, "cannot write '%s'", tar);
        }
        pin.tar_path = TAKE_PTR(tar);
        *ret = pin;
        pin = (DebootstrapPin) {};
        return 0;
}
