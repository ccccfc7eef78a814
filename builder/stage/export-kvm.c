/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <sys/stat.h>

#include "export-kvm.h"
#include "ids.h"
#include "xml-writer.h"

/* Generated XML is a few KiB; anything near this means a runaway input. */
#define XML_MAX (1024u * 1024u)

const char *kvm_network_name(const char *which) {
        if (streq_ptr(which, "external"))
                return KVM_NETWORK_EXTERNAL;
        if (streq_ptr(which, "internal"))
                return KVM_NETWORK_INTERNAL;
        return NULL;
}

static int id_error(ErrorSlot *err, int r, const char *what) {
        return error_set_errno(err, r, "cannot derive an identifier for '%s'", what);
}

int kvm_network_xml(ErrorSlot *err, const char *which, const char *seed, char **ret) {
        _cleanup_(xml_writer_done) XmlWriter w = XML_WRITER_INIT_QUOTE(err, XML_MAX, '\'');
        _cleanup_free_ char *uuid_what = NULL, *mac_what = NULL;
        char uuid[ID_UUID_STRING_MAX], mac[ID_MAC_STRING_MAX];
        const char *name = kvm_network_name(which);
        bool external;
        int r;

        if (!name)
                return error_set(err, -EINVAL, "unknown network '%s' (expected 'external' or 'internal')",
                                 strempty(which));
        if (!seed)
                return error_set(err, -EINVAL, "no seed for the identifiers of network '%s'", name);
        external = streq(which, "external");

        uuid_what = strdup_printf("network:%s", name);
        mac_what = strdup_printf("bridge:%s", name);
        if (!uuid_what || !mac_what)
                return -ENOMEM;
        r = id_uuid(seed, uuid_what, uuid);
        if (r < 0)
                return id_error(err, r, uuid_what);
        r = id_mac(seed, mac_what, ID_OUI_KVM, mac);
        if (r < 0)
                return id_error(err, r, mac_what);

        xml_writer_open(&w, "network", NULL);
        xml_writer_text(&w, "name", name, NULL);
        xml_writer_text(&w, "uuid", uuid, NULL);
        if (external) {
                /* The Gateway's way out: the host NATs it like any other
                 * program.  Addresses as in Whonix (and as VirtualBox's NAT
                 * uses): the host is 10.0.2.2, the Gateway takes a DHCP
                 * lease from 10.0.2.15 up. */
                xml_writer_empty(&w, "forward", "mode", "nat", NULL);
                /* No bridge name: libvirt picks a free virbrN, so a host
                 * that already has virbr1 is fine.  A fixed bridge MAC keeps
                 * the definition reproducible. */
                xml_writer_empty(&w, "bridge", "stp", "on", "delay", "0", NULL);
                xml_writer_empty(&w, "mac", "address", mac, NULL);
                xml_writer_open(&w, "ip", "address", "10.0.2.2", "netmask", "255.255.255.0", NULL);
                xml_writer_open(&w, "dhcp", NULL);
                xml_writer_empty(&w, "range", "start", "10.0.2.15", "end", "10.0.2.254", NULL);
                xml_writer_close(&w);
                xml_writer_close(&w);
        } else {
                /* Isolated: without <forward> libvirt routes nothing off the
                 * bridge, and without <ip> the host has no address on it and
                 * runs no dnsmasq, so no DHCP or DNS answers come from the
                 * host.  The Workstation can only talk to the Gateway.
                 * (The bridge MAC is libvirt's choice here: with no address
                 * on the bridge it is never seen by the guests.) */
                xml_writer_empty(&w, "bridge", "stp", "on", "delay", "0", NULL);
        }
        xml_writer_close(&w);

        r = xml_writer_finish(&w, ret);
        if (r < 0)
                return error_prefix(err, r, "cannot write the XML of network '%s'", name);
        return 0;
}

static const char *libvirt_arch(const char *debian_arch) {
        if (streq_ptr(debian_arch ?: "amd64", "amd64"))
                return "x86_64";
        return NULL;
}

