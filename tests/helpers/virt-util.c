/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

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
                return -ENOENT;
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
