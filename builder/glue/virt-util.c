/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <unistd.h>

#include "cancel.h"
#include "log.h"
#include "virt-util.h"

struct VirtConn {
        virConnectPtr conn;
        char *uri;
};

/* libvirt calls this instead of printing to stderr; the message stays in
 * virGetLastError() (thread-local) for the wrapper to pick up. */
static void silent_error_handler(void *userdata, virErrorPtr error) {
}

static int errno_from_virt(const virError *e) {
        if (!e)
                return -EIO;
        switch (e->code) {
        case VIR_ERR_NO_MEMORY:
                return -ENOMEM;
        case VIR_ERR_NO_DOMAIN:
        case VIR_ERR_NO_NETWORK:
        case VIR_ERR_NO_STORAGE_POOL:
        case VIR_ERR_NO_STORAGE_VOL:
                return -ENOENT;
        case VIR_ERR_NO_SUPPORT:
                return -ENOTSUP;
        case VIR_ERR_INVALID_ARG:
        case VIR_ERR_XML_ERROR:
        case VIR_ERR_XML_DETAIL:
        case VIR_ERR_CONFIG_UNSUPPORTED:
                return -EINVAL;
        case VIR_ERR_OPERATION_DENIED:
        case VIR_ERR_ACCESS_DENIED:
        case VIR_ERR_AUTH_FAILED:
                return -EACCES;
        case VIR_ERR_OPERATION_INVALID:
                return -EBUSY;
        default:
                return -EIO;
        }
}

/* Turn libvirt's last error into ours: "<what we did>: <libvirt's message>". */
_printf_(2, 3) static int virt_error(ErrorSlot *err, const char *fmt, ...) {
        const virError *e = virGetLastError();
        _cleanup_free_ char *what = NULL;
        int r = errno_from_virt(e);
        va_list ap;

        va_start(ap, fmt);
        what = strdup_vprintf(fmt, ap);
        va_end(ap);
        error_set(err, r, "%s: %s", what ?: "libvirt", e && e->message ? e->message : strerror(-r));
        virResetLastError();
        return r;
}

static int virt_init(ErrorSlot *err) {
        /* Global, but right for the whole process: the library never prints. */
        virSetErrorFunc(NULL, silent_error_handler);
        if (virInitialize() < 0)
                return virt_error(err, "cannot initialize libvirt");
        return 0;
}

int virt_connect(ErrorSlot *err, const char *uri, VirtConn **ret) {
        _cleanup_free_ VirtConn *c = NULL;
        int r;

        if (isempty(uri))
                return error_set(err, -EINVAL, "no libvirt connection URI given");
        r = virt_init(err);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->uri = strdup(uri);
        if (!c->uri)
                return -ENOMEM;
        c->conn = virConnectOpen(uri);
        if (!c->conn) {
                free(c->uri);
                return virt_error(err, "cannot connect to libvirt at '%s'", uri);
        }
        *ret = TAKE_PTR(c);
        return 0;
}

VirtConn *virt_conn_free(VirtConn *c) {
        if (!c)
                return NULL;
        if (c->conn)
                (void) virConnectClose(c->conn);
        free(c->uri);
        free(c);
        return NULL;
}

int virt_define_network(ErrorSlot *err, VirtConn *c, const char *xml) {
        virNetworkPtr n;

        n = virNetworkDefineXML(c->conn, xml);
        if (!n)
                return virt_error(err, "cannot define network at '%s'", c->uri);
        virNetworkFree(n);
        return 0;
}

int virt_define_domain(ErrorSlot *err, VirtConn *c, const char *xml) {
        virDomainPtr d;

        d = virDomainDefineXML(c->conn, xml);
        if (!d)
                return virt_error(err, "cannot define domain at '%s'", c->uri);
        virDomainFree(d);
        return 0;
}

/* libvirt allocates its XML with malloc(); hand it on as our own string. */
int virt_domain_xml(ErrorSlot *err, VirtConn *c, const char *name, char **ret_xml) {
        virDomainPtr d;
        char *x;

        d = virDomainLookupByName(c->conn, name);
        if (!d)
                return virt_error(err, "cannot find domain '%s'", name);
        x = virDomainGetXMLDesc(d, 0);
        if (!x) {
                int r = virt_error(err, "cannot get the XML of domain '%s'", name);
                virDomainFree(d);
                return r;
        }
        virDomainFree(d);
        *ret_xml = x;
        return 0;
}

