/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <sys/stat.h>

#include "buildinfo.h"
#include "sha256.h"

Buildinfo *buildinfo_free(Buildinfo *b) {
        if (!b)
                return NULL;
        free(b->tool_version);
        free(b->tool_commit);
        free(b->recipe_tree_sha256);
        free(b->target);
        free(b->suite);
        free(b->mirror);
        free(b->inrelease_sha256);
        free(b->inrelease_signer);
        free(b->seed);
        for (size_t i = 0; i < b->n_tools; i++) {
                free(b->tools[i].name);
                free(b->tools[i].version);
                free(b->tools[i].from);
        }
        free(b->tools);
        if (b->packages)
                for (size_t i = 0; i < strv_length(b->flavors); i++)
                        package_list_free(b->packages[i]);
        free(b->packages);
        strv_free(b->flavors);
        for (size_t i = 0; i < b->n_artifacts; i++)
                free(b->artifacts[i].name);
        free(b->artifacts);
        free(b);
        return NULL;
}

/* Value checks, shared by the writer and the reader so that whatever is
 * written reads back. */
static bool chars_ok(const char *s, size_t max, const char *allowed) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > max)
                return false;
        if (!allowed) {
                for (size_t i = 0; i < n; i++)
                        if ((unsigned char) s[i] <= ' ' || (unsigned char) s[i] >= 0x7f)
                                return false;
                return true;
        }
        return strspn(s, allowed) == n;
}

#define LOWER_HEX "0123456789abcdef"
#define WORD_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-"

static bool artifact_name_ok(const char *s) {
        return chars_ok(s, 255, NULL) && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..");
}

#define TOOL_NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789.+-"

static bool tool_ok(const char *name, const char *version, const char *from) {
        return chars_ok(name, 128, TOOL_NAME_CHARS) && chars_ok(version, 128, NULL) && from &&
               (streq(from, "host") || streq(from, "image") || streq(from, "archive"));
}

static int tool_cmp(const BuildinfoTool *a, const char *name, const char *from) {
        int c = strcmp(a->name, name);
        return c ? c : strcmp(a->from, from);
}

int buildinfo_add_tool(ErrorSlot *err, Buildinfo *b, const char *name, const char *version, const char *from) {
        size_t at = b->n_tools;
        BuildinfoTool *t;

        if (!tool_ok(name, version, from))
                return error_set(err, -EINVAL, "buildinfo: the tool '%s' '%s' from '%s' cannot be written",
                                 strempty(name), strempty(version), strempty(from));
        if (b->n_tools >= BUILDINFO_TOOLS_MAX)
                return error_set(err, -E2BIG, "buildinfo: more than %u tools", BUILDINFO_TOOLS_MAX);
        while (at > 0 && tool_cmp(&b->tools[at - 1], name, from) > 0)
                at--;
        if (at > 0 && tool_cmp(&b->tools[at - 1], name, from) == 0)
                return error_set(err, -EEXIST, "buildinfo: the tool '%s' from '%s' is listed twice", name, from);
        t = reallocarray(b->tools, b->n_tools + 1, sizeof(BuildinfoTool));
        if (!t)
                return -ENOMEM;
        b->tools = t;
        memmove(t + at + 1, t + at, (b->n_tools - at) * sizeof(BuildinfoTool));
        t[at] = (BuildinfoTool) { .name = strdup(name), .version = strdup(version), .from = strdup(from) };
        b->n_tools++;
        if (!t[at].name || !t[at].version || !t[at].from)
                return -ENOMEM;
        return 0;
}

const BuildinfoTool *buildinfo_find_tool(const Buildinfo *b, const char *name, const char *from) {
        for (size_t i = 0; i < b->n_tools; i++)
                if (tool_cmp(&b->tools[i], name, from) == 0)
                        return &b->tools[i];
        return NULL;
}

