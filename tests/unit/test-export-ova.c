/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OVA export: an OVA of the real recipes with two small VMDKs, read back
 * with libarchive (member order and attributes), the manifest checked
 * against the members, the OVF parsed with libxml2 and compared with the
 * recipes; plus determinism, a different seed, and refused input.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "archive-util.h"
#include "export-ova.h"
#include "recipe.h"
#include "sha256.h"
#include "spawn.h"
#include "tap.h"
#include "util.h"
#include "vmdk.h"

#define MIB (UINT64_C(1) << 20)
#define MTIME INT64_C(1700000000)
#define MEMBER_MAX (16 * MIB)

typedef struct Member {
        char *name;
        char *data;
        size_t size;
        int64_t uid, gid;
        const char *uname;
        int64_t mtime;
        mode_t mode;
} Member;

static void members_free(Member *m, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(m[i].name);
                free(m[i].data);
        }
}

/* Read every member of the OVA (bounded: the test's members are small). */
static int read_ova(const char *path, Member *m, size_t max, size_t *ret_n) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        struct archive_entry *e;
        size_t n = 0;
        int r;

        if (!a)
                return -ENOMEM;
        archive_read_support_format_tar(a);
        if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
                return -EIO;
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
                la_int64_t size = archive_entry_size(e);

                if (n >= max || size < 0 || (uint64_t) size > MEMBER_MAX)
                        return -E2BIG;
                m[n] = (Member) {
                        .name = strdup(archive_entry_pathname(e)),
                        .data = malloc((size_t) size + 1),
                        .size = (size_t) size,
                        .uid = archive_entry_uid(e),
                        .gid = archive_entry_gid(e),
                        .mtime = archive_entry_mtime(e),
                        .mode = archive_entry_mode(e),
                };
                if (!m[n].name || !m[n].data) {
                        n++;
                        *ret_n = n;
                        return -ENOMEM;
                }
                if (archive_read_data(a, m[n].data, (size_t) size) != size) {
                        *ret_n = n + 1;
                        return -EIO;
                }
                m[n].data[size] = 0;
                n++;
        }
        *ret_n = n;
        return r == ARCHIVE_EOF ? 0 : -EIO;
}

static int make_vmdk(const char *dir, const char *name, uint64_t size, const char *marker, char **ret_path) {
        _cleanup_free_ char *raw = strdup_printf("%s/%s.raw", dir, name), *vmdk = strdup_printf("%s/%s.vmdk", dir, name);
        _cleanup_close_ int fd = -EBADF;
        ErrorSlot err = {};
        int r;

        if (!raw || !vmdk)
                return -ENOMEM;
        fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t) size) < 0)
                return -errno;
        if (pwrite(fd, marker, strlen(marker), 3 * MIB) != (ssize_t) strlen(marker))
                return -EIO;
        r = vmdk_from_raw(&err, raw, vmdk, &(VmdkOptions) { .cid = 0x42 }, NULL);
        if (r < 0)
                tap_diag("%s", error_text(&err, r));
        error_done(&err);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(vmdk);
        return 0;
}

static void xml_freedocp(xmlDocPtr *d) {
        if (*d)
                xmlFreeDoc(*d);
}

/* Evaluate an XPath expression that yields a string or a number, with the
 * OVF prefixes. */
static char *xpath_str(xmlDocPtr doc, const char *expr) {
        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        xmlXPathObjectPtr o;
        char *s = NULL;

        if (!ctx)
                return NULL;
        xmlXPathRegisterNs(ctx, BAD_CAST "ovf", BAD_CAST "http://schemas.dmtf.org/ovf/envelope/1");
        xmlXPathRegisterNs(ctx, BAD_CAST "rasd",
                           BAD_CAST "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData");
        xmlXPathRegisterNs(ctx, BAD_CAST "vssd",
                           BAD_CAST "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData");
        xmlXPathRegisterNs(ctx, BAD_CAST "vbox", BAD_CAST "http://www.virtualbox.org/ovf/machine");
        o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
        if (o) {
                xmlChar *v = xmlXPathCastToString(o);
                if (v) {
                        s = strdup((const char *) v);
                        xmlFree(v);
                }
                xmlXPathFreeObject(o);
        }
        xmlXPathFreeContext(ctx);
        return s;
}

