/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <sys/stat.h>

#include "cancel.h"
#include "archive-util.h"
#include "export-ova.h"
#include "ids.h"
#include "sha256.h"
#include "xml-writer.h"

/* The OVF of two machines is about 15 KiB. */
#define OVF_MAX (1024u * 1024u)
#define COPY_CHUNK (1024u * 1024u)

#define NS_OVF "http://schemas.dmtf.org/ovf/envelope/1"
#define NS_RASD "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
#define NS_VSSD "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define NS_VBOX "http://www.virtualbox.org/ovf/machine"
#define VMDK_FORMAT "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"
/* CIM_OperatingSystem 96 is "Debian 64-bit"; VirtualBox's own name wins
 * where it reads vbox:OSType. */
#define OVF_OS_DEBIAN_64 "96"
#define VBOX_OS_TYPE "Debian_64"
/* The settings version VirtualBox 6.0/6.1 writes; 7.x imports it. */
#define VBOX_SETTINGS_VERSION "1.16-linux"
/* Intel PRO/1000 MT Desktop: VirtualBox's default NIC, driven by e1000 in
 * every Debian kernel and without the virtio-net quirks some VirtualBox
 * versions had.  KVM gets virtio (export-kvm.c). */
#define VBOX_NIC_TYPE "82540EM"
#define OVF_NIC_SUBTYPE "E1000"

static bool member_name_valid(const char *s) {
        if (isempty(s) || strlen(s) > 99 || s[0] == '.')
                return false;
        for (const char *p = s; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
                        return false;
        return true;
}

char *ova_disk_name(const Recipe *r) {
        if (!r || isempty(r->vm_name)) {
                errno = EINVAL;
                return NULL;
        }
        return strdup_printf("%s-disk1.vmdk", r->vm_name);
}

static int id_error(ErrorSlot *err, int r, const char *what) {
        return error_set_errno(err, r, "cannot derive an identifier for '%s'", what);
}

static int derive_uuid(ErrorSlot *err, const char *seed, const char *kind, const char *name,
                       char ret[static ID_UUID_STRING_MAX]) {
        _cleanup_free_ char *what = strdup_printf("%s:%s", kind, name);
        int r;

        if (!what)
                return -ENOMEM;
        r = id_uuid(seed, what, ret);
        return r < 0 ? id_error(err, r, what) : 0;
}

/* VirtualBox writes MAC addresses as 12 uppercase hex digits. */
static int derive_mac(ErrorSlot *err, const char *seed, const char *name, size_t slot, char ret[static 13]) {
        _cleanup_free_ char *what = strdup_printf("vbox-nic:%s:%zu", name, slot);
        char mac[ID_MAC_STRING_MAX];
        size_t j = 0;
        int r;

        if (!what)
                return -ENOMEM;
        r = id_mac(seed, what, ID_OUI_VIRTUALBOX, mac);
        if (r < 0)
                return id_error(err, r, what);
        for (const char *p = mac; *p; p++)
                if (*p != ':')
                        ret[j++] = (char) (*p >= 'a' && *p <= 'f' ? *p - 'a' + 'A' : *p);
        ret[j] = 0;
        return 0;
}

static const char *connection_name(const char *network) {
        if (streq_ptr(network, "external"))
                return "NAT";
        if (streq_ptr(network, "internal"))
                return OVA_NETWORK_INTERNAL;
        return NULL;
}

static int vm_check(ErrorSlot *err, const OvaVm *vm) {
        const Recipe *r = vm->recipe;

        if (!r || isempty(r->vm_name))
                return error_set(err, -EINVAL, "recipe '%s' has no [VM] Name=", r ? strempty(r->path) : "");
        if (!member_name_valid(r->vm_name))
                return error_set(err, -EINVAL, "VM name '%s' cannot name an OVA member", r->vm_name);
        if (r->memory_mib == 0 || r->cpus == 0)
                return error_set(err, -EINVAL, "VM '%s' has no memory or no CPUs", r->vm_name);
        if (vm->capacity_bytes == 0)
                return error_set(err, -EINVAL, "disk of VM '%s' has no capacity", r->vm_name);
        if (isempty(vm->vmdk_path))
                return error_set(err, -EINVAL, "VM '%s' has no disk", r->vm_name);
        if (strv_length(r->networks) > 8)
                return error_set(err, -EINVAL, "VM '%s' has more NICs than VirtualBox's 8", r->vm_name);
        STRV_FOREACH(net, r->networks)
                if (!connection_name(*net))
                        return error_set(err, -EINVAL, "unknown network '%s' of VM '%s'", *net, r->vm_name);
        return 0;
}

static int options_check(ErrorSlot *err, const OvaVm *vms, size_t n, const OvaOptions *opts) {
        int r;

        if (!vms || !opts || n == 0)
                return -EINVAL;
        if (n > OVA_MEMBERS_MAX - 2)
                return error_set(err, -E2BIG, "%zu VMs are more than an OVA here can carry", n);
        if (!opts->seed)
                return error_set(err, -EINVAL, "no seed for the identifiers of the OVA");
        if (opts->mtime < 0)
                return error_set(err, -EINVAL, "OVA member time %" PRId64 " is before 1970", opts->mtime);
        if (opts->ovf_name && !member_name_valid(opts->ovf_name))
                return error_set(err, -EINVAL, "'%s' cannot name an OVF", opts->ovf_name);
        for (size_t i = 0; i < n; i++) {
                r = vm_check(err, &vms[i]);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(vms[j].recipe->vm_name, vms[i].recipe->vm_name))
                                return error_set(err, -EINVAL, "two VMs are named '%s'", vms[i].recipe->vm_name);
        }
        return 0;
}