static const char *check_values(const Buildinfo *b) {
        if (!chars_ok(b->tool_version, 64, NULL))
                return "Tool-Version";
        if (!chars_ok(b->tool_commit, 64, NULL))
                return "Tool-Commit";
        if (!sha256_hex_valid(b->recipe_tree_sha256))
                return "Recipe-Tree-SHA256";
        if (!b->target || (!streq(b->target, "kvm") && !streq(b->target, "virtualbox")))
                return "Target";
        if (strv_length(b->flavors) == 0)
                return "Flavors";
        STRV_FOREACH(f, b->flavors)
                if (!chars_ok(*f, 64, WORD_CHARS))
                        return "Flavors";
        if (!chars_ok(b->suite, 64, NULL))
                return "Suite";
        if (!chars_ok(b->mirror, 4096, NULL))
                return "Mirror";
        if (!sha256_hex_valid(b->inrelease_sha256))
                return "InRelease-SHA256";
        if (!chars_ok(b->inrelease_signer, 128, "0123456789ABCDEF"))
                return "InRelease-Signer";
        if (b->source_date_epoch < 0)
                return "Source-Date-Epoch";
        if (!chars_ok(b->seed, 256, NULL))
                return "Seed";
        return NULL;
}

int buildinfo_format(ErrorSlot *err, const Buildinfo *b, char **ret) {
        _cleanup_free_ char *buf = NULL, *flavors = NULL;
        const char *bad = check_values(b);
        size_t size = 0;
        FILE *f;

        if (bad)
                return error_set(err, -EINVAL, "buildinfo: the value of '%s' cannot be written", bad);
        if (b->format == 1 && b->n_tools > 0)
                return error_set(err, -EINVAL, "buildinfo: format 1 cannot record tools");
        flavors = strv_join(b->flavors, " ");
        if (!flavors)
                return -ENOMEM;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f,
                "Format: %s\n"
                "Tool-Version: %s\n"
                "Tool-Commit: %s\n"
                "Recipe-Tree-SHA256: %s\n"
                "Target: %s\n"
                "Flavors: %s\n"
                "Suite: %s\n"
                "Mirror: %s\n"
                "InRelease-SHA256: %s\n"
                "InRelease-Signer: %s\n"
                "Source-Date-Epoch: %" PRId64 "\n"
                "Seed: %s\n",
                b->format == 1 ? BUILDINFO_FORMAT_1 : BUILDINFO_FORMAT, b->tool_version, b->tool_commit,
                b->recipe_tree_sha256, b->target, flavors, b->suite, b->mirror, b->inrelease_sha256,
                b->inrelease_signer, b->source_date_epoch, b->seed);
        if (b->format != 1)
                fputs("Tools:\n", f);
        for (size_t i = 0; i < b->n_tools; i++)
                fprintf(f, " %s %s %s\n", b->tools[i].name, b->tools[i].version, b->tools[i].from);
        for (size_t i = 0; i < strv_length(b->flavors); i++) {
                _cleanup_free_ char *list = NULL;

                fprintf(f, "Packages-%s:\n", b->flavors[i]);
                if (b->packages && b->packages[i]) {
                        if (package_list_format(b->packages[i], &list) < 0) {
                                fclose(f);
                                return -ENOMEM;
                        }
                        for (char *line = list, *nl; *line; line = nl + 1) {
                                nl = strchr(line, '\n');
                                fprintf(f, " %.*s\n", (int) (nl - line), line);
                        }
                }
        }
        fputs("Artifacts:\n", f);
        for (size_t i = 0; i < b->n_artifacts; i++)
                fprintf(f, " %s %" PRIu64 " %s\n", b->artifacts[i].sha256, b->artifacts[i].size, b->artifacts[i].name);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int artifact_cmp(const void *a, const void *b) {
        return strcmp(((const BuildinfoArtifact *) a)->name, ((const BuildinfoArtifact *) b)->name);
}

static int push_artifact(Buildinfo *b, const char *name, const char *sha256, uint64_t size) {
        BuildinfoArtifact *a;

        if (b->n_artifacts >= BUILDINFO_ARTIFACTS_MAX)
                return -E2BIG;
        a = reallocarray(b->artifacts, b->n_artifacts + 1, sizeof(BuildinfoArtifact));
        if (!a)
                return -ENOMEM;
        b->artifacts = a;
        a = &b->artifacts[b->n_artifacts];
        *a = (BuildinfoArtifact) { .name = strdup(name), .size = size };
        if (!a->name)
                return -ENOMEM;
        memcpy(a->sha256, sha256, 65);
        b->n_artifacts++;
        return 0;
}

