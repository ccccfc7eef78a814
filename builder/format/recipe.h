/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Recipes: what to build, as declarative INI files in the style of mkosi and
 * systemd units (recipes/NAME.conf).
 *
 *     [Config]
 *     Include=kicksecure.conf
 *     Flavor=gateway
 *
 *     [Packages]
 *     Packages=tor
 *              nftables
 *
 * Syntax.  "[Section]" headers, "Key=Value" assignments, comment lines
 * starting with '#' or ';', blank lines.  Leading and trailing whitespace is
 * trimmed.  A line that starts with whitespace and follows a key line (or
 * another such line; comment lines in between are fine, a blank line ends
 * it) continues that key's value; only list keys take continuation lines.
 * Section and key names are case-sensitive.
 *
 * Layering.  [Config] Include=PATH (relative to the directory of the file
 * that names it) parses PATH completely at that point, before the next line
 * of the includer.  A file that was already read is not read a second time
 * (a diamond of includes applies the common base once); a file that is still
 * being read is an include cycle.  Includes nest at most 8 deep.  Includes
 * and scripts must lie inside the root given to recipe_load() (the data
 * directory; by default the top-level file's directory; base_dir for
 * recipe_parse_buffer()) once symlinks are resolved: a recipe
 * cannot pull a file of the build host into the image or into a message.
 *
 * Values.  A scalar assignment replaces what earlier lines and layers set;
 * an empty one ("Mirror=") restores the default.  A list assignment appends
 * its whitespace-separated words; an empty one ("Packages=" with no
 * continuation lines) clears the list, so a layer can start over.  Lists that
 * have a default (Components=) append to it.  Every value is validated when
 * it is read.  In a parsed Recipe, every list is a NULL-terminated vector,
 * never NULL itself (possibly empty).
 *
 * [Tor] Bridges= is the one list of whole lines: each line (the key line
 * and its continuation lines) is one bridge line.
 *
 * After the last line, the merged recipe is checked as a whole: a recipe
 * with a Flavor= needs [VM] Name= and Hostname=; a gateway needs the
 * networks "external" and "internal", a workstation exactly "internal" (it
 * must never get a NIC with a route to the outside); [Tor] settings are a
 * gateway's only, and Bridges= cannot go with ConnectAtBoot=no.
 *
 * Errors.  Everything is fatal: the functions return a negative errno and
 * leave "FILE:LINE: message" in the ErrorSlot (just "FILE: message" for
 * problems of a whole file or of the merged recipe).  FILE is the absolute
 * path of the file (the name given to recipe_parse_buffer() for that
 * buffer; the path as given when the top-level file cannot be opened).
 *
 * Limits: 1 MiB per file, 4096 bytes per line, no NUL bytes, 8 levels of
 * includes, 64 files per recipe.
 */

#include "error.h"
#include "util.h"

typedef struct Recipe {
        char *path;              /* absolute path of the top-level file (or the name given to recipe_parse_buffer) */
        char *name;              /* file name without ".conf" */
        char **files;            /* every file read, absolute, in read order (top-level and includes), no duplicates;
                                  * files[0] is always path */
        char **includes;         /* the files the top-level file names in Include=, absolute, in order (NULL: none) */
        /* [Config] */
        char *description;
        char *flavor;            /* "gateway", "workstation", "workstation-desktop" (a role, and a variant after a
                                  * dash), or NULL for a pure layer such as kicksecure */
        /* [Distribution] */
        char *distribution;      /* only "debian"; default "debian" */
        char *suite;             /* default "trixie"; [a-z0-9-]+ */
        char *architecture;      /* only "amd64"; default "amd64" */
        char *mirror;            /* NULL = use the host's mirror; must be http:// or https:// or file:// URL */
        char *snapshot;          /* NULL, or a snapshot of the archive (recipe_snapshot_url()) */
        char **components;       /* default {"main"} */
        /* [Apt] the image's own sources, written by finalize in place of the build's */
        char *apt_mirror;        /* for SUITE and SUITE-updates; NULL = the image gets no apt sources */
        char *apt_security_mirror; /* for SUITE-security; NULL = none */
        /* [Bootstrap] */
        char *variant;           /* "minbase" (default) or "buildd" */
        char **bootstrap_packages; /* debootstrap --include */
        /* [Packages] */
        char **packages;
        char **remove_packages;
        /* [Overlays] */
        char **early_overlays;   /* Early=: copied before the layer's packages are installed, so that
                                  * install-time hooks (mkinitramfs) read them; part of the package step */
        char **overlays;         /* overlay directory names (relative to <project>/overlays), validated as plain names */
        /* [Scripts] */
        char **scripts;          /* resolved to absolute paths relative to the directory of the file that names them; must exist */
        /* [User] */
        char *user_name;         /* default "user"; valid Unix user name */
        char **user_groups;
        /* [VM] */
        char *vm_name;           /* e.g. "Whonix-Gateway"; [A-Za-z0-9._-]+ */
        char *hostname;          /* RFC 1123 label */
        char *machine_id;        /* 32 lowercase hex digits, not all zero; NULL = systemd makes one at first boot */
        uint64_t memory_mib;     /* Memory=768M or 2G (parse_size; must be >= 256 MiB, stored in MiB) default 1024 */
        unsigned cpus;           /* 1..64, default 1 */
        uint64_t disk_size;      /* bytes, DiskSize=100G; >= 2G; default 100G */
        char **kernel_cmdline;   /* KernelCommandLine= words, appended across layers */
        char *graphics;          /* Graphics=: "yes" (a display, a video device and a tablet for a desktop) or
                                  * "no" (default: the serial console only) */
        char **networks;         /* each "external" or "internal" */
        /* [Tor] a gateway's connection to the Tor network (format/tor-connection.h) */
        char *tor_connect_at_boot; /* "yes", "no" or NULL (unset: no file, Tor connects at boot) */
        char **tor_bridges;      /* Bridges=: one bridge line per entry (the key line and each
                                  * continuation line is one, blanks and all) */
} Recipe;

