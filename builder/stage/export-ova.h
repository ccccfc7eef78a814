/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Export for VirtualBox: one OVA with every VM (Gateway and Workstation),
 * written without VirtualBox so that it is a function of its inputs.
 *
 * The OVA is an uncompressed tar (ustar; pax only for members of 8 GiB or
 * more) with, in this order and nothing else:
 *
 *   <ovf_name>.ovf              OVF 1.0 envelope: References, DiskSection,
 *                               NetworkSection ("NAT", "Whonix"), and a
 *                               VirtualSystemCollection with one
 *                               VirtualSystem per VM (a single VM: its
 *                               VirtualSystem alone), each with the standard
 *                               hardware items and a vbox:Machine section
 *   <ovf_name>.mf               "SHA256(<member>)= <lowercase hex>" lines for
 *                               the .ovf and every disk
 *   <vm_name>-disk1.vmdk ...    the streamOptimized disks (vmdk.h), in the
 *                               order given
 *
 * Members have mode 0644, uid/gid 0, owner names "root", mtime
 * opts->mtime (SOURCE_DATE_EPOCH).  Every UUID and MAC address derives from
 * opts->seed (ids.h).  Disks are copied in 1 MiB chunks and hashed twice
 * (for the manifest, then while copying: a disk that changes in between is
 * -EIO).  The OVA is written next to dest_ova under a temporary name and
 * renamed.
 *
 * Machines (see export-ova.c for each choice): OSType Debian_64 (OVF
 * OperatingSystem 96), memory and CPUs from the recipe, one SATA (AHCI)
 * controller with the disk on port 0, one Intel PRO/1000 MT Desktop
 * (82540EM, "E1000") NIC per recipe network in recipe order: "external"
 * is VirtualBox NAT, "internal" the internal network "Whonix".  Host time
 * sync, clipboard and drag and drop are off; no audio, no USB.
 */

#include "error.h"
#include "recipe.h"

#define OVA_NETWORK_INTERNAL "Whonix"
#define OVA_MEMBERS_MAX 64

typedef struct OvaVm {
        const Recipe *recipe;    /* with [VM] Name=, memory, CPUs, networks */
        const char *vmdk_path;   /* streamOptimized VMDK (vmdk_from_raw()) */
        uint64_t capacity_bytes; /* virtual size of the disk */
} OvaVm;

typedef struct OvaOptions {
        const char *seed;        /* for UUIDs and MACs */
        int64_t mtime;           /* SOURCE_DATE_EPOCH for the tar members (>= 0) */
        const char *ovf_name;    /* base name of the .ovf and .mf; NULL means "Whonix" */
} OvaOptions;

/* Write the OVA for n (1..OVA_MEMBERS_MAX-2) VMs to dest_ova. */
int ova_write(ErrorSlot *err, const OvaVm *vms, size_t n, const char *dest_ova, const OvaOptions *opts);

/* The OVF descriptor alone (stats each vmdk_path for its size). */
int ova_ovf_xml(ErrorSlot *err, const OvaVm *vms, size_t n, const OvaOptions *opts, char **ret);

/* The manifest for n members: names[i] with the lowercase SHA-256 hex
 * digest hex[i]. */
int ova_manifest(ErrorSlot *err, const char * const *names, const char * const *hex, size_t n, char **ret);

/* "<vm_name>-disk1.vmdk", the member name of a VM's disk. */
char *ova_disk_name(const Recipe *r);
