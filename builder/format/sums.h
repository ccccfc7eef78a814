/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * SHA256SUMS, as sha256sum writes it and "sha256sum -c --strict" reads it,
 * restricted to what whonix-build writes: one line per file,
 * "<sha256 in lowercase hex>  <name>\n", sorted by name, every name plain
 * (sums_name_valid(): no '/', no leading '.', no control character or
 * backslash, which sha256sum would escape; not SHA256SUMS itself nor a
 * signature "*.asc").  The file comes from whoever published a directory,
 * so the reader is strict and bounded (SUMS_MAX bytes, SUMS_MAX_FILES
 * lines) and fuzzed (fuzz/fuzz-sums.c).
 */

#include "error.h"

#define SUMS_NAME "SHA256SUMS"
#define SUMS_MAX (1024u * 1024u)  /* bytes of a SHA256SUMS file */
#define SUMS_MAX_FILES 4096u

typedef struct SumsEntry {
        char *name;
        char *sha256; /* lowercase hex */
} SumsEntry;

bool sums_name_valid(const char *name);
void sums_entries_free(SumsEntry *e, size_t n);
/* The entry of name, or NULL. */
const SumsEntry *sums_find(const SumsEntry *e, size_t n, const char *name);
/* Sorted by name; refuses invalid names, duplicates and malformed digests. */
int sums_format(const SumsEntry *e, size_t n, char **ret);
/* Strictly the format above; at least one line. */
int sums_parse(ErrorSlot *err, const char *text, size_t size, SumsEntry **ret, size_t *ret_n);
