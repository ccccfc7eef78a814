/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA-256 against the FIPS 180-4 example vectors and against sha256sum(1),
 * on the CPU's SHA instructions (where it has them) and in portable C; and
 * the two against each other on many lengths. */
#include <fcntl.h>
#include <sys/wait.h>

#include "sha256-x86.h"
#include "sha256.h"
#include "tap.h"
#include "util.h"

static const struct {
        const char *name;
        const char *input;
        const char *digest;
} vectors[] = {
        { "empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "448 bits", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        { "896 bits",
          "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

static void test_vectors(void) {
        for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
                _cleanup_free_ char *hex = sha256_hex(vectors[i].input, strlen(vectors[i].input));
                tap_ok(hex && streq(hex, vectors[i].digest), "one-shot %s", vectors[i].name);
        }
}

/* Feed the input in uneven pieces so that every buffering path runs. */
static void test_streaming(void) {
        static const size_t chunks[] = { 1, 3, 63, 64, 65, 127, 1000 };
        const char *in = vectors[3].input;
        size_t len = strlen(in);

        for (size_t c = 0; c < ELEMENTSOF(chunks); c++) {
                uint8_t d[SHA256_DIGEST_SIZE];
                _cleanup_free_ char *hex = NULL;
                Sha256 s;

                sha256_init(&s);
                for (size_t off = 0; off < len; off += chunks[c])
                        sha256_update(&s, in + off, len - off < chunks[c] ? len - off : chunks[c]);
                sha256_final(&s, d);
                hex = hexmem(d, sizeof(d));
                tap_ok(hex && streq(hex, vectors[3].digest), "streaming in chunks of %zu", chunks[c]);
        }
}

static void test_million_a(void) {
        char block[1000];
        uint8_t d[SHA256_DIGEST_SIZE];
        _cleanup_free_ char *hex = NULL;
        Sha256 s;

        memset(block, 'a', sizeof(block));
        sha256_init(&s);
        for (unsigned i = 0; i < 1000; i++)
                sha256_update(&s, block, sizeof(block));
        sha256_final(&s, d);
        hex = hexmem(d, sizeof(d));
        tap_ok(hex && streq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
               "one million 'a'");
}

/* Lengths around the padding boundary (55, 56, 63, 64 bytes) must agree
 * between one-shot and byte-by-byte hashing. */
static void test_padding_boundaries(void) {
        char in[130];

        for (size_t i = 0; i < sizeof(in); i++)
                in[i] = (char) ('A' + i % 26);
        for (size_t n = 54; n <= 129; n++) {
                _cleanup_free_ char *one = sha256_hex(in, n), *two = NULL;
                uint8_t d[SHA256_DIGEST_SIZE];
                Sha256 s;

                sha256_init(&s);
                for (size_t i = 0; i < n; i++)
                        sha256_update(&s, in + i, 1);
                sha256_final(&s, d);
                two = hexmem(d, sizeof(d));
                if (!one || !two || !streq(one, two)) {
                        tap_ok(false, "length %zu: one-shot and byte-wise differ", n);
                        return;
                }
        }
        tap_ok(true, "lengths 54..129 agree one-shot vs byte-wise");
}

/* Runs sha256sum(1) on path and returns the first 64 characters it prints. */
static int run_sha256sum(const char *path, char ret[SHA256_HEX_SIZE]) {
        int p[2], status;
        size_t n = 0;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                const char *argv[] = { "sha256sum", "--", path, NULL };
                if (dup2(p[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execvp(argv[0], (char **) argv);
                _exit(127);
        }
        close(p[1]);
        while (n < SHA256_HEX_SIZE - 1) {
                ssize_t k = read(p[0], ret + n, SHA256_HEX_SIZE - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        close(p[0]);
        ret[n] = 0;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -ENOENT : -EIO;
        return n == SHA256_HEX_SIZE - 1 ? 0 : -EIO;
}

static void test_file(void) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *ours = NULL, *data = NULL;
        char theirs[SHA256_HEX_SIZE];
        size_t size = 3 * 65536 + 12345; /* several read chunks plus a tail */
        uint32_t x = 12345;
        int r;

        if (mkdtemp_in(NULL, "test-sha256", &dir) < 0 || !(path = path_join(dir, "data")) ||
            !(data = malloc(size))) {
                tap_ok(false, "set up temporary file");
                return;
        }
        for (size_t i = 0; i < size; i++) {
                x = x * 1103515245u + 12345u;
                data[i] = (char) (x >> 16);
        }
        r = write_file_atomic(path, data, size, 0644);
        tap_ok(r == 0, "write test file");

        r = sha256_file(path, &ours);
        tap_ok(r == 0, "sha256_file() succeeds");

        r = run_sha256sum(path, theirs);
        if (r == -ENOENT)
                tap_diag("sha256sum not installed, not comparing");
        else
                tap_ok(r == 0 && ours && streq(ours, theirs), "sha256_file() matches sha256sum: %s", strempty(ours));

        {
                _cleanup_free_ char *mem = sha256_hex(data, size);
                tap_ok(mem && ours && streq(mem, ours), "sha256_hex() matches sha256_file()");
        }

        {
                _cleanup_free_ char *missing = path_join(dir, "missing"), *h = NULL;
                tap_ok(sha256_file(missing, &h) == -ENOENT && !h, "missing file gives -ENOENT");
        }

        (void) rm_rf(dir);
}

static void test_all(void) {
        test_vectors();
        test_streaming();
        test_million_a();
        test_padding_boundaries();
        test_file();
}

/* The SHA instructions and the portable code give the same digest of every
 * length from 0 to 600 bytes (all paddings, up to nine blocks, each at an
 * odd offset) and of 8 MiB in uneven pieces. */
static void test_same_both_ways(void) {
        size_t big = 8u << 20;
        _cleanup_free_ uint8_t *data = malloc(big + 1);
        uint32_t x = 987654321;
        size_t bad = SIZE_MAX;

        if (!data) {
                tap_ok(false, "allocate the test data");
                return;
        }
        for (size_t i = 0; i <= big; i++) {
                x = x * 1103515245u + 12345u;
                data[i] = (uint8_t) (x >> 16);
        }
        for (size_t n = 0; n <= 600 && bad == SIZE_MAX; n++) {
                _cleanup_free_ char *fast = NULL, *slow = NULL;

                sha256_set_portable(false);
                fast = sha256_hex(data + 1, n);
                sha256_set_portable(true);
                slow = sha256_hex(data + 1, n);
                if (!fast || !slow || !streq(fast, slow))
                        bad = n;
        }
        tap_ok(bad == SIZE_MAX, "SHA instructions and portable code agree on lengths 0..600 (first difference: %zd)",
               bad == SIZE_MAX ? (ssize_t) -1 : (ssize_t) bad);
        {
                _cleanup_free_ char *fast = NULL, *slow = NULL;
                uint8_t d[SHA256_DIGEST_SIZE];
                Sha256 s;

                sha256_set_portable(false);
                sha256_init(&s);
                for (size_t off = 0, step = 1; off < big; off += step, step = step * 3 % 100003 + 1)
                        sha256_update(&s, data + off, big - off < step ? big - off : step);
                sha256_final(&s, d);
                fast = hexmem(d, sizeof(d));
                sha256_set_portable(true);
                slow = sha256_hex(data, big);
                tap_ok(fast && slow && streq(fast, slow), "... and on 8 MiB hashed in uneven pieces: %s",
                       strempty(fast));
        }
        sha256_set_portable(false);
}

int main(void) {
        tap_plan_lazy();
        if (sha256_x86_usable()) {
                tap_diag("this CPU has the SHA extensions: first with them, then in portable C");
                test_all();
                test_same_both_ways();
        } else
                tap_diag("this CPU has no SHA extensions: portable C only");
        sha256_set_portable(true);
        test_all();
        sha256_set_portable(false);
        return tap_done();
}
