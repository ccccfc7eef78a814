/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * whonix-build install / uninstall: a `--target kvm` release into libvirt.
 *
 *     InstallOptions o = { .dir = "out", .uri = "qemu:///system", .pool = "default" };
 *     r = install_run(&err, &o, &actions);   // or uninstall_run()
 *
 * install reads the release's XML (libvirt-xml.h: each domain's one disk
 * names its image, a file of the release), checks each image as compare
 * does (image_check(): a qcow2 naming a backing file or an external data
 * file is refused), hashes it, and then, in this order: defines the
 * networks, starts them and marks them to start with the host; copies each
 * image into a volume of the storage pool (through libvirt: works on a
 * remote host too); defines each domain with its disk on that volume and
 * the image's SHA256 in its <metadata>.  Nothing is started but the
 * networks.
 *
 * The release's domains are of type 'kvm'.  On a host that cannot run
 * those (no hardware virtualization there, as libvirt's domain
 * capabilities say), install refuses before changing anything and names
 * the way out: virt_type "qemu" defines them for software emulation.  With
 * virt_type given, a domain already installed from the same image but of
 * another type is redefined with it (its volume stays).
 *
 * Idempotent: a network or domain that is there with the same UUID (and,
 * for a domain, the same image SHA256 and disk) is left as it is.  Before
 * changing anything, every object is looked at, and install refuses (and
 * changes nothing) if one of the same name is something else: another
 * UUID, a domain from another image (an older release), a volume of that
 * name that is no domain's of ours; with force it replaces them.  A
 * running domain is never replaced.
 *
 * uninstall undoes it: the release's domains (stopped ones only; another
 * UUID only with force), their volumes, and the networks that no domain
 * left uses.
 *
 * *ret_actions lists what was done (or, with dry_run, would be), one line
 * each ("network Whonix-External: defined, started, starts with the host").
 */

#include <stdbool.h>

#include "error.h"

typedef struct InstallOptions {
        const char *dir;        /* the release: *.qcow2 and *.xml as --target kvm writes them */
        const char *uri;        /* libvirt connection (NULL: INSTALL_DEFAULT_URI) */
        const char *pool;       /* storage pool for the images (NULL: INSTALL_DEFAULT_POOL) */
        bool force;             /* replace what is in the way (never a running domain) */
        bool dry_run;           /* look and decide; change nothing */
        const char *virt_type;  /* install: the domains' type ("qemu" on a host without KVM); NULL: the release's */
} InstallOptions;

#define INSTALL_DEFAULT_URI "qemu:///system"
#define INSTALL_DEFAULT_POOL "default"

int install_run(ErrorSlot *err, const InstallOptions *o, char ***ret_actions);
int uninstall_run(ErrorSlot *err, const InstallOptions *o, char ***ret_actions);
