/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "libvirt-xml.h"
#include "util.h"

void libvirt_xml_done(LibvirtXml *x) {
        free(x->name);
        free(x->uuid);
        free(x->disk_file);
        free(x->virt_type);
        free(x->install_sha256);
        strv_free(x->networks);
        *x = (LibvirtXml) {};
}

static bool plain_name(const char *s) {
        return s && *s && *s != '.' && strlen(s) <= 200 &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(s);
}

static bool is(const xmlNode *n, const char *name) {
        return n && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *) name) == 0;
}

static xmlNode *child(const xmlNode *n, const char *name) {
        for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
                if (is(c, name))
                        return c;
        return NULL;
}

/* The text of an element, or an attribute's value, as our own string. */
static char *text_of(xmlNode *n) {
        xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
        char *s = t ? strdup((const char *) t) : NULL;
        xmlFree(t);
        return s;
}

static char *attr(xmlNode *n, const char *name) {
        xmlChar *v = n ? xmlGetProp(n, (const xmlChar *) name) : NULL;
        char *s = v ? strdup((const char *) v) : NULL;
        xmlFree(v);
        return s;
}

static xmlDoc *parse(ErrorSlot *err, const char *name, const char *data, size_t size) {
        xmlDoc *doc;

        if (size > LIBVIRT_XML_MAX_SIZE) {
                error_set(err, -EFBIG, "%s: larger than 1 MiB", name);
                return NULL;
        }
        doc = xmlReadMemory(data, (int) size, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc) {
                const xmlError *e = xmlGetLastError();
                _cleanup_free_ char *m = e && e->message ? strndup(e->message, strcspn(e->message, "\n")) : NULL;
                error_set(err, -EBADMSG, "%s: not XML (%s, line %d)", name, m ?: "parse error", e ? e->line : 0);
                xmlResetLastError();
        }
        return doc;
}

/* The domain's disks (device='disk'; a CD-ROM is not one). */
static xmlNode *only_disk(ErrorSlot *err, const char *name, xmlNode *devices, int *ret) {
        xmlNode *disk = NULL;
        unsigned n = 0;

        for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next) {
                _cleanup_free_ char *dev = NULL;
                if (!is(c, "disk"))
                        continue;
                dev = attr(c, "device");
                if (dev && !streq(dev, "disk"))
                        continue;
                disk = c;
                n++;
        }
        if (n != 1) {
                *ret = error_set(err, -EBADMSG, "%s: a domain with %u disks: install takes one image per domain", name, n);
                return NULL;
        }
        return disk;
}

int libvirt_xml_read(ErrorSlot *err, const char *name, const char *data, size_t size, LibvirtXml *ret) {
        LibvirtXml x = {};
        xmlDoc *doc = parse(err, name, data, size);
        xmlNode *root, *n;
        int r = 0;

        if (!doc)
                return -EBADMSG;
        root = xmlDocGetRootElement(doc);
        if (is(root, "domain"))
                x.kind = LIBVIRT_XML_DOMAIN;
        else if (is(root, "network"))
                x.kind = LIBVIRT_XML_NETWORK;
        else {
                r = error_set(err, -EBADMSG, "%s: neither a libvirt <domain> nor a <network>", name);
                goto out;
        }
        x.name = text_of(child(root, "name"));
        if (!plain_name(x.name)) {
                _cleanup_free_ char *shown = x.name ? escape_for_message(x.name, true) : NULL;
                r = error_set(err, -EBADMSG, "%s: the name '%s' is not a plain name ([A-Za-z0-9._-])", name,
                              strempty(shown));
                goto out;
        }
        if ((n = child(root, "uuid")))
                x.uuid = text_of(n);
        if (x.kind == LIBVIRT_XML_DOMAIN) {
                xmlNode *devices = child(root, "devices"), *disk = only_disk(err, name, devices, &r), *meta;
                if (!disk)
                        goto out;
                x.virt_type = attr(root, "type");
                x.disk_file = attr(child(disk, "source"), "file");
                if (isempty(x.disk_file)) {
                        r = error_set(err, -EBADMSG, "%s: the disk is not a file (<source file=...>)", name);
                        goto out;
                }
                for (xmlNode *c = devices->children; c; c = c->next) {
                        _cleanup_free_ char *net = NULL;
                        if (!is(c, "interface"))
                                continue;
                        net = attr(child(c, "source"), "network");
                        if (net && !strv_contains(x.networks, net) && strv_extend(&x.networks, net) < 0) {
                                r = -ENOMEM;
                                goto out;
                        }
                }
                meta = child(root, "metadata");
                for (xmlNode *c = meta ? meta->children : NULL; c; c = c->next)
                        if (is(c, "install") && c->ns && xmlStrcmp(c->ns->href, (const xmlChar *) LIBVIRT_XML_INSTALL_NS) == 0)
                                x.install_sha256 = attr(c, "image-sha256");
        }
out:
        xmlFreeDoc(doc);
        if (r < 0) {
                libvirt_xml_done(&x);
                return r;
        }
        *ret = x;
        return 0;
}

int libvirt_xml_for_install(ErrorSlot *err, const char *data, size_t size, const char *disk_path,
                            const char *image_sha256, const char *virt_type, char **ret) {
        xmlDoc *doc = parse(err, "domain XML", data, size);
        xmlNode *root, *disk, *source, *meta, *mine;
        xmlNs *ns;
        xmlChar *out = NULL;
        int r = 0, len = 0;

        if (!doc)
                return -EBADMSG;
        root = xmlDocGetRootElement(doc);
        disk = is(root, "domain") ? only_disk(err, "domain XML", child(root, "devices"), &r) : NULL;
        if (!disk) {
                if (r == 0)
                        r = error_set(err, -EBADMSG, "not a libvirt <domain>");
                goto out;
        }
        source = child(disk, "source");
        if (!source || !xmlSetProp(source, (const xmlChar *) "file", (const xmlChar *) disk_path) ||
            (virt_type && !xmlSetProp(root, (const xmlChar *) "type", (const xmlChar *) virt_type))) {
                r = -ENOMEM;
                goto out;
        }
        meta = child(root, "metadata");
        if (!meta && !(meta = xmlNewChild(root, NULL, (const xmlChar *) "metadata", NULL))) {
                r = -ENOMEM;
                goto out;
        }
        /* A record from an earlier install goes: the new one replaces it. */
        for (xmlNode *c = meta->children, *next; c; c = next) {
                next = c->next;
                if (is(c, "install") && c->ns && xmlStrcmp(c->ns->href, (const xmlChar *) LIBVIRT_XML_INSTALL_NS) == 0) {
                        xmlUnlinkNode(c);
                        xmlFreeNode(c);
                }
        }
        mine = xmlNewChild(meta, NULL, (const xmlChar *) "install", NULL);
        ns = mine ? xmlNewNs(mine, (const xmlChar *) LIBVIRT_XML_INSTALL_NS, (const xmlChar *) "wb") : NULL;
        if (!ns || !xmlSetProp(mine, (const xmlChar *) "image-sha256", (const xmlChar *) image_sha256)) {
                r = -ENOMEM;
                goto out;
        }
        xmlSetNs(mine, ns);
        xmlDocDumpFormatMemory(doc, &out, &len, 1);
        if (!out) {
                r = -ENOMEM;
                goto out;
        }
        *ret = strndup((const char *) out, (size_t) len);
        if (!*ret)
                r = -ENOMEM;
out:
        xmlFree(out);
        xmlFreeDoc(doc);
        return r;
}
