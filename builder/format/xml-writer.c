/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "xml-writer.h"

void xml_writer_done(XmlWriter *w) {
        if (!w)
                return;
        free(w->buf);
        w->buf = NULL;
        w->len = w->alloc = 0;
}

static void fail(XmlWriter *w, int r) {
        if (w->error == 0)
                w->error = r;
}

static void append(XmlWriter *w, const char *s, size_t n) {
        size_t need;

        if (w->error < 0)
                return;
        need = w->len + n + 1;
        if (need > w->max || need < n) {
                fail(w, error_set(w->err, -E2BIG, "generated XML would exceed %zu bytes", w->max));
                return;
        }
        if (need > w->alloc) {
                size_t a = w->alloc ? w->alloc : 4096;
                char *p;

                while (a < need)
                        a *= 2;
                if (a > w->max)
                        a = w->max;
                p = realloc(w->buf, a);
                if (!p) {
                        fail(w, -ENOMEM);
                        return;
                }
                w->buf = p;
                w->alloc = a;
        }
        memcpy(w->buf + w->len, s, n);
        w->len += n;
        w->buf[w->len] = 0;
}

static void puts_(XmlWriter *w, const char *s) {
        append(w, s, strlen(s));
}

/* Length of the well-formed UTF-8 sequence at s that XML 1.0 allows
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF;
 * XML: no C0 controls but tab, LF, CR), or 0. */
static size_t utf8_char(const unsigned char *s) {
        uint32_t c;
        size_t n;

        if (s[0] < 0x80)
                return s[0] >= 0x20 || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' ? 1 : 0;
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                n = 2;
                c = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                n = 3;
                c = s[0] & 0x0f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                n = 4;
                c = s[0] & 0x07;
        } else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
            (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
                return 0;
        return n;
}

static void escaped(XmlWriter *w, const char *s, const char *element, const char *attribute) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p && w->error == 0) {
                size_t n = utf8_char(p);

                if (n == 0) {
                        if (attribute)
                                fail(w, error_set(w->err, -EINVAL,
                                                  "value of attribute '%s' of <%s> is not valid XML text",
                                                  attribute, element));
                        else
                                fail(w, error_set(w->err, -EINVAL, "text of <%s> is not valid XML text", element));
                        return;
                }
                switch (*p) {
                case '&': puts_(w, "&amp;"); break;
                case '<': puts_(w, "&lt;"); break;
                case '>': puts_(w, "&gt;"); break;
                case '"': puts_(w, "&quot;"); break;
                case '\'': puts_(w, w->quote == '\'' ? "&apos;" : "'"); break;
                /* Keep whitespace in attributes through attribute-value
                 * normalisation. */
                case '\t': puts_(w, attribute ? "&#9;" : "\t"); break;
                case '\n': puts_(w, attribute ? "&#10;" : "\n"); break;
                case '\r': puts_(w, "&#13;"); break;
                default: append(w, (const char *) p, n);
                }
                p += n;
        }
}

static void indent(XmlWriter *w) {
        for (unsigned i = 0; i < w->depth; i++)
                puts_(w, "  ");
}

static void start_tag(XmlWriter *w, const char *name, va_list ap) {
        const char *k;

        indent(w);
        puts_(w, "<");
        puts_(w, name);
        while ((k = va_arg(ap, const char *))) {
                const char *v = va_arg(ap, const char *);

                if (!v) {
                        fail(w, error_set(w->err, -EINVAL, "no value for attribute '%s' of <%s>", k, name));
                        return;
                }
                puts_(w, " ");
                puts_(w, k);
                puts_(w, w->quote == '\'' ? "='" : "=\"");
                escaped(w, v, name, k);
                puts_(w, w->quote == '\'' ? "'" : "\"");
        }
}

void xml_writer_declaration(XmlWriter *w) {
        puts_(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
}

void xml_writer_open(XmlWriter *w, const char *name, ...) {
        va_list ap;

        va_start(ap, name);
        start_tag(w, name, ap);
        va_end(ap);
        puts_(w, ">\n");
        if (w->error < 0)
                return;
        if (w->depth >= XML_WRITER_DEPTH_MAX) {
                fail(w, error_set(w->err, -E2BIG, "XML nested deeper than %u elements", XML_WRITER_DEPTH_MAX));
                return;
        }
        w->stack[w->depth++] = name;
}

void xml_writer_close(XmlWriter *w) {
        if (w->error < 0)
                return;
        if (w->depth == 0) {
                fail(w, -EINVAL);
                return;
        }
        w->depth--;
        indent(w);
        puts_(w, "</");
        puts_(w, w->stack[w->depth]);
        puts_(w, ">\n");
}

void xml_writer_empty(XmlWriter *w, const char *name, ...) {
        va_list ap;

        va_start(ap, name);
        start_tag(w, name, ap);
        va_end(ap);
        puts_(w, "/>\n");
}

void xml_writer_text(XmlWriter *w, const char *name, const char *text, ...) {
        va_list ap;

        va_start(ap, text);
        start_tag(w, name, ap);
        va_end(ap);
        puts_(w, ">");
        escaped(w, strempty(text), name, NULL);
        puts_(w, "</");
        puts_(w, name);
        puts_(w, ">\n");
}

int xml_writer_finish(XmlWriter *w, char **ret) {
        if (w->error == 0 && w->depth != 0)
                w->error = -EINVAL;
        if (w->error == 0 && !w->buf)
                w->error = -EINVAL;
        if (w->error < 0)
                return w->error;
        *ret = TAKE_PTR(w->buf);
        w->len = w->alloc = 0;
        return 0;
}