int virt_network_xml(ErrorSlot *err, VirtConn *c, const char *name, char **ret_xml) {
        virNetworkPtr n;
        char *x;

        n = virNetworkLookupByName(c->conn, name);
        if (!n)
                return virt_error(err, "cannot find network '%s'", name);
        x = virNetworkGetXMLDesc(n, 0);
        if (!x) {
                int r = virt_error(err, "cannot get the XML of network '%s'", name);
                virNetworkFree(n);
                return r;
        }
        virNetworkFree(n);
        *ret_xml = x;
        return 0;
}

int virt_undefine_domain(ErrorSlot *err, VirtConn *c, const char *name) {
        virDomainPtr d;
        int r = 0;

        d = virDomainLookupByName(c->conn, name);
        if (!d)
                return virt_error(err, "cannot find domain '%s'", name);
        if (virDomainUndefine(d) < 0)
                r = virt_error(err, "cannot undefine domain '%s'", name);
        virDomainFree(d);
        return r;
}

int virt_undefine_network(ErrorSlot *err, VirtConn *c, const char *name) {
        virNetworkPtr n;
        int r = 0;

        n = virNetworkLookupByName(c->conn, name);
        if (!n)
                return virt_error(err, "cannot find network '%s'", name);
        if (virNetworkUndefine(n) < 0)
                r = virt_error(err, "cannot undefine network '%s'", name);
        virNetworkFree(n);
        return r;
}

static bool last_error_is(int code) {
        const virError *e = virGetLastError();
        return e && e->code == code;
}

int virt_domain_state(ErrorSlot *err, VirtConn *c, const char *name, char *ret_uuid, bool *ret_active) {
        virDomainPtr d = virDomainLookupByName(c->conn, name);
        int active, r = 1;

        if (!d) {
                if (last_error_is(VIR_ERR_NO_DOMAIN)) {
                        virResetLastError();
                        return 0;
                }
                return virt_error(err, "cannot look up domain '%s'", name);
        }
        if (ret_uuid && virDomainGetUUIDString(d, ret_uuid) < 0)
                r = virt_error(err, "cannot read the UUID of domain '%s'", name);
        if (r > 0 && ret_active) {
                active = virDomainIsActive(d);
                if (active < 0)
                        r = virt_error(err, "cannot tell whether domain '%s' runs", name);
                else
                        *ret_active = active > 0;
        }
        virDomainFree(d);
        return r;
}

int virt_network_state(ErrorSlot *err, VirtConn *c, const char *name, char *ret_uuid, bool *ret_active) {
        virNetworkPtr n = virNetworkLookupByName(c->conn, name);
        int active, r = 1;

        if (!n) {
                if (last_error_is(VIR_ERR_NO_NETWORK)) {
                        virResetLastError();
                        return 0;
                }
                return virt_error(err, "cannot look up network '%s'", name);
        }
        if (ret_uuid && virNetworkGetUUIDString(n, ret_uuid) < 0)
                r = virt_error(err, "cannot read the UUID of network '%s'", name);
        if (r > 0 && ret_active) {
                active = virNetworkIsActive(n);
                if (active < 0)
                        r = virt_error(err, "cannot tell whether network '%s' is active", name);
                else
                        *ret_active = active > 0;
        }
        virNetworkFree(n);
        return r;
}

int virt_network_start(ErrorSlot *err, VirtConn *c, const char *name) {
        virNetworkPtr n = virNetworkLookupByName(c->conn, name);
        int r = 0, active;

        if (!n)
                return virt_error(err, "cannot find network '%s'", name);
        active = virNetworkIsActive(n);
        if (active < 0)
                r = virt_error(err, "cannot tell whether network '%s' is active", name);
        else if (active == 0 && virNetworkCreate(n) < 0)
                r = virt_error(err, "cannot start network '%s'", name);
        if (r == 0 && virNetworkSetAutostart(n, 1) < 0)
                r = virt_error(err, "cannot mark network '%s' to start with the host", name);
        virNetworkFree(n);
        return r;
}

