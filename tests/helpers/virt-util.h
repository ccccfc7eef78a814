/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The one wrapper around libvirt, for the tests (test-export-kvm defines
 * the exported XML into libvirt's test driver); whonix-build does not link
 * libvirt.  Nothing else includes libvirt's headers.
 *
 * libvirt's default error handler prints every error to stderr; the
 * wrapper replaces it with one that prints nothing, and on failure copies
 * libvirt's message (virGetLastError()) into the caller's ErrorSlot,
 * prefixed with what we were doing.  Failures return -EIO unless libvirt's
 * error code says something more precise (-ENOENT for a domain or network
 * that does not exist, -EINVAL for XML libvirt rejects).
 *
 *     _cleanup_(virt_conn_freep) VirtConn *c = NULL;
 *     r = virt_connect(&err, "qemu:///session", &c);
 *     r = virt_define_network(&err, c, xml);
 *
 * "test:///default" is libvirt's in-process test driver: it defines domains
 * and networks without a hypervisor, which the unit tests use.
 */

#include "error.h"

typedef struct VirtConn VirtConn;

int virt_connect(ErrorSlot *err, const char *uri, VirtConn **ret);
/* Returns NULL, accepts NULL. */
VirtConn *virt_conn_free(VirtConn *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(VirtConn *, virt_conn_free);

/* Define (persistently; nothing is started) from XML.  Defining an object
 * whose name exists with the same UUID replaces its definition. */
int virt_define_network(ErrorSlot *err, VirtConn *c, const char *xml);
int virt_define_domain(ErrorSlot *err, VirtConn *c, const char *xml);

/* The XML libvirt holds for a defined domain / network (what `virsh
 * dumpxml` shows), as a new string. */
int virt_domain_xml(ErrorSlot *err, VirtConn *c, const char *name, char **ret_xml);
int virt_network_xml(ErrorSlot *err, VirtConn *c, const char *name, char **ret_xml);

/* Remove the definitions again (inactive objects only).  A name that is not
 * defined is -ENOENT. */
int virt_undefine_domain(ErrorSlot *err, VirtConn *c, const char *name);
int virt_undefine_network(ErrorSlot *err, VirtConn *c, const char *name);
