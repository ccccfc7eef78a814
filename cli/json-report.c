/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --json: the reports of build, recipes, verify and compare for programs
 * (CI systems, scripts), schema 1.
 * The README's "Machine-readable results" documents every field; a field is
 * never renamed or dropped within a schema number, only added. */
#include "cli.h"
#include "json-writer.h"
#include "verify.h"

#define BUILD_JSON_SCHEMA 1

void cli_print_build_json(const CliOptions *o, const BuildReport *r, const char *result, const char *error,
                          int exit_status, double seconds) {
        ErrorSlot err = {};
        JsonWriter w = JSON_WRITER_INIT(&err);
        _cleanup_free_ char *text = NULL;
        int rr;

        json_writer_open_object(&w, NULL);
        json_writer_int(&w, "schema", BUILD_JSON_SCHEMA);
        json_writer_string(&w, "verb", "build");
        json_writer_string(&w, "result", result);
        json_writer_int(&w, "exit_status", exit_status);
        json_writer_string(&w, "error", error);
        json_writer_string(&w, "target", target_to_string(o->target));
        json_writer_open_array(&w, "flavors");
        STRV_FOREACH(f, o->flavors)
                json_writer_string(&w, NULL, *f);
        json_writer_close(&w);
        json_writer_string(&w, "until", o->until);
        json_writer_string(&w, "output_dir", o->output_dir);
        json_writer_double(&w, "seconds", seconds);
        json_writer_open_array(&w, "stages");
        for (size_t i = 0; i < r->n_steps; i++) {
                const BuildStep *s = &r->steps[i];

                json_writer_open_object(&w, NULL);
                json_writer_string(&w, "stage", s->stage);
                json_writer_string(&w, "flavor", s->flavor);
                json_writer_string(&w, "subject", s->subject);
                json_writer_string(&w, "name", s->name);
                json_writer_string(&w, "outcome", build_step_outcome_to_string(s->outcome));
                json_writer_string(&w, "key", s->key);
                json_writer_double(&w, "seconds", s->seconds);
                json_writer_string(&w, "summary", s->summary);
                json_writer_close(&w);
        }
        json_writer_close(&w);
        json_writer_open_array(&w, "artifacts");
        for (size_t i = 0; i < r->n_artifacts; i++) {
                json_writer_open_object(&w, NULL);
                json_writer_string(&w, "name", r->artifacts[i].name);
                json_writer_string(&w, "sha256", r->artifacts[i].sha256);
                json_writer_uint(&w, "size", r->artifacts[i].size);
                json_writer_close(&w);
        }
        json_writer_close(&w);
        json_writer_string(&w, "sha256sums", r->sums);
        json_writer_bool(&w, "signed", r->signed_output);
        json_writer_string(&w, "buildinfo", r->buildinfo);
        json_writer_close(&w);
        rr = json_writer_finish(&w, &text);
        json_writer_done(&w);
        if (rr < 0) {
                /* A path that is not UTF-8, say: the report says so, as JSON. */
                fprintf(stderr, "whonix-build: error: cannot write the JSON report: %s\n", error_text(&err, rr));
                printf("{\"schema\": %d, \"verb\": \"build\", \"result\": \"failed\", \"exit_status\": %d, "
                       "\"error\": \"the report could not be written as JSON\"}\n",
                       BUILD_JSON_SCHEMA, exit_status);
                error_done(&err);
                return;
        }
        fputs(text, stdout);
        fflush(stdout);
}

/* The document on stdout; if it cannot be written (a name that is not
 * UTF-8, say), a short one that says so. */
static void print_document(JsonWriter *w, ErrorSlot *err, const char *verb, int exit_status) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = json_writer_finish(w, &text);
        json_writer_done(w);
        if (r < 0) {
                fprintf(stderr, "whonix-build: error: cannot write the JSON report: %s\n", error_text(err, r));
                printf("{\"schema\": %d, \"verb\": \"%s\", \"result\": \"failed\", \"exit_status\": %d, "
                       "\"error\": \"the report could not be written as JSON\"}\n",
                       BUILD_JSON_SCHEMA, verb, exit_status);
                error_done(err);
                return;
        }
        fputs(text, stdout);
        fflush(stdout);
}

