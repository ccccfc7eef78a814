/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * KVM export: the libvirt XML generated from the real recipes, checked
 * three ways: parsed with libxml2 and compared with what the recipes and
 * the Whonix network design say, validated against libvirt's schemas
 * (virt-xml-validate), and defined into libvirt's test driver and read
 * back.  Plus determinism (same seed, same bytes) and escaping.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "config.h"
#include "export-kvm.h"
#include "ids.h"
#include "recipe.h"
#include "spawn.h"
#include "tap.h"
#include "util.h"
#include "virt-util.h"

#define XML_READ_MAX (1024u * 1024u)
#define IMAGES "/var/lib/libvirt/images"

/* TAP diagnostics for text that may span lines (libvirt's messages do). */
static void diag_lines(const char *s) {
        for (const char *p = strempty(s); *p;) {
                size_t n = strcspn(p, "\n");
                printf("# %.*s\n", (int) n, p);
                p += n + (p[n] == '\n');
        }
}

static void xml_freedocp(xmlDocPtr *d) {
        if (*d)
                xmlFreeDoc(*d);
}
#define _cleanup_doc_ _cleanup_(xml_freedocp)

static xmlDocPtr parse(const char *xml) {
        return xmlReadMemory(xml, (int) strlen(xml), "generated.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
}

/* XPath "string(expr)" as a new string ("" if nothing matches). */
static char *xp_str(xmlDocPtr doc, const char *expr) {
        _cleanup_free_ char *full = strdup_printf("string(%s)", expr);
        xmlXPathContextPtr ctx;
        xmlXPathObjectPtr o;
        char *s = NULL;

        if (!doc || !full)
                return strdup("<no document>");
        ctx = xmlXPathNewContext(doc);
        o = xmlXPathEvalExpression((const xmlChar *) full, ctx);
        if (o && o->type == XPATH_STRING)
                s = strdup((const char *) o->stringval);
        xmlXPathFreeObject(o);
        xmlXPathFreeContext(ctx);
        return s ?: strdup("<xpath error>");
}

static long xp_count(xmlDocPtr doc, const char *expr) {
        _cleanup_free_ char *full = strdup_printf("count(%s)", expr);
        xmlXPathContextPtr ctx;
        xmlXPathObjectPtr o;
        long n = -1;

        if (!doc || !full)
                return -1;
        ctx = xmlXPathNewContext(doc);
        o = xmlXPathEvalExpression((const xmlChar *) full, ctx);
        if (o && o->type == XPATH_NUMBER)
                n = (long) o->floatval;
        xmlXPathFreeObject(o);
        xmlXPathFreeContext(ctx);
        return n;
}

/* ok if XPath string(expr) equals want; shows both when not. */
static bool check_str(xmlDocPtr doc, const char *label, const char *expr, const char *want) {
        _cleanup_free_ char *got = xp_str(doc, expr);
        bool ok = got && streq(got, want);

        tap_ok(ok, "%s: %s is '%s'", label, expr, want);
        if (!ok)
                tap_diag("got '%s'", strempty(got));
        return ok;
}

static bool check_count(xmlDocPtr doc, const char *label, const char *expr, long want) {
        long got = xp_count(doc, expr);
        bool ok = got == want;

        tap_ok(ok, "%s: %ld x %s", label, want, expr);
        if (!ok)
                tap_diag("got %ld", got);
        return ok;
}

static char *read_text(const char *dir, const char *file) {
        _cleanup_free_ char *p = path_join(dir, file);
        char *data = NULL;

        if (!p || read_full_file(p, XML_READ_MAX, &data, NULL) < 0)
                return NULL;
        return data;
}

static bool exists_in(const char *dir, const char *file) {
        _cleanup_free_ char *p = path_join(dir, file);
        return p && access(p, F_OK) == 0;
}

static bool mac_ok(const char *m) {
        if (strlen(m) != 17 || !startswith(m, "52:54:00:"))
                return false;
        for (size_t i = 0; i < 17; i++)
                if (i % 3 == 2 ? m[i] != ':' : !strchr("0123456789abcdef", m[i]))
                        return false;
        return true;
}

static bool uuid_ok(const char *u) {
        return strlen(u) == 36 && strspn(u, "0123456789abcdef-") == 36 && u[8] == '-' && u[13] == '-' &&
               u[14] == '4' && u[18] == '-' && strchr("89ab", u[19]) && u[23] == '-';
}

typedef struct Ids {
        char *gw_uuid, *ws_uuid, *ext_uuid, *int_uuid, *ext_mac;
        char *gw_mac[2], *ws_mac;
} Ids;

static void ids_done(Ids *i) {
        free(i->gw_uuid);
        free(i->ws_uuid);
        free(i->ext_uuid);
        free(i->int_uuid);
        free(i->ext_mac);
        free(i->gw_mac[0]);
        free(i->gw_mac[1]);
        free(i->ws_mac);
}

static void collect_ids(const char *dir, Ids *ids) {
        _cleanup_free_ char *gw = read_text(dir, "Whonix-Gateway.xml"), *ws = read_text(dir, "Whonix-Workstation.xml"),
                            *ex = read_text(dir, "Whonix-External.xml"), *in = read_text(dir, "Whonix-Internal.xml");
        _cleanup_doc_ xmlDocPtr g = gw ? parse(gw) : NULL, w = ws ? parse(ws) : NULL, e = ex ? parse(ex) : NULL,
                                i = in ? parse(in) : NULL;

        ids->gw_uuid = xp_str(g, "/domain/uuid");
        ids->ws_uuid = xp_str(w, "/domain/uuid");
        ids->ext_uuid = xp_str(e, "/network/uuid");
        ids->int_uuid = xp_str(i, "/network/uuid");
        ids->ext_mac = xp_str(e, "/network/mac/@address");
        ids->gw_mac[0] = xp_str(g, "/domain/devices/interface[1]/mac/@address");
        ids->gw_mac[1] = xp_str(g, "/domain/devices/interface[2]/mac/@address");
        ids->ws_mac = xp_str(w, "/domain/devices/interface[1]/mac/@address");
}

static void check_domain(const char *label, const char *xml, const Recipe *r, const char *const *nets, size_t n_nets) {
        _cleanup_doc_ xmlDocPtr d = parse(xml);
        _cleanup_free_ char *mem = strdup_printf("%" PRIu64, r->memory_mib), *cpus = strdup_printf("%u", r->cpus),
                            *disk = strdup_printf(IMAGES "/%s.qcow2", r->vm_name), *uuid = NULL;
        char expr[128];

        tap_ok(d != NULL, "%s: well-formed XML", label);
        if (!d)
                return;
        check_str(d, label, "/domain/@type", "kvm");
        check_str(d, label, "/domain/name", r->vm_name);
        uuid = xp_str(d, "/domain/uuid");
        tap_ok(uuid_ok(uuid), "%s: uuid '%s' is a lowercase RFC 4122 v4 uuid", label, uuid);
        check_str(d, label, "/domain/memory", mem);
        check_str(d, label, "/domain/memory/@unit", "MiB");
        check_str(d, label, "/domain/currentMemory", mem);
        check_str(d, label, "/domain/currentMemory/@unit", "MiB");
        check_str(d, label, "/domain/vcpu", cpus);
        check_str(d, label, "/domain/os/type", "hvm");
        check_str(d, label, "/domain/os/type/@machine", "q35");
        check_str(d, label, "/domain/os/type/@arch", "x86_64");
        check_str(d, label, "/domain/os/boot/@dev", "hd");
        check_count(d, label, "/domain/features/acpi", 1);
        check_count(d, label, "/domain/features/apic", 1);
        check_str(d, label, "/domain/cpu/@mode", "custom");
        check_str(d, label, "/domain/cpu/model", "qemu64");
        check_str(d, label, "/domain/cpu/model/@fallback", "forbid");
        check_count(d, label, "//*[@mode='host-passthrough' or @mode='host-model']", 0);
        check_str(d, label, "/domain/clock/@offset", "utc");
        check_str(d, label, "/domain/on_poweroff", "destroy");
        check_str(d, label, "/domain/on_reboot", "restart");
        check_str(d, label, "/domain/on_crash", "destroy");
        check_count(d, label, "/domain/devices/disk", 1);
        check_str(d, label, "/domain/devices/disk/driver/@type", "qcow2");
        check_str(d, label, "/domain/devices/disk/driver/@discard", "unmap");
        check_str(d, label, "/domain/devices/disk/source/@file", disk);
        check_str(d, label, "/domain/devices/disk/target/@dev", "vda");
        check_str(d, label, "/domain/devices/disk/target/@bus", "virtio");
        check_count(d, label, "/domain/devices/interface", (long) n_nets);
        check_count(d, label, "/domain/devices/interface[@type='network']/model[@type='virtio']", (long) n_nets);
        for (size_t i = 0; i < n_nets; i++) {
                _cleanup_free_ char *mac = NULL;

                snprintf(expr, sizeof expr, "/domain/devices/interface[%zu]/source/@network", i + 1);
                check_str(d, label, expr, nets[i]);
                snprintf(expr, sizeof expr, "/domain/devices/interface[%zu]/mac/@address", i + 1);
                mac = xp_str(d, expr);
                tap_ok(mac_ok(mac), "%s: NIC %zu MAC '%s' is in 52:54:00 and lowercase", label, i + 1, mac);
        }
        check_count(d, label, "/domain/devices/rng[@model='virtio']/backend[@model='random'][.='/dev/urandom']", 1);
        check_count(d, label, "/domain/devices/memballoon", 1);
        check_str(d, label, "/domain/devices/memballoon/@model", "none");
        check_count(d, label, "/domain/devices/serial[@type='pty']", 1);
        check_count(d, label, "/domain/devices/console[@type='pty']/target[@type='serial']", 1);
        check_count(d, label, "/domain/devices/graphics[@type='spice']/listen[@type='none']", 1);
        check_count(d, label, "/domain/devices/graphics/listen[@type!='none']", 0);
        check_count(d, label, "/domain/devices/video/model[@type='virtio']", 1);
        check_count(d, label, "/domain/devices/sound | /domain/devices/input[@bus='usb']", 0);
}

static void check_networks(const char *dir) {
        _cleanup_free_ char *ex = read_text(dir, "Whonix-External.xml"), *in = read_text(dir, "Whonix-Internal.xml");
        _cleanup_doc_ xmlDocPtr e = ex ? parse(ex) : NULL, i = in ? parse(in) : NULL;
        _cleanup_free_ char *eu = NULL, *iu = NULL, *em = NULL;

        tap_ok(e && i, "both network files are well-formed XML");
        check_str(e, "external", "/network/name", "Whonix-External");
        check_str(e, "external", "/network/forward/@mode", "nat");
        check_count(e, "external", "/network/forward", 1);
        check_str(e, "external", "/network/ip/@address", "10.0.2.2");
        check_str(e, "external", "/network/ip/@netmask", "255.255.255.0");
        check_str(e, "external", "/network/ip/dhcp/range/@start", "10.0.2.15");
        check_str(e, "external", "/network/ip/dhcp/range/@end", "10.0.2.254");
        eu = xp_str(e, "/network/uuid");
        em = xp_str(e, "/network/mac/@address");
        tap_ok(uuid_ok(eu) && mac_ok(em), "external: uuid '%s' and bridge MAC '%s' well-formed", eu, em);

        check_str(i, "internal", "/network/name", "Whonix-Internal");
        check_count(i, "internal", "/network/forward", 0);
        check_count(i, "internal", "/network/ip", 0);
        check_count(i, "internal", "//dhcp | //dns | //route", 0);
        iu = xp_str(i, "/network/uuid");
        tap_ok(uuid_ok(iu) && !streq(iu, eu), "internal: uuid '%s' well-formed and not external's", iu);
}

static void validate(const char *dir, const char *file, const char *kind) {
        _cleanup_free_ char *p = path_join(dir, file), *out = NULL;
        ErrorSlot err = {};
        int r;

        if (!program_in_path("virt-xml-validate")) {
                tap_skip_one("virt-xml-validate is not installed (libvirt-clients)");
                return;
        }
        r = spawn_run(&err, (char *[]) { (char *) "virt-xml-validate", p, (char *) kind, NULL }, NULL, &out);
        if (!tap_ok(r == 0, "virt-xml-validate %s %s", file, kind))
                tap_diag("%s", error_text(&err, r));
        error_done(&err);
}

/* Run a libvirt call that must fail with stderr redirected to a file: the
 * wrapper may not let libvirt print. */
static void check_silent_failure(VirtConn *c) {
        _cleanup_free_ char *none = NULL;
        char path[] = "/tmp/test-export-kvm-stderr-XXXXXX";
        ErrorSlot err = {};
        struct stat st = {};
        int fd, saved, r;

        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0) {
                tap_ok(false, "cannot create a file for stderr: %s", strerror(errno));
                return;
        }
        unlink(path);
        fflush(stderr);
        saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        dup2(fd, STDERR_FILENO);
        r = virt_define_domain(&err, c, "<domain type='kvm'><name>broken");
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        tap_ok(r < 0 && err.message && strlen(err.message) > 20,
               "broken domain XML fails (%d) with libvirt's message in the error slot", r);
        diag_lines(err.message);
        tap_ok(fstat(fd, &st) == 0 && st.st_size == 0, "libvirt printed nothing to stderr (%lld bytes)",
               (long long) st.st_size);
        close(fd);
        error_done(&err);
        r = virt_domain_xml(&err, c, "no-such-domain", &none);
        tap_ok(r == -ENOENT && err.message && strstr(err.message, "no-such-domain"),
               "unknown domain is -ENOENT naming it (%s)", strempty(err.message));
        error_done(&err);
}

