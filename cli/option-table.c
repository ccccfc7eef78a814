/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "option-table.h"
#include "util.h"

static const CliOption table[] = {
        { 't', "target", "kvm|virtualbox", COMPLETE_WORDS, "kvm virtualbox", "what to produce (default: kvm)" },
        { 'f', "flavor", "LIST", COMPLETE_WORDS, "cli desktop all gateway workstation workstation-desktop",
          "which VMs to build, comma-separated: flavors (gateway,\n"
          "workstation, workstation-desktop) or pairs: cli (the\n"
          "Gateway and the CLI Workstation; the default), desktop\n"
          "(the Gateway and the desktop Workstation), all (the three)" },
        { OPT_SUITE, "suite", "SUITE", COMPLETE_NONE, NULL, "Debian suite (default: the recipe's, trixie)" },
        { OPT_MIRROR, "mirror", "URL", COMPLETE_NONE, NULL,
          "Debian mirror (default: the one the host's apt uses;\n"
          "for verify and sources, the buildinfo's); 127.0.0.1 or\n"
          "localhost is the host's, from the appliance too" },
        { OPT_SNAPSHOT, "snapshot", "STAMP|URL", COMPLETE_NONE, NULL,
          "build from a snapshot of the archive: a time stamp\n"
          "YYYYMMDDTHHMMSSZ of snapshot.debian.org, or a URL\n"
          "BASE/archive/ARCHIVE/STAMP; its InRelease may be old\n"
          "or past its Valid-Until, its signature is checked" },
        { OPT_PROXY, "proxy", "http://HOST:PORT", COMPLETE_NONE, NULL,
          "HTTP proxy for every download: the fetch, debootstrap\n"
          "and apt (e.g. apt-cacher-ng); 127.0.0.1 or localhost is\n"
          "the host's, from the appliance too.  Files are still\n"
          "checked against the signed index" },
        { 'o', "output", "DIR", COMPLETE_DIR, NULL, "where the images go (default: ./out)" },
        { OPT_CACHE, "cache", "DIR", COMPLETE_DIR, NULL,
          "build cache (default: $XDG_CACHE_HOME/whonix-build\n"
          "or ~/.cache/whonix-build)" },
        { 'j', "jobs", "N", COMPLETE_NONE, NULL, "parallel jobs (default: number of CPUs)" },
        { OPT_STALL_TIMEOUT, "stall-timeout", "SECONDS", COMPLETE_NONE, NULL,
          "stop an appliance that shows no output and writes nothing for\n"
          "this long, and try once more with a fresh one (default: 600)" },
        { OPT_DATA_DIR, "data-dir", "DIR", COMPLETE_DIR, NULL, "where recipes/, keys/ and overlays/ are" },
        { OPT_UNTIL, "until", "STAGE", COMPLETE_STAGE, NULL,
          "stop after STAGE (recipe, fetch, appliance,\n"
          "bootstrap, ...), e.g. to fill the cache" },
        { 'v', "verbose", NULL, COMPLETE_NONE, NULL, "show the appliance's output" },
        { OPT_JSON, "json", NULL, COMPLETE_NONE, NULL,
          "build: at the end, print a report on standard output\n"
          "as JSON: every stage, built or reused, with its time;\n"
          "each artifact with its SHA256 and size; the buildinfo.\n"
          "recipes, verify, compare: their results as JSON\n"
          "(schema: README, \"Machine-readable results\")" },
        { OPT_OVA_PER_VM, "ova-per-vm", NULL, COMPLETE_NONE, NULL,
          "virtualbox: also write one OVA per VM\n"
          "(Whonix-Gateway.ova, Whonix-Workstation.ova) for\n"
          "importers that take one machine, e.g. virt-v2v" },
        { OPT_SIGN_KEY, "sign-key", "FINGERPRINT", COMPLETE_NONE, NULL,
          "sign the output (every file and SHA256SUMS, armored\n"
          "detached .asc) with this secret key; without it\n"
          "the output is not signed" },
        { OPT_GPG_HOME, "gpg-home", "DIR", COMPLETE_DIR, NULL,
          "where that key is (default: $GNUPGHOME or ~/.gnupg);\n"
          "a key needing a passphrase must be unlocked in\n"
          "gpg-agent first: whonix-build never asks" },
        { OPT_KEY, "key", "KEYFILE", COMPLETE_FILE, NULL, "verify-signature, rebuilderd-report: the publisher's\n"
          "public key" },
        { OPT_MAX_AGE, "max-age", "DAYS", COMPLETE_NONE, NULL,
          "cache prune: remove entries unused for longer" },
        { OPT_MAX_SIZE, "max-size", "SIZE", COMPLETE_NONE, NULL,
          "cache prune: then remove the least recently used\n"
          "until the entries take no more (e.g. 20G)" },
        { OPT_DRY_RUN, "dry-run", NULL, COMPLETE_NONE, NULL,
          "cache prune, install, uninstall: say what would be\n"
          "done, change nothing" },
        { OPT_CONNECT, "connect", "URI", COMPLETE_NONE, NULL,
          "install, uninstall: the libvirt connection\n"
          "(default: qemu:///system)" },
        { OPT_POOL, "pool", "NAME", COMPLETE_NONE, NULL,
          "install, uninstall: the storage pool for the images\n"
          "(default: default)" },
        { OPT_FORCE, "force", NULL, COMPLETE_NONE, NULL,
          "install, uninstall: replace or remove a domain,\n"
          "network or volume of the same name that is not\n"
          "this release's (never a running domain)" },
        { OPT_VIRT_TYPE, "virt-type", "TYPE", COMPLETE_WORDS, "kvm qemu",
          "install: define the domains as this type instead\n"
          "of the release's kvm: qemu on a host without\n"
          "hardware virtualization (software emulation,\n"
          "many times slower)" },
        { OPT_CONFIG, "config", "FILE", COMPLETE_FILE, NULL,
          "build: your settings (default: $XDG_CONFIG_HOME/\n"
          "whonix-build/config or ~/.config/whonix-build/config,\n"
          "if there): [Cache] MaxSize= and MaxAge= prune the\n"
          "cache after each build that ended well" },
        { OPT_REBUILT, "rebuilt", "DIR", COMPLETE_DIR, NULL,
          "verify: compare with this earlier rebuild instead\n"
          "of rebuilding (its whonix.buildinfo and artifacts)" },
        { OPT_REBUILD_CACHE, "rebuild-cache", "DIR", COMPLETE_DIR, NULL,
          "verify: rebuild with this cache of your own, kept and\n"
          "reused by the next verify, instead of a fresh one (it\n"
          "must never hold what the publisher's cache held)" },
        { 'h', "help", NULL, COMPLETE_NONE, NULL, "show this help" },
        { 'V', "version", NULL, COMPLETE_NONE, NULL, "show the version" },
};

const CliOption *cli_option_table(size_t *ret_n) {
        *ret_n = ELEMENTSOF(table);
        return table;
}
