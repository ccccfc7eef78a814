#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A real third-party importer accepts the OVAs: virt-v2v (libguestfs's
# converter) reads a per-VM OVA (--ova-per-vm; virt-v2v takes one
# machine per OVA), inspects the guest and converts it to a local qcow2
# plus libvirt XML.  virt-v2v's appliance has no network (-o local).
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance
command -v virt-v2v >/dev/null || skip_all "virt-v2v is not installed (tools/install-deps)"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# The machines it converts, exported by themselves (the export of all
# three is the ova test's).
vms=${WB_V2V_VMS:-Whonix-Gateway}
ensure_ova "$T/ova" --flavor "$([ -n "${WB_V2V_VMS:-}" ] && echo all || echo gateway)" --ova-per-vm ||
        { fail "the OVAs were exported"; diag_file "$T/ova.log" 10; done_testing; exit; }

# virt-v2v is not whonix-build: it does not detect a KVM that hangs here,
# so it is told to use TCG when /dev/kvm is unusable, as whonix-build
# decides for itself.
if ! grep -Eqw 'vmx|svm' /proc/cpuinfo; then
        export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
fi
# One machine: the per-VM OVAs are made by the same code, and each
# conversion costs minutes of CI under TCG.
for vm in $vms; do
        check "$vm.ova (--ova-per-vm) holds its own ovf, mf and disk, in order" \
                test "$(tar -tf "$T/ova/$vm.ova" | tr '\n' ' ')" = "$vm.ovf $vm.mf $vm-disk1.vmdk "
        mkdir "$T/$vm"
        start=$(date +%s)
        timeout 1800 virt-v2v -i ova "$T/ova/$vm.ova" -o local -os "$T/$vm" -of qcow2 >"$T/$vm.log" 2>&1
        rc=$?
        diag "$vm: virt-v2v took $(( $(date +%s) - start )) s (exit $rc)"
        grep -E 'warning|error|Converting|Inspecting|Finishing' "$T/$vm.log" | grep -v '%' | head -n 12 | sed 's/^/# /'
        check "virt-v2v converts $vm.ova without error" test "$rc" -eq 0
        check "virt-v2v wrote $vm's disk" test -s "$T/$vm/$vm-sda"
        check "virt-v2v wrote a libvirt domain named $vm" grep -q "<name>$vm</name>" "$T/$vm/$vm.xml"
        check "virt-v2v's domain has the OVA's memory (768 MiB)" grep -q "<memory unit='KiB'>786432</memory>" "$T/$vm/$vm.xml"
        # wb-inspect tells the format by the name; -of qcow2 wrote a qcow2.
        ln -sf "$T/$vm/$vm-sda" "$T/$vm/converted.qcow2"
        "$WB_BUILD_ROOT/tests/wb-inspect" "$T/$vm/converted.qcow2" /dev/sda2 cat /etc/os-release /etc/hostname \
                >"$T/$vm.files" 2>&1
        check "the converted $vm disk holds Debian trixie" grep -q '^VERSION_CODENAME=trixie$' "$T/$vm.files"
        check "the converted $vm disk has the hostname 'host'" grep -qx 'host' "$T/$vm.files"
        rm -f "$T/$vm/$vm-sda"
done

done_testing
