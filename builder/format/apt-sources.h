/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Which Debian mirror does the build host's apt use?  The build downloads
 * from the same mirror, so it works wherever apt works (and a proxy or local
 * mirror configured for apt is used by the build too).
 *
 * Two parsers, one per apt sources format, each returning a NULL-terminated
 * array of AptSource (free it with apt_source_free_many()):
 *
 *   apt_sources_parse_list()   one-line format (sources.list, *.list):
 *                                  deb [ opt=val ... ] URI SUITE [COMPONENT...]
 *                              Comment lines and "#deb ..." (commented-out
 *                              entries) are skipped, as is anything after '#'.
 *                              Options in brackets are accepted and ignored.
 *   apt_sources_parse_deb822() deb822 format (*.sources): stanzas separated
 *                              by blank lines; fields Types, URIs, Suites,
 *                              Components, Enabled (others are ignored);
 *                              continuation lines start with a blank;
 *                              comment lines start with '#'.
 *
 * Every entry is returned, deb-src and disabled ones included (type and
 * enabled say which); a deb822 stanza listing several Types becomes one
 * entry per type.  name is the file name used in error messages
 * ("NAME:LINE: ...").  Malformed entries are -EBADMSG.
 *
 * apt_sources_find_debian_mirror() reads <root>/etc/apt/sources.list and the
 * *.list and *.sources files in <root>/etc/apt/sources.list.d (in sorted
 * order; files with other names, such as "x.list.disabled", are ignored like
 * apt ignores them) and returns the first URI of an enabled "deb" entry that
 *   - has a plain Debian suite (letters only: bookworm, trixie, stable, sid;
 *     not bookworm-security, bookworm-updates, bookworm-backports), and
 *   - uses http, https or file and whose path ends in "/debian"
 *     (http://deb.debian.org/debian, https://mirror.example/pub/debian/),
 * without trailing slashes.  root is "/" on a real system.  No such entry:
 * -ENOENT, with a message naming the files that were read.
 */

#include "error.h"

#define APT_SOURCES_FILE_MAX (1024 * 1024)
#define APT_SOURCES_ENTRIES_MAX 4096
#define APT_SOURCES_FILES_MAX 1024

typedef struct AptSource {
        char *type;        /* "deb", "deb-src" */
        char **uris;
        char **suites;
        char **components; /* empty (not NULL) for exact-path suites ("./") */
        bool enabled;
} AptSource;

void apt_source_free(AptSource *s);
void apt_source_free_many(AptSource **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(AptSource **, apt_source_free_many);

int apt_sources_parse_list(ErrorSlot *err, const char *name, const char *text, AptSource ***ret);
int apt_sources_parse_deb822(ErrorSlot *err, const char *name, const char *text, AptSource ***ret);

int apt_sources_find_debian_mirror(ErrorSlot *err, const char *root, char **ret_url);
