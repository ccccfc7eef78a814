/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The stages that publish: the export (qcow2 and libvirt XML, or OVA), the
 * buildinfo that describes it, and the signatures. */
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "build-internal.h"
#include "buildinfo.h"
#include "config.h"
#include "export-kvm.h"
#include "export-ova.h"
#include "git-commit.h"
#include "ids.h"
#include "log.h"
#include "overlay.h"
#include "packages.h"
#include "parallel.h"
#include "publish-copy.h"
#include "qcow2.h"
#include "sign.h"
#include "spawn.h"
#include "sums.h"
#include "tools.h"
#include "vmdk.h"

/* Where the libvirt XML expects the images (the README says how to install
 * them there). */
#define KVM_IMAGES_DIR "/var/lib/libvirt/images"

/* Move every file of a staging directory into the output directory. */
static int publish(ErrorSlot *err, const char *staging, const char *output, char * const *names) {
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *from = path_join(staging, *n), *to = path_join(output, *n);

                if (!from || !to)
                        return -ENOMEM;
                if (rename(from, to) < 0)
                        return error_set_errno(err, -errno, "cannot move '%s' into '%s'", *n, output);
        }
        return 0;
}

/* The SHA-256 of an artifact, read by export from the bytes in the output
 * directory: the buildinfo and the sign stage use it instead of reading
 * the file again. */
static int build_note_digest(Build *b, const char *name, const char *sha256) {
        SumsEntry *m = reallocarray(b->digests, b->n_digests + 1, sizeof(SumsEntry));

        if (!m)
                return -ENOMEM;
        b->digests = m;
        m[b->n_digests] = (SumsEntry) { .name = strdup(name), .sha256 = strdup(sha256) };
        if (!m[b->n_digests].name || !m[b->n_digests].sha256) {
                free(m[b->n_digests].name);
                free(m[b->n_digests].sha256);
                return -ENOMEM;
        }
        b->n_digests++;
        return 0;
}

/* The version of our qcow2 writer's output: a change of its bytes changes
 * this, and with it the cache entry's name. */
#define QCOW2_WRITER_FORMAT "1"

typedef struct Qcow2Input {
        const char *raw;
        unsigned threads;
} Qcow2Input;

static int produce_qcow2(ErrorSlot *err, const char *tmp, void *userdata) {
        const Qcow2Input *in = userdata;

        /* Compressed: only the used clusters are stored.  Our writer, not
         * the host's qemu-img, so that the bytes are the same on any host;
         * its deflate runs on all the build's threads (the images of the
         * flavors convert side by side, and the largest ends alone). */
        return qcow2_from_raw(err, in->raw, tmp, in->threads, NULL);
}

typedef struct ExportJobs {
        const Build *b;
        const char *staging;
        char (*sha256)[SHA256_HEX_SIZE]; /* each job's image's digest */
} ExportJobs;

/* The published qcow2 of a final disk is cached under the disk's key: a
 * rebuild that changed one flavor converts only that one.  Into the
 * release it is copied, hashed on the way (publish_copy()), unless the
 * output directory holds the same bytes already. */
static int export_qcow2(ErrorSlot *err, size_t i, void *userdata) {
        ExportJobs *ej = userdata;
        const Flavor *f = &ej->b->flavors[i];
        _cleanup_free_ char *name = strdup_printf("%s.qcow2", f->recipe->vm_name), *dest = NULL, *cached = NULL,
                            *key = strdup_printf("%s-w" QCOW2_WRITER_FORMAT, f->final_key), *existing = NULL;
        bool built, kept;
        int r;

        if (!name || !key || !(dest = path_join(ej->staging, name)) ||
            !(existing = path_join(ej->b->o->output_dir, name)))
                return -ENOMEM;
        log_progress("export", name, 0, 0);
        r = cache_produce(err, ej->b->cache, "qcow2", key, ".qcow2", produce_qcow2,
                          &(Qcow2Input) { .raw = f->final_disk, .threads = ej->b->o->jobs }, &cached, &built);
        if (r < 0)
                return error_prefix(err, r, "cannot write '%s'", name);
        return publish_copy(err, cached, existing, dest, 0644, ej->sha256[i], &kept);
}