/* Parse a recipe file (following Include=).  Includes and scripts must lie
 * inside root (the data directory), or with root NULL inside the file's own
 * directory.  On error returns negative errno and sets err to
 * "FILE:LINE: message". */
int recipe_load(ErrorSlot *err, const char *path, const char *root, Recipe **ret);

/* Same from memory; name is used in messages, includes (and scripts) resolve
 * relative to base_dir (may be NULL: includes and scripts are refused). */
int recipe_parse_buffer(ErrorSlot *err, const char *name, const char *data, size_t size, const char *base_dir, Recipe **ret);

/* The recipe's own checks of a suite name and a mirror URL, for the same
 * values given on a command line: NULL if fine, else why not. */
const char *recipe_check_suite(const char *s);
const char *recipe_check_mirror(const char *s);
/* Snapshot=, --snapshot: a time stamp YYYYMMDDTHHMMSSZ (of
 * snapshot.debian.org), or the URL of a snapshot-archive layout,
 * <base>/archive/<archive>/<YYYYMMDDTHHMMSSZ>. */
const char *recipe_check_snapshot(const char *s);
/* The mirror URL of a snapshot (checked): a time stamp becomes
 * RECIPE_SNAPSHOT_BASE/archive/debian/<stamp>, a URL stays as it is. */
#define RECIPE_SNAPSHOT_BASE "http://snapshot.debian.org"
char *recipe_snapshot_url(const char *s);
/* --proxy: http://HOST[:PORT] */
const char *recipe_check_proxy(const char *s);

/* Returns NULL, accepts NULL. */
Recipe *recipe_free(Recipe *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Recipe *, recipe_free);

/* Canonical text of the fully merged recipe: one "Section.Key=value" line per
 * key in fixed order, lists joined with single spaces, sizes in the largest
 * unit that divides them exactly ("768M", "100G").  Scripts are shown
 * relative to the directory of the top-level file (by basename for a recipe
 * parsed from a buffer), so the text does not depend on where the checkout
 * lives.  Deterministic: used by tests and as input to the build's cache
 * keys. */
int recipe_format(const Recipe *r, char **ret);

/* List the recipes (*.conf) in dir: names (without ".conf") sorted, with
 * their Description= ("" if none), as two parallel NULL-terminated vectors.
 * Every recipe is parsed; one that does not parse is an error naming the
 * file and line. */
int recipe_list(ErrorSlot *err, const char *dir, char ***ret_names, char ***ret_descriptions);

/* The role a flavor name gives its machine: "gateway" or "workstation"
 * ("workstation-desktop" is a workstation); NULL if it gives none. */
const char *recipe_flavor_role(const char *flavor);

/* How many pairs, one OVA each, the machines of these flavors make: each
 * Workstation with the Gateway; the Gateway alone when no Workstation is
 * among them.  The export writes them, verify counts them. */
size_t recipe_pair_count(char * const *flavors);

/* NULL if s is a valid flavor name ("gateway", "workstation", or one of
 * them with a variant after a dash: "workstation-desktop"), else why not. */
const char *recipe_flavor_check(const char *s);

/* Path of the recipe for a flavor ("gateway" -> "<dir>/whonix-gateway.conf",
 * "workstation" -> "<dir>/whonix-workstation.conf").  NULL for an unknown
 * flavor (errno EINVAL) or on allocation failure (errno ENOMEM). */
char *recipe_path_for_flavor(const char *dir, const char *flavor);