int buildinfo_add_artifact(ErrorSlot *err, Buildinfo *b, const char *name, const char *path) {
        return buildinfo_add_artifact_digest(err, b, name, path, NULL);
}

int buildinfo_add_artifact_digest(ErrorSlot *err, Buildinfo *b, const char *name, const char *path,
                                  const char *sha256) {
        _cleanup_free_ char *hex = NULL;
        struct stat st;
        int r;

        if (!artifact_name_ok(name))
                return error_set(err, -EINVAL, "buildinfo: '%s' is not a plain file name", name);
        if (buildinfo_find_artifact(b, name))
                return error_set(err, -EEXIST, "buildinfo: '%s' is listed twice", name);
        if (sha256 && !sha256_hex_valid(sha256))
                return error_set(err, -EINVAL, "buildinfo: '%s' is not a SHA-256", sha256);
        if (stat(path, &st) < 0)
                return error_set_errno(err, -errno, "cannot stat '%s'", path);
        if (sha256)
                hex = strdup(sha256);
        else {
                r = sha256_file(path, &hex);
                if (r < 0)
                        return error_set_errno(err, r, "cannot hash '%s'", path);
        }
        if (!hex)
                return -ENOMEM;
        r = push_artifact(b, name, hex, (uint64_t) st.st_size);
        if (r < 0)
                return r;
        qsort(b->artifacts, b->n_artifacts, sizeof(BuildinfoArtifact), artifact_cmp);
        return 0;
}

const BuildinfoArtifact *buildinfo_find_artifact(const Buildinfo *b, const char *name) {
        for (size_t i = 0; b && i < b->n_artifacts; i++)
                if (streq(b->artifacts[i].name, name))
                        return &b->artifacts[i];
        return NULL;
}

/* The reader. */

typedef struct Reader {
        ErrorSlot *err;
        const char *text;
        size_t size, pos;
        unsigned line;
        const char *cur;        /* the current line, not NUL-terminated */
        size_t cur_len;
} Reader;

/* Next line into r->cur; 0 at the end, 1 for a line. */
static int next_line(Reader *r) {
        const char *nl;

        if (r->pos >= r->size)
                return 0;
        r->cur = r->text + r->pos;
        nl = memchr(r->cur, '\n', r->size - r->pos);
        if (!nl)
                return error_set(r->err, -EBADMSG, "buildinfo: line %u: no newline at the end", r->line + 1);
        r->cur_len = (size_t) (nl - r->cur);
        r->pos += r->cur_len + 1;
        r->line++;
        return 1;
}

/* Expect "Name: value" on the next line; *ret is a copy of the value. */
static int read_field(Reader *r, const char *name, char **ret) {
        size_t n = strlen(name);
        int k = next_line(r);

        if (k < 0)
                return k;
        if (k == 0)
                return error_set(r->err, -EBADMSG, "buildinfo: '%s' is missing at the end", name);
        if (r->cur_len < n + 2 || memcmp(r->cur, name, n) != 0 || r->cur[n] != ':' || r->cur[n + 1] != ' ')
                return error_set(r->err, -EBADMSG, "buildinfo: line %u: expected '%s: ...'", r->line, name);
        *ret = strndup(r->cur + n + 2, r->cur_len - n - 2);
        return *ret ? 0 : -ENOMEM;
}

/* Expect "Name:" alone, then collect its " "-indented lines (without the
 * space) into *ret. */
