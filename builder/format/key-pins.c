/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "key-pins.h"

#define MAX_SUITES 1024u
#define MAX_LINE 4096u

KeyPins *key_pins_free(KeyPins *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n; i++)
                strv_free(p->fprs[i]);
        free(p->fprs);
        strv_free(p->suites);
        free(p);
        return NULL;
}

char * const *key_pins_for(const KeyPins *p, const char *suite) {
        for (size_t i = 0; p && i < p->n; i++)
                if (streq(p->suites[i], suite))
                        return p->fprs[i];
        return NULL;
}

static bool fpr_ok(const char *s) {
        return strlen(s) == 40 && strspn(s, "0123456789ABCDEFabcdef") == 40;
}

static int parse_line(ErrorSlot *err, const char *name, unsigned line, char *s, KeyPins *p) {
        _cleanup_strv_free_ char **words = NULL, **fprs = NULL;
        _cleanup_free_ char *shown = NULL;
        char ***nf;
        int r;

        r = strv_split(s, " \t", &words);
        if (r < 0)
                return r;
        if (!words[0])
                return 0;
        shown = escape_for_message(words[0], true);
        if (!shown)
                return -ENOMEM;
        if (!name_is_plain(words[0]))
                return error_set(err, -EBADMSG, "%s:%u: '%s' is not a suite name", name, line, shown);
        if (key_pins_for(p, words[0]))
                return error_set(err, -EBADMSG, "%s:%u: suite '%s' is pinned twice", name, line, shown);
        if (!words[1])
                return error_set(err, -EBADMSG, "%s:%u: suite '%s' has no key fingerprint", name, line, shown);
        for (char **w = words + 1; *w; w++) {
                if (!fpr_ok(*w)) {
                        _cleanup_free_ char *bad = escape_for_message(*w, true);

                        if (!bad)
                                return -ENOMEM;
                        return error_set(err, -EBADMSG,
                                         "%s:%u: '%s' is not a key fingerprint (40 hex digits, no spaces)", name, line,
                                         bad);
                }
                r = strv_extend(&fprs, hex_upper(*w));
                if (r < 0)
                        return r;
        }
        if (p->n >= MAX_SUITES)
                return error_set(err, -E2BIG, "%s:%u: more than %u suites", name, line, MAX_SUITES);
        nf = reallocarray(p->fprs, p->n + 1, sizeof(char **));
        if (!nf)
                return -ENOMEM;
        p->fprs = nf;
        r = strv_extend(&p->suites, words[0]);
        if (r < 0)
                return r;
        p->fprs[p->n++] = TAKE_PTR(fprs);
        return 0;
}

int key_pins_parse(ErrorSlot *err, const char *name, const char *data, size_t size, KeyPins **ret) {
        _cleanup_(key_pins_freep) KeyPins *p = NULL;
        _cleanup_free_ char *copy = NULL;
        unsigned line = 0;
        char *s, *eof;
        int r;

        if (size > KEY_PINS_MAX_SIZE)
                return error_set(err, -EFBIG, "%s: file is larger than 64 KiB", name);
        if (memchr(data, 0, size))
                return error_set(err, -EBADMSG, "%s: contains a NUL byte", name);
        p = calloc(1, sizeof(KeyPins));
        copy = malloc(size + 1);
        if (!p || !copy)
                return -ENOMEM;
        memcpy(copy, data, size);
        copy[size] = 0;
        eof = copy + size;
        for (s = copy; s < eof;) {
                char *nl = memchr(s, '\n', (size_t) (eof - s)), *hash;
                size_t len = nl ? (size_t) (nl - s) : (size_t) (eof - s);

                line++;
                if (len > MAX_LINE)
                        return error_set(err, -E2BIG, "%s:%u: line is longer than %u characters", name, line,
                                         MAX_LINE);
                s[len] = 0;
                hash = strchr(s, '#');
                if (hash)
                        *hash = 0;
                r = parse_line(err, name, line, s, p);
                if (r < 0)
                        return r;
                s += len + 1;
        }
        *ret = TAKE_PTR(p);
        return 0;
}
