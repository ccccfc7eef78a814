/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The export's copy of an image from the cache into the release, read
 * once: the bytes are hashed (SHA-256) as they are copied, so that the
 * buildinfo and SHA256SUMS need not read gigabytes again.  A rebuild into
 * the same output directory usually finds the same image there: when the
 * file at `existing` holds exactly the cached bytes (compared, not guessed
 * from sizes or times), nothing is written, and dest becomes a second link
 * to it (publishing it is then a rename onto itself, which changes
 * nothing).
 *
 *     r = publish_copy(&err, "cache/qcow2/K.qcow2", "out/Whonix-Gateway.qcow2",
 *                      "out/.staging/Whonix-Gateway.qcow2", 0644, sha, &kept);
 */

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "sha256.h"

int publish_copy(ErrorSlot *err, const char *from, const char *existing, const char *dest, mode_t mode,
                 char ret_sha256[static SHA256_HEX_SIZE], bool *ret_kept);