/* One rasd Item; the CIM schema orders the rasd elements alphabetically,
 * and so do the callers' arguments.  Pairs of element name and text, NULL
 * text skips the element. */
_sentinel_ static void item(XmlWriter *w, ...) {
        const char *k;
        va_list ap;

        xml_writer_open(w, "Item", NULL);
        va_start(ap, w);
        while ((k = va_arg(ap, const char *))) {
                const char *v = va_arg(ap, const char *);
                if (v)
                        xml_writer_text(w, k, v, NULL);
        }
        va_end(ap);
        xml_writer_close(w);
}

static int virtual_system(ErrorSlot *err, XmlWriter *w, const OvaVm *vm, size_t index, const OvaOptions *opts) {
        const Recipe *r = vm->recipe;
        char machine_uuid[ID_UUID_STRING_MAX], disk_uuid[ID_UUID_STRING_MAX], cpus[16], mem[32], caption[64],
                disk_id[32], instance[16], mac[13], slot[16];
        _cleanup_free_ char *machine_braced = NULL, *disk_braced = NULL, *host_resource = NULL;
        unsigned id = 0;
        size_t s = 0;
        int k;

        k = derive_uuid(err, opts->seed, "vbox-machine", r->vm_name, machine_uuid);
        if (k < 0)
                return k;
        k = derive_uuid(err, opts->seed, "vbox-disk", r->vm_name, disk_uuid);
        if (k < 0)
                return k;
        machine_braced = strdup_printf("{%s}", machine_uuid);
        disk_braced = strdup_printf("{%s}", disk_uuid);
        snprintf(disk_id, sizeof disk_id, "vmdisk%zu", index + 1);
        host_resource = strdup_printf("ovf:/disk/%s", disk_id);
        if (!machine_braced || !disk_braced || !host_resource)
                return -ENOMEM;
        snprintf(cpus, sizeof cpus, "%u", r->cpus);
        snprintf(mem, sizeof mem, "%" PRIu64, r->memory_mib);

        xml_writer_open(w, "VirtualSystem", "ovf:id", r->vm_name, NULL);
        xml_writer_text(w, "Info", "A virtual machine", NULL);
        /* OVF's optional Name (after Info): importers such as virt-v2v take
         * the machine's name from it. */
        xml_writer_text(w, "Name", r->vm_name, NULL);
        xml_writer_open(w, "AnnotationSection", NULL);
        xml_writer_text(w, "Info", "A human-readable annotation", NULL);
        xml_writer_text(w, "Annotation", strempty(r->description), NULL);
        xml_writer_close(w);
        xml_writer_open(w, "OperatingSystemSection", "ovf:id", OVF_OS_DEBIAN_64, NULL);
        xml_writer_text(w, "Info", "The kind of installed guest operating system", NULL);
        xml_writer_text(w, "Description", VBOX_OS_TYPE, NULL);
        xml_writer_text(w, "vbox:OSType", VBOX_OS_TYPE, "ovf:required", "false", NULL);
        xml_writer_close(w);

        xml_writer_open(w, "VirtualHardwareSection", NULL);
        xml_writer_text(w, "Info", "Virtual hardware requirements for a virtual machine", NULL);
        xml_writer_open(w, "System", NULL);
        xml_writer_text(w, "vssd:ElementName", "Virtual Hardware Family", NULL);
        xml_writer_text(w, "vssd:InstanceID", "0", NULL);
        xml_writer_text(w, "vssd:VirtualSystemIdentifier", r->vm_name, NULL);
        xml_writer_text(w, "vssd:VirtualSystemType", "virtualbox-2.2", NULL);
        xml_writer_close(w);

        snprintf(caption, sizeof caption, "%u virtual CPU%s", r->cpus, r->cpus == 1 ? "" : "s");
        snprintf(instance, sizeof instance, "%u", ++id);
        item(w, "rasd:Caption", caption, "rasd:Description", "Number of virtual CPUs", "rasd:ElementName", caption,
             "rasd:InstanceID", instance, "rasd:ResourceType", "3", "rasd:VirtualQuantity", cpus, NULL);
        snprintf(caption, sizeof caption, "%" PRIu64 " MB of memory", r->memory_mib);
        snprintf(instance, sizeof instance, "%u", ++id);
        item(w, "rasd:AllocationUnits", "MegaBytes", "rasd:Caption", caption, "rasd:Description", "Memory Size",
             "rasd:ElementName", caption, "rasd:InstanceID", instance, "rasd:ResourceType", "4",
             "rasd:VirtualQuantity", mem, NULL);
        /* SATA (AHCI) rather than IDE: VirtualBox's default for Debian_64,
         * and the controller the vbox:Machine section names. */
        snprintf(instance, sizeof instance, "%u", ++id);
        item(w, "rasd:Address", "0", "rasd:Caption", "sataController0", "rasd:Description", "SATA Controller",
             "rasd:ElementName", "sataController0", "rasd:InstanceID", instance, "rasd:ResourceSubType", "AHCI",
             "rasd:ResourceType", "20", NULL);
        {
                char parent[16];

                memcpy(parent, instance, sizeof parent);
                snprintf(instance, sizeof instance, "%u", ++id);
                item(w, "rasd:AddressOnParent", "0", "rasd:Caption", "disk1", "rasd:Description", "Disk Image",
                     "rasd:ElementName", "disk1", "rasd:HostResource", host_resource, "rasd:InstanceID", instance,
                     "rasd:Parent", parent, "rasd:ResourceType", "17", NULL);
        }
        STRV_FOREACH(net, r->networks) {
                const char *conn = connection_name(*net);
                _cleanup_free_ char *name = strdup_printf("Ethernet adapter on '%s'", conn);

                if (!name)
                        return -ENOMEM;
                snprintf(instance, sizeof instance, "%u", ++id);
                item(w, "rasd:AutomaticAllocation", "true", "rasd:Caption", name, "rasd:Connection", conn,
                     "rasd:ElementName", name, "rasd:InstanceID", instance, "rasd:ResourceSubType", OVF_NIC_SUBTYPE,
                     "rasd:ResourceType", "10", NULL);
        }
        xml_writer_close(w); /* VirtualHardwareSection */

        /* VirtualBox's own settings format; where it is present VirtualBox
         * takes the machine from here, with the settings the standard
         * sections cannot say. */
        xml_writer_open(w, "vbox:Machine", "ovf:required", "false", "version", VBOX_SETTINGS_VERSION,
                        "uuid", machine_braced, "name", r->vm_name, "OSType", VBOX_OS_TYPE,
                        "snapshotFolder", "Snapshots", NULL);
        xml_writer_text(w, "ovf:Info", "Complete VirtualBox machine configuration in VirtualBox format", NULL);
        xml_writer_open(w, "ExtraData", NULL);
        /* No host time sync: the guest's clock must not leak the host's
         * (Whonix sets its time from Tor-friendly sources, sdwdate). */
        xml_writer_empty(w, "ExtraDataItem", "name", "VBoxInternal/Devices/VMMDev/0/Config/GetHostTimeDisabled",
                         "value", "1", NULL);
        xml_writer_close(w);
        xml_writer_open(w, "Hardware", NULL);
        xml_writer_empty(w, "CPU", "count", cpus, NULL);
        xml_writer_empty(w, "Memory", "RAMSize", mem, NULL);
        /* No USB controller, so no USB tablet: PS/2 devices. */
        xml_writer_empty(w, "HID", "Pointing", "PS2Mouse", "Keyboard", "PS2Keyboard", NULL);
        /* A desktop (Graphics=yes) gets the video memory Whonix gives its
         * own (a console needs little).  Its pointer follows the host's
         * through the kernel's vboxguest driver, still without USB. */
        xml_writer_empty(w, "Display", "controller", "VMSVGA", "VRAMSize",
                         streq_ptr(r->graphics, "yes") ? "128" : "16", NULL);
        xml_writer_empty(w, "RemoteDisplay", "enabled", "false", NULL);
        xml_writer_open(w, "BIOS", NULL);
        xml_writer_empty(w, "IOAPIC", "enabled", "true", NULL);
        xml_writer_close(w);
        xml_writer_open(w, "Network", NULL);
        STRV_FOREACH(net, r->networks) {
                k = derive_mac(err, opts->seed, r->vm_name, s, mac);
                if (k < 0)
                        return k;
                snprintf(slot, sizeof slot, "%zu", s++);
                xml_writer_open(w, "Adapter", "slot", slot, "enabled", "true", "MACAddress", mac, "cable", "true",
                                "type", VBOX_NIC_TYPE, NULL);
                if (streq(*net, "external"))
                        xml_writer_empty(w, "NAT", NULL);
                else
                        xml_writer_empty(w, "InternalNetwork", "name", OVA_NETWORK_INTERNAL, NULL);
                xml_writer_close(w);
        }
        xml_writer_close(w); /* Network */
        xml_writer_empty(w, "AudioAdapter", "driver", "Null", "enabled", "false", NULL);
        xml_writer_empty(w, "RTC", "localOrUTC", "UTC", NULL);
        xml_writer_empty(w, "Clipboard", "mode", "Disabled", NULL);
        xml_writer_empty(w, "DragAndDrop", "mode", "Disabled", NULL);
        xml_writer_open(w, "StorageControllers", NULL);
        xml_writer_open(w, "StorageController", "name", "SATA", "type", "AHCI", "PortCount", "1",
                        "useHostIOCache", "false", "Bootable", "true", NULL);
        xml_writer_open(w, "AttachedDevice", "type", "HardDisk", "hotpluggable", "false", "port", "0", "device", "0",
                        NULL);
        xml_writer_empty(w, "Image", "uuid", disk_braced, NULL);
        xml_writer_close(w);
        xml_writer_close(w);
        xml_writer_close(w); /* StorageControllers */
        xml_writer_close(w); /* Hardware */
        xml_writer_close(w); /* vbox:Machine */
        xml_writer_close(w); /* VirtualSystem */
        return 0;
}