static void check_libvirt(const char *dir, const Ids *ids) {
        static const char *const nets[] = { "Whonix-External", "Whonix-Internal" };
        static const char *const doms[] = { "Whonix-Gateway", "Whonix-Workstation" };
        _cleanup_(virt_conn_freep) VirtConn *c = NULL;
        ErrorSlot err = {};
        int r;

        r = virt_connect(&err, "test:///default", &c);
        if (!tap_ok(r == 0, "connect to libvirt's test driver")) {
                tap_diag("%s", error_text(&err, r));
                error_done(&err);
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(nets); i++) {
                _cleanup_free_ char *file = strdup_printf("%s.xml", nets[i]), *xml = read_text(dir, file);

                r = xml ? virt_define_network(&err, c, xml) : -ENOENT;
                tap_ok(r == 0, "define network %s (%s)", nets[i], r < 0 ? error_text(&err, r) : "ok");
                error_clear(&err);
        }
        for (size_t i = 0; i < ELEMENTSOF(doms); i++) {
                _cleanup_free_ char *file = strdup_printf("%s.xml", doms[i]), *xml = read_text(dir, file);

                r = xml ? virt_define_domain(&err, c, xml) : -ENOENT;
                tap_ok(r == 0, "define domain %s (%s)", doms[i], r < 0 ? error_text(&err, r) : "ok");
                error_clear(&err);
        }

        {
                _cleanup_free_ char *x = NULL, *uuid = NULL, *m1 = NULL, *m2 = NULL, *n1 = NULL, *n2 = NULL;
                _cleanup_doc_ xmlDocPtr d = NULL;

                r = virt_domain_xml(&err, c, "Whonix-Gateway", &x);
                d = r == 0 ? parse(x) : NULL;
                uuid = xp_str(d, "/domain/uuid");
                m1 = xp_str(d, "/domain/devices/interface[1]/mac/@address");
                m2 = xp_str(d, "/domain/devices/interface[2]/mac/@address");
                n1 = xp_str(d, "/domain/devices/interface[1]/source/@network");
                n2 = xp_str(d, "/domain/devices/interface[2]/source/@network");
                tap_ok(d && streq(uuid, ids->gw_uuid) && streq(m1, ids->gw_mac[0]) && streq(m2, ids->gw_mac[1]) &&
                               streq(n1, "Whonix-External") && streq(n2, "Whonix-Internal"),
                       "libvirt's Gateway has our uuid and MACs, external then internal");
                error_clear(&err);
        }
        {
                _cleanup_free_ char *x = NULL, *uuid = NULL, *m = NULL;
                _cleanup_doc_ xmlDocPtr d = NULL;

                r = virt_domain_xml(&err, c, "Whonix-Workstation", &x);
                d = r == 0 ? parse(x) : NULL;
                uuid = xp_str(d, "/domain/uuid");
                m = xp_str(d, "/domain/devices/interface/mac/@address");
                tap_ok(d && streq(uuid, ids->ws_uuid) && streq(m, ids->ws_mac) &&
                               xp_count(d, "/domain/devices/interface") == 1 &&
                               xp_count(d, "/domain/devices/memballoon[@model='none']") == 1 &&
                               xp_count(d, "/domain/devices/rng") == 1,
                       "libvirt's Workstation has our uuid and its one MAC, rng, no balloon");
                error_clear(&err);
        }
        {
                _cleanup_free_ char *x = NULL, *y = NULL, *eu = NULL, *em = NULL, *iu = NULL;
                _cleanup_doc_ xmlDocPtr e = NULL, i = NULL;

                r = virt_network_xml(&err, c, "Whonix-External", &x);
                e = r == 0 ? parse(x) : NULL;
                r = virt_network_xml(&err, c, "Whonix-Internal", &y);
                i = r == 0 ? parse(y) : NULL;
                eu = xp_str(e, "/network/uuid");
                em = xp_str(e, "/network/mac/@address");
                iu = xp_str(i, "/network/uuid");
                tap_ok(e && i && streq(eu, ids->ext_uuid) && streq(em, ids->ext_mac) && streq(iu, ids->int_uuid),
                       "libvirt's networks have our uuids and bridge MAC");
                tap_ok(i && xp_count(i, "/network/forward") == 0 && xp_count(i, "/network/ip") == 0,
                       "libvirt keeps Whonix-Internal without forward and ip");
                error_clear(&err);
        }

        check_silent_failure(c);

        for (size_t i = 0; i < ELEMENTSOF(doms); i++) {
                r = virt_undefine_domain(&err, c, doms[i]);
                tap_ok(r == 0, "undefine domain %s", doms[i]);
                error_clear(&err);
        }
        for (size_t i = 0; i < ELEMENTSOF(nets); i++) {
                r = virt_undefine_network(&err, c, nets[i]);
                tap_ok(r == 0, "undefine network %s", nets[i]);
                error_clear(&err);
        }
        r = virt_undefine_network(&err, c, "Whonix-Internal");
        tap_ok(r == -ENOENT, "undefining it again is -ENOENT");
        error_done(&err);
}