/* The qcow2 images and the libvirt XML of the domains and their networks. */
static int export_kvm_into(ErrorSlot *err, Build *b, const char *staging, char ***names) {
        _cleanup_free_ Recipe **recipes = calloc(b->n_flavors, sizeof(Recipe *));
        _cleanup_free_ char (*sha256)[SHA256_HEX_SIZE] = calloc(b->n_flavors, SHA256_HEX_SIZE);
        ExportJobs ej = { .b = b, .staging = staging, .sha256 = sha256 };
        int r;

        if (!recipes || !sha256)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_flavors; i++) {
                recipes[i] = b->flavors[i].recipe;
                if ((r = strv_consume(names, strdup_printf("%s.qcow2", b->flavors[i].recipe->vm_name))) < 0 ||
                    (r = strv_consume(names, strdup_printf("%s.xml", b->flavors[i].recipe->vm_name))) < 0)
                        return r;
        }
        r = parallel_run(err, b->n_flavors, b->o->jobs, export_qcow2, &ej);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n_flavors; i++) {
                _cleanup_free_ char *name = strdup_printf("%s.qcow2", b->flavors[i].recipe->vm_name);
                if (!name || (r = build_note_digest(b, name, sha256[i])) < 0)
                        return name ? r : -ENOMEM;
        }
        r = kvm_export(err, recipes, b->n_flavors, staging, KVM_IMAGES_DIR, build_seed(b));
        if (r < 0)
                return r;
        /* The networks the domains use. */
        STRV_FOREACH(net, ((char *[]) { (char *) "external", (char *) "internal", NULL })) {
                _cleanup_free_ char *file = strdup_printf("%s.xml", kvm_network_name(*net)), *p = NULL;
                if (!file || !(p = path_join(staging, file)))
                        return -ENOMEM;
                if (access(p, F_OK) == 0 && (r = strv_consume(names, TAKE_PTR(file))) < 0)
                        return r;
        }
        return 0;
}

/* The OVA of a pair: "Whonix" for the Gateway with the CLI Workstation,
 * "Whonix-Desktop" with workstation-desktop ("Whonix-" and the variant,
 * its first letter upper case).  NULL: out of memory. */
static char *pair_name(const char *workstation_flavor) {
        const char *dash = workstation_flavor ? strchr(workstation_flavor, '-') : NULL;
        char *name;

        if (!dash)
                return strdup("Whonix");
        name = strdup_printf("Whonix-%s", dash + 1);
        if (name)
                name[strlen("Whonix-")] = (char) (name[strlen("Whonix-")] - 'a' + 'A');
        return name;
}

typedef struct VmdkJobs {
        const Build *b;
        char **vmdks;
} VmdkJobs;

typedef struct VmdkInput {
        const char *raw;
        const VmdkOptions *options;
} VmdkInput;

static int produce_vmdk(ErrorSlot *err, const char *tmp, void *userdata) {
        const VmdkInput *in = userdata;

        return vmdk_from_raw(err, in->raw, tmp, in->options, NULL);
}

/* The version of our VMDK writer's output, as QCOW2_WRITER_FORMAT. */
#define VMDK_WRITER_FORMAT "1"

/* One flavor's VMDK (the conversions run side by side, each deflating on
 * all the build's threads: the largest ends alone).  Cached like the qcow2,
 * under the final disk's key and every option that goes into the bytes: a
 * rebuild (or the other target's, or --ova-per-vm's) of an unchanged disk
 * converts nothing, and the OVA is written from the cache's file. */
