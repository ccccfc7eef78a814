/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JSON writer of the --json reports: exact output for every kind of
 * value, escaping, and the errors it must stick to. */
#include "json-writer.h"
#include "tap.h"
#include "util.h"

/* Writes through fn, then finishes: the text, or NULL and *ret_r. */
static char *render(void (*fn)(JsonWriter *w), int *ret_r, ErrorSlot *err) {
        JsonWriter w = JSON_WRITER_INIT(err);
        char *text = NULL;

        fn(&w);
        *ret_r = json_writer_finish(&w, &text);
        json_writer_done(&w);
        return text;
}

static void doc_all(JsonWriter *w) {
        json_writer_open_object(w, NULL);
        json_writer_string(w, "s", "a\"b\\c\n\t\r\x01\x7f é €");
        json_writer_int(w, "i", -42);
        json_writer_uint(w, "u", UINT64_MAX);
        json_writer_double(w, "d", 1.5);
        json_writer_double(w, "nan", 0.0 / 0.0);
        json_writer_bool(w, "t", true);
        json_writer_null(w, "n");
        json_writer_string(w, "null string", NULL);
        json_writer_open_array(w, "a");
        json_writer_int(w, NULL, 1);
        json_writer_open_object(w, NULL);
        json_writer_close(w);
        json_writer_open_array(w, NULL);
        json_writer_close(w);
        json_writer_close(w);
        json_writer_close(w);
}

static void doc_bad_utf8(JsonWriter *w) {
        json_writer_open_array(w, NULL);
        json_writer_string(w, NULL, "ok\xc3(");
        json_writer_close(w);
}

static void doc_overlong(JsonWriter *w) {
        json_writer_open_array(w, NULL);
        json_writer_string(w, NULL, "\xc0\xaf");
        json_writer_close(w);
}

static void doc_surrogate(JsonWriter *w) {
        json_writer_open_array(w, NULL);
        json_writer_string(w, NULL, "\xed\xa0\x80");
        json_writer_close(w);
}

static void doc_key_in_array(JsonWriter *w) {
        json_writer_open_array(w, NULL);
        json_writer_int(w, "k", 1);
        json_writer_close(w);
}

static void doc_no_key_in_object(JsonWriter *w) {
        json_writer_open_object(w, NULL);
        json_writer_int(w, NULL, 1);
        json_writer_close(w);
}

static void doc_unclosed(JsonWriter *w) {
        json_writer_open_object(w, NULL);
}

static void doc_extra_close(JsonWriter *w) {
        json_writer_open_object(w, NULL);
        json_writer_close(w);
        json_writer_close(w);
}

static void doc_two_tops(JsonWriter *w) {
        json_writer_int(w, NULL, 1);
        json_writer_int(w, NULL, 2);
}

static void doc_deep(JsonWriter *w) {
        for (unsigned i = 0; i <= JSON_WRITER_DEPTH_MAX; i++)
                json_writer_open_array(w, NULL);
}

int main(void) {
        ErrorSlot err = {};
        bool ok;
        char *t;
        int r;

        tap_plan_lazy();
        t = render(doc_all, &r, &err);
        ok = r == 0 && t &&
                       streq(t, "{\n"
                                "  \"s\": \"a\\\"b\\\\c\\n\\t\\r\\u0001\\u007f é €\",\n"
                                "  \"i\": -42,\n"
                                "  \"u\": 18446744073709551615,\n"
                                "  \"d\": 1.500,\n"
                                "  \"nan\": null,\n"
                                "  \"t\": true,\n"
                                "  \"n\": null,\n"
                                "  \"null string\": null,\n"
                                "  \"a\": [\n"
                                "    1,\n"
                                "    {},\n"
                                "    []\n"
                                "  ]\n"
                                "}\n");
        tap_ok(ok, "every kind of value, escaped, indented, UTF-8 kept as it is");
        free(t);

        t = render(doc_bad_utf8, &r, &err);
        tap_ok(!t && r == -EINVAL && err.message && strstr(err.message, "not valid UTF-8 at byte 2"),
               "a truncated UTF-8 sequence is refused, naming its byte: %s", strempty(err.message));
        error_done(&err);
        t = render(doc_overlong, &r, &err);
        tap_ok(!t && r == -EINVAL, "an overlong encoding of '/' is refused");
        error_done(&err);
        t = render(doc_surrogate, &r, &err);
        tap_ok(!t && r == -EINVAL, "an encoded UTF-16 surrogate is refused");
        error_done(&err);

        t = render(doc_key_in_array, &r, &err);
        tap_ok(!t && r == -EINVAL, "a key inside an array is refused");
        error_done(&err);
        t = render(doc_no_key_in_object, &r, &err);
        tap_ok(!t && r == -EINVAL, "a value without a key inside an object is refused");
        error_done(&err);
        t = render(doc_unclosed, &r, &err);
        tap_ok(!t && r == -EINVAL && err.message, "an object left open is refused: %s", strempty(err.message));
        error_done(&err);
        t = render(doc_extra_close, &r, &err);
        tap_ok(!t && r == -EINVAL, "a close without an open is refused");
        error_done(&err);
        t = render(doc_two_tops, &r, &err);
        tap_ok(!t && r == -EINVAL, "a second top-level value is refused");
        error_done(&err);
        t = render(doc_deep, &r, &err);
        tap_ok(!t && r == -E2BIG, "nesting past %u is refused", JSON_WRITER_DEPTH_MAX);
        error_done(&err);
        return tap_done();
}
