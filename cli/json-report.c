/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --json: the build's report for programs (CI systems, scripts), schema 1.
 * The README's "Machine-readable results" documents every field; a field is
 * never renamed or dropped within a schema number, only added. */
#include "cli.h"
#include "json-writer.h"

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
                fprintf(stderr, "whonix-build: error: cannot write the JSON report: %s\n", error_message(&err, rr));
                printf("{\"schema\": %d, \"verb\": \"build\", \"result\": \"failed\", \"exit_status\": %d, "
                       "\"error\": \"the report could not be written as JSON\"}\n",
                       BUILD_JSON_SCHEMA, exit_status);
                error_done(&err);
                return;
        }
        fputs(text, stdout);
        fflush(stdout);
}
