#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# whonix-build --target virtualbox --flavor all: one OVA per pair (ovf, mf,
# then the disks: Whonix.ova with the CLI Workstation, Whonix-Desktop.ova
# with the desktop one) whose VMDKs are streamOptimized, pass qemu-img
# check, match the manifest, hold the right system, and come out
# bit-identical from a second export.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance
command -v qemu-img >/dev/null || skip_all "qemu-img is not installed (tools/install-deps)"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# The OVAs (1.4 GB) go with the test: no other test reads them.
WB_E2E_OVA=$T/ova
inspect="$WB_BUILD_ROOT/tests/wb-inspect"

start=$(date +%s)
ensure_ova
rc=$?
diag "export took $(( $(date +%s) - start )) s"
diag_file "$WB_E2E_OVA.log" 4
check "whonix-build --target virtualbox succeeds" test "$rc" -eq 0
ova=$WB_E2E_OVA/Whonix.ova
check "Whonix.ova is written" test -s "$ova"
[ -s "$ova" ] || { done_testing; exit; }
diag "Whonix.ova: $(( $(stat -c %s "$ova") >> 20 )) MiB"
# (One OVA per VM, --ova-per-vm, is the v2v test's: it imports one.)
check "the output holds one OVA per pair, the buildinfo and SHA256SUMS, nothing else" \
        test "$(LC_ALL=C ls -A "$WB_E2E_OVA" | tr '\n' ' ')" = "SHA256SUMS Whonix-Desktop.ova Whonix.ova whonix.buildinfo "
check "SHA256SUMS covers the OVA and the buildinfo" bash -c "cd '$WB_E2E_OVA' && sha256sum -c --strict --quiet SHA256SUMS"
check "the buildinfo records the OVA's SHA256" \
        grep -q "^ $(sha256sum "$ova" | cut -d' ' -f1) $(stat -c %s "$ova") Whonix.ova\$" "$WB_E2E_OVA/whonix.buildinfo"

tar -tf "$ova" >"$T/members"
check "members in order: ovf, mf, Gateway disk, Workstation disk" \
        test "$(tr '\n' ' ' <"$T/members")" = "Whonix.ovf Whonix.mf Whonix-Gateway-disk1.vmdk Whonix-Workstation-disk1.vmdk "
tar -tvf "$ova" >"$T/long"
check "every member is owned by root (0/0)" bash -c "awk '{print \$2}' '$T/long' | grep -qv '^root/root$' && exit 1 || exit 0"

mkdir "$T/x"
tar -xf "$ova" -C "$T/x"
while read -r line; do
        name=$(sed -E 's/^SHA256\(([^)]*)\)= .*/\1/' <<<"$line")
        want=$(sed -E 's/.*= ([0-9a-f]{64})$/\1/' <<<"$line")
        got=$(sha256sum "$T/x/$name" | cut -d' ' -f1)
        check "manifest digest of $name matches" test "$want" = "$got"
done <"$T/x/Whonix.mf"
check "the manifest covers the ovf and both disks" test "$(wc -l <"$T/x/Whonix.mf")" -eq 3
if command -v xmllint >/dev/null; then
        check "Whonix.ovf is well-formed XML" xmllint --noout "$T/x/Whonix.ovf"
fi

# The desktop pair: the same Gateway disk, the desktop Workstation's, and
# a machine with the video memory of a desktop.
dova=$WB_E2E_OVA/Whonix-Desktop.ova
check "Whonix-Desktop.ova: ovf, mf, the Gateway's disk, the desktop Workstation's" \
        test "$(tar -tf "$dova" | tr '\n' ' ')" = \
        "Whonix-Desktop.ovf Whonix-Desktop.mf Whonix-Gateway-disk1.vmdk Whonix-Workstation-Desktop-disk1.vmdk "
mkdir "$T/d"
tar -xf "$dova" -C "$T/d"
check "both pairs carry the very same Gateway disk" cmp -s "$T/d/Whonix-Gateway-disk1.vmdk" "$T/x/Whonix-Gateway-disk1.vmdk"
check "the desktop's machine has 128 MiB of VMSVGA video memory, the CLI's 16" \
        python3 -c 'import sys, xml.etree.ElementTree as ET
def vram(path, name):
    for e in ET.parse(path).getroot().iter():
        if e.tag.endswith("Machine") and e.get("name") == name:
            d = next(x for x in e.iter() if x.tag.endswith("Display"))
            return d.get("controller"), d.get("VRAMSize")
assert vram(sys.argv[1], "Whonix-Workstation-Desktop") == ("VMSVGA", "128"), vram(sys.argv[1], "Whonix-Workstation-Desktop")
assert vram(sys.argv[2], "Whonix-Workstation") == ("VMSVGA", "16")' "$T/d/Whonix-Desktop.ovf" "$T/x/Whonix.ovf"
mv "$T/d/Whonix-Workstation-Desktop-disk1.vmdk" "$T/x/"
for vm in Whonix-Gateway Whonix-Workstation Whonix-Workstation-Desktop; do
        d="$T/x/$vm-disk1.vmdk"
        check "$vm: qemu-img check passes on the VMDK" qemu-img check -q -f vmdk "$d"
        qemu-img info --output=json "$d" >"$T/$vm.json"
        check "$vm: qemu-img sees a streamOptimized VMDK" \
                python3 -c 'import json,sys; i=json.load(open(sys.argv[1])); assert i["format"]=="vmdk"; assert i["format-specific"]["data"]["create-type"]=="streamOptimized"' "$T/$vm.json"
        "$inspect" "$d" /dev/sda2 cat /etc/hostname /etc/os-release >"$T/$vm.files" 2>"$T/$vm.err"
        check "$vm: libguestfs opens the VMDK and finds hostname 'host'" grep -qx host "$T/$vm.files"
        check "$vm: Debian trixie inside" grep -q '^VERSION_CODENAME=trixie$' "$T/$vm.files"
done

# Again, of the CLI pair alone (the same Whonix.ova; the desktop's VMDK,
# the longest to write, is not needed for this): from the VMDKs the first
# export left in the cache.
vmdks() { find "$WB_TEST_CACHE/vmdk" -maxdepth 1 -name '*.vmdk' -printf '%f %i\n' 2>/dev/null | sort; }
vmdks >"$T/vmdks-before"
ensure_ova "$T/again" --flavor cli
check "a second export succeeds" test $? -eq 0
check "two exports of the same inputs are bit-identical" \
        test "$(sha256sum <"$ova")" = "$(sha256sum <"$T/again/Whonix.ova")"
vmdks >"$T/vmdks-after"
check "... the second from the VMDKs the first left in the cache ($(wc -l <"$T/vmdks-before") there): none written again" \
        sh -c '[ "$(wc -l <"$1")" -ge 3 ] && cmp -s "$1" "$2"' sh "$T/vmdks-before" "$T/vmdks-after"

done_testing
