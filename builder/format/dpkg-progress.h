/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Package progress in the appliance's output: the lines with which apt and
 * dpkg, and debootstrap, say what they are doing with one package.
 *
 *     apt/dpkg:     "Unpacking tor (0.4.9.15-0+deb13u1) ..."      DPKG_UNPACK
 *                   "Unpacking libc6:amd64 (2.41-12) over (...) ..."
 *                   "Setting up tor (0.4.9.15-0+deb13u1) ..."     DPKG_CONFIGURE
 *     debootstrap:  "I: Retrieving libc6 2.41-12"                 DPKG_RETRIEVE
 *                   "I: Unpacking libc6..."                       DPKG_UNPACK
 *                   "I: Configuring libc6..."                     DPKG_CONFIGURE
 *
 * The package name must be one (lowercase, digits, "+-."; an ":arch"
 * suffix is dropped), so that "I: Retrieving InRelease" or "I: Unpacking
 * the base system..." are not packages.
 */

#include <stddef.h>

typedef enum DpkgStep {
        DPKG_NONE,
        DPKG_RETRIEVE,
        DPKG_UNPACK,
        DPKG_CONFIGURE,
} DpkgStep;

/* The step line reports, the package's name in pkg (NUL-terminated,
 * truncated to size - 1); DPKG_NONE (pkg "") for any other line. */
DpkgStep dpkg_progress_line(const char *line, char *pkg, size_t size);