static void open_document(JsonWriter *w, const char *verb, const char *result, const char *error, int exit_status) {
        json_writer_open_object(w, NULL);
        json_writer_int(w, "schema", BUILD_JSON_SCHEMA);
        json_writer_string(w, "verb", verb);
        json_writer_string(w, "result", result);
        json_writer_int(w, "exit_status", exit_status);
        json_writer_string(w, "error", error);
}

static void write_strv(JsonWriter *w, const char *key, char * const *l) {
        json_writer_open_array(w, key);
        STRV_FOREACH(s, l)
                json_writer_string(w, NULL, *s);
        json_writer_close(w);
}

void cli_print_recipes_json(char * const *names, char * const *descriptions, const char *error, int exit_status) {
        ErrorSlot err = {};
        JsonWriter w = JSON_WRITER_INIT(&err);

        open_document(&w, "recipes", error ? "failed" : "ok", error, exit_status);
        json_writer_open_array(&w, "recipes");
        for (size_t i = 0; names && names[i]; i++) {
                json_writer_open_object(&w, NULL);
                json_writer_string(&w, "name", names[i]);
                json_writer_string(&w, "description", descriptions && descriptions[i] ? descriptions[i] : "");
                json_writer_close(&w);
        }
        json_writer_close(&w);
        json_writer_close(&w);
        print_document(&w, &err, "recipes", exit_status);
}

/* Stable tokens for programs (the verdict lines' words may change). */
static const char *verify_status_token(VerifyStatus s) {
        switch (s) {
        case VERIFY_MATCH:
                return "match";
        case VERIFY_DIFFER:
                return "differs";
        case VERIFY_MISSING:
                return "missing";
        case VERIFY_PUBLISHED_BAD:
                return "published-bad";
        }
        return "unknown";
}

void cli_print_verify_json(const char *buildinfo, const struct VerifyReport *rep, const char *result, const char *error,
                           int exit_status) {
        ErrorSlot err = {};
        JsonWriter w = JSON_WRITER_INIT(&err);

        open_document(&w, "verify", result, error, exit_status);
        json_writer_string(&w, "buildinfo", buildinfo);
        json_writer_open_array(&w, "artifacts");
        for (size_t i = 0; rep && i < rep->n; i++) {
                const VerifyItem *it = &rep->items[i];
                json_writer_open_object(&w, NULL);
                json_writer_string(&w, "name", it->name);
                json_writer_string(&w, "status", verify_status_token(it->status));
                json_writer_string(&w, "pinned_sha256", it->pinned_sha256);
                json_writer_string(&w, "rebuilt_sha256", it->rebuilt_sha256[0] ? it->rebuilt_sha256 : NULL);
                write_strv(&w, "explain", it->explain);
                json_writer_close(&w);
        }
        json_writer_close(&w);
        write_strv(&w, "package_differences", rep ? rep->package_diffs : NULL);
        write_strv(&w, "tool_differences", rep ? rep->tool_diffs : NULL);
        json_writer_string(&w, "rebuilt_dir", rep ? rep->rebuilt_dir : NULL);
        json_writer_close(&w);
        print_document(&w, &err, "verify", exit_status);
}

void cli_print_compare_json(const char *a, const char *b, char * const *differences, const char *result,
                            const char *error, int exit_status) {
        ErrorSlot err = {};
        JsonWriter w = JSON_WRITER_INIT(&err);

        open_document(&w, "compare", result, error, exit_status);
        json_writer_string(&w, "a", a);
        json_writer_string(&w, "b", b);
        write_strv(&w, "differences", differences);
        json_writer_close(&w);
        print_document(&w, &err, "compare", exit_status);
}
