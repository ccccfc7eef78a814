/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Why two disk images differ, file by file: the explanation verify gives
 * when a rebuilt image does not match the published one.
 *
 *     r = image_compare(&err, appliance, "a.qcow2", "b.qcow2", &lines);
 *
 * Each image's root filesystem (the partition labelled "root", else the
 * last partition, else the whole disk) is read through the appliance
 * (read-only: writes go to a throwaway overlay) into a manifest: for every
 * path its type, mode, owner, group, size, mtime, symlink target and, for
 * regular files, SHA-256.  The manifests are compared on the host; each
 * difference is one line, sorted by path:
 *
 *     content  /etc/hostname
 *     mode 0644 -> 0600  /etc/shadow
 *     owner 0:0 -> 0:42  /etc/shadow
 *     mtime 1764000000 -> 1764000001  /var/lib/dpkg/status
 *     target /a -> /b  /etc/alternatives/awk
 *     type f -> l  /etc/resolv.conf
 *     only in A  /var/log/dpkg.log
 *     only in B  /var/cache/ldconfig/aux-cache
 *
 * For an ext2/3/4 root, the superblocks are compared too, byte by byte; a
 * differing field is named (the counters and clocks that tools update are
 * what differs between builds of the same tree):
 *
 *     superblock s_kbytes_written 546816 -> 545792
 *     superblock bytes 0x3fc-0x3ff (s_checksum)
 *
 * No lines but different image bytes means the difference lies outside
 * the files and the superblock: partition table, boot loader, other
 * filesystem metadata.
 *
 * The manifest and its diff are format/manifest.h.
 */

#include "disk-header.h"
#include "error.h"
#include "manifest.h"

/* Read an image's root filesystem into a manifest (format from its
 * content, after image_check(); opened read-only). */
/* Open image (a regular file) and read its header (format/disk-header.h):
 * its format from the content, and refused if it names a backing file, an
 * external data file or a parent, or is larger than the limit.  Nothing is
 * started; image_manifest() and image_compare() call it first. */
int image_check(ErrorSlot *err, const char *image, DiskHeader *ret);

int image_manifest(ErrorSlot *err, const char *appliance_path, const char *image, Manifest **ret);
int image_compare(ErrorSlot *err, const char *appliance_path, const char *a, const char *b, char ***ret_lines);
