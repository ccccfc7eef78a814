/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * One error slot: where a failing function leaves the human-readable detail
 * that a negative errno cannot carry (a recipe's file:line, the message of
 * libguestfs, gpgme, libcurl, libarchive or libvirt).  The function still
 * returns the negative errno; the caller decides whether and how to print.
 *
 *     ErrorSlot err = {};
 *     r = recipe_load(&err, path, &recipe);
 *     if (r < 0) fprintf(stderr, "%s\n", err.message);
 *     error_done(&err);
 *
 * The slot keeps the first message set since it was last cleared: the
 * innermost failure is the most precise, so outer layers do not overwrite it
 * (use error_prefix() to add context).
 */

#include "util.h"

typedef struct ErrorSlot {
        char *message;
        int code; /* negative errno */
} ErrorSlot;

/* Record a message if the slot is empty; returns r (which must be < 0).
 * A NULL slot is allowed and ignored. */
int error_set(ErrorSlot *e, int r, const char *fmt, ...) _printf_(3, 4);
/* Like error_set(), but appends ": <strerror(-r)>". */
int error_set_errno(ErrorSlot *e, int r, const char *fmt, ...) _printf_(3, 4);
/* Prepend "prefix: " to the message already in the slot (or set it). */
int error_prefix(ErrorSlot *e, int r, const char *fmt, ...) _printf_(3, 4);
void error_clear(ErrorSlot *e);
static inline void error_done(ErrorSlot *e) {
        error_clear(e);
}
/* The message, or strerror of the code, never NULL. */
const char *error_text(const ErrorSlot *e, int r);
