/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The libvirt XML of a release (`--target kvm`: one file per domain and per
 * network), read and adjusted for installation; the one file that includes
 * libxml2's headers.  A release is anyone's: the reader takes only what
 * install needs, refuses what it cannot use (a domain with no disk or more
 * than one, a name that is not a plain name), and never follows an entity
 * or a DTD or reaches the network (XML_PARSE_NONET, no XML_PARSE_NOENT).
 *
 *     LibvirtXml x;
 *     r = libvirt_xml_read(&err, "Whonix-Gateway.xml", data, size, &x);
 *     // x.kind == LIBVIRT_XML_DOMAIN, x.name, x.uuid, x.disk_file, x.networks
 *     r = libvirt_xml_for_install(&err, data, size, "/var/lib/libvirt/images/Whonix-Gateway.qcow2", sha, NULL, &out);
 */

#include <stddef.h>

#include "error.h"

#define LIBVIRT_XML_MAX_SIZE (1024u * 1024u)

typedef enum LibvirtXmlKind {
        LIBVIRT_XML_DOMAIN,
        LIBVIRT_XML_NETWORK,
} LibvirtXmlKind;

typedef struct LibvirtXml {
        LibvirtXmlKind kind;
        char *name;             /* [A-Za-z0-9._-], not starting with '.' */
        char *uuid;             /* as written (may be NULL: libvirt makes one) */
        char *disk_file;        /* domain: its one disk's <source file=...> */
        char *virt_type;        /* domain: <domain type=...> ("kvm", "qemu"; NULL if none) */
        char *install_sha256;   /* domain: what install recorded in <metadata> (or NULL) */
        char **networks;        /* domain: the networks its interfaces name (NULL-terminated) */
} LibvirtXml;

void libvirt_xml_done(LibvirtXml *x);

int libvirt_xml_read(ErrorSlot *err, const char *name, const char *data, size_t size, LibvirtXml *ret);

/* The domain XML with its disk's source set to disk_path, install's record
 * (the image's SHA256) in <metadata> and, if virt_type is not NULL, that
 * <domain type=...> (e.g. "qemu" on a host without KVM), as a new string. */
int libvirt_xml_for_install(ErrorSlot *err, const char *data, size_t size, const char *disk_path,
                            const char *image_sha256, const char *virt_type, char **ret);

/* install's namespace in a domain's <metadata>. */
#define LIBVIRT_XML_INSTALL_NS "https://github.com/whonix-build/install/1"