static bool same_file(const char *a, const char *b, const char *file) {
        _cleanup_free_ char *x = read_text(a, file), *y = read_text(b, file);
        return x && y && streq(x, y);
}

static void check_errors_and_escaping(Recipe *gw, const char *tmp) {
        _cleanup_free_ char *xml = NULL, *desc = NULL, *src = NULL, *saved = gw->description;
        _cleanup_doc_ xmlDocPtr d = NULL;
        const char *weird_desc = "Tor <gateway> & \"friends\" 'quoted' ]]> \xc3\xa9";
        const char *weird_disk = "/var/lib/a&b/it's <here>.qcow2";
        KvmDomainOptions o = { .disk_path = weird_disk, .domain_type = "qemu", .seed = "s" };
        ErrorSlot err = {};
        int r;

        gw->description = (char *) weird_desc;
        r = kvm_domain_xml(&err, gw, &o, &xml);
        d = r == 0 ? parse(xml) : NULL;
        desc = xp_str(d, "/domain/description");
        src = xp_str(d, "/domain/devices/disk/source/@file");
        tap_ok(d && streq(desc, weird_desc) && streq(src, weird_disk),
               "markup characters in values are escaped and round-trip");
        tap_ok(d && xp_count(d, "/domain[@type='qemu']") == 1 && xp_count(d, "/domain/cpu[@mode='custom']/model[.='qemu64']") == 1,
               "domain type qemu: the same generic CPU model as under KVM");
        free(xml);
        xml = NULL;

        gw->description = (char *) "bell \a";
        r = kvm_domain_xml(&err, gw, &o, &xml);
        tap_ok(r == -EINVAL && !xml && err.message && strstr(err.message, "Whonix-Gateway") &&
                       strstr(err.message, "<description>") && !strchr(err.message, '\a'),
               "a control character is -EINVAL naming domain and element, not echoing it (%s)",
               strempty(err.message));
        error_clear(&err);
        gw->description = (char *) "bad utf-8 \xc3\x28";
        r = kvm_domain_xml(&err, gw, &o, &xml);
        tap_ok(r == -EINVAL && !xml, "invalid UTF-8 is -EINVAL");
        error_clear(&err);
        gw->description = saved;
        saved = NULL;

        o.domain_type = "xen";
        r = kvm_domain_xml(&err, gw, &o, &xml);
        tap_ok(r == -EINVAL && err.message && strstr(err.message, "'xen'"), "unknown domain type refused (%s)",
               strempty(err.message));
        error_clear(&err);
        o.domain_type = NULL;
        o.disk_path = "relative.qcow2";
        r = kvm_domain_xml(&err, gw, &o, &xml);
        tap_ok(r == -EINVAL && err.message && strstr(err.message, "relative.qcow2"), "relative disk path refused");
        error_clear(&err);
        o.disk_path = "/x.qcow2";
        o.seed = NULL;
        r = kvm_domain_xml(&err, gw, &o, &xml);
        tap_ok(r == -EINVAL && !xml, "no seed refused");
        error_clear(&err);
        r = kvm_network_xml(&err, "bridged", "s", &xml);
        tap_ok(r == -EINVAL && !xml && err.message && strstr(err.message, "'bridged'"), "unknown network refused");
        error_clear(&err);

        {
                _cleanup_free_ char *file = path_join(tmp, "a-file");
                Recipe *one[] = { gw };

                r = file ? write_file_atomic(file, "x", 1, 0644) : -ENOMEM;
                if (r >= 0)
                        r = kvm_export(&err, one, 1, file, IMAGES, "s");
                tap_ok(r < 0 && err.message && strstr(err.message, "a-file"),
                       "output directory that is a file: error naming it (%s)", strempty(err.message));
                error_clear(&err);
        }
        {
                _cleanup_free_ char *dup_dir = path_join(tmp, "dup");
                Recipe *two[] = { gw, gw };
                r = kvm_export(&err, two, 2, dup_dir, IMAGES, "s");
                tap_ok(r == -EEXIST && !exists_in(dup_dir, "Whonix-Gateway.xml"),
                       "two recipes with the same VM name: refused before anything is written");
                error_clear(&err);
        }
        error_done(&err);
}