static int export_vmdk(ErrorSlot *err, size_t i, void *userdata) {
        VmdkJobs *vj = userdata;
        const Flavor *f = &vj->b->flavors[i];
        _cleanup_free_ char *name = ova_disk_name(f->recipe), *cid_hex = NULL, *what = NULL, *key = NULL;
        VmdkOptions vo = { .adapter_type = "ide", .threads = vj->b->o->jobs };
        CacheKey k;
        bool built;
        int r;

        if (!name || !(what = strdup_printf("vmdk-cid:%s", f->recipe->vm_name)))
                return -ENOMEM;
        r = id_hex(build_seed(vj->b), what, 4, &cid_hex);
        if (r < 0)
                return r;
        vo.extent_name = name;
        vo.cid = (uint32_t) strtoul(cid_hex, NULL, 16);
        cache_key_init(&k, "vmdk");
        cache_key_add(&k, "final", f->final_key);
        cache_key_add(&k, "writer", VMDK_WRITER_FORMAT);
        cache_key_add(&k, "zlib", zlibVersion());
        cache_key_add(&k, "adapter", vo.adapter_type);
        cache_key_add(&k, "extent", vo.extent_name);
        cache_key_add_u64(&k, "cid", vo.cid);
        cache_key_add_u64(&k, "level", (uint64_t) vo.compression_level);
        key = cache_key_final(&k);
        if (!key)
                return -ENOMEM;
        log_progress("export", name, 0, 0);
        r = cache_produce(err, vj->b->cache, "vmdk", key, ".vmdk", produce_vmdk,
                          &(VmdkInput) { .raw = f->final_disk, .options = &vo }, &vj->vmdks[i], &built);
        if (r < 0)
                return error_prefix(err, r, "cannot write '%s'", name);
        return 0;
}

/* One streamOptimized VMDK per VM, written from the final raw disks; then
 * one OVA per pair (the Gateway with each Workstation; a build of one role
 * alone makes one OVA of what it built: recipe_pair_count(), by which verify
 * tells a release made with --ova-per-vm) and, with --ova-per-vm, one OVA per
 * VM too, for importers that take one machine per OVA (virt-v2v). */
static int export_ova_into(ErrorSlot *err, const Build *b, const char *staging, char ***names) {
        _cleanup_free_ OvaVm *vms = calloc(b->n_flavors, sizeof(OvaVm));
        _cleanup_strv_free_ char **vmdks = NULL;
        OvaOptions opts = { .seed = build_seed(b), .mtime = b->source_date_epoch };
        ssize_t gateway = -1;
        size_t n_workstations = 0;
        int r;

        if (!vms)
                return -ENOMEM;
        /* Each job sets its own slot: the VMDK's path in the cache. */
        vmdks = calloc(b->n_flavors + 1, sizeof(char *));
        if (!vmdks)
                return -ENOMEM;
        r = parallel_run(err, b->n_flavors, b->o->jobs, export_vmdk, &(VmdkJobs) { .b = b, .vmdks = vmdks });
        if (r < 0) {
                /* A failed job leaves its slot empty, and strv_free() would
                 * stop there. */
                for (size_t i = 0; i < b->n_flavors; i++) {
                        free(vmdks[i]);
                        vmdks[i] = NULL;
                }
                return r;
        }
        for (size_t i = 0; i < b->n_flavors; i++) {
                const Flavor *f = &b->flavors[i];
                vms[i] = (OvaVm) {
                        .recipe = f->recipe,
                        .vmdk_path = vmdks[i],
                        .capacity_bytes = f->recipe->disk_size,
                };
                if (streq_ptr(recipe_flavor_role(f->name), "gateway"))
                        gateway = (ssize_t) i;
                else
                        n_workstations++;
        }

        for (size_t i = 0; i < b->n_flavors; i++) {
                _cleanup_free_ char *pair = NULL, *file = NULL, *p = NULL;
                OvaVm two[2];
                size_t n = 0;
                OvaOptions one = opts;

                /* Each Workstation makes a pair with the Gateway; the
                 * Gateway alone only when no Workstation was built. */
                if ((ssize_t) i == gateway && n_workstations > 0)
                        continue;
                if (gateway >= 0)
                        two[n++] = vms[gateway];
                if ((ssize_t) i != gateway)
                        two[n++] = vms[i];
                pair = pair_name((ssize_t) i == gateway ? NULL : b->flavors[i].name);
                if (!pair || !(file = strdup_printf("%s.ova", pair)) || !(p = path_join(staging, file)))
                        return -ENOMEM;
                one.ovf_name = pair;
                log_progress("export", file, 0, 0);
                r = ova_write(err, two, n, p, &one);
                if (r < 0 || (r = strv_consume(names, TAKE_PTR(file))) < 0)
                        return r;
        }
        for (size_t i = 0; b->o->ova_per_vm && i < b->n_flavors; i++) {
                const char *vm = b->flavors[i].recipe->vm_name;
                _cleanup_free_ char *name = strdup_printf("%s.ova", vm), *p = NULL;
                OvaOptions one = opts;

                if (!name || !(p = path_join(staging, name)))
                        return -ENOMEM;
                one.ovf_name = vm;
                log_progress("export", name, 0, 0);
                r = ova_write(err, &vms[i], 1, p, &one);
                if (r < 0 || (r = strv_consume(names, TAKE_PTR(name))) < 0)
                        return r;
        }
        return 0;
}

