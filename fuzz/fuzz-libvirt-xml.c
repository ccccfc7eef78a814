/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A release's libvirt XML (glue/libvirt-xml.c) on arbitrary input: a
 * domain that reads, rewritten for install, reads again with the new disk
 * path and install's record and the same name; a refusal has a message. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "libvirt-xml.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        LibvirtXml x = {}, y = {};
        ErrorSlot err = {};
        char *out = NULL;
        int r;

        r = libvirt_xml_read(&err, "fuzz.xml", (const char *) data, size, &x);
        if (r < 0) {
                if (!err.message && r != -ENOMEM)
                        __builtin_trap();
                error_done(&err);
                return 0;
        }
        if (!x.name || !*x.name || (x.kind == LIBVIRT_XML_DOMAIN && !x.disk_file))
                __builtin_trap();
        if (x.kind == LIBVIRT_XML_DOMAIN) {
                /* Every other input also asks for type 'qemu' (install --virt-type). */
                const char *type = size % 2 ? "qemu" : NULL;
                r = libvirt_xml_for_install(&err, (const char *) data, size, "/pool/disk.qcow2", SHA, type, &out);
                if (r >= 0) {
                        if (libvirt_xml_read(&err, "out.xml", out, strlen(out), &y) < 0 || !streq(y.name, x.name) ||
                            !streq(y.disk_file, "/pool/disk.qcow2") || !streq_ptr(y.install_sha256, SHA) ||
                            !streq_ptr(y.virt_type, type ?: x.virt_type))
                                __builtin_trap();
                } else if (!err.message && r != -ENOMEM)
                        __builtin_trap();
        }
        free(out);
        libvirt_xml_done(&x);
        libvirt_xml_done(&y);
        error_done(&err);
        return 0;
}
