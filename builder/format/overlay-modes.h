/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The modes manifest of an overlay tree ("overlays/NAME.modes", see
 * stage/overlay.h for what it means): one "MODE PATH" per line, MODE 3 or
 * 4 octal digits, PATH relative to the tree (no leading '/', no '.', '..'
 * or empty components, no trailing '/'); blank lines and '#' comments
 * ignored, as are blanks around the fields.  Errors name "FILE:LINE":
 * malformed lines, a NUL byte, a path given twice, more than 4096 entries
 * or a line longer than 4096 characters.  Whether each path is in the tree,
 * and whether its mode is allowed there, is checked by the walk that
 * applies it (stage/overlay.c).
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#define OVERLAY_MODES_MAX_SIZE (64u * 1024u)
#define OVERLAY_MODES_MAX_RULES 4096u
#define OVERLAY_MODES_MAX_LINE 4096u

/* One line of the modes manifest. */
typedef struct ModeRule {
        char *path;
        mode_t mode;
        unsigned line;
        bool used;
} ModeRule;

/* The manifest beside a tree (see stage/overlay.h); absent when data is NULL. */
typedef struct OverlayModes {
        char *path;  /* tree_dir + ".modes", for messages */
        char *data;  /* the file's bytes, hashed as they are */
        size_t size;
        ModeRule *rules;  /* sorted by path, then line */
        size_t n_rules, n_alloc;
} OverlayModes;


/* Parse size bytes of data (the manifest's text) into *m, zeroed by the
 * caller; name is the manifest's path, for messages.  m keeps a copy of
 * the bytes (m->data, for hashing) and of name.  On failure *m holds what
 * was parsed so far: overlay_modes_done() frees it either way. */
int overlay_modes_parse(ErrorSlot *err, const char *name, const char *data, size_t size, OverlayModes *m);

/* The rule for path, or NULL. */
ModeRule *overlay_modes_find(const OverlayModes *m, const char *path);

void overlay_modes_done(OverlayModes *m);
