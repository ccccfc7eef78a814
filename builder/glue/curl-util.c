/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <curl/curl.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/stat.h>

#include "cancel.h"
#include "config.h"
#include "curl-util.h"
#include "log.h"

#define CONNECT_TIMEOUT_SEC 30L
#define LOW_SPEED_LIMIT_BYTES 1024L
#define LOW_SPEED_TIME_SEC 60L
#define MAX_REDIRECTS 5L

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_result = CURLE_FAILED_INIT;

static void global_init(void) {
        global_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void curl_easy_cleanupp(CURL **c) {
        if (*c)
                curl_easy_cleanup(*c);
}

/* Where the body goes: a file descriptor or a growing buffer. */
typedef struct Sink {
        int fd;             /* >= 0: write here */
        char *buf;          /* else: append here */
        size_t buf_alloc;
        uint64_t size;
        uint64_t max_size;
        bool too_big;
        int write_errno;
        const char *label;  /* progress label, NULL for none */
        curl_off_t last_reported;
} Sink;

static size_t sink_write(char *data, size_t size, size_t nmemb, void *userdata) {
        Sink *s = userdata;
        size_t n = size * nmemb;

        if (n > s->max_size || s->size > s->max_size - n) {
                s->too_big = true;
                return 0; /* makes curl abort with CURLE_WRITE_ERROR */
        }

        if (s->fd >= 0) {
                for (size_t done = 0; done < n;) {
                        ssize_t k = write(s->fd, data + done, n - done);
                        if (k < 0) {
                                if (errno == EINTR)
                                        continue;
                                s->write_errno = errno;
                                return 0;
                        }
                        done += (size_t) k;
                }
        } else {
                if (s->size + n + 1 > s->buf_alloc) {
                        size_t want = s->buf_alloc ? s->buf_alloc : 16384;
                        char *b;

                        while (want < s->size + n + 1)
                                want *= 2;
                        /* Do not allocate more than the limit allows. */
                        if (s->max_size < SIZE_MAX && want > s->max_size + 1)
                                want = (size_t) s->max_size + 1;
                        b = realloc(s->buf, want);
                        if (!b) {
                                s->write_errno = ENOMEM;
                                return 0;
                        }
                        s->buf = b;
                        s->buf_alloc = want;
                }
                memcpy(s->buf + s->size, data, n);
        }
        s->size += n;
        return n;
}

static int sink_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow) {
        Sink *s = userdata;

        /* curl calls this at least once a second, even while a server
         * sends nothing: a Ctrl-C ends the transfer at once. */
        if (cancel_requested())
                return 1;
        if (s->label && dlnow != s->last_reported) {
                s->last_reported = dlnow;
                log_progress("fetch", s->label, (uint64_t) dlnow, dltotal > 0 ? (uint64_t) dltotal : 0);
        }
        return 0;
}

static int errno_from_curl(CURLcode c) {
        switch (c) {
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_ABORTED_BY_CALLBACK:
                return -ECANCELED;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_FILE_COULDNT_READ_FILE:
                return -ENOENT;
        case CURLE_TOO_MANY_REDIRECTS:
                return -ELOOP;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
                return -EPROTONOSUPPORT;
        case CURLE_FILESIZE_EXCEEDED:
                return -EFBIG;
        default:
                return -EIO;
        }
}

static int http_status_errno(long status) {
        if (status == 404 || status == 410)
                return -ENOENT;
        if (status == 401 || status == 403)
                return -EACCES;
        return -EPROTO;
}

