/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>

#include "json-writer.h"
#include "util.h"

void json_writer_done(JsonWriter *w) {
        free(w->buf);
        w->buf = NULL;
        w->len = w->alloc = 0;
}

static void fail(JsonWriter *w, int r) {
        if (w->error == 0)
                w->error = r;
}

static void put(JsonWriter *w, const char *s, size_t n) {
        if (w->error)
                return;
        if (w->len + n + 1 > w->alloc) {
                size_t a = w->alloc * 2 > w->len + n + 256 ? w->alloc * 2 : w->len + n + 256;
                char *b = realloc(w->buf, a);

                if (!b)
                        return fail(w, -ENOMEM);
                w->buf = b;
                w->alloc = a;
        }
        memcpy(w->buf + w->len, s, n);
        w->len += n;
        w->buf[w->len] = 0;
}

static void puts_(JsonWriter *w, const char *s) {
        put(w, s, strlen(s));
}

static void indent(JsonWriter *w) {
        put(w, "\n", 1);
        for (unsigned i = 0; i < w->depth; i++)
                put(w, "  ", 2);
}

static void put_string(JsonWriter *w, const char *s);

/* The comma, newline and key before a value; false if it may not go here. */
static bool begin_value(JsonWriter *w, const char *key) {
        if (w->error)
                return false;
        if (w->depth == 0) {
                if (key || w->done) {
                        fail(w, -EINVAL);
                        return false;
                }
                return true;
        }
        if ((w->stack[w->depth - 1] == '{') != (key != NULL)) {
                fail(w, -EINVAL);
                return false;
        }
        if (!w->first[w->depth - 1])
                put(w, ",", 1);
        w->first[w->depth - 1] = false;
        indent(w);
        if (key) {
                put_string(w, key);
                put(w, ": ", 2);
        }
        return true;
}

static void end_value(JsonWriter *w) {
        if (w->depth == 0)
                w->done = true;
}

static void put_string(JsonWriter *w, const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        size_t valid = utf8_valid_length(s);
        char esc[8];

        if (s[valid]) {
                error_set(w->err, -EINVAL, "a string for JSON is not valid UTF-8 at byte %zu", valid);
                return fail(w, -EINVAL);
        }
        put(w, "\"", 1);
        /* Byte by byte: only ASCII is escaped, the rest is valid UTF-8. */
        for (; *p && !w->error; p++) {
                if (*p == '"' || *p == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char) *p;
                        put(w, esc, 2);
                } else if (*p == '\n')
                        puts_(w, "\\n");
                else if (*p == '\t')
                        puts_(w, "\\t");
                else if (*p == '\r')
                        puts_(w, "\\r");
                else if (*p < 0x20 || *p == 0x7f) {
                        snprintf(esc, sizeof esc, "\\u%04x", *p);
                        puts_(w, esc);
                } else
                        put(w, (const char *) p, 1);
        }
        put(w, "\"", 1);
}

static void open_(JsonWriter *w, const char *key, char c) {
        if (!begin_value(w, key))
                return;
        if (w->depth >= JSON_WRITER_DEPTH_MAX)
                return fail(w, -E2BIG);
        put(w, &c, 1);
        w->stack[w->depth] = c;
        w->first[w->depth] = true;
        w->depth++;
}

void json_writer_open_object(JsonWriter *w, const char *key) {
        open_(w, key, '{');
}

void json_writer_open_array(JsonWriter *w, const char *key) {
        open_(w, key, '[');
}

void json_writer_close(JsonWriter *w) {
        char c;
        bool empty;

        if (w->error)
                return;
        if (w->depth == 0)
                return fail(w, -EINVAL);
        c = w->stack[w->depth - 1] == '{' ? '}' : ']';
        empty = w->first[w->depth - 1];
        w->depth--;
        if (!empty)
                indent(w);
        put(w, &c, 1);
        end_value(w);
}

void json_writer_string(JsonWriter *w, const char *key, const char *value) {
        if (!value)
                return json_writer_null(w, key);
        if (!begin_value(w, key))
                return;
        put_string(w, value);
        end_value(w);
}

static void put_printf(JsonWriter *w, const char *key, const char *fmt, ...) _printf_(3, 4);
static void put_printf(JsonWriter *w, const char *key, const char *fmt, ...) {
        char s[64];
        va_list ap;

        if (!begin_value(w, key))
                return;
        va_start(ap, fmt);
        vsnprintf(s, sizeof s, fmt, ap);
        va_end(ap);
        puts_(w, s);
        end_value(w);
}

void json_writer_int(JsonWriter *w, const char *key, int64_t value) {
        put_printf(w, key, "%" PRId64, value);
}

void json_writer_uint(JsonWriter *w, const char *key, uint64_t value) {
        put_printf(w, key, "%" PRIu64, value);
}

void json_writer_double(JsonWriter *w, const char *key, double value) {
        if (!isfinite(value))
                return json_writer_null(w, key);
        put_printf(w, key, "%.3f", value);
}

void json_writer_bool(JsonWriter *w, const char *key, bool value) {
        put_printf(w, key, "%s", value ? "true" : "false");
}

void json_writer_null(JsonWriter *w, const char *key) {
        put_printf(w, key, "null");
}

int json_writer_finish(JsonWriter *w, char **ret) {
        if (w->error == 0 && (w->depth != 0 || !w->done))
                w->error = -EINVAL;
        if (w->error)
                return w->error == -EINVAL && !w->err->message
                               ? error_set(w->err, -EINVAL, "unbalanced or misplaced JSON value")
                               : w->error;
        put(w, "\n", 1);
        if (w->error)
                return w->error;
        *ret = TAKE_PTR(w->buf);
        w->len = w->alloc = 0;
        return 0;
}
