/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Export for KVM: libvirt XML for the two Whonix networks and for one
 * domain per recipe, to go next to the qcow2 disks.
 *
 *   Whonix-External   NAT to the host's network: 10.0.2.2/24 on the host
 *                     bridge, DHCP 10.0.2.15-10.0.2.254 (only the Gateway
 *                     has a NIC here)
 *   Whonix-Internal   isolated: no <forward> and no <ip>, so libvirt routes
 *                     nothing and runs no DHCP or DNS on it; the Gateway and
 *                     the Workstation are the only hosts with addresses
 *   <vm_name>         q35, virtio disk/NICs/rng, no balloon; one NIC per
 *                     recipe network in recipe order (see export-kvm.c for
 *                     why each device is there or not)
 *
 * Every UUID and MAC address is derived from the seed (ids.h), so the same
 * seed and recipes give byte-identical XML.  Every value is escaped; a value
 * that XML cannot carry (control characters, invalid UTF-8) is -EINVAL.
 *
 * Users define the files with `virsh net-define` / `virsh define`.
 */

#include "error.h"
#include "recipe.h"

#define KVM_NETWORK_EXTERNAL "Whonix-External"
#define KVM_NETWORK_INTERNAL "Whonix-Internal"

/* "external" -> "Whonix-External", "internal" -> "Whonix-Internal", else
 * NULL. */
const char *kvm_network_name(const char *which);

/* The network XML for which ("external" or "internal"). */
int kvm_network_xml(ErrorSlot *err, const char *which, const char *seed, char **ret);

typedef struct KvmDomainOptions {
        const char *disk_path;   /* absolute path of the qcow2 as the host will see it */
        const char *domain_type; /* "kvm" for users, "qemu" for TCG (tests); NULL means "kvm" */
        const char *seed;
} KvmDomainOptions;

/* The domain XML for a recipe with [VM] Name= set. */
int kvm_domain_xml(ErrorSlot *err, const Recipe *r, const KvmDomainOptions *opts, char **ret);

/* Write <vm_name>.xml for each recipe (domain type "kvm", disk
 * <images_dir>/<vm_name>.qcow2) and Whonix-External.xml /
 * Whonix-Internal.xml for the networks the recipes use, each atomically,
 * into output_dir (created if missing). */
int kvm_export(ErrorSlot *err, Recipe * const *recipes, size_t n, const char *output_dir, const char *images_dir,
               const char *seed);
