/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <sys/stat.h>

#include "compare.h"
#include "install.h"
#include "libvirt-xml.h"
#include "log.h"
#include "sha256.h"
#include "util.h"
#include "virt-util.h"

#define RELEASE_MAX_XML 64u

typedef struct Obj {
        LibvirtXml x;
        char *file;             /* the XML file */
        char *xml;              /* its text */
        size_t xml_size;
        char *image;            /* domain: the release's image */
        char *image_sha256;     /* domain: its SHA256 */
        uint64_t image_size;
        /* what is there */
        bool present, active, same_uuid;
        bool volume_present;
        char *installed_sha256; /* domain: what install recorded there (or NULL) */
        char *installed_disk;   /* domain: its disk there */
        char *installed_type;   /* domain: its type there */
        char *volume_path;
        bool skip;              /* already as it should be */
        bool retype;            /* installed from this image; only its type changes */
} Obj;

typedef struct Release {
        Obj *objs;
        size_t n;
} Release;

static void release_done(Release *rel) {
        for (size_t i = 0; i < rel->n; i++) {
                Obj *o = &rel->objs[i];
                libvirt_xml_done(&o->x);
                free(o->file);
                free(o->xml);
                free(o->image);
                free(o->image_sha256);
                free(o->installed_sha256);
                free(o->installed_disk);
                free(o->installed_type);
                free(o->volume_path);
        }
        free(rel->objs);
        *rel = (Release) {};
}

static bool keep_xml(int dfd, const char *name, void *userdata) {
        return endswith(name, ".xml") && name[0] != '.';
}

/* The release's XML, domains after networks (each in name order). */
static int release_read(ErrorSlot *err, const char *dir, bool with_images, Release *ret) {
        _cleanup_strv_free_ char **names = NULL;
        Release rel = {};
        size_t n;
        int r;

        r = readdir_sorted(dir, keep_xml, NULL, RELEASE_MAX_XML + 1, &names);
        if (r < 0)
                return error_set_errno(err, r, "cannot read the release '%s'", dir);
        n = strv_length(names);
        if (n == 0)
                return error_set(err, -ENOENT, "'%s' holds no libvirt XML: is it the output of --target kvm?", dir);
        if (n > RELEASE_MAX_XML)
                return error_set(err, -E2BIG, "'%s' holds more than %u XML files", dir, RELEASE_MAX_XML);
        rel.objs = calloc(n, sizeof(Obj));
        if (!rel.objs)
                return -ENOMEM;
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *path = path_join(dir, names[i]), *data = NULL;
                        LibvirtXml x;
                        size_t size;

                        if (!path)
                                goto nomem;
                        r = read_full_file(path, LIBVIRT_XML_MAX_SIZE, &data, &size);
                        if (r < 0) {
                                error_set_errno(err, r, "cannot read '%s'", path);
                                goto fail;
                        }
                        r = libvirt_xml_read(err, path, data, size, &x);
                        if (r < 0)
                                goto fail;
                        if ((pass == 0) != (x.kind == LIBVIRT_XML_NETWORK)) {
                                libvirt_xml_done(&x);
                                continue;
                        }
                        Obj *o = &rel.objs[rel.n++];
                        o->x = x;
                        o->file = TAKE_PTR(path);
                        o->xml = TAKE_PTR(data);
                        o->xml_size = size;
                        if (x.kind == LIBVIRT_XML_DOMAIN && with_images) {
                                const char *base = strrchr(x.disk_file, '/');
                                DiskHeader h;
                                struct stat st;

                                base = base ? base + 1 : x.disk_file;
                                o->image = path_join(dir, base);
                                if (!o->image)
                                        goto nomem;
                                r = image_check(err, o->image, &h);
                                if (r < 0)
                                        goto fail;
                                if (h.format != DISK_QCOW2) {
                                        r = error_set(err, -EBADMSG, "'%s' is not a qcow2 image", o->image);
                                        goto fail;
                                }
                                if (stat(o->image, &st) < 0) {
                                        r = error_set_errno(err, -errno, "cannot read '%s'", o->image);
                                        goto fail;
                                }
                                o->image_size = (uint64_t) st.st_size;
                                log_progress("install", base, 0, 0);
                                r = sha256_file(o->image, &o->image_sha256);
                                if (r < 0) {
                                        error_set_errno(err, r, "cannot read '%s'", o->image);
                                        goto fail;
                                }
                        }
                }
        for (size_t i = 0; i < rel.n; i++)
                for (size_t j = i + 1; j < rel.n; j++)
                        if (rel.objs[i].x.kind == rel.objs[j].x.kind && streq(rel.objs[i].x.name, rel.objs[j].x.name)) {
                                r = error_set(err, -EBADMSG, "'%s' and '%s' define the same name '%s'", rel.objs[i].file,
                                              rel.objs[j].file, rel.objs[i].x.name);
                                goto fail;
                        }
        *ret = rel;
        return 0;