int virt_network_stop(ErrorSlot *err, VirtConn *c, const char *name) {
        virNetworkPtr n = virNetworkLookupByName(c->conn, name);
        int r = 0, active;

        if (!n)
                return virt_error(err, "cannot find network '%s'", name);
        active = virNetworkIsActive(n);
        if (active < 0)
                r = virt_error(err, "cannot tell whether network '%s' is active", name);
        else if (active > 0 && virNetworkDestroy(n) < 0)
                r = virt_error(err, "cannot stop network '%s'", name);
        virNetworkFree(n);
        return r;
}

int virt_domain_names(ErrorSlot *err, VirtConn *c, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        virDomainPtr *doms = NULL;
        int n, r = 0;

        n = virConnectListAllDomains(c->conn, &doms, 0);
        if (n < 0)
                return virt_error(err, "cannot list the domains at '%s'", c->uri);
        for (int i = 0; i < n; i++) {
                const char *name = virDomainGetName(doms[i]);
                if (r == 0 && name && strv_extend(&l, name) < 0)
                        r = -ENOMEM;
                virDomainFree(doms[i]);
        }
        free(doms);
        if (r < 0)
                return r;
        if (!l && !(l = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

/* The pool's <pool type='...'>, from its XML. */
static char *pool_type(const char *xml) {
        const char *p = strstr(xml, "<pool type='"), *q;

        if (!p)
                return NULL;
        p += strlen("<pool type='");
        q = strchr(p, '\'');
        return q ? strndup(p, (size_t) (q - p)) : NULL;
}

int virt_domain_type_usable(VirtConn *c, const char *type, char **ret_reason) {
        char *caps = virConnectGetDomainCapabilities(c->conn, NULL, NULL, NULL, type, 0);
        const virError *e;

        if (caps) {
                free(caps);
                return 1;
        }
        /* A driver without domain capabilities cannot tell: defining the
         * domain will. */
        if (last_error_is(VIR_ERR_NO_SUPPORT)) {
                virResetLastError();
                return 1;
        }
        e = virGetLastError();
        *ret_reason = strdup(e && e->message ? e->message : "libvirt gave no reason");
        virResetLastError();
        return *ret_reason ? 0 : -ENOMEM;
}

int virt_pool_check(ErrorSlot *err, VirtConn *c, const char *pool, char **ret_type) {
        virStoragePoolPtr p = virStoragePoolLookupByName(c->conn, pool);
        int r = 0, active;

        if (!p)
                return virt_error(err, "cannot find the storage pool '%s' at '%s'", pool, c->uri);
        active = virStoragePoolIsActive(p);
        if (active < 0)
                r = virt_error(err, "cannot tell whether the storage pool '%s' is active", pool);
        else if (active == 0)
                r = error_set(err, -ENXIO, "the storage pool '%s' at '%s' is not active (virsh pool-start %s)", pool,
                              c->uri, pool);
        if (r == 0 && ret_type) {
                char *xml = virStoragePoolGetXMLDesc(p, 0);
                if (!xml)
                        r = virt_error(err, "cannot read the storage pool '%s'", pool);
                else {
                        *ret_type = pool_type(xml);
                        free(xml);
                        if (!*ret_type)
                                r = -ENOMEM;
                }
        }
        virStoragePoolFree(p);
        return r;
}

int virt_volume_path(ErrorSlot *err, VirtConn *c, const char *pool, const char *name, char **ret_path) {
        virStoragePoolPtr p = virStoragePoolLookupByName(c->conn, pool);
        virStorageVolPtr v;
        int r = 1;

        if (!p)
                return virt_error(err, "cannot find the storage pool '%s' at '%s'", pool, c->uri);
        v = virStorageVolLookupByName(p, name);
        if (!v) {
                if (last_error_is(VIR_ERR_NO_STORAGE_VOL)) {
                        virResetLastError();
                        r = 0;
                } else
                        r = virt_error(err, "cannot look up volume '%s' in pool '%s'", name, pool);
        } else {
                char *path = virStorageVolGetPath(v);
                if (!path)
                        r = virt_error(err, "cannot read the path of volume '%s'", name);
                else if (ret_path)
                        *ret_path = path;
                else
                        free(path);
                virStorageVolFree(v);
        }
        virStoragePoolFree(p);
        return r;
}

int virt_volume_delete(ErrorSlot *err, VirtConn *c, const char *pool, const char *name) {
        virStoragePoolPtr p = virStoragePoolLookupByName(c->conn, pool);
        virStorageVolPtr v;
        int r = 0;

        if (!p)
                return virt_error(err, "cannot find the storage pool '%s' at '%s'", pool, c->uri);
        v = virStorageVolLookupByName(p, name);
        if (!v)
                r = virt_error(err, "cannot find volume '%s' in pool '%s'", name, pool);
        else {
                if (virStorageVolDelete(v, 0) < 0)
                        r = virt_error(err, "cannot delete volume '%s' in pool '%s'", name, pool);
                virStorageVolFree(v);
        }
        virStoragePoolFree(p);
        return r;
}

#define UPLOAD_CHUNK (1u << 20)

int virt_volume_upload(ErrorSlot *err, VirtConn *c, const char *pool, const char *name, const char *file,
                       uint64_t capacity, const char *label) {
        _cleanup_free_ char *xml = NULL, *buf = NULL;
        _cleanup_close_ int fd = -1;
        virStoragePoolPtr p = NULL;
        virStorageVolPtr v = NULL;
        virStreamPtr st = NULL;
        uint64_t done = 0;
        bool created = false;
        int r = 0;

        /* The volume is as large as the file: its bytes are the image as
         * published (a qcow2), which the pool's refresh then recognizes. */
        fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return error_set_errno(err, -errno, "cannot open '%s'", file);
        xml = strdup_printf("<volume><name>%s</name><capacity unit='bytes'>%" PRIu64 "</capacity>"
                            "<allocation unit='bytes'>0</allocation><target><format type='raw'/>"
                            "<permissions><mode>0600</mode></permissions></target></volume>",
                            name, capacity);
        buf = malloc(UPLOAD_CHUNK);
        if (!xml || !buf)
                return -ENOMEM;
        p = virStoragePoolLookupByName(c->conn, pool);
        if (!p)
                return virt_error(err, "cannot find the storage pool '%s' at '%s'", pool, c->uri);
        v = virStorageVolCreateXML(p, xml, 0);
        if (!v) {
                r = virt_error(err, "cannot create volume '%s' in pool '%s'", name, pool);
                goto out;
        }
        created = true;
        st = virStreamNew(c->conn, 0);
        if (!st || virStorageVolUpload(v, st, 0, capacity, 0) < 0) {
                r = virt_error(err, "cannot upload '%s' into volume '%s'", file, name);
                goto out;
        }
        while (done < capacity) {
                ssize_t n = read(fd, buf, UPLOAD_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? error_set_errno(err, -errno, "cannot read '%s'", file)
                                  : error_set(err, -EIO, "'%s' ended early (%" PRIu64 " of %" PRIu64 " bytes)", file,
                                              done, capacity);
                        goto out;
                }
                for (ssize_t off = 0; off < n;) {
                        int sent = virStreamSend(st, buf + off, (size_t) (n - off));
                        if (sent < 0) {
                                r = virt_error(err, "cannot send '%s' to volume '%s'", file, name);
                                goto out;
                        }
                        off += sent;
                }
                done += (uint64_t) n;
                log_progress(label, name, done, capacity);
                if (cancel_requested()) {
                        r = error_set(err, -ECANCELED, "interrupted");
                        goto out;
                }
        }
        if (virStreamFinish(st) < 0) {
                r = virt_error(err, "cannot finish the upload of '%s' into volume '%s'", file, name);
                goto out;
        }
        virStreamFree(st);
        st = NULL;
        if (virStoragePoolRefresh(p, 0) < 0)
                r = virt_error(err, "cannot refresh the storage pool '%s'", pool);
out:
        if (st) {
                (void) virStreamAbort(st);
                virStreamFree(st);
        }
        if (r < 0 && created)
                (void) virStorageVolDelete(v, 0);
        if (v)
                virStorageVolFree(v);
        virStoragePoolFree(p);
        if (r < 0)
                virResetLastError();
        return r;
}
