/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Is hardware virtualization usable for the appliance?  /dev/kvm can exist
 * on hosts whose CPU has no vmx/svm flag (nested setups without it): qemu with
 * accel=kvm then hangs.  So both the CPU flags and the device are checked, and
 * the device is asked for its API version.  The answer decides whether the
 * appliance is forced to TCG; nobody has to export LIBGUESTFS_* variables.
 */

#include <stdbool.h>

/* Returns true if KVM is usable; otherwise *ret_reason (if given) points to a
 * static string saying why not. */
bool kvm_usable(const char **ret_reason);

/* The same check on explicit inputs, for tests: cpuinfo text and a device
 * path. */
bool kvm_usable_at(const char *cpuinfo, const char *dev_path, const char **ret_reason);