nomem:
        r = -ENOMEM;
fail:
        release_done(&rel);
        return r;
}

static const char *kind_name(const Obj *o) {
        return o->x.kind == LIBVIRT_XML_DOMAIN ? "domain" : "network";
}

/* What is there under each name. */
static int look(ErrorSlot *err, VirtConn *c, const char *pool, Release *rel) {
        int r;

        for (size_t i = 0; i < rel->n; i++) {
                Obj *o = &rel->objs[i];
                char uuid[VIRT_UUID_STRING_LEN] = "";

                r = o->x.kind == LIBVIRT_XML_DOMAIN ? virt_domain_state(err, c, o->x.name, uuid, &o->active)
                                                    : virt_network_state(err, c, o->x.name, uuid, &o->active);
                if (r < 0)
                        return r;
                o->present = r > 0;
                o->same_uuid = o->present && o->x.uuid && strcasecmp(uuid, o->x.uuid) == 0;
                if (o->x.kind != LIBVIRT_XML_DOMAIN)
                        continue;
                if (o->present) {
                        _cleanup_free_ char *xml = NULL;
                        LibvirtXml there;

                        r = virt_domain_xml(err, c, o->x.name, &xml);
                        if (r < 0)
                                return r;
                        /* Someone else's domain may have any number of disks. */
                        if (libvirt_xml_read(NULL, o->x.name, xml, strlen(xml), &there) >= 0) {
                                o->installed_sha256 = TAKE_PTR(there.install_sha256);
                                o->installed_disk = TAKE_PTR(there.disk_file);
                                o->installed_type = TAKE_PTR(there.virt_type);
                                libvirt_xml_done(&there);
                        }
                }
                if (pool) {
                        const char *base = strrchr(o->x.disk_file, '/');
                        r = virt_volume_path(err, c, pool, base ? base + 1 : o->x.disk_file, &o->volume_path);
                        if (r < 0)
                                return r;
                        o->volume_present = r > 0;
                }
        }
        return 0;
}

static int say(char ***actions, const char *fmt, ...) _printf_(2, 3);
static int say(char ***actions, const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = strdup_vprintf(fmt, ap);
        va_end(ap);
        return strv_consume(actions, s);
}

/* The type each domain is defined with. */
static const char *wanted_type(const InstallOptions *opt, const Obj *o) {
        return opt->virt_type ?: o->x.virt_type;
}

/* Whether the host can run each domain that is to be defined, as the type
 * it is to be defined with: a release of type 'kvm' on a host without
 * KVM fails here, before anything changed, and not halfway through with
 * libvirt's words alone. */
