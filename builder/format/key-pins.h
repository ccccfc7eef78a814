/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * keys/suites: which of the keys in keys/ may sign which suite's InRelease.
 * Every key in keys/ is imported, but a signature counts for a suite only
 * if its key is pinned for that suite here, so a key added to keys/ alone
 * changes nothing.  One line per suite:
 *
 *     # suite   primary key fingerprints (40 hex digits), whitespace-separated
 *     trixie    04B54C3CDCA79751B16BC6B5225629DF75B188BD 41587F7DB8C774BCCF131416762F67A0B2C39DE4
 *
 * A pinned primary key's signing subkeys count with it.  Blank lines and
 * '#' comments are ignored.  Errors name "FILE:LINE": a suite that is not
 * a plain name ([A-Za-z0-9._-], not starting with '.'), a fingerprint that
 * is not 40 hex digits, a suite given twice, a suite with no fingerprint.
 * Limits: 64 KiB, 1024 suites, 4096 characters a line.
 */

#include <stddef.h>

#include "error.h"
#include "util.h"

#define KEY_PINS_MAX_SIZE (64u * 1024u)

typedef struct KeyPins {
        char **suites;     /* NULL-terminated */
        char ***fprs;      /* fprs[i]: suite i's fingerprints, uppercase, NULL-terminated */
        size_t n;
} KeyPins;

int key_pins_parse(ErrorSlot *err, const char *name, const char *data, size_t size, KeyPins **ret);

/* The fingerprints pinned for suite, or NULL. */
char * const *key_pins_for(const KeyPins *p, const char *suite);

KeyPins *key_pins_free(KeyPins *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(KeyPins *, key_pins_free);
