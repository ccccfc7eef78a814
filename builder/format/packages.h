/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The packages installed in an image, each with the exact .deb it came from,
 * for the buildinfo file:
 *
 *     PackageList *l;
 *     r = package_list_from_status(&err, status, status_size, &l);
 *     r = package_list_match_index(&err, l, packages, packages_size);  (each index)
 *     r = package_list_check_complete(&err, l);
 *     r = package_list_format(l, &text);
 *     package_list_free(l);
 *
 * package_list_from_status() reads dpkg's status file and keeps the
 * packages whose Status is "install ok installed" (or "hold ok installed"),
 * sorted by name, then architecture.  package_list_match_index() reads a
 * Debian Packages index (whose integrity the caller has established: apt
 * checked it against the signed InRelease) and fills in SHA256, Size and
 * Filename for every installed package with the same name, version and
 * architecture.  package_list_check_complete() fails with -ENOENT naming
 * the first package no index listed: such a package cannot be pinned.
 *
 * Both inputs come from the guest, so both parsers are strict about what
 * they use (package names, versions, architectures, hashes, sizes and pool
 * paths are checked character by character; a used field that spans lines
 * or appears twice in a paragraph is an error with "line N") and bounded
 * (PACKAGES_SIZE_MAX bytes of text, PACKAGES_MAX installed packages).
 * Fields they do not use are skipped, continuation lines included.
 *
 * package_list_format() writes one line per package, in order:
 *     "<name> <version> <architecture> <sha256> <size>\n"
 * and package_list_parse() reads that format back (strictly), for verify.
 */

#include "error.h"

#define PACKAGES_SIZE_MAX (512u * 1024u * 1024u)
#define PACKAGES_MAX 100000u

typedef struct Package {
        char *name;
        char *version;
        char *architecture;
        char *filename;         /* pool path from the index; NULL until matched */
        uint64_t size;
        char sha256[65];        /* lowercase hex; "" until matched */
} Package;

typedef struct PackageList {
        Package *items;
        size_t n;
} PackageList;

PackageList *package_list_free(PackageList *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(PackageList *, package_list_free);

int package_list_from_status(ErrorSlot *err, const char *text, size_t size, PackageList **ret);
int package_list_match_index(ErrorSlot *err, PackageList *l, const char *text, size_t size);
int package_list_check_complete(ErrorSlot *err, const PackageList *l);
/* The one package called name, of that architecture, that a Packages index
 * lists, with its Version, SHA256, Size and Filename, as a list of one:
 * -ENOENT if the index lists none, -EBADMSG if it lists two. */
int package_index_find(ErrorSlot *err, const char *text, size_t size, const char *name, const char *architecture,
                       PackageList **ret);
/* The packages of several lists, each name, architecture and version once
 * (-EBADMSG if two lists pin it to different .debs), with their SHA256 and
 * size: package_list_match_index() then fills in only the Filename, and
 * fails if an index lists one of them with another SHA256 or size. */
int package_list_merge(ErrorSlot *err, PackageList * const *lists, size_t n_lists, PackageList **ret);

/* The .deb files in apt's archive directory (names as listed), as packages
 * to match against the indexes: apt names a downloaded package
 * "<name>_<version>_<arch>.deb" with '_', ':', '%' and bytes outside
 * printable ASCII quoted as "%xx", and finds it again by that name alone.
 * Names in any other form, and packages installed (per the list
 * installed, may be NULL) with the same version, are left out: apt would not
 * take them for what it is about to install.  The list may hold several
 * versions of one package. */
int package_list_from_archive(ErrorSlot *err, char * const *file_names, const PackageList *installed,
                              PackageList **ret);
/* The name apt gives a package's .deb in its archive directory. */
char *package_archive_name(const Package *p);

/* Add a package by name, version and architecture, in its sorted place,
 * without SHA256 or Filename (package_list_match_index() fills them in); a
 * package listed already with that version is left as it is, with another
 * one -EBADMSG. */
int package_list_add(ErrorSlot *err, PackageList *l, const char *name, const char *version, const char *architecture);

/* The package called name (with that architecture, or any when NULL). */
const Package *package_list_find(const PackageList *l, const char *name, const char *architecture);

int package_list_format(const PackageList *l, char **ret);
int package_list_parse(ErrorSlot *err, const char *text, size_t size, PackageList **ret);