int ova_ovf_xml(ErrorSlot *err, const OvaVm *vms, size_t n, const OvaOptions *opts, char **ret) {
        XmlWriter w = XML_WRITER_INIT(err, OVF_MAX);
        const char *collection;
        bool want_nat = false, want_internal = false;
        int r;

        r = options_check(err, vms, n, opts);
        if (r < 0)
                return r;
        collection = opts->ovf_name ?: "Whonix";

        xml_writer_declaration(&w);
        xml_writer_open(&w, "Envelope", "ovf:version", "1.0", "xml:lang", "en-US", "xmlns", NS_OVF,
                        "xmlns:ovf", NS_OVF, "xmlns:rasd", NS_RASD, "xmlns:vssd", NS_VSSD, "xmlns:xsi", NS_XSI,
                        "xmlns:vbox", NS_VBOX, NULL);
        xml_writer_open(&w, "References", NULL);
        for (size_t i = 0; i < n && w.error == 0; i++) {
                _cleanup_free_ char *href = ova_disk_name(vms[i].recipe);
                char id[32], size[32];
                struct stat st;

                if (!href) {
                        r = -ENOMEM;
                        goto fail;
                }
                if (stat(vms[i].vmdk_path, &st) < 0) {
                        r = error_set_errno(err, -errno, "cannot stat '%s'", vms[i].vmdk_path);
                        goto fail;
                }
                snprintf(id, sizeof id, "file%zu", i + 1);
                snprintf(size, sizeof size, "%jd", (intmax_t) st.st_size);
                xml_writer_empty(&w, "File", "ovf:id", id, "ovf:href", href, "ovf:size", size, NULL);
        }
        xml_writer_close(&w);

        xml_writer_open(&w, "DiskSection", NULL);
        xml_writer_text(&w, "Info", "List of the virtual disks used in the package", NULL);
        for (size_t i = 0; i < n; i++) {
                char id[32], file[32], cap[32], uuid[ID_UUID_STRING_MAX];

                r = derive_uuid(err, opts->seed, "vbox-disk", vms[i].recipe->vm_name, uuid);
                if (r < 0)
                        goto fail;
                snprintf(id, sizeof id, "vmdisk%zu", i + 1);
                snprintf(file, sizeof file, "file%zu", i + 1);
                snprintf(cap, sizeof cap, "%" PRIu64, vms[i].capacity_bytes);
                xml_writer_empty(&w, "Disk", "ovf:capacity", cap, "ovf:capacityAllocationUnits", "byte",
                                 "ovf:diskId", id, "ovf:fileRef", file, "ovf:format", VMDK_FORMAT,
                                 "vbox:uuid", uuid, NULL);
                STRV_FOREACH(net, vms[i].recipe->networks) {
                        want_nat = want_nat || streq(*net, "external");
                        want_internal = want_internal || streq(*net, "internal");
                }
        }
        xml_writer_close(&w);

        xml_writer_open(&w, "NetworkSection", NULL);
        xml_writer_text(&w, "Info", "Logical networks used in the package", NULL);
        if (want_nat) {
                xml_writer_open(&w, "Network", "ovf:name", "NAT", NULL);
                xml_writer_text(&w, "Description", "The Gateway's way out: NAT to the host's network", NULL);
                xml_writer_close(&w);
        }
        if (want_internal) {
                xml_writer_open(&w, "Network", "ovf:name", OVA_NETWORK_INTERNAL, NULL);
                xml_writer_text(&w, "Description", "Internal network between the Gateway and the Workstation",
                                NULL);
                xml_writer_close(&w);
        }
        xml_writer_close(&w);

        /* One VM stands alone under the Envelope, as importers that take a
         * single machine (virt-v2v -i ova) expect; several form a
         * collection, which VirtualBox imports in one go. */
        if (n > 1) {
                xml_writer_open(&w, "VirtualSystemCollection", "ovf:id", collection, NULL);
                xml_writer_text(&w, "Info", "A collection of virtual machines", NULL);
        }
        for (size_t i = 0; i < n; i++) {
                r = virtual_system(err, &w, &vms[i], i, opts);
                if (r < 0)
                        goto fail;
        }
        if (n > 1)
                xml_writer_close(&w);
        xml_writer_close(&w); /* Envelope */

        r = xml_writer_finish(&w, ret);
        if (r < 0)
                r = error_prefix(err, r, "cannot write the OVF");
fail:
        xml_writer_done(&w);
        return r;
}