#define SETOPT(c, opt, val)                                             \
        do {                                                            \
                if (curl_easy_setopt((c), (opt), (val)) != CURLE_OK)    \
                        return error_set(err, -EIO, "failed to set curl option %s", #opt); \
        } while (0)

/* One transfer of url into sink s. */
static int download(ErrorSlot *err, const char *url, const char *proxy, Sink *s) {
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        CURLcode cc;
        long status = 0;

        (void) pthread_once(&global_once, global_init);
        if (global_result != CURLE_OK)
                return error_set(err, -EIO, "failed to initialize libcurl: %s", curl_easy_strerror(global_result));

        c = curl_easy_init();
        if (!c)
                return error_set(err, -ENOMEM, "failed to create a curl handle");

        SETOPT(c, CURLOPT_ERRORBUFFER, errbuf);
        SETOPT(c, CURLOPT_URL, url);
        if (proxy)
                SETOPT(c, CURLOPT_PROXY, proxy);
        SETOPT(c, CURLOPT_NOSIGNAL, 1L);
        SETOPT(c, CURLOPT_USERAGENT, "whonix-build/" PACKAGE_VERSION);
        SETOPT(c, CURLOPT_FOLLOWLOCATION, 1L);
        SETOPT(c, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
#if LIBCURL_VERSION_NUM >= 0x075500
        SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
        SETOPT(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
        SETOPT(c, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FILE));
        SETOPT(c, CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        SETOPT(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_SEC);
        SETOPT(c, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT_BYTES);
        SETOPT(c, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_SEC);
        SETOPT(c, CURLOPT_FAILONERROR, 1L);
        if (s->max_size < (uint64_t) INT64_MAX)
                SETOPT(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) s->max_size);
        SETOPT(c, CURLOPT_WRITEFUNCTION, sink_write);
        SETOPT(c, CURLOPT_WRITEDATA, s);
        SETOPT(c, CURLOPT_NOPROGRESS, 0L);
        SETOPT(c, CURLOPT_XFERINFOFUNCTION, sink_progress);
        SETOPT(c, CURLOPT_XFERINFODATA, s);

        log_debug("fetch: downloading %s", url);
        cc = curl_easy_perform(c);
        (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);

        if (s->too_big || cc == CURLE_FILESIZE_EXCEEDED)
                return error_set(err, -EFBIG, "failed to download '%s': larger than %" PRIu64 " bytes", url,
                                 s->max_size);
        if (s->write_errno)
                return error_set_errno(err, -s->write_errno, "failed to download '%s': failed to store data", url);
        if (cc == CURLE_HTTP_RETURNED_ERROR)
                return error_set(err, http_status_errno(status), "failed to download '%s': HTTP status %ld", url,
                                 status);
        if (cc != CURLE_OK)
                return error_set(err, errno_from_curl(cc), "failed to download '%s': %s", url,
                                 errbuf[0] ? errbuf : curl_easy_strerror(cc));
        /* file:// has no status (0); for HTTP only 2xx means we got the file,
         * e.g. a 3xx without Location is not it. */
        if (status != 0 && (status < 200 || status > 299))
                return error_set(err, http_status_errno(status), "failed to download '%s': HTTP status %ld", url,
                                 status);
        if (s->label)
                log_progress("fetch", s->label, s->size, s->size);
        return 0;
}

int curl_download_memory(ErrorSlot *err, const char *url, const char *proxy, size_t max_size, char **ret,
                         size_t *ret_size) {
        Sink s = { .fd = -EBADF, .max_size = max_size };
        int r;

        r = download(err, url, proxy, &s);
        if (r >= 0 && !s.buf) {
                s.buf = malloc(1);
                if (!s.buf)
                        r = -ENOMEM;
        }
        if (r < 0) {
                free(s.buf);
                return r;
        }
        s.buf[s.size] = 0;
        *ret = s.buf;
        if (ret_size)
                *ret_size = (size_t) s.size;
        return 0;
}

int curl_download_file(ErrorSlot *err, const char *url, const char *proxy, const char *dest_path, uint64_t max_size,
                       const char *progress_label) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        Sink s = { .max_size = max_size, .label = progress_label };
        int r;

        tmp = strdup_printf("%s.part-XXXXXX", dest_path);
        if (!tmp)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return error_set_errno(err, -errno, "failed to create a temporary file next to '%s'", dest_path);
        s.fd = fd;

        r = download(err, url, proxy, &s);
        if (r >= 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
                r = error_set_errno(err, -errno, "failed to write '%s'", tmp);
        if (r >= 0 && rename(tmp, dest_path) < 0)
                r = error_set_errno(err, -errno, "failed to rename '%s' to '%s'", tmp, dest_path);
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return 0;
}