int kvm_domain_xml(ErrorSlot *err, const Recipe *r, const KvmDomainOptions *opts, char **ret) {
        _cleanup_(xml_writer_done) XmlWriter w = XML_WRITER_INIT_QUOTE(err, XML_MAX, '\'');
        _cleanup_free_ char *uuid_what = NULL;
        char uuid[ID_UUID_STRING_MAX], mem[32], cpus[16];
        const char *type, *arch, *name;
        size_t i = 0;
        int k;

        if (!r || !opts)
                return -EINVAL;
        name = r->vm_name;
        if (isempty(name))
                return error_set(err, -EINVAL, "recipe '%s' has no [VM] Name=", strempty(r->path));
        type = opts->domain_type ?: "kvm";
        if (!streq(type, "kvm") && !streq(type, "qemu"))
                return error_set(err, -EINVAL, "unknown libvirt domain type '%s' (expected 'kvm' or 'qemu')", type);
        if (!opts->seed)
                return error_set(err, -EINVAL, "no seed for the identifiers of domain '%s'", name);
        /* libvirt refuses relative disk paths, and they would depend on
         * where virsh runs. */
        if (isempty(opts->disk_path) || opts->disk_path[0] != '/')
                return error_set(err, -EINVAL, "disk path '%s' of domain '%s' is not absolute",
                                 strempty(opts->disk_path), name);
        arch = libvirt_arch(r->architecture);
        if (!arch)
                return error_set(err, -EOPNOTSUPP, "architecture '%s' is not supported for KVM", r->architecture);
        if (r->memory_mib == 0 || r->cpus == 0)
                return error_set(err, -EINVAL, "recipe '%s' has no memory or no CPUs", strempty(r->path));

        uuid_what = strdup_printf("domain:%s", name);
        if (!uuid_what)
                return -ENOMEM;
        k = id_uuid(opts->seed, uuid_what, uuid);
        if (k < 0)
                return id_error(err, k, uuid_what);
        snprintf(mem, sizeof mem, "%" PRIu64, r->memory_mib);
        snprintf(cpus, sizeof cpus, "%u", r->cpus);

        xml_writer_open(&w, "domain", "type", type, NULL);
        xml_writer_text(&w, "name", name, NULL);
        xml_writer_text(&w, "uuid", uuid, NULL);
        if (!isempty(r->description))
                xml_writer_text(&w, "description", r->description, NULL);
        /* No balloon (below), so the guest always has all of it. */
        xml_writer_text(&w, "memory", mem, "unit", "MiB", NULL);
        xml_writer_text(&w, "currentMemory", mem, "unit", "MiB", NULL);
        xml_writer_text(&w, "vcpu", cpus, "placement", "static", NULL);

        /* q35: PCIe chipset as Whonix's KVM machines use; every device
         * below is virtio on it.  The disk is the only boot device. */
        xml_writer_open(&w, "os", NULL);
        xml_writer_text(&w, "type", "hvm", "arch", arch, "machine", "q35", NULL);
        xml_writer_empty(&w, "boot", "dev", "hd", NULL);
        xml_writer_close(&w);
        /* ACPI for a clean `virsh shutdown`; the APIC for interrupts on
         * anything beyond one CPU. */
        xml_writer_open(&w, "features", NULL);
        xml_writer_empty(&w, "acpi", NULL);
        xml_writer_empty(&w, "apic", NULL);
        xml_writer_close(&w);
        /* One generic CPU model on every host, under KVM and TCG alike:
         * passing the host's CPU through would show the guest (and what
         * it runs) the host's model, microcode and features, which
         * identify the machine.  qemu64 is the x86-64 baseline that every
         * host can offer, and all that Debian's amd64 needs.  The clock
         * stays the host's (UTC); the guest moves it by a random offset
         * at boot and then keeps it over Tor (whonix-timesync). */
        xml_writer_open(&w, "cpu", "mode", "custom", "match", "exact", "check", "none", NULL);
        xml_writer_text(&w, "model", "qemu64", "fallback", "forbid", NULL);
        xml_writer_close(&w);
        /* The guest's RTC in UTC: "localtime" would tell the guest the
         * host's time zone. */
        xml_writer_empty(&w, "clock", "offset", "utc", NULL);
        /* A crashed VM stays off rather than rebooting in a loop. */
        xml_writer_text(&w, "on_poweroff", "destroy", NULL);
        xml_writer_text(&w, "on_reboot", "restart", NULL);
        xml_writer_text(&w, "on_crash", "destroy", NULL);

        xml_writer_open(&w, "devices", NULL);

        /* discard=unmap: fstrim in the guest gives freed blocks back to the
         * sparse qcow2 on the host. */
        xml_writer_open(&w, "disk", "type", "file", "device", "disk", NULL);
        xml_writer_empty(&w, "driver", "name", "qemu", "type", "qcow2", "discard", "unmap", NULL);
        xml_writer_empty(&w, "source", "file", opts->disk_path, NULL);
        xml_writer_empty(&w, "target", "dev", "vda", "bus", "virtio", NULL);
        xml_writer_close(&w);

        /* One NIC per recipe network, in recipe order, so the guest's eth0
         * / eth1 are what the overlays configure (Gateway: eth0 external,
         * eth1 internal).  MACs in QEMU's range, derived from the seed:
         * every user of a release has the same ones, so they identify
         * nothing about this installation. */
        STRV_FOREACH(n, r->networks) {
                _cleanup_free_ char *mac_what = NULL;
                const char *net = kvm_network_name(*n);
                char mac[ID_MAC_STRING_MAX];

                if (!net)
                        return error_set(err, -EINVAL, "domain '%s': unknown network '%s'", name, *n);
                mac_what = strdup_printf("nic:%s:%zu:%s", name, i++, *n);
                if (!mac_what)
                        return -ENOMEM;
                k = id_mac(opts->seed, mac_what, ID_OUI_KVM, mac);
                if (k < 0)
                        return id_error(err, k, mac_what);
                xml_writer_open(&w, "interface", "type", "network", NULL);
                xml_writer_empty(&w, "mac", "address", mac, NULL);
                xml_writer_empty(&w, "source", "network", net, NULL);
                xml_writer_empty(&w, "model", "type", "virtio", NULL);
                xml_writer_close(&w);
        }

        /* A serial console (the recipes boot with console=ttyS0): headless
         * use with `virsh console`, and what the boot tests read. */
        xml_writer_open(&w, "serial", "type", "pty", NULL);
        xml_writer_empty(&w, "target", "port", "0", NULL);
        xml_writer_close(&w);
        xml_writer_open(&w, "console", "type", "pty", NULL);
        xml_writer_empty(&w, "target", "type", "serial", "port", "0", NULL);
        xml_writer_close(&w);

        /* Entropy from the host: without it a guest stalls at boot waiting
         * for randomness (measured under TCG), and Tor needs it.  The host's
         * /dev/urandom never blocks. */
        xml_writer_open(&w, "rng", "model", "virtio", NULL);
        xml_writer_text(&w, "backend", "/dev/urandom", "model", "random", NULL);
        xml_writer_close(&w);

        /* No balloon, as Whonix: the memory is fixed, and the guest reports
         * nothing about its memory use to the host. */
        xml_writer_empty(&w, "memballoon", "model", "none", NULL);

        /* A local display only: SPICE through libvirt's own connection
         * (virt-manager, virt-viewer), no TCP port opened on the host. */
        xml_writer_open(&w, "graphics", "type", "spice", NULL);
        xml_writer_empty(&w, "listen", "type", "none", NULL);
        xml_writer_close(&w);
        xml_writer_open(&w, "video", NULL);
        xml_writer_empty(&w, "model", "type", "virtio", NULL);
        xml_writer_close(&w);
        /* A desktop (Graphics=yes) gets a pointer that follows the host's
         * without a grab: a virtio tablet (no USB controller needed).
         * Deliberately absent everywhere: a USB tablet and sound.  Fewer
         * emulated devices is less attack surface and less to fingerprint;
         * for a console, the PS/2 mouse and keyboard libvirt adds for the
         * display are enough. */
        if (streq_ptr(r->graphics, "yes"))
                xml_writer_empty(&w, "input", "type", "tablet", "bus", "virtio", NULL);

        xml_writer_close(&w); /* devices */
        xml_writer_close(&w); /* domain */

        k = xml_writer_finish(&w, ret);
        if (k < 0)
                return error_prefix(err, k, "cannot write the XML of domain '%s'", name);
        return 0;
}

