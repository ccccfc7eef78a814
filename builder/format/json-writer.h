/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A small JSON writer for the machine-readable reports (--json): objects,
 * arrays, strings (escaped; invalid UTF-8 refused), integers, numbers,
 * booleans and null, two-space indentation, keys in the order written.
 *
 *     JsonWriter w = JSON_WRITER_INIT(err);
 *     json_writer_open_object(&w, NULL);
 *     json_writer_string(&w, "verb", "build");
 *     json_writer_open_array(&w, "stages");
 *     ...
 *     json_writer_close(&w);
 *     json_writer_close(&w);
 *     r = json_writer_finish(&w, &text);
 *     json_writer_done(&w);
 *
 * Inside an object every value has a key; inside an array, key is NULL.
 * The first error sticks and json_writer_finish() returns it: -ENOMEM;
 * -E2BIG past JSON_WRITER_DEPTH_MAX; -EINVAL for invalid UTF-8 in a string
 * (message in the ErrorSlot), a key where none belongs or none where one
 * does, or unbalanced open/close.  The result ends with a newline.
 */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define JSON_WRITER_DEPTH_MAX 16

typedef struct JsonWriter {
        ErrorSlot *err;
        char *buf;
        size_t len, alloc;
        char stack[JSON_WRITER_DEPTH_MAX]; /* '{' or '[' */
        bool first[JSON_WRITER_DEPTH_MAX]; /* no member written yet at that depth */
        unsigned depth;
        bool done;                         /* the top value is complete */
        int error;
} JsonWriter;

#define JSON_WRITER_INIT(e) ((JsonWriter) { .err = (e) })

void json_writer_done(JsonWriter *w);
void json_writer_open_object(JsonWriter *w, const char *key);
void json_writer_open_array(JsonWriter *w, const char *key);
void json_writer_close(JsonWriter *w);
/* value NULL writes null. */
void json_writer_string(JsonWriter *w, const char *key, const char *value);
void json_writer_int(JsonWriter *w, const char *key, int64_t value);
void json_writer_uint(JsonWriter *w, const char *key, uint64_t value);
/* Finite numbers only (a NaN or infinity writes null), 3 decimals. */
void json_writer_double(JsonWriter *w, const char *key, double value);
void json_writer_bool(JsonWriter *w, const char *key, bool value);
void json_writer_null(JsonWriter *w, const char *key);
/* The document (NUL-terminated, taken by the caller), or the first error. */
int json_writer_finish(JsonWriter *w, char **ret);