int ova_manifest(ErrorSlot *err, const char * const *names, const char * const *hex, size_t n, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, max;

        if (!names || !hex || n == 0)
                return -EINVAL;
        if (n > OVA_MEMBERS_MAX)
                return error_set(err, -E2BIG, "%zu manifest entries are too many", n);
        max = n * (sizeof "SHA256()= \n" + 100 + SHA256_HEX_SIZE) + 1;
        buf = malloc(max);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int k;

                if (!member_name_valid(names[i]))
                        return error_set(err, -EINVAL, "'%s' cannot name an OVA member", strempty(names[i]));
                if (!sha256_hex_valid(hex[i]))
                        return error_set(err, -EINVAL, "digest of '%s' is not lowercase SHA-256 hex", names[i]);
                k = snprintf(buf + len, max - len, "SHA256(%s)= %s\n", names[i], hex[i]);
                if (k < 0 || (size_t) k >= max - len)
                        return -E2BIG;
                len += (size_t) k;
        }
        *ret = TAKE_PTR(buf);
        return 0;
}

static int entry_start(ErrorSlot *err, struct archive *a, const char *name, uint64_t size, const OvaOptions *opts) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();

        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) size);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        archive_entry_set_uname(e, "root");
        archive_entry_set_gname(e, "root");
        archive_entry_set_mtime(e, (time_t) opts->mtime, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK)
                return archive_error(err, a, "cannot write the tar header of '%s'", name);
        return 0;
}