int main(void) {
        const char *root = getenv("WB_SOURCE_ROOT") ?: SOURCE_ROOT;
        _cleanup_(recipe_freep) Recipe *gw = NULL, *ws = NULL;
        _cleanup_free_ char *tmp = NULL, *out1 = NULL, *out2 = NULL, *out3 = NULL, *out4 = NULL, *gwp = NULL,
                            *wsp = NULL;
        static const char *const files[] = { "Whonix-Gateway.xml", "Whonix-Workstation.xml", "Whonix-External.xml",
                                             "Whonix-Internal.xml" };
        _cleanup_(ids_done) Ids a = {}, b = {};
        ErrorSlot err = {};
        int r;

        tap_plan_lazy();
        LIBXML_TEST_VERSION;

        gwp = strdup_printf("%s/recipes/whonix-gateway.conf", root);
        wsp = strdup_printf("%s/recipes/whonix-workstation.conf", root);
        r = recipe_load(&err, gwp, root, &gw);
        if (r >= 0)
                r = recipe_load(&err, wsp, root, &ws);
        if (!tap_ok(r >= 0, "load the gateway and workstation recipes")) {
                tap_diag("%s", error_text(&err, r));
                return tap_done();
        }
        r = mkdtemp_in(NULL, "test-export-kvm", &tmp);
        if (!tap_ok(r >= 0, "temporary directory"))
                return tap_done();
        out1 = path_join(tmp, "one");
        out2 = path_join(tmp, "two");
        out3 = path_join(tmp, "other-seed");
        out4 = path_join(tmp, "ws-only");

        Recipe *both[] = { gw, ws };
        r = kvm_export(&err, both, 2, out1, IMAGES, "seed-1");
        if (!tap_ok(r == 0, "kvm_export writes the XML")) {
                tap_diag("%s", error_text(&err, r));
                (void) rm_rf(tmp);
                return tap_done();
        }
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                tap_ok(exists_in(out1, files[i]), "%s written", files[i]);

        {
                _cleanup_free_ char *g = read_text(out1, "Whonix-Gateway.xml"), *w = read_text(out1, "Whonix-Workstation.xml");
                static const char *const gw_nets[] = { "Whonix-External", "Whonix-Internal" };
                static const char *const ws_nets[] = { "Whonix-Internal" };

                check_domain("gateway", strempty(g), gw, gw_nets, ELEMENTSOF(gw_nets));
                check_domain("workstation", strempty(w), ws, ws_nets, ELEMENTSOF(ws_nets));
        }
        check_networks(out1);

        validate(out1, "Whonix-Gateway.xml", "domain");
        validate(out1, "Whonix-Workstation.xml", "domain");
        validate(out1, "Whonix-External.xml", "network");
        validate(out1, "Whonix-Internal.xml", "network");

        /* Determinism. */
        r = kvm_export(&err, both, 2, out2, IMAGES, "seed-1");
        tap_ok(r == 0, "second export with the same seed");
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                tap_ok(same_file(out1, out2, files[i]), "same seed: %s byte-identical", files[i]);
        r = kvm_export(&err, both, 2, out3, IMAGES, "seed-2");
        tap_ok(r == 0, "export with another seed");
        collect_ids(out1, &a);
        collect_ids(out3, &b);
        tap_ok(!streq(a.gw_uuid, b.gw_uuid) && !streq(a.ws_uuid, b.ws_uuid) && !streq(a.ext_uuid, b.ext_uuid) &&
                       !streq(a.int_uuid, b.int_uuid),
               "another seed: every uuid differs");
        tap_ok(!streq(a.gw_mac[0], b.gw_mac[0]) && !streq(a.gw_mac[1], b.gw_mac[1]) && !streq(a.ws_mac, b.ws_mac) &&
                       !streq(a.ext_mac, b.ext_mac),
               "another seed: every MAC differs");
        tap_ok(!streq(a.gw_uuid, a.ws_uuid) && !streq(a.gw_mac[0], a.gw_mac[1]) && !streq(a.gw_mac[1], a.ws_mac) &&
                       !streq(a.gw_mac[0], a.ws_mac) && !streq(a.ext_mac, a.gw_mac[0]),
               "within one export no uuid or MAC repeats");

        /* Only the networks in use. */
        Recipe *only_ws[] = { ws };
        r = kvm_export(&err, only_ws, 1, out4, IMAGES, "seed-1");
        tap_ok(r == 0 && exists_in(out4, "Whonix-Workstation.xml") && exists_in(out4, "Whonix-Internal.xml") &&
                       !exists_in(out4, "Whonix-External.xml") && !exists_in(out4, "Whonix-Gateway.xml"),
               "workstation alone: only its domain and Whonix-Internal");
        tap_ok(same_file(out1, out4, "Whonix-Workstation.xml") && same_file(out1, out4, "Whonix-Internal.xml"),
               "and they are the same as in the full export");

        check_libvirt(out1, &a);
        check_errors_and_escaping(gw, tmp);

        (void) rm_rf(tmp);
        error_done(&err);
        xmlCleanupParser();
        return tap_done();
}
