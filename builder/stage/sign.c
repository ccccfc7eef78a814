/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "cancel.h"
#include "gpgme-util.h"
#include "log.h"
#include "sha256.h"
#include "sign.h"
#include "sums.h"

#define SIG_SUFFIX ".asc"

int sign_check_key(ErrorSlot *err, const char *key, const char *gpg_home) {
        _cleanup_(signing_key_freep) SigningKey *k = NULL;
        _cleanup_free_ char *sig = NULL;
        int r;

        r = signing_key_open(err, gpg_home, key, &k);
        if (r < 0)
                return r;
        /* Only a real signature shows that no passphrase is needed. */
        return signing_key_sign_file(err, k, "/dev/null", &sig, NULL);
}

static int unlink_in(ErrorSlot *err, const char *dir, const char *name) {
        _cleanup_free_ char *p = path_join(dir, name);

        if (!p)
                return -ENOMEM;
        if (unlink(p) < 0 && errno != ENOENT)
                return error_set_errno(err, -errno, "cannot remove '%s'", p);
        return 0;
}

int sign_remove_stale(ErrorSlot *err, const char *dir, char * const *names) {
        int r;

        r = unlink_in(err, dir, SIGN_SUMS_SIG_NAME);
        if (r >= 0)
                r = unlink_in(err, dir, SIGN_SUMS_NAME);
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *sig = NULL;

                if (r < 0)
                        break;
                sig = strdup_printf("%s" SIG_SUFFIX, *n);
                r = sig ? unlink_in(err, dir, sig) : -ENOMEM;
        }
        return r;
}

/* A regular file (not a symlink) with a name SHA256SUMS may list. */
static bool artifact_name(int dfd, const char *name, void *userdata) {
        struct stat st;

        return sums_name_valid(name) && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int sign_list_artifacts(ErrorSlot *err, const char *dir, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = readdir_sorted(dir, artifact_name, NULL, 0, &names);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '%s'", dir);
        if (!names[0])
                return error_set(err, -ENOENT, "no files to sign in '%s'", dir);
        *ret = TAKE_PTR(names);
        return 0;
}

static int check_names(ErrorSlot *err, const char *dir, char * const *names) {
        size_t n = strv_length(names);

        if (n == 0)
                return error_set(err, -EINVAL, "nothing to sign in '%s'", dir);
        if (n > SUMS_MAX_FILES)
                return error_set(err, -E2BIG, "more than %u files to sign", SUMS_MAX_FILES);
        for (size_t i = 0; i < n; i++) {
                if (!sums_name_valid(names[i]))
                        return error_set(err, -EINVAL, "'%s' cannot be listed in %s", names[i], SIGN_SUMS_NAME);
                for (size_t j = 0; j < i; j++)
                        if (streq(names[i], names[j]))
                                return error_set(err, -EINVAL, "'%s' is to be signed twice", names[i]);
        }
        return 0;
}

static int compute_sums(ErrorSlot *err, const char *dir, char * const *names, const SignOptions *o, char **ret) {
        size_t n = strv_length(names);
        SumsEntry *e;
        int r = 0;

        e = calloc(n, sizeof(SumsEntry));
        if (!e)
                return -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *p = path_join(dir, names[i]);

                if (!p || !(e[i].name = strdup(names[i]))) {
                        r = -ENOMEM;
                        break;
                }
                const SumsEntry *k = o ? sums_find(o->known, o->n_known, names[i]) : NULL;
                if (k) {
                        if (!(e[i].sha256 = strdup(k->sha256)))
                                r = -ENOMEM;
                        continue;
                }
                log_progress("sign", names[i], 0, 0);
                r = sha256_file(p, &e[i].sha256);
                if (r < 0)
                        r = error_set_errno(err, r, "cannot hash '%s'", p);
                else if (cancel_requested())
                        r = error_set(err, -ECANCELED, "interrupted");
        }
        if (r >= 0)
                r = sums_format(e, n, ret);
        sums_entries_free(e, n);
        return r;
}

static int sign_one(ErrorSlot *err, SigningKey *key, const char *path, const char *sig_path) {
        _cleanup_free_ char *sig = NULL;
        size_t size;
        int r;

        r = signing_key_sign_file(err, key, path, &sig, &size);
        if (r < 0)
                return r;
        r = write_file_atomic(sig_path, sig, size, 0644);
        if (r < 0)
                return error_set_errno(err, r, "cannot write '%s'", sig_path);
        return cancel_requested() ? error_set(err, -ECANCELED, "interrupted") : 0;
}

/* Move every made file from staging into dir.  If one move fails, the ones
 * already moved are removed again: nothing half-published stays. */