static int write_xml(ErrorSlot *err, const char *dir, const char *name, const char *xml) {
        _cleanup_free_ char *file = NULL, *path = NULL;
        int r;

        file = strdup_printf("%s.xml", name);
        if (!file)
                return -ENOMEM;
        path = path_join(dir, file);
        if (!path)
                return -ENOMEM;
        r = write_file_atomic(path, xml, strlen(xml), 0644);
        if (r < 0)
                return error_set_errno(err, r, "cannot write '%s'", path);
        return 0;
}

int kvm_export(ErrorSlot *err, Recipe * const *recipes, size_t n, const char *output_dir, const char *images_dir,
               const char *seed) {
        static const char * const networks[] = { "external", "internal" };
        bool used[ELEMENTSOF(networks)] = {};
        int r;

        if (isempty(output_dir) || isempty(images_dir) || (n > 0 && !recipes))
                return -EINVAL;
        if (images_dir[0] != '/')
                return error_set(err, -EINVAL, "images directory '%s' is not absolute", images_dir);

        /* Check everything before writing anything. */
        for (size_t i = 0; i < n; i++) {
                if (isempty(recipes[i]->vm_name))
                        return error_set(err, -EINVAL, "recipe '%s' has no [VM] Name=", strempty(recipes[i]->path));
                for (size_t j = 0; j < i; j++)
                        if (streq(recipes[i]->vm_name, recipes[j]->vm_name))
                                return error_set(err, -EEXIST, "two recipes export the same VM name '%s'",
                                                 recipes[i]->vm_name);
                STRV_FOREACH(net, recipes[i]->networks) {
                        size_t k;

                        for (k = 0; k < ELEMENTSOF(networks); k++)
                                if (streq(*net, networks[k]))
                                        break;
                        if (k == ELEMENTSOF(networks))
                                return error_set(err, -EINVAL, "recipe '%s': unknown network '%s'",
                                                 strempty(recipes[i]->path), *net);
                        used[k] = true;
                }
        }

        r = mkdir_p(output_dir, 0755);
        if (r < 0)
                return error_set_errno(err, r, "cannot create '%s'", output_dir);

        for (size_t k = 0; k < ELEMENTSOF(networks); k++) {
                _cleanup_free_ char *xml = NULL;

                if (!used[k])
                        continue;
                r = kvm_network_xml(err, networks[k], seed, &xml);
                if (r < 0)
                        return r;
                r = write_xml(err, output_dir, kvm_network_name(networks[k]), xml);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *disk_file = NULL, *disk = NULL, *xml = NULL;
                KvmDomainOptions o = { .domain_type = "kvm", .seed = seed };

                disk_file = strdup_printf("%s.qcow2", recipes[i]->vm_name);
                if (!disk_file)
                        return -ENOMEM;
                disk = path_join(images_dir, disk_file);
                if (!disk)
                        return -ENOMEM;
                o.disk_path = disk;
                r = kvm_domain_xml(err, recipes[i], &o, &xml);
                if (r < 0)
                        return r;
                r = write_xml(err, output_dir, recipes[i]->vm_name, xml);
                if (r < 0)
                        return r;
        }
        return 0;
}
