/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The one wrapper around libvirt (install/uninstall, and the tests, which
 * define the exported XML into libvirt's test driver).  Nothing else
 * includes libvirt's headers.
 *
 * libvirt's default error handler prints every error to stderr; the
 * wrapper replaces it with one that prints nothing, and on failure copies
 * libvirt's message (virGetLastError()) into the caller's ErrorSlot,
 * prefixed with what we were doing.  Failures return -EIO unless libvirt's
 * error code says something more precise (-ENOENT for a domain, network,
 * pool or volume that does not exist, -EINVAL for XML libvirt rejects,
 * -ENOTSUP for what the driver cannot do).
 *
 *     _cleanup_(virt_conn_freep) VirtConn *c = NULL;
 *     r = virt_connect(&err, "qemu:///session", &c);
 *     r = virt_define_network(&err, c, xml);
 *
 * "test:///default" is libvirt's in-process test driver: it defines domains
 * and networks without a hypervisor, which the unit tests use.
 */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct VirtConn VirtConn;

/* A UUID as text, with its NUL. */
#define VIRT_UUID_STRING_LEN 37

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

/* Whether a domain / network of that name is defined (1, with its UUID in
 * ret_uuid if not NULL, 37 bytes) or not (0), and whether it is active. */
int virt_domain_state(ErrorSlot *err, VirtConn *c, const char *name, char *ret_uuid, bool *ret_active);
int virt_network_state(ErrorSlot *err, VirtConn *c, const char *name, char *ret_uuid, bool *ret_active);

/* Start a defined network unless it is active, and mark it to start with
 * the host; stop it (if active) before undefining. */
int virt_network_start(ErrorSlot *err, VirtConn *c, const char *name);
int virt_network_stop(ErrorSlot *err, VirtConn *c, const char *name);

/* Whether the connection's host can run domains of that type ("kvm" needs
 * hardware virtualization there): 1 yes, or a driver that cannot tell
 * (libvirt's test driver); 0 no, with libvirt's reason in *ret_reason
 * (e.g. "KVM is not supported by '/usr/bin/qemu-system-x86_64' on this
 * host"). */
int virt_domain_type_usable(VirtConn *c, const char *type, char **ret_reason);

/* The names of every defined domain (active or not). */
int virt_domain_names(ErrorSlot *err, VirtConn *c, char ***ret);

/* A storage pool must exist and be active; its type ("dir", ...) is
 * returned if ret_type is not NULL. */
int virt_pool_check(ErrorSlot *err, VirtConn *c, const char *pool, char **ret_type);
/* A volume in pool: its path (1) or absent (0). */
int virt_volume_path(ErrorSlot *err, VirtConn *c, const char *pool, const char *name, char **ret_path);
/* Create the volume (a qcow2 of capacity bytes, allocation size) and copy
 * the file into it through libvirt (a stream: works on a remote host
 * too), progress through log_progress(label, name, ...). */
int virt_volume_upload(ErrorSlot *err, VirtConn *c, const char *pool, const char *name, const char *file,
                       uint64_t capacity, const char *label);
int virt_volume_delete(ErrorSlot *err, VirtConn *c, const char *pool, const char *name);