static int member_buffer(ErrorSlot *err, struct archive *a, const char *name, const char *data,
                         const OvaOptions *opts) {
        size_t n = strlen(data);
        int r;

        r = entry_start(err, a, name, n, opts);
        if (r < 0)
                return r;
        if (archive_write_data(a, data, n) != (la_ssize_t) n)
                return archive_error(err, a, "cannot write '%s' into the OVA", name);
        return 0;
}

/* Copy a disk in chunks; it must still be the file that was hashed. */
static int member_disk(ErrorSlot *err, struct archive *a, const char *name, const char *path, uint64_t size,
                       const char *hex, const OvaOptions *opts) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ char *again = NULL;
        uint8_t digest[SHA256_DIGEST_SIZE];
        uint64_t done = 0;
        Sha256 s;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return error_set_errno(err, -errno, "cannot open '%s'", path);
        buf = malloc(COPY_CHUNK);
        if (!buf)
                return -ENOMEM;
        r = entry_start(err, a, name, size, opts);
        if (r < 0)
                return r;
        sha256_init(&s);
        while (done < size) {
                size_t want = size - done < COPY_CHUNK ? (size_t) (size - done) : COPY_CHUNK;
                ssize_t k;

                if (cancel_requested())
                        return error_set(err, -ECANCELED, "interrupted");
                k = read(fd, buf, want);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return error_set_errno(err, -errno, "cannot read '%s'", path);
                }
                if (k == 0)
                        return error_set(err, -EIO, "'%s' shrank while the OVA was written", path);
                sha256_update(&s, buf, (size_t) k);
                if (archive_write_data(a, buf, (size_t) k) != k)
                        return archive_error(err, a, "cannot write '%s' into the OVA", name);
                done += (uint64_t) k;
        }
        sha256_final(&s, digest);
        again = hexmem(digest, sizeof digest);
        if (!again)
                return -ENOMEM;
        if (!streq(again, hex))
                return error_set(err, -EIO, "'%s' changed while the OVA was written", path);
        return 0;
}