static int write_buildinfo(ErrorSlot *err, Build *b);

/* Everything is made in a hidden directory beside the results and moved in
 * only when all of it is complete; then the buildinfo that describes it. */
int stage_export(ErrorSlot *err, Build *b) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *staging = NULL, *list = NULL;
        uint64_t start = now_usec();
        int r;

        r = mkdir_p(b->o->output_dir, 0755);
        if (r < 0)
                return error_set_errno(err, r, "cannot create the output directory '%s'", b->o->output_dir);
        r = mkdtemp_in(b->o->output_dir, ".whonix-build", &staging);
        if (r < 0)
                return error_set_errno(err, r, "cannot create a temporary directory in '%s'", b->o->output_dir);
        r = b->o->target == TARGET_VIRTUALBOX ? export_ova_into(err, b, staging, &names)
                                                : export_kvm_into(err, b, staging, &names);
        if (r >= 0)
                r = publish(err, staging, b->o->output_dir, names);
        (void) rm_rf(staging);
        if (r < 0)
                return r;
        list = strv_join(names, ", ");
        stage_report(b, "export", &(StepFacts) {}, start, "%s in '%s'", strempty(list), b->o->output_dir);
        r = strv_extend_strv(&b->artifacts, names);
        if (r < 0)
                return r;
        return write_buildinfo(err, b);
}

/* whonix.buildinfo beside the artifacts: every input of this build and every
 * artifact's SHA256, for whonix-build verify.  Written atomically, and then
 * one more artifact for the sign stage to cover. */
static int write_buildinfo(ErrorSlot *err, Build *b) {
        _cleanup_(buildinfo_freep) Buildinfo *bi = calloc(1, sizeof(Buildinfo));
        _cleanup_free_ char *text = NULL, *path = path_join(b->o->output_dir, BUILDINFO_NAME);
        int r;

        if (!bi || !path)
                return -ENOMEM;
        bi->tool_version = strdup(PACKAGE_VERSION);
        bi->tool_commit = strdup(GIT_COMMIT);
        bi->target = strdup(target_to_string(b->o->target));
        bi->suite = strdup(b->suite);
        bi->mirror = strdup(b->mirror);
        bi->inrelease_sha256 = strdup(b->sources->inrelease_sha256);
        bi->inrelease_signer = strdup(b->sources->signer_fingerprint);
        bi->seed = strdup(build_seed(b));
        bi->source_date_epoch = b->source_date_epoch;
        bi->packages = calloc(b->n_flavors, sizeof(PackageList *));
        if (!bi->tool_version || !bi->tool_commit || !bi->target || !bi->suite || !bi->mirror ||
            !bi->inrelease_sha256 || !bi->inrelease_signer || !bi->seed || !bi->packages)
                return -ENOMEM;
        r = overlay_data_dir_hash(err, b->o->data_dir, &bi->recipe_tree_sha256);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n_flavors; i++) {
                _cleanup_free_ char *list = NULL;
                size_t size;

                if (strv_extend(&bi->flavors, b->flavors[i].name) < 0)
                        return -ENOMEM;
                r = read_full_file(b->flavors[i].packages, PACKAGES_SIZE_MAX, &list, &size);
                if (r < 0)
                        return error_set_errno(err, r, "cannot read '%s'", b->flavors[i].packages);
                r = package_list_parse(err, list, size, &bi->packages[i]);
                if (r < 0)
                        return error_prefix(err, r, "'%s'", b->flavors[i].packages);
        }
        r = tools_record(err, bi, bi->packages[0], b->debootstrap.version);
        if (r < 0)
                return error_prefix(err, r, "cannot record the tools of the build");
        STRV_FOREACH(name, b->artifacts) {
                _cleanup_free_ char *p = path_join(b->o->output_dir, *name);
                const SumsEntry *known = sums_find(b->digests, b->n_digests, *name);
                const BuildinfoArtifact *a;

                if (!p)
                        return -ENOMEM;
                r = buildinfo_add_artifact_digest(err, bi, *name, p, known ? known->sha256 : NULL);
                if (r < 0)
                        return r;
                /* The sign stage hashes none of them again. */
                if (!known && (a = buildinfo_find_artifact(bi, *name)) && (r = build_note_digest(b, *name, a->sha256)) < 0)
                        return r;
        }
        r = buildinfo_format(err, bi, &text);
        if (r < 0)
                return r;
        r = write_file_atomic(path, text, strlen(text), 0644);
        if (r < 0)
                return error_set_errno(err, r, "cannot write '%s'", path);
        if (b->o->report && free_and_strdup(&b->o->report->buildinfo, path) < 0)
                return -ENOMEM;
        return strv_extend(&b->artifacts, BUILDINFO_NAME);
}

