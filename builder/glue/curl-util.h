/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Downloads through libcurl; the only file that includes <curl/curl.h>.
 *
 *     r = curl_download_file(&err, url, NULL, "/cache/x.deb", 100 * 1024 * 1024, "x.deb");
 *     r = curl_download_memory(&err, url, NULL, 16 * 1024 * 1024, &buf, &size);
 *
 * Both follow at most 5 redirects, speak only http, https and file (a
 * redirect may lead only to http or https: a server must not be able to send
 * us to a local file), give up connecting after 30 s and abort a transfer
 * that stays below 1 KiB/s for 60 s.  An HTTP status outside 2xx is an error
 * naming the URL and the status (404 and 410 are -ENOENT).  A body larger than
 * max_size is -EFBIG.  Other failures carry curl's own error text.  Nothing
 * asks the server for compression: the bytes returned are the bytes served,
 * so their hash is the hash of the file on the mirror.
 *
 * curl_download_file() writes to a temporary file next to dest_path and
 * renames it over dest_path only when the whole transfer succeeded, so
 * dest_path is either the complete file or untouched.  Progress goes to
 * log_progress("fetch", progress_label, done, total).
 *
 * curl_download_memory() returns a NUL-terminated buffer (ret_size excludes
 * the NUL), to be freed with free().
 *
 * proxy is an HTTP proxy for every request (CURLOPT_PROXY); NULL leaves
 * libcurl's default, the http_proxy and https_proxy environment variables.
 *
 * libcurl's global initialization happens once, thread-safely, on first use.
 */

#include "error.h"

int curl_download_file(ErrorSlot *err, const char *url, const char *proxy, const char *dest_path, uint64_t max_size,
                       const char *progress_label);
int curl_download_memory(ErrorSlot *err, const char *url, const char *proxy, size_t max_size, char **ret,
                         size_t *ret_size);