static int read_block(Reader *r, const char *name, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t n = strlen(name), size = 0;
        FILE *f;
        int k = next_line(r);

        if (k < 0)
                return k;
        if (k == 0 || r->cur_len != n + 1 || memcmp(r->cur, name, n) != 0 || r->cur[n] != ':')
                return error_set(r->err, -EBADMSG, "buildinfo: line %u: expected '%s:'", r->line, name);
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        while (r->pos < r->size && r->text[r->pos] == ' ') {
                k = next_line(r);
                if (k < 0) {
                        fclose(f);
                        return k;
                }
                fwrite(r->cur + 1, 1, r->cur_len - 1, f);
                fputc('\n', f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

static int parse_tools(Reader *rd, Buildinfo *b, const char *text, size_t size, unsigned first_line) {
        unsigned line = first_line;

        for (const char *s = text; s < text + size; line++) {
                const char *nl = memchr(s, '\n', (size_t) (text + size - s));
                _cleanup_free_ char *l = strndup(s, (size_t) (nl - s));
                int r;

                s = nl + 1;
                if (!l)
                        return -ENOMEM;
                char *sp1 = strchr(l, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
                if (!sp2 || strchr(sp2 + 1, ' '))
                        return error_set(rd->err, -EBADMSG, "buildinfo: line %u: expected ' <name> <version> <from>'",
                                         line);
                *sp1 = *sp2 = 0;
                if (!tool_ok(l, sp1 + 1, sp2 + 1))
                        return error_set(rd->err, -EBADMSG, "buildinfo: line %u: bad tool line", line);
                if (b->n_tools > 0 && tool_cmp(&b->tools[b->n_tools - 1], l, sp2 + 1) >= 0)
                        return error_set(rd->err, -EBADMSG, "buildinfo: line %u: tools out of order", line);
                r = buildinfo_add_tool(rd->err, b, l, sp1 + 1, sp2 + 1);
                if (r == -E2BIG)
                        return error_set(rd->err, r, "buildinfo: line %u: more than %u tools", line,
                                         BUILDINFO_TOOLS_MAX);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_artifacts(Reader *rd, Buildinfo *b, const char *text, size_t size, unsigned first_line) {
        unsigned line = first_line;

        for (const char *s = text; s < text + size; line++) {
                const char *nl = memchr(s, '\n', (size_t) (text + size - s));
                _cleanup_free_ char *l = strndup(s, (size_t) (nl - s)), *sha = NULL, *num = NULL, *name = NULL;
                uint64_t n;
                int r;

                s = nl + 1;
                if (!l)
                        return -ENOMEM;
                char *sp1 = strchr(l, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
                if (!sp2)
                        return error_set(rd->err, -EBADMSG, "buildinfo: line %u: expected ' <sha256> <size> <name>'", line);
                *sp1 = *sp2 = 0;
                if (!sha256_hex_valid(l) || safe_atou64(sp1 + 1, &n) < 0 || (sp1[1] == '0' && sp1[2]) ||
                    !artifact_name_ok(sp2 + 1))
                        return error_set(rd->err, -EBADMSG, "buildinfo: line %u: bad artifact line", line);
                if (b->n_artifacts > 0 && strcmp(b->artifacts[b->n_artifacts - 1].name, sp2 + 1) >= 0)
                        return error_set(rd->err, -EBADMSG, "buildinfo: line %u: artifacts out of order", line);
                r = push_artifact(b, sp2 + 1, l, n);
                if (r == -E2BIG)
                        return error_set(rd->err, r, "buildinfo: line %u: more than %u artifacts", line,
                                         BUILDINFO_ARTIFACTS_MAX);
                if (r < 0)
                        return r;
        }
        return 0;
}

int buildinfo_parse(ErrorSlot *err, const char *text, size_t size, Buildinfo **ret) {
        _cleanup_(buildinfo_freep) Buildinfo *b = calloc(1, sizeof(Buildinfo));
        _cleanup_free_ char *format = NULL, *flavors = NULL, *epoch = NULL, *block = NULL;
        Reader rd = { .err = err, .text = text, .size = size };
        size_t block_size;
        uint64_t e;
        const char *bad;
        int r;

        if (!b)
                return -ENOMEM;
        if (size > BUILDINFO_SIZE_MAX)
                return error_set(err, -EFBIG, "buildinfo: more than %u bytes", BUILDINFO_SIZE_MAX);
        if (memchr(text, 0, size))
                return error_set(err, -EBADMSG, "buildinfo: a NUL byte in the text");

        if ((r = read_field(&rd, "Format", &format)) < 0)
                return r;
        if (!streq(format, BUILDINFO_FORMAT) && !streq(format, BUILDINFO_FORMAT_1))
                return error_set(err, -EPROTONOSUPPORT, "buildinfo: line 1: unknown format '%s' (this is '%s')", format,
                                 BUILDINFO_FORMAT);
        if ((r = read_field(&rd, "Tool-Version", &b->tool_version)) < 0 ||
            (r = read_field(&rd, "Tool-Commit", &b->tool_commit)) < 0 ||
            (r = read_field(&rd, "Recipe-Tree-SHA256", &b->recipe_tree_sha256)) < 0 ||
            (r = read_field(&rd, "Target", &b->target)) < 0 || (r = read_field(&rd, "Flavors", &flavors)) < 0 ||
            (r = read_field(&rd, "Suite", &b->suite)) < 0 || (r = read_field(&rd, "Mirror", &b->mirror)) < 0 ||
            (r = read_field(&rd, "InRelease-SHA256", &b->inrelease_sha256)) < 0 ||
            (r = read_field(&rd, "InRelease-Signer", &b->inrelease_signer)) < 0 ||
            (r = read_field(&rd, "Source-Date-Epoch", &epoch)) < 0 || (r = read_field(&rd, "Seed", &b->seed)) < 0)
                return r;
        if (safe_atou64(epoch, &e) < 0 || e > INT64_MAX || (epoch[0] == '0' && epoch[1]))
                return error_set(err, -EBADMSG, "buildinfo: bad Source-Date-Epoch '%s'", epoch);
        b->source_date_epoch = (int64_t) e;
        r = strv_split(flavors, " ", &b->flavors);
        if (r < 0)
                return r;
        /* Canonical spacing only: the text must be exactly what format writes. */
        _cleanup_free_ char *joined = strv_join(b->flavors, " ");
        if (!joined)
                return -ENOMEM;
        if (!streq(joined, flavors))
                return error_set(err, -EBADMSG, "buildinfo: Flavors: one space between names");
        bad = check_values(b);
        if (bad)
                return error_set(err, -EBADMSG, "buildinfo: bad value of '%s'", bad);
        for (size_t i = 0; b->flavors[i]; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(b->flavors[i], b->flavors[j]))
                                return error_set(err, -EBADMSG, "buildinfo: flavor '%s' listed twice", b->flavors[i]);
        b->format = streq(format, BUILDINFO_FORMAT_1) ? 1 : 2;
        if (b->format == 2) {
                unsigned first_tool = rd.line + 2;

                r = read_block(&rd, "Tools", &block, &block_size);
                if (r < 0)
                        return r;
                r = parse_tools(&rd, b, block, block_size, first_tool);
                if (r < 0)
                        return r;
        }

        b->packages = calloc(strv_length(b->flavors), sizeof(PackageList *));
        if (!b->packages)
                return -ENOMEM;
        for (size_t i = 0; b->flavors[i]; i++) {
                _cleanup_free_ char *name = strdup_printf("Packages-%s", b->flavors[i]);
                unsigned first;

                if (!name)
                        return -ENOMEM;
                free(block);
                block = NULL;
                first = rd.line + 2;
                r = read_block(&rd, name, &block, &block_size);
                if (r < 0)
                        return r;
                r = package_list_parse(err, block, block_size, &b->packages[i]);
                if (r < 0)
                        return error_prefix(err, r, "buildinfo: %s (from line %u)", name, first);
        }
        free(block);
        block = NULL;
        unsigned first_artifact = rd.line + 2;
        r = read_block(&rd, "Artifacts", &block, &block_size);
        if (r < 0)
                return r;
        r = parse_artifacts(&rd, b, block, block_size, first_artifact);
        if (r < 0)
                return r;
        if (rd.pos < rd.size)
                return error_set(err, -EBADMSG, "buildinfo: line %u: text after the artifacts", rd.line + 1);
        *ret = TAKE_PTR(b);
        return 0;
}

int buildinfo_load(ErrorSlot *err, const char *path, Buildinfo **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file(path, BUILDINFO_SIZE_MAX, &text, &size);
        if (r == -EFBIG)
                return error_set(err, r, "'%s' is larger than %u bytes", path, BUILDINFO_SIZE_MAX);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '%s'", path);
        r = buildinfo_parse(err, text, size, ret);
        if (r < 0)
                return error_prefix(err, r, "'%s'", path);
        return 0;
}
