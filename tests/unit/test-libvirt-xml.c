/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A release's libvirt XML as install reads and rewrites it
 * (glue/libvirt-xml.c). */
#include <string.h>

#include "libvirt-xml.h"
#include "tap.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const char domain[] =
        "<domain type='kvm'><name>Whonix-Gateway</name><uuid>353127c0-a8b6-4c2f-9fbe-2a3d389d1586</uuid>"
        "<devices><disk type='file' device='cdrom'><source file='/x.iso'/></disk>"
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='/var/lib/libvirt/images/Whonix-Gateway.qcow2'/><target dev='vda' bus='virtio'/></disk>"
        "<interface type='network'><source network='Whonix-External'/></interface>"
        "<interface type='network'><source network='Whonix-Internal'/></interface>"
        "<interface type='network'><source network='Whonix-Internal'/></interface></devices>"
        "<metadata><wb:install xmlns:wb='" LIBVIRT_XML_INSTALL_NS "' image-sha256='old'/><keep/></metadata></domain>";

static int read_str(const char *s, LibvirtXml *x, ErrorSlot *err) {
        error_clear(err);
        return libvirt_xml_read(err, "t.xml", s, strlen(s), x);
}

static void refused(const char *s, const char *want) {
        ErrorSlot err = {};
        LibvirtXml x;
        int r = read_str(s, &x, &err);

        tap_ok(r < 0 && err.message && strstr(err.message, want), "refused: '%s' (got: %s)", want,
               err.message ?: "success");
        if (r >= 0)
                libvirt_xml_done(&x);
        error_done(&err);
}

int main(void) {
        ErrorSlot err = {};
        LibvirtXml x = {}, y = {};
        char *out = NULL;
        int r;

        tap_plan_lazy();
        r = read_str(domain, &x, &err);
        tap_ok(r == 0 && x.kind == LIBVIRT_XML_DOMAIN && streq(x.name, "Whonix-Gateway") &&
                       streq(x.uuid, "353127c0-a8b6-4c2f-9fbe-2a3d389d1586"),
               "a domain: kind, name, UUID");
        tap_ok(r == 0 && streq_ptr(x.disk_file, "/var/lib/libvirt/images/Whonix-Gateway.qcow2"),
               "its one disk (a CD-ROM is not one): %s", r == 0 ? strempty(x.disk_file) : "-");
        tap_ok(r == 0 && strv_length(x.networks) == 2 && streq(x.networks[0], "Whonix-External") &&
                       streq(x.networks[1], "Whonix-Internal"),
               "the networks its interfaces name, each once");
        tap_ok(r == 0 && streq_ptr(x.install_sha256, "old"), "install's record in <metadata>");
        tap_ok(r == 0 && streq_ptr(x.virt_type, "kvm"), "its type: %s", r == 0 ? strempty(x.virt_type) : "-");

        r = libvirt_xml_for_install(&err, domain, strlen(domain), "/pool/Whonix-Gateway.qcow2", SHA_A, NULL, &out);
        tap_ok(r == 0, "rewritten for install (%s)", r < 0 ? err.message : "ok");
        r = r == 0 ? libvirt_xml_read(&err, "out", out, strlen(out), &y) : r;
        tap_ok(r == 0 && streq(y.name, "Whonix-Gateway") && streq_ptr(y.disk_file, "/pool/Whonix-Gateway.qcow2") &&
                       streq_ptr(y.install_sha256, SHA_A),
               "... its disk on the volume, the new image's SHA256 recorded");
        tap_ok(out && strstr(out, "<keep/>") && !strstr(out, "'old'") && !strstr(out, "\"old\"") &&
                       strstr(out, "/x.iso"),
               "... the earlier record replaced, the rest of <metadata> and the CD-ROM kept");
        tap_ok(r == 0 && streq_ptr(y.virt_type, "kvm"), "... no type asked for: the release's is kept");
        libvirt_xml_done(&y);
        free(out);
        out = NULL;

        /* A host without KVM: install --virt-type qemu. */
        r = libvirt_xml_for_install(&err, domain, strlen(domain), "/pool/Whonix-Gateway.qcow2", SHA_A, "qemu", &out);
        r = r == 0 ? libvirt_xml_read(&err, "out", out, strlen(out), &y) : r;
        tap_ok(r == 0 && streq_ptr(y.virt_type, "qemu") && streq_ptr(y.disk_file, "/pool/Whonix-Gateway.qcow2") &&
                       streq_ptr(y.install_sha256, SHA_A) && strv_length(y.networks) == 2,
               "type 'qemu' asked for: the domain's type is 'qemu', the rest as without it");
        libvirt_xml_done(&y);
        free(out);
        out = NULL;

        r = read_str("<network><name>Whonix-Internal</name><bridge stp='on'/></network>", &y, &err);
        tap_ok(r == 0 && y.kind == LIBVIRT_XML_NETWORK && streq(y.name, "Whonix-Internal") && !y.uuid,
               "a network without a UUID");
        libvirt_xml_done(&y);

        refused("<domain><name>two</name><devices><disk device='disk'><source file='/a'/></disk>"
                "<disk><source file='/b'/></disk></devices></domain>",
                "a domain with 2 disks: install takes one image per domain");
        refused("<domain><name>none</name><devices/></domain>", "a domain with 0 disks");
        refused("<domain><name>../etc</name><devices><disk><source file='/a'/></disk></devices></domain>",
                "the name '../etc' is not a plain name");
        refused("<domain><name>b</name><devices><disk type='block'><source dev='/dev/sda'/></disk></devices></domain>",
                "the disk is not a file");
        refused("<!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><domain><name>&e;</name></domain>",
                "is not a plain name");
        refused("<pool type='dir'><name>p</name></pool>", "neither a libvirt <domain> nor a <network>");
        refused("<domain><name>x", "not XML");
        refused("", "not XML");

        error_done(&err);
        libvirt_xml_done(&x);
        return tap_done();
}