static int types_check(ErrorSlot *err, VirtConn *c, const char *uri, const InstallOptions *opt, const Release *rel) {
        _cleanup_strv_free_ char **checked = NULL;
        int r;

        for (size_t i = 0; i < rel->n; i++) {
                const Obj *o = &rel->objs[i];
                const char *type = wanted_type(opt, o);
                _cleanup_free_ char *reason = NULL;

                if (o->x.kind != LIBVIRT_XML_DOMAIN || (o->skip && !o->retype) || !type || strv_contains(checked, type))
                        continue;
                r = virt_domain_type_usable(c, type, &reason);
                if (r < 0)
                        return r;
                if (r == 0)
                        return error_set(err, -EOPNOTSUPP, "the host of '%s' cannot run domains of type '%s' (%s)%s", uri,
                                         type, reason,
                                         streq(type, "kvm") ? ": without hardware virtualization there, "
                                                              "--virt-type qemu installs the domains for software "
                                                              "emulation (they run, many times slower)"
                                                            : "");
                if (strv_extend(&checked, type) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int install_run(ErrorSlot *err, const InstallOptions *opt, char ***ret_actions) {
        _cleanup_(virt_conn_freep) VirtConn *c = NULL;
        _cleanup_strv_free_ char **actions = NULL;
        _cleanup_free_ char *pool_type = NULL;
        const char *uri = opt->uri ?: INSTALL_DEFAULT_URI, *pool = opt->pool ?: INSTALL_DEFAULT_POOL;
        Release rel = {};
        int r;

        r = release_read(err, opt->dir, true, &rel);
        if (r < 0)
                return r;
        if ((r = virt_connect(err, uri, &c)) < 0 || (r = virt_pool_check(err, c, pool, &pool_type)) < 0 ||
            (r = look(err, c, pool, &rel)) < 0)
                goto out;

        /* Everything in the way, and a type the host cannot run, are
         * found before anything changes. */
        for (size_t i = 0; i < rel.n; i++) {
                Obj *o = &rel.objs[i];
                const char *k = kind_name(o);

                if (o->x.kind == LIBVIRT_XML_NETWORK) {
                        if (o->present && !o->same_uuid && !opt->force) {
                                r = error_set(err, -EEXIST, "a network '%s' is there with another UUID: not ours; "
                                              "--force replaces it", o->x.name);
                                goto out;
                        }
                        o->skip = o->present && o->same_uuid && o->active;
                        continue;
                }
                bool ours = o->present && o->same_uuid;
                bool same = ours && streq_ptr(o->installed_sha256, o->image_sha256) && o->volume_present &&
                            streq_ptr(o->installed_disk, o->volume_path);
                if (same) {
                        /* Only an explicit --virt-type changes the type of
                         * what is installed (install again on a host
                         * without KVM: still installed as it is). */
                        o->skip = true;
                        o->retype = opt->virt_type && !streq_ptr(o->installed_type, opt->virt_type);
                        if (o->retype && o->active) {
                                r = error_set(err, -EBUSY, "the %s '%s' is running: shut it down before its type "
                                              "changes (virsh shutdown %s)", k, o->x.name, o->x.name);
                                goto out;
                        }
                        continue;
                }
                if (o->present && o->active) {
                        r = error_set(err, -EBUSY, "the %s '%s' is running: shut it down before it is replaced "
                                      "(virsh shutdown %s)", k, o->x.name, o->x.name);
                        goto out;
                }
                if (o->present && !opt->force) {
                        r = ours ? error_set(err, -EEXIST, "the %s '%s' is installed from another image (sha256 %s, "
                                             "this release's is %s): --force replaces it and its disk, and "
                                             "what was changed inside that disk is lost",
                                             k, o->x.name, o->installed_sha256 ?: "unknown", o->image_sha256)
                                 : error_set(err, -EEXIST, "a %s '%s' is there with another UUID: not ours; "
                                             "--force replaces it", k, o->x.name);
                        goto out;
                }
                if (o->volume_present && !opt->force) {
                        r = error_set(err, -EEXIST, "the storage pool '%s' already has a volume '%s' (%s) that "
                                      "no domain of this release uses: --force replaces it", pool,
                                      strrchr(o->volume_path, '/') ? strrchr(o->volume_path, '/') + 1 : o->volume_path,
                                      o->volume_path);
                        goto out;
                }
        }
        if ((r = types_check(err, c, uri, opt, &rel)) < 0)
                goto out;

        for (size_t i = 0; i < rel.n; i++) {
                Obj *o = &rel.objs[i];
                const char *base = strrchr(o->x.disk_file ?: "", '/');

                if (o->retype) {
                        _cleanup_free_ char *xml = NULL;
                        if (!opt->dry_run &&
                            ((r = libvirt_xml_for_install(err, o->xml, o->xml_size, o->volume_path, o->image_sha256,
                                                          opt->virt_type, &xml)) < 0 ||
                             (r = virt_define_domain(err, c, xml)) < 0))
                                goto out;
                        r = say(&actions, "domain %s: %sredefined as type '%s' (its image is installed already)",
                                o->x.name, opt->dry_run ? "would be " : "", opt->virt_type);
                        if (r < 0)
                                goto out;
                        continue;
                }
                if (o->skip) {
                        if ((r = say(&actions, "%s %s: already installed", kind_name(o), o->x.name)) < 0)
                                goto out;
                        continue;
                }
                if (o->x.kind == LIBVIRT_XML_NETWORK) {
                        bool replace = o->present && !o->same_uuid;
                        if (!opt->dry_run) {
                                if (replace && ((r = virt_network_stop(err, c, o->x.name)) < 0 ||
                                                (r = virt_undefine_network(err, c, o->x.name)) < 0))
                                        goto out;
                                if ((r = virt_define_network(err, c, o->xml)) < 0 ||
                                    (r = virt_network_start(err, c, o->x.name)) < 0)
                                        goto out;
                        }
                        r = say(&actions, "network %s: %s%s, started, starts with the host", o->x.name,
                                opt->dry_run ? "would be " : "", replace ? "replaced" : o->present ? "updated" : "defined");
                        if (r < 0)
                                goto out;
                        continue;
                }

                base = base ? base + 1 : o->x.disk_file;
                if (!opt->dry_run) {
                        _cleanup_free_ char *xml = NULL, *path = NULL;
                        if (o->present && (r = virt_undefine_domain(err, c, o->x.name)) < 0)
                                goto out;
                        if (o->volume_present && (r = virt_volume_delete(err, c, pool, base)) < 0)
                                goto out;
                        if ((r = virt_volume_upload(err, c, pool, base, o->image, o->image_size, "install")) < 0)
                                goto out;
                        r = virt_volume_path(err, c, pool, base, &path);
                        if (r == 0)
                                r = error_set(err, -ENOENT, "volume '%s' is gone from pool '%s' after its upload", base, pool);
                        if (r < 0)
                                goto out;
                        if ((r = libvirt_xml_for_install(err, o->xml, o->xml_size, path, o->image_sha256, opt->virt_type,
                                                         &xml)) < 0 ||
                            (r = virt_define_domain(err, c, xml)) < 0)
                                goto out;
                }
                r = say(&actions, "domain %s: %s%s%s%s%s; image %s (sha256 %.16s) %s volume %s of pool %s (%s)",
                        o->x.name, opt->dry_run ? "would be " : "", o->present ? "replaced" : "defined",
                        opt->virt_type ? " as type '" : "", strempty(opt->virt_type), opt->virt_type ? "'" : "", base,
                        o->image_sha256, opt->dry_run ? "would be copied to" : "copied to", base, pool,
                        strempty(pool_type));
                if (r < 0)
                        goto out;
        }
        *ret_actions = TAKE_PTR(actions);
        r = 0;
out:
        release_done(&rel);
        return r;
}

/* Whether a domain other than those of the release names the network. */
static int network_in_use(ErrorSlot *err, VirtConn *c, const Release *rel, const char *net, char **ret_user) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = virt_domain_names(err, c, &names);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *xml = NULL;
                bool ours = false;
                LibvirtXml x;

                for (size_t i = 0; i < rel->n; i++)
                        ours = ours || (rel->objs[i].x.kind == LIBVIRT_XML_DOMAIN && streq(rel->objs[i].x.name, *n) &&
                                        rel->objs[i].present);
                if (ours)
                        continue;
                r = virt_domain_xml(err, c, *n, &xml);
                if (r < 0)
                        return r;
                /* Only what the networks are matters: any number of disks. */
                if (libvirt_xml_read(NULL, *n, xml, strlen(xml), &x) >= 0) {
                        bool uses = strv_contains(x.networks, net);
                        libvirt_xml_done(&x);
                        if (uses) {
                                *ret_user = strdup(*n);
                                return *ret_user ? 1 : -ENOMEM;
                        }
                } else if (strstr(xml, net)) {
                        *ret_user = strdup(*n);
                        return *ret_user ? 1 : -ENOMEM;
                }
        }
        return 0;
}

int uninstall_run(ErrorSlot *err, const InstallOptions *opt, char ***ret_actions) {
        _cleanup_(virt_conn_freep) VirtConn *c = NULL;
        _cleanup_strv_free_ char **actions = NULL;
        const char *uri = opt->uri ?: INSTALL_DEFAULT_URI, *pool = opt->pool ?: INSTALL_DEFAULT_POOL;
        Release rel = {};
        int r;

        r = release_read(err, opt->dir, false, &rel);
        if (r < 0)
                return r;
        if ((r = virt_connect(err, uri, &c)) < 0 || (r = virt_pool_check(err, c, pool, NULL)) < 0 ||
            (r = look(err, c, pool, &rel)) < 0)
                goto out;
        for (size_t i = 0; i < rel.n; i++) {
                Obj *o = &rel.objs[i];
                if (!o->present || o->x.kind != LIBVIRT_XML_DOMAIN)
                        continue;
                if (o->active) {
                        r = error_set(err, -EBUSY, "the domain '%s' is running: shut it down first (virsh shutdown %s)",
                                      o->x.name, o->x.name);
                        goto out;
                }
                if (!o->same_uuid && !opt->force) {
                        r = error_set(err, -EEXIST, "the domain '%s' there has another UUID: not this release's; "
                                      "--force removes it", o->x.name);
                        goto out;
                }
        }
        /* Domains first (with their volumes), then the networks they left. */
        for (size_t pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < rel.n; i++) {
                        Obj *o = &rel.objs[i];
                        _cleanup_free_ char *user = NULL;
                        const char *base;

                        if ((pass == 0) != (o->x.kind == LIBVIRT_XML_DOMAIN))
                                continue;
                        if (!o->present) {
                                if ((r = say(&actions, "%s %s: not installed", kind_name(o), o->x.name)) < 0)
                                        goto out;
                                continue;
                        }
                        if (pass == 1) {
                                r = network_in_use(err, c, &rel, o->x.name, &user);
                                if (r < 0)
                                        goto out;
                                if (r > 0) {
                                        if ((r = say(&actions, "network %s: kept, domain %s uses it", o->x.name, user)) < 0)
                                                goto out;
                                        continue;
                                }
                                if (!o->same_uuid && !opt->force) {
                                        if ((r = say(&actions, "network %s: kept, another UUID (not this release's)",
                                                     o->x.name)) < 0)
                                                goto out;
                                        continue;
                                }
                                if (!opt->dry_run && ((r = virt_network_stop(err, c, o->x.name)) < 0 ||
                                                      (r = virt_undefine_network(err, c, o->x.name)) < 0))
                                        goto out;
                                if ((r = say(&actions, "network %s: %sstopped and undefined", o->x.name,
                                             opt->dry_run ? "would be " : "")) < 0)
                                        goto out;
                                continue;
                        }
                        base = strrchr(o->x.disk_file, '/');
                        base = base ? base + 1 : o->x.disk_file;
                        /* Its volume goes if it is the one install made (the
                         * domain's disk is that volume). */
                        bool vol = o->volume_present && streq_ptr(o->installed_disk, o->volume_path);
                        if (!opt->dry_run) {
                                if ((r = virt_undefine_domain(err, c, o->x.name)) < 0 ||
                                    (vol && (r = virt_volume_delete(err, c, pool, base)) < 0))
                                        goto out;
                        }
                        r = say(&actions, "domain %s: %sundefined%s%s%s", o->x.name, opt->dry_run ? "would be " : "",
                                vol ? ", its volume " : "", vol ? base : "", vol ? " deleted" : "");
                        if (r < 0)
                                goto out;
                }
        *ret_actions = TAKE_PTR(actions);
        r = 0;
out:
        release_done(&rel);
        return r;
}