/* The report's artifacts: what SHA256SUMS, just written, lists, with each
 * file's size. */
static int report_artifacts(ErrorSlot *err, const Build *b, bool signed_output) {
        BuildReport *rep = b->o->report;
        _cleanup_free_ char *path = path_join(b->o->output_dir, SIGN_SUMS_NAME);
        SumsEntry *e = NULL;
        size_t n = 0;
        int r;

        if (!path)
                return -ENOMEM;
        r = sign_read_sums(err, b->o->output_dir, &e, &n);
        if (r < 0)
                return r;
        rep->artifacts = calloc(n, sizeof *rep->artifacts);
        if (!rep->artifacts) {
                sums_entries_free(e, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = path_join(b->o->output_dir, e[i].name);
                struct stat st;

                if (!p || stat(p, &st) < 0) {
                        r = p ? error_set_errno(err, -errno, "cannot stat '%s'", p) : -ENOMEM;
                        sums_entries_free(e, n);
                        return r;
                }
                rep->artifacts[i].name = TAKE_PTR(e[i].name);
                snprintf(rep->artifacts[i].sha256, sizeof rep->artifacts[i].sha256, "%s", e[i].sha256);
                rep->artifacts[i].size = (uint64_t) st.st_size;
                rep->n_artifacts++;
        }
        sums_entries_free(e, n);
        rep->signed_output = signed_output;
        return free_and_strdup(&rep->sums, path) < 0 ? -ENOMEM : 0;
}

/* SHA256SUMS and, with a key, a detached signature of every artifact and of
 * SHA256SUMS.  Signatures and sums from an earlier build spoke of files that
 * export has just replaced: they go first, whatever happens next. */
int stage_sign(ErrorSlot *err, Build *b) {
        SignOptions so = { .key = b->o->sign_key, .gpg_home = b->o->gpg_home, .known = b->digests,
                           .n_known = b->n_digests };
        uint64_t start = now_usec();
        int r;

        r = sign_remove_stale(err, b->o->output_dir, b->artifacts);
        if (r < 0)
                return r;
        r = sign_artifacts(err, b->o->output_dir, b->artifacts, &so);
        if (r < 0)
                return r;
        if (b->o->report) {
                r = report_artifacts(err, b, so.key != NULL);
                if (r < 0)
                        return r;
        }
        if (so.key)
                stage_report(b, "sign", &(StepFacts) {}, start, "%zu file(s) and SHA256SUMS signed by %s", strv_length(b->artifacts),
                             so.key);
        else {
                stage_report(b, "sign", &(StepFacts) {}, start, "SHA256SUMS of %zu file(s)", strv_length(b->artifacts));
                log_warning("THE OUTPUT IS NOT SIGNED: no --sign-key was given, so nobody can check that the "
                            "files in '%s' are the ones this build made", b->o->output_dir);
        }
        return 0;
}