int ova_write(ErrorSlot *err, const OvaVm *vms, size_t n, const char *dest_ova, const OvaOptions *opts) {
        _cleanup_(archive_write_freep) struct archive *a = NULL;
        _cleanup_strv_free_ char **names = NULL, **hexes = NULL;
        _cleanup_free_ char *ovf = NULL, *mf = NULL, *ovf_member = NULL, *mf_member = NULL;
        _cleanup_free_ uint64_t *sizes = NULL;
        _cleanup_unlink_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *base;
        int r;

        if (isempty(dest_ova))
                return -EINVAL;
        r = ova_ovf_xml(err, vms, n, opts, &ovf);
        if (r < 0)
                return r;
        base = opts->ovf_name ?: "Whonix";
        ovf_member = strdup_printf("%s.ovf", base);
        mf_member = strdup_printf("%s.mf", base);
        sizes = calloc(n, sizeof *sizes);
        if (!ovf_member || !mf_member || !sizes)
                return -ENOMEM;
        r = strv_extend(&names, ovf_member);
        if (r < 0)
                return r;
        r = strv_consume(&hexes, sha256_hex(ovf, strlen(ovf)));
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                char *hex = NULL;
                struct stat st;

                if (stat(vms[i].vmdk_path, &st) < 0)
                        return error_set_errno(err, -errno, "cannot stat '%s'", vms[i].vmdk_path);
                if (!S_ISREG(st.st_mode))
                        return error_set(err, -EINVAL, "'%s' is not a regular file", vms[i].vmdk_path);
                sizes[i] = (uint64_t) st.st_size;
                r = strv_consume(&names, ova_disk_name(vms[i].recipe));
                if (r < 0)
                        return r;
                r = sha256_file(vms[i].vmdk_path, &hex);
                if (r < 0)
                        return error_set_errno(err, r, "cannot hash '%s'", vms[i].vmdk_path);
                r = strv_consume(&hexes, hex);
                if (r < 0)
                        return r;
        }
        r = ova_manifest(err, (const char * const *) names, (const char * const *) hexes, n + 1, &mf);
        if (r < 0)
                return r;

        tmp = strdup_printf("%s.tmpXXXXXX", dest_ova);
        if (!tmp)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                free(TAKE_PTR(tmp));
                return error_set_errno(err, r, "cannot create a temporary file next to '%s'", dest_ova);
        }
        a = archive_write_new();
        if (!a)
                return -ENOMEM;
        /* ustar headers; a pax header only where ustar cannot say it (a
         * member of 8 GiB or more). */
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_add_filter_none(a) != ARCHIVE_OK ||
            archive_write_open_fd(a, fd) != ARCHIVE_OK)
                return archive_error(err, a, "cannot start the OVA '%s'", tmp);

        r = member_buffer(err, a, ovf_member, ovf, opts);
        if (r >= 0)
                r = member_buffer(err, a, mf_member, mf, opts);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = member_disk(err, a, names[i + 1], vms[i].vmdk_path, sizes[i], hexes[i + 1], opts);
        if (r < 0)
                return error_prefix(err, r, "cannot write the OVA '%s'", dest_ova);
        if (archive_write_close(a) != ARCHIVE_OK)
                return archive_error(err, a, "cannot finish the OVA '%s'", tmp);
        if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
                return error_set_errno(err, -errno, "cannot finish '%s'", tmp);
        if (rename(tmp, dest_ova) < 0)
                return error_set_errno(err, -errno, "cannot rename '%s' to '%s'", tmp, dest_ova);
        free(TAKE_PTR(tmp));
        return 0;
}