static int publish_all(ErrorSlot *err, const char *staging, const char *dir, char * const *made) {
        size_t n = strv_length(made), i;
        int r = 0;

        for (i = 0; i < n; i++) {
                _cleanup_free_ char *from = path_join(staging, made[i]), *to = path_join(dir, made[i]);

                if (!from || !to) {
                        r = -ENOMEM;
                        break;
                }
                if (rename(from, to) < 0) {
                        r = error_set_errno(err, -errno, "cannot move '%s' into '%s'", made[i], dir);
                        break;
                }
        }
        if (r < 0)
                while (i-- > 0)
                        (void) unlink_in(NULL, dir, made[i]);
        return r;
}

int sign_artifacts(ErrorSlot *err, const char *dir, char * const *names, const SignOptions *o) {
        _cleanup_(signing_key_freep) SigningKey *key = NULL;
        _cleanup_strv_free_ char **made = NULL;
        _cleanup_free_ char *staging = NULL, *sums = NULL, *sums_path = NULL;
        int r;

        r = check_names(err, dir, names);
        if (r < 0)
                return r;
        /* The key first: a wrong fingerprint should not cost the hashing
         * of gigabytes. */
        if (o && o->key) {
                r = signing_key_open(err, o->gpg_home, o->key, &key);
                if (r < 0)
                        return r;
        }
        r = compute_sums(err, dir, names, o, &sums);
        if (r < 0)
                return r;

        r = mkdtemp_in(dir, ".whonix-build-sign", &staging);
        if (r < 0)
                return error_set_errno(err, r, "cannot create a temporary directory in '%s'", dir);

        sums_path = path_join(staging, SIGN_SUMS_NAME);
        if (!sums_path) {
                r = -ENOMEM;
                goto finish;
        }
        r = write_file_atomic(sums_path, sums, strlen(sums), 0644);
        if (r < 0) {
                error_set_errno(err, r, "cannot write '%s'", sums_path);
                goto finish;
        }
        if (key) {
                STRV_FOREACH(n, names) {
                        _cleanup_free_ char *path = path_join(dir, *n), *sig = strdup_printf("%s" SIG_SUFFIX, *n);
                        _cleanup_free_ char *sig_path = sig ? path_join(staging, sig) : NULL;

                        if (!path || !sig_path) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        log_progress("sign", *n, 0, 0);
                        r = sign_one(err, key, path, sig_path);
                        if (r < 0) {
                                error_prefix(err, r, "cannot sign '%s'", *n);
                                goto finish;
                        }
                        if ((r = strv_consume(&made, TAKE_PTR(sig))) < 0)
                                goto finish;
                }
        }
        if ((r = strv_extend(&made, SIGN_SUMS_NAME)) < 0)
                goto finish;
        if (key) {
                _cleanup_free_ char *sig_path = path_join(staging, SIGN_SUMS_SIG_NAME);

                if (!sig_path) {
                        r = -ENOMEM;
                        goto finish;
                }
                r = sign_one(err, key, sums_path, sig_path);
                if (r < 0) {
                        error_prefix(err, r, "cannot sign '%s'", SIGN_SUMS_NAME);
                        goto finish;
                }
                if ((r = strv_extend(&made, SIGN_SUMS_SIG_NAME)) < 0)
                        goto finish;
        }
        r = publish_all(err, staging, dir, made);
finish:
        (void) rm_rf(staging);
        return r;
}

SignReport *sign_report_free(SignReport *rep) {
        if (!rep)
                return NULL;
        for (size_t i = 0; i < rep->n_verdicts; i++) {
                free(rep->verdicts[i].name);
                free(rep->verdicts[i].message);
        }
        free(rep->verdicts);
        free(rep->key_fingerprint);
        free(rep);
        return NULL;
}

/* Record how one file went: r == 0 and the good news, or the failure. */
static int add_verdict(SignReport *rep, const char *name, int r, char *message) {
        SignVerdict *bigger;

        if (!message)
                return -ENOMEM;
        bigger = realloc(rep->verdicts, (rep->n_verdicts + 1) * sizeof(SignVerdict));
        if (!bigger) {
                free(message);
                return -ENOMEM;
        }
        rep->verdicts = bigger;
        rep->verdicts[rep->n_verdicts] = (SignVerdict) { .name = strdup(name), .r = r, .message = message };
        if (!rep->verdicts[rep->n_verdicts].name) {
                free(message);
                return -ENOMEM;
        }
        rep->n_verdicts++;
        if (r < 0)
                rep->n_bad++;
        return 0;
}

