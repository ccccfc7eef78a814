/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A small XML writer for generated documents (the OVF of export-ova.c, the
 * libvirt domains and networks of export-kvm.c):
 * elements with attributes given as NULL-terminated name/value pairs,
 * text content, every value escaped, two-space indentation.
 *
 *     XmlWriter w = XML_WRITER_INIT(err, 1024 * 1024);
 *     xml_writer_declaration(&w);
 *     xml_writer_open(&w, "Envelope", "ovf:version", "1.0", NULL);
 *     xml_writer_text(&w, "Info", "two machines", NULL);
 *     xml_writer_empty(&w, "File", "ovf:id", "file1", NULL);
 *     xml_writer_close(&w);
 *     r = xml_writer_finish(&w, &text);
 *     xml_writer_done(&w);
 *
 * The first error sticks (later calls do nothing) and xml_writer_finish()
 * returns it, so a caller checks once.  Errors: -ENOMEM; -E2BIG when the
 * document would exceed max bytes or nesting exceeds XML_WRITER_DEPTH_MAX;
 * -EINVAL for a value that XML 1.0 cannot carry (control characters other
 * than tab/newline/CR, invalid UTF-8: message in the ErrorSlot naming the
 * element and attribute), an attribute without a value, or unbalanced
 * open/close.  The result is NUL-terminated.
 */

#include "error.h"

#define XML_WRITER_DEPTH_MAX 32
#define _sentinel_ __attribute__((sentinel))

typedef struct XmlWriter {
        ErrorSlot *err;
        size_t max;
        char *buf;
        size_t len, alloc;
        const char *stack[XML_WRITER_DEPTH_MAX];
        unsigned depth;
        int error;
        char quote;             /* around attribute values: '"' (0 means the same) or '\'' (libvirt's style) */
} XmlWriter;

#define XML_WRITER_INIT(e, m) ((XmlWriter) { .err = (e), .max = (m) })
#define XML_WRITER_INIT_QUOTE(e, m, q) ((XmlWriter) { .err = (e), .max = (m), .quote = (q) })

/* Free the buffer (if not taken by xml_writer_finish()). */
void xml_writer_done(XmlWriter *w);

/* <?xml version="1.0" encoding="UTF-8"?> */
void xml_writer_declaration(XmlWriter *w);
/* <name k="v" ...> and one more level of indentation; name must stay valid
 * until the matching close. */
_sentinel_ void xml_writer_open(XmlWriter *w, const char *name, ...);
void xml_writer_close(XmlWriter *w);
/* <name k="v" .../> */
_sentinel_ void xml_writer_empty(XmlWriter *w, const char *name, ...);
/* <name k="v" ...>text</name> */
_sentinel_ void xml_writer_text(XmlWriter *w, const char *name, const char *text, ...);

/* Hand over the document, or return the first error. */
int xml_writer_finish(XmlWriter *w, char **ret);