static bool xpath_is(xmlDocPtr doc, const char *want, const char *fmt, ...) _printf_(3, 4);
static bool xpath_is(xmlDocPtr doc, const char *want, const char *fmt, ...) {
        _cleanup_free_ char *expr = NULL, *got = NULL;
        va_list ap;

        va_start(ap, fmt);
        expr = strdup_vprintf(fmt, ap);
        va_end(ap);
        got = expr ? xpath_str(doc, expr) : NULL;
        if (!got || !streq(got, want)) {
                tap_diag("%s: got '%s', want '%s'", strempty(expr), strempty(got), want);
                return false;
        }
        return true;
}

#define VS(name) "/ovf:Envelope/ovf:VirtualSystemCollection/ovf:VirtualSystem[@ovf:id='" name "']"
#define HW(name) VS(name) "/ovf:VirtualHardwareSection"
#define VM(name) VS(name) "/vbox:Machine"

static void check_vm(xmlDocPtr doc, const char *name, const Recipe *r, const char *file_size, uint64_t capacity) {
        char mem[32], cpus[16], cap[32];
        bool gw = streq(name, "Whonix-Gateway");
        const char *disk = gw ? "vmdisk1" : "vmdisk2", *file = gw ? "file1" : "file2";

        snprintf(mem, sizeof mem, "%" PRIu64, r->memory_mib);
        snprintf(cpus, sizeof cpus, "%u", r->cpus);
        snprintf(cap, sizeof cap, "%" PRIu64, capacity);
        tap_ok(xpath_is(doc, cpus, "string(" VS("%s") "/ovf:VirtualHardwareSection/ovf:Item[rasd:ResourceType=3]/rasd:VirtualQuantity)", name) &&
               xpath_is(doc, cpus, "string(" VS("%s") "/vbox:Machine/ovf:Hardware/ovf:CPU/@count)", name),
               "%s: CPUs from the recipe (%s)", name, cpus);
        tap_ok(xpath_is(doc, mem, "string(" VS("%s") "/ovf:VirtualHardwareSection/ovf:Item[rasd:ResourceType=4]/rasd:VirtualQuantity)", name) &&
               xpath_is(doc, "MegaBytes", "string(" VS("%s") "/ovf:VirtualHardwareSection/ovf:Item[rasd:ResourceType=4]/rasd:AllocationUnits)", name) &&
               xpath_is(doc, mem, "string(" VS("%s") "/vbox:Machine/ovf:Hardware/ovf:Memory/@RAMSize)", name),
               "%s: memory from the recipe (%s MiB)", name, mem);
        tap_ok(xpath_is(doc, "virtualbox-2.2", "string(" VS("%s") "/ovf:VirtualHardwareSection/ovf:System/vssd:VirtualSystemType)", name) &&
               xpath_is(doc, "96", "string(" VS("%s") "/ovf:OperatingSystemSection/@ovf:id)", name) &&
               xpath_is(doc, "Debian_64", "string(" VS("%s") "/vbox:Machine/@OSType)", name),
               "%s: virtualbox-2.2, Debian 64-bit", name);
        tap_ok(xpath_is(doc, "AHCI", "string(" VS("%s") "/ovf:VirtualHardwareSection/ovf:Item[rasd:ResourceType=20]/rasd:ResourceSubType)", name) &&
               xpath_is(doc, "1", "count(" VS("%s") "/ovf:VirtualHardwareSection/ovf:Item[rasd:ResourceType=17][rasd:Parent = ../ovf:Item[rasd:ResourceType=20]/rasd:InstanceID])", name) &&
               xpath_is(doc, disk, "substring-after(" VS("%s") "/ovf:VirtualHardwareSection/ovf:Item[rasd:ResourceType=17]/rasd:HostResource, 'ovf:/disk/')", name),
               "%s: disk on the SATA controller", name);
        tap_ok(xpath_is(doc, cap, "string(/ovf:Envelope/ovf:DiskSection/ovf:Disk[@ovf:diskId='%s']/@ovf:capacity)", disk) &&
               xpath_is(doc, "byte", "string(/ovf:Envelope/ovf:DiskSection/ovf:Disk[@ovf:diskId='%s']/@ovf:capacityAllocationUnits)", disk) &&
               xpath_is(doc, file, "string(/ovf:Envelope/ovf:DiskSection/ovf:Disk[@ovf:diskId='%s']/@ovf:fileRef)", disk) &&
               xpath_is(doc, "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized",
                        "string(/ovf:Envelope/ovf:DiskSection/ovf:Disk[@ovf:diskId='%s']/@ovf:format)", disk) &&
               xpath_is(doc, file_size, "string(/ovf:Envelope/ovf:References/ovf:File[@ovf:id='%s']/@ovf:size)", file),
               "%s: disk capacity %s, file size %s", name, cap, file_size);
        if (gw)
                tap_ok(xpath_is(doc, "2", "count(" HW("Whonix-Gateway") "/ovf:Item[rasd:ResourceType=10])") &&
                       xpath_is(doc, "NAT", "string(" HW("Whonix-Gateway") "/ovf:Item[rasd:ResourceType=10][1]/rasd:Connection)") &&
                       xpath_is(doc, "Whonix", "string(" HW("Whonix-Gateway") "/ovf:Item[rasd:ResourceType=10][2]/rasd:Connection)") &&
                       xpath_is(doc, "1", "count(" VM("Whonix-Gateway") "/ovf:Hardware/ovf:Network/ovf:Adapter[@slot='0']/ovf:NAT)") &&
                       xpath_is(doc, "Whonix", "string(" VM("Whonix-Gateway") "/ovf:Hardware/ovf:Network/ovf:Adapter[@slot='1']/ovf:InternalNetwork/@name)") &&
                       xpath_is(doc, "2", "count(" VM("Whonix-Gateway") "/ovf:Hardware/ovf:Network/ovf:Adapter)"),
                       "Gateway: NIC 0 NAT, NIC 1 internal network 'Whonix'");
        else
                tap_ok(xpath_is(doc, "1", "count(" HW("Whonix-Workstation") "/ovf:Item[rasd:ResourceType=10])") &&
                       xpath_is(doc, "Whonix", "string(" HW("Whonix-Workstation") "/ovf:Item[rasd:ResourceType=10]/rasd:Connection)") &&
                       xpath_is(doc, "1", "count(" VM("Whonix-Workstation") "/ovf:Hardware/ovf:Network/ovf:Adapter)") &&
                       xpath_is(doc, "0", "count(" VM("Whonix-Workstation") "//ovf:NAT)") &&
                       xpath_is(doc, "Whonix", "string(" VM("Whonix-Workstation") "/ovf:Hardware/ovf:Network/ovf:Adapter[@slot='0']/ovf:InternalNetwork/@name)"),
                       "Workstation: one NIC, internal network 'Whonix', no NAT");
        tap_ok(xpath_is(doc, "1", "string(" VS("%s") "/vbox:Machine/ovf:ExtraData/ovf:ExtraDataItem[@name='VBoxInternal/Devices/VMMDev/0/Config/GetHostTimeDisabled']/@value)", name) &&
               xpath_is(doc, "Disabled", "string(" VS("%s") "/vbox:Machine/ovf:Hardware/ovf:Clipboard/@mode)", name) &&
               xpath_is(doc, "Disabled", "string(" VS("%s") "/vbox:Machine/ovf:Hardware/ovf:DragAndDrop/@mode)", name) &&
               xpath_is(doc, "false", "string(" VS("%s") "/vbox:Machine/ovf:Hardware/ovf:AudioAdapter/@enabled)", name) &&
               xpath_is(doc, "0", "count(" VS("%s") "//ovf:USB)", name) &&
               xpath_is(doc, "0", "count(" VS("%s") "/ovf:VirtualHardwareSection/ovf:Item[rasd:ResourceType=23 or rasd:ResourceType=35])", name),
               "%s: no host time sync, clipboard, drag and drop, audio or USB", name);
        tap_ok(xpath_is(doc, "true", "starts-with(" VS("%s") "/vbox:Machine/ovf:Hardware/ovf:Network/ovf:Adapter[1]/@MACAddress, '080027')", name) &&
               xpath_is(doc, "12", "string-length(" VS("%s") "/vbox:Machine/ovf:Hardware/ovf:Network/ovf:Adapter[1]/@MACAddress)", name) &&
               xpath_is(doc, "38", "string-length(" VS("%s") "/vbox:Machine/@uuid)", name) &&
               xpath_is(doc, "true", "starts-with(" VS("%s") "/vbox:Machine/@uuid, '{')", name) &&
               xpath_is(doc, "true", "substring(" VS("%s") "/vbox:Machine//ovf:Image/@uuid, 2, 36) = /ovf:Envelope/ovf:DiskSection/ovf:Disk[@ovf:diskId='%s']/@vbox:uuid", name, disk),
               "%s: VirtualBox MAC, braced machine UUID, disk UUID matches", name);
}