/* Check DIR/NAME.asc over DIR/NAME; on failure the reason is in *ret_why. */
static int check_signature(TrustedKey *key, const char *dir, const char *name, char **ret_fpr, char **ret_why) {
        _cleanup_free_ char *path = path_join(dir, name), *sig_name = strdup_printf("%s" SIG_SUFFIX, name);
        _cleanup_free_ char *sig_path = sig_name ? path_join(dir, sig_name) : NULL, *sig = NULL;
        ErrorSlot e = {};
        size_t size;
        int r;

        if (!path || !sig_path)
                return -ENOMEM;
        r = read_full_file(sig_path, SIGN_SIG_MAX, &sig, &size);
        if (r == -ENOENT) {
                *ret_why = strdup_printf("not signed ('%s' is missing)", sig_name);
                return -ENOENT;
        }
        if (r < 0) {
                *ret_why = strdup_printf("cannot read '%s': %s", sig_name, strerror(-r));
                return r;
        }
        r = trusted_key_verify_file(&e, key, path, sig, size, ret_fpr);
        if (r < 0)
                *ret_why = strdup_printf("'%s': %s", sig_name, error_text(&e, r));
        error_done(&e);
        return r;
}

static int verify_listed(SignReport *rep, TrustedKey *key, const char *dir, const SumsEntry *entry) {
        _cleanup_free_ char *path = path_join(dir, entry->name), *sha = NULL, *fpr = NULL, *why = NULL;
        struct stat st;
        int r;

        if (!path)
                return -ENOMEM;
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
                return add_verdict(rep, entry->name, -ENOENT, strdup_printf("missing (listed in %s)", SIGN_SUMS_NAME));

        r = sha256_file(path, &sha);
        if (r < 0)
                return add_verdict(rep, entry->name, r, strdup_printf("cannot read it: %s", strerror(-r)));
        if (!streq(sha, entry->sha256))
                return add_verdict(rep, entry->name, -EBADMSG,
                                   strdup_printf("sha256 %s does not match %s (%s)", sha, SIGN_SUMS_NAME, entry->sha256));

        r = check_signature(key, dir, entry->name, &fpr, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return add_verdict(rep, entry->name, r, TAKE_PTR(why) ?: strdup("signature not good"));
        return add_verdict(rep, entry->name, 0, strdup_printf("sha256 matches, good signature by %s", fpr));
}

int sign_read_sums(ErrorSlot *err, const char *dir, SumsEntry **ret, size_t *ret_n) {
        _cleanup_free_ char *path = path_join(dir, SIGN_SUMS_NAME), *text = NULL;
        size_t size;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_full_file(path, SUMS_MAX, &text, &size);
        if (r < 0)
                return error_set_errno(err, r, "cannot read '%s'", path);
        r = sums_parse(err, text, size, ret, ret_n);
        if (r < 0)
                return error_prefix(err, r, "'%s'", path);
        return 0;
}

int sign_verify_dir(ErrorSlot *err, const char *dir, const char *key_file, SignReport **ret) {
        return sign_verify_names(err, dir, key_file, NULL, ret);
}

int sign_verify_names(ErrorSlot *err, const char *dir, const char *key_file, char * const *names, SignReport **ret) {
        _cleanup_(trusted_key_freep) TrustedKey *key = NULL;
        _cleanup_(sign_report_freep) SignReport *rep = NULL;
        _cleanup_free_ char *fpr = NULL, *why = NULL;
        SumsEntry *entries = NULL;
        size_t n = 0;
        int r;

        r = trusted_key_load(err, key_file, &key);
        if (r < 0)
                return r;
        r = sign_read_sums(err, dir, &entries, &n);
        if (r < 0)
                return r;

        rep = calloc(1, sizeof(SignReport));
        if (!rep || !(rep->key_fingerprint = strdup(trusted_key_fingerprint(key)))) {
                r = -ENOMEM;
                goto finish;
        }

        r = check_signature(key, dir, SIGN_SUMS_NAME, &fpr, &why);
        if (r == -ENOMEM)
                goto finish;
        r = add_verdict(rep, SIGN_SUMS_NAME, r < 0 ? r : 0,
                        r < 0 ? TAKE_PTR(why) : strdup_printf("good signature by %s", fpr));
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (names && !strv_contains(names, entries[i].name))
                        continue;
                r = verify_listed(rep, key, dir, &entries[i]);
                if (r >= 0 && cancel_requested())
                        r = error_set(err, -ECANCELED, "interrupted");
        }
        /* A name asked for that SHA256SUMS does not list is bad. */
        STRV_FOREACH(name, names)
                if (r >= 0 && !sums_find(entries, n, *name))
                        r = add_verdict(rep, *name, -ENOENT, strdup_printf("not listed in %s", SIGN_SUMS_NAME));
        if (r >= 0)
                *ret = TAKE_PTR(rep);
finish:
        sums_entries_free(entries, n);
        return r < 0 ? r : 0;
}
