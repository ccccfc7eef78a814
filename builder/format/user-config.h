/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * whonix-build's own settings, for the person who runs it (not the
 * recipes'): $XDG_CONFIG_HOME/whonix-build/config, or ~/.config/..., or the
 * file --config names.  Sections and keys as in recipes:
 *
 *     [Cache]
 *     # after a build that ended well, remove the least recently used
 *     # entries until the cache takes no more than this (K, M, G, T)
 *     MaxSize=40G
 *     # ... and entries no build has used for this many days
 *     MaxAge=30
 *
 * What the build just used is never removed, nor what it stands on
 * (cache-entries.h).  Blank lines and lines starting with '#' or ';' are
 * ignored.  Errors name "FILE:LINE": an unknown section or key, a key
 * outside a section, a key given twice, a value that is not a size or a
 * number of days.  Limits: 64 KiB, 4096 characters a line.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define USER_CONFIG_MAX_SIZE (64u * 1024u)

typedef struct UserConfig {
        uint64_t cache_max_bytes;    /* 0: no size limit */
        unsigned cache_max_age_days; /* 0: no age limit */
} UserConfig;

int user_config_parse(ErrorSlot *err, const char *name, const char *data, size_t size, UserConfig *ret);

/* Reads and parses path; a missing file is an empty configuration unless
 * must_exist. */
int user_config_load(ErrorSlot *err, const char *path, bool must_exist, UserConfig *ret);

/* The default file's path ($XDG_CONFIG_HOME/whonix-build/config, else
 * $HOME/.config/whonix-build/config); -ENOENT if neither is set. */
int user_config_default_path(char **ret);
