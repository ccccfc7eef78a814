/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sha256.h"
#include "sums.h"

#define SIG_SUFFIX ".asc"

bool sums_name_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > 255 || name[0] == '.' || endswith(name, SIG_SUFFIX) || streq(name, SUMS_NAME))
                return false;
        /* sha256sum escapes names with a backslash or a newline; we never
         * write such names, so that every line is plainly "hex  name". */
        for (const char *p = name; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
                        return false;
        return true;
}

void sums_entries_free(SumsEntry *e, size_t n) {
        for (size_t i = 0; e && i < n; i++) {
                free(e[i].name);
                free(e[i].sha256);
        }
        free(e);
}

static int cmp_entry_name(const void *a, const void *b) {
        return strcmp((*(const SumsEntry * const *) a)->name, (*(const SumsEntry * const *) b)->name);
}

int sums_format(const SumsEntry *e, size_t n, char **ret) {
        _cleanup_free_ const SumsEntry **sorted = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size = 1, used = 0;

        if (n == 0 || n > SUMS_MAX_FILES)
                return -EINVAL;
        sorted = calloc(n, sizeof(SumsEntry *));
        if (!sorted)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (!sums_name_valid(e[i].name) || !sha256_hex_valid(e[i].sha256))
                        return -EINVAL;
                sorted[i] = &e[i];
                size += SHA256_HEX_SIZE + 2 + strlen(e[i].name);
        }
        qsort(sorted, n, sizeof(SumsEntry *), cmp_entry_name);

        text = malloc(size);
        if (!text)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && streq(sorted[i - 1]->name, sorted[i]->name))
                        return -EEXIST;
                used += (size_t) snprintf(text + used, size - used, "%s  %s\n", sorted[i]->sha256, sorted[i]->name);
        }
        *ret = TAKE_PTR(text);
        return 0;
}

int sums_parse(ErrorSlot *err, const char *text, size_t size, SumsEntry **ret, size_t *ret_n) {
        SumsEntry *e = NULL;
        size_t n = 0, line = 0;
        const char *p = text, *end = text + size;
        int r;

        if (size > SUMS_MAX)
                return error_set(err, -EFBIG, "larger than %u bytes", SUMS_MAX);
        if (memchr(text, 0, size))
                return error_set(err, -EBADMSG, "contains a NUL byte");
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                _cleanup_free_ char *hex = NULL, *name = NULL;
                SumsEntry *bigger;

                line++;
                if (!nl) {
                        r = error_set(err, -EBADMSG, "line %zu is not terminated", line);
                        goto fail;
                }
                if ((size_t) (nl - p) < SHA256_HEX_SIZE - 1 + 3 || p[SHA256_HEX_SIZE - 1] != ' ' ||
                    p[SHA256_HEX_SIZE] != ' ' ||
                    !(hex = strndup(p, SHA256_HEX_SIZE - 1)) ||
                    !(name = strndup(p + SHA256_HEX_SIZE + 1, (size_t) (nl - p) - SHA256_HEX_SIZE - 1)) ||
                    !sha256_hex_valid(hex) || !sums_name_valid(name)) {
                        r = error_set(err, -EBADMSG, "line %zu is not \"<sha256 in lowercase hex>  <file name>\"",
                                      line);
                        goto fail;
                }
                for (size_t i = 0; i < n; i++)
                        if (streq(e[i].name, name)) {
                                r = error_set(err, -EBADMSG, "line %zu: '%s' is listed twice", line, name);
                                goto fail;
                        }
                if (n >= SUMS_MAX_FILES) {
                        r = error_set(err, -EFBIG, "lists more than %u files", SUMS_MAX_FILES);
                        goto fail;
                }
                bigger = realloc(e, (n + 1) * sizeof(SumsEntry));
                if (!bigger) {
                        r = -ENOMEM;
                        goto fail;
                }
                e = bigger;
                e[n++] = (SumsEntry) { .name = TAKE_PTR(name), .sha256 = TAKE_PTR(hex) };
                p = nl + 1;
        }
        if (n == 0)
                return error_set(err, -EBADMSG, "lists no files");
        *ret = e;
        *ret_n = n;
        return 0;
fail:
        sums_entries_free(e, n);
        return r;
}

const SumsEntry *sums_find(const SumsEntry *e, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(e[i].name, name))
                        return &e[i];
        return NULL;
}