static int run_xmllint(const char *path) {
        ErrorSlot err = {};
        int r = spawn_run(&err, (char * const *) (const char *[]) { "xmllint", "--noout", path, NULL }, NULL, NULL);

        if (r < 0)
                tap_diag("%s", error_text(&err, r));
        error_done(&err);
        return r;
}

int main(void) {
        _cleanup_(recipe_freep) Recipe *gw = NULL, *ws = NULL;
        _cleanup_free_ char *dir = NULL, *gw_path = NULL, *ws_path = NULL, *gw_vmdk = NULL, *ws_vmdk = NULL,
                            *ova1 = NULL, *ova2 = NULL, *ova3 = NULL, *d1 = NULL, *d2 = NULL, *ovf_a = NULL,
                            *ovf_b = NULL, *ovf_file = NULL, *mf = NULL;
        const char *root = getenv("WB_SOURCE_ROOT");
        const char *want[] = { "Whonix.ovf", "Whonix.mf", "Whonix-Gateway-disk1.vmdk", "Whonix-Workstation-disk1.vmdk" };
        Member m[8] = {};
        size_t n = 0, s1 = 0, s2 = 0;
        ErrorSlot err = {};
        bool ok;
        int r;

        tap_plan_lazy();
        if (!root)
                return tap_skip_all("WB_SOURCE_ROOT is not set");
        gw_path = strdup_printf("%s/recipes/whonix-gateway.conf", root);
        ws_path = strdup_printf("%s/recipes/whonix-workstation.conf", root);
        if (!gw_path || !ws_path || mkdtemp_in(NULL, "test-export-ova", &dir) < 0)
                return 1;
        r = recipe_load(&err, gw_path, root, &gw);
        r = r ?: recipe_load(&err, ws_path, root, &ws);
        if (!tap_ok(r == 0, "load the real recipes: %s", r < 0 ? error_text(&err, r) : "ok"))
                goto finish;
        r = make_vmdk(dir, "gw", 8 * MIB, "gateway", &gw_vmdk);
        r = r ?: make_vmdk(dir, "ws", 16 * MIB, "workstation", &ws_vmdk);
        if (!tap_ok(r == 0, "make two small VMDKs"))
                goto finish;

        OvaVm vms[] = {
                { .recipe = gw, .vmdk_path = gw_vmdk, .capacity_bytes = 8 * MIB },
                { .recipe = ws, .vmdk_path = ws_vmdk, .capacity_bytes = 16 * MIB },
        };
        OvaOptions opts = { .seed = "test-seed", .mtime = MTIME };
        ova1 = path_join(dir, "one.ova");
        ova2 = path_join(dir, "two.ova");
        ova3 = path_join(dir, "three.ova");
        r = ova_write(&err, vms, 2, ova1, &opts);
        if (!tap_ok(r == 0, "write the OVA: %s", r < 0 ? error_text(&err, r) : "ok"))
                goto finish;

        r = read_ova(ova1, m, ELEMENTSOF(m), &n);
        tap_ok(r == 0 && n == 4, "the OVA is a tar with 4 members (%zu)", n);
        ok = n == 4;
        for (size_t i = 0; ok && i < n; i++)
                ok = streq(m[i].name, want[i]);
        tap_ok(ok, "members: .ovf, .mf, Gateway disk, Workstation disk, in this order");
        ok = n == 4;
        for (size_t i = 0; ok && i < n; i++)
                ok = m[i].uid == 0 && m[i].gid == 0 && m[i].mtime == MTIME && m[i].mode == (AE_IFREG | 0644);
        tap_ok(ok, "members: regular, 0644, uid/gid 0, mtime SOURCE_DATE_EPOCH");
        if (n != 4)
                goto finish;

        {
                _cleanup_free_ char *want_mf = NULL;
                char *h[4] = {};

                for (size_t i = 0; i < 4; i++)
                        h[i] = sha256_hex(m[i].data, m[i].size);
                want_mf = h[0] && h[2] && h[3] ?
                        strdup_printf("SHA256(Whonix.ovf)= %s\nSHA256(Whonix-Gateway-disk1.vmdk)= %s\n"
                                      "SHA256(Whonix-Workstation-disk1.vmdk)= %s\n", h[0], h[2], h[3]) : NULL;
                tap_ok(want_mf && streq(m[1].data, want_mf), "the manifest has the digest of every other member");
                if (want_mf && !streq(m[1].data, want_mf))
                        tap_diag("%s", m[1].data);
                for (size_t i = 0; i < 4; i++)
                        free(h[i]);
        }
        r = read_full_file(gw_vmdk, MEMBER_MAX, &d1, &s1);
        r = r ?: read_full_file(ws_vmdk, MEMBER_MAX, &d2, &s2);
        tap_ok(r == 0 && s1 == m[2].size && memcmp(d1, m[2].data, s1) == 0 && s2 == m[3].size &&
               memcmp(d2, m[3].data, s2) == 0, "the disk members are the VMDKs");

        {
                _cleanup_(xml_freedocp) xmlDocPtr doc = xmlReadMemory(m[0].data, (int) m[0].size, "Whonix.ovf", NULL,
                                                                       XML_PARSE_NONET | XML_PARSE_NOERROR);
                char sz1[32], sz2[32];

                if (!tap_ok(doc, "the OVF parses"))
                        goto finish;
                tap_ok(xpath_is(doc, "2", "count(/ovf:Envelope/ovf:VirtualSystemCollection/ovf:VirtualSystem)") &&
                       xpath_is(doc, "1.0", "string(/ovf:Envelope/@ovf:version)"),
                       "OVF 1.0 envelope with two VirtualSystems");
                tap_ok(xpath_is(doc, "Whonix-Gateway-disk1.vmdk", "string(/ovf:Envelope/ovf:References/ovf:File[@ovf:id='file1']/@ovf:href)") &&
                       xpath_is(doc, "Whonix-Workstation-disk1.vmdk", "string(/ovf:Envelope/ovf:References/ovf:File[@ovf:id='file2']/@ovf:href)") &&
                       xpath_is(doc, "2", "count(/ovf:Envelope/ovf:NetworkSection/ovf:Network)"),
                       "References name the disk members; networks NAT and Whonix");
                snprintf(sz1, sizeof sz1, "%zu", m[2].size);
                snprintf(sz2, sizeof sz2, "%zu", m[3].size);
                check_vm(doc, "Whonix-Gateway", gw, sz1, 8 * MIB);
                check_vm(doc, "Whonix-Workstation", ws, sz2, 16 * MIB);
                tap_ok(xpath_is(doc, "false", "string(" VM("Whonix-Gateway") "/@uuid) = string(" VM("Whonix-Workstation") "/@uuid)"),
                       "the machines have different UUIDs");
        }

        ovf_file = path_join(dir, "Whonix.ovf");
        if (program_in_path("xmllint") && ovf_file &&
            write_file_atomic(ovf_file, m[0].data, m[0].size, 0644) >= 0)
                tap_ok(run_xmllint(ovf_file) == 0, "xmllint --noout accepts the OVF");
        else
                tap_skip_one("xmllint is not installed");

        free(d1);
        free(d2);
        d1 = d2 = NULL;
        r = ova_write(&err, vms, 2, ova2, &opts);
        r = r ?: read_full_file(ova1, 64 * MIB, &d1, &s1);
        r = r ?: read_full_file(ova2, 64 * MIB, &d2, &s2);
        tap_ok(r == 0 && s1 == s2 && memcmp(d1, d2, s1) == 0, "a second OVA is byte-identical (%zu bytes)", s1);

        r = ova_ovf_xml(&err, vms, 2, &opts, &ovf_a);
        opts.seed = "another-seed";
        r = r ?: ova_ovf_xml(&err, vms, 2, &opts, &ovf_b);
        if (r == 0) {
                _cleanup_(xml_freedocp) xmlDocPtr a = xmlReadMemory(ovf_a, (int) strlen(ovf_a), "a", NULL, XML_PARSE_NONET);
                _cleanup_(xml_freedocp) xmlDocPtr b = xmlReadMemory(ovf_b, (int) strlen(ovf_b), "b", NULL, XML_PARSE_NONET);
                _cleanup_free_ char *ua = a ? xpath_str(a, "string(" VM("Whonix-Gateway") "/@uuid)") : NULL;
                _cleanup_free_ char *ub = b ? xpath_str(b, "string(" VM("Whonix-Gateway") "/@uuid)") : NULL;
                _cleanup_free_ char *ma = a ? xpath_str(a, "string(" VM("Whonix-Gateway") "//ovf:Adapter[1]/@MACAddress)") : NULL;
                _cleanup_free_ char *mb = b ? xpath_str(b, "string(" VM("Whonix-Gateway") "//ovf:Adapter[1]/@MACAddress)") : NULL;

                tap_ok(ua && ub && ma && mb && !isempty(ua) && !streq(ua, ub) && !isempty(ma) && !streq(ma, mb) &&
                       streq(ovf_a, m[0].data), "another seed changes the UUIDs and MACs");
        } else
                tap_ok(false, "another seed changes the UUIDs and MACs: %s", error_text(&err, r));

        error_clear(&err);
        {
                /* One VM: its VirtualSystem alone under the Envelope, the
                 * form single-machine importers (virt-v2v) read. */
                _cleanup_free_ char *one = NULL;
                r = ova_ovf_xml(&err, vms, 1, &opts, &one);
                _cleanup_(xml_freedocp) xmlDocPtr d = r == 0 ? xmlReadMemory(one, (int) strlen(one), "one", NULL, XML_PARSE_NONET) : NULL;
                _cleanup_free_ char *top = d ? xpath_str(d, "string(/ovf:Envelope/ovf:VirtualSystem/@ovf:id)") : NULL;
                _cleanup_free_ char *coll = d ? xpath_str(d, "count(//ovf:VirtualSystemCollection)") : NULL;
                _cleanup_free_ char *name = d ? xpath_str(d, "string(/ovf:Envelope/ovf:VirtualSystem/ovf:Name)") : NULL;
                tap_ok(name && streq(name, "Whonix-Gateway"), "the VirtualSystem carries its Name (%s)", strempty(name));
                tap_ok(top && streq(top, "Whonix-Gateway") && coll && streq(coll, "0"),
                       "a single VM's OVF has its VirtualSystem under the Envelope, no collection (%s, %s)",
                       strempty(top), strempty(coll));
                error_clear(&err);
        }
        r = ova_manifest(&err, (const char *[]) { "Whonix.ovf" }, (const char *[]) { "ABC" }, 1, &mf);
        tap_ok(r == -EINVAL, "a manifest digest that is not lowercase hex is refused");
        error_clear(&err);
        r = ova_manifest(&err, (const char *[]) { "a\nb" },
                         (const char *[]) { "0000000000000000000000000000000000000000000000000000000000000000" }, 1, &mf);
        tap_ok(r == -EINVAL, "a member name with a newline is refused");
        error_clear(&err);
        vms[1].recipe = gw;
        opts.seed = "test-seed";
        r = ova_write(&err, vms, 2, ova3, &opts);
        tap_ok(r == -EINVAL && strstr(error_text(&err, r), "'Whonix-Gateway'") && access(ova3, F_OK) < 0,
               "two VMs with one name are refused, nothing written");
        error_clear(&err);
        vms[1].recipe = ws;
        vms[1].vmdk_path = "/nonexistent.vmdk";
        r = ova_write(&err, vms, 2, ova3, &opts);
        tap_ok(r == -ENOENT && strstr(error_text(&err, r), "'/nonexistent.vmdk'"), "a missing disk is reported");

finish:
        members_free(m, n);
        error_done(&err);
        (void) rm_rf(dir);
        return tap_done();
}
