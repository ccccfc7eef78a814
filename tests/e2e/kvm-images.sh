#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# whonix-build --target kvm --flavor all writes the eight files (three
# images, their domains, two networks); the images are compact, pass
# qemu-img check, and hold Debian of the right suite with a kernel, a
# grub.cfg that points at the fixed root UUID, and the flavor's hostname;
# the desktop's domain has a display a desktop can use.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance
command -v qemu-img >/dev/null || skip_all "qemu-img is not installed (tools/install-deps)"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
inspect="$WB_BUILD_ROOT/tests/wb-inspect"

start=$(date +%s)
ensure_images
rc=$?
diag "build (or cache reuse) took $(( $(date +%s) - start )) s"
diag_file "$WB_BUILD_ROOT/e2e-build.log" 15
check "whonix-build --target kvm succeeds" test "$rc" -eq 0
out=$WB_E2E_IMAGES

# The machine-readable report of that build (--json, schema 1): valid, and
# true to the files (tests/helpers/check-build-json.py hashes each one).
report=$WB_BUILD_ROOT/e2e-build.json
res=$(python3 "$WB_SOURCE_ROOT/tests/helpers/check-build-json.py" "$report" 2>&1)
check "--json: the report follows schema 1 and each artifact's SHA256 and size are the file's ($(head -n 1 <<<"$res"))" \
        test "${res#ok }" != "$res"
[ "${res#ok }" != "$res" ] || sed 's/^/# /' <<<"$res" | head -n 10
check "--json: result ok, every stage of the pipeline reported, each flavor's finalize built or reused, the artifacts are SHA256SUMS's" \
        python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
stages = [s["stage"] for s in d["stages"]]
fin = sorted(s["flavor"] for s in d["stages"] if s["stage"] == "finalize" and s["outcome"] in ("built", "reused"))
sums = sorted(l.split()[1] for l in open(sys.argv[2]))
assert d["result"] == "ok" and d["exit_status"] == 0 and d["error"] is None, d["result"]
assert all(n in stages for n in ("recipe", "fetch", "appliance", "bootstrap", "customize", "finalize", "export", "sign")), stages
assert fin == ["gateway", "workstation", "workstation-desktop"], fin
assert sorted(a["name"] for a in d["artifacts"]) == sums, sums
assert d["buildinfo"].endswith("/whonix.buildinfo")' "$report" "$out/SHA256SUMS"

# Not on a terminal (the build's log): plain progress lines, no control
# character, at most one every 15 s.
n_prog=$(grep -c '^  \[' "$WB_BUILD_ROOT/e2e-build.log")
secs=$(python3 -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["seconds"]))' "$report" 2>/dev/null || echo 0)
check "the build's log (no terminal): plain progress lines, no control character ($n_prog lines in $secs s)" \
        sh -c '! grep -qaP "[\x00-\x08\x0b-\x1f\x7f]" "$1" && [ "$2" -le $(( $3 / 15 + 1 )) ]' \
        sh "$WB_BUILD_ROOT/e2e-build.log" "$n_prog" "$secs"

# The cache remembers what this build used, and 'cache' lists it so.
check "the cache's last-build names the three final disks of this build (from its report's keys)" \
        python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
used = open(sys.argv[2]).read().split()
fin = ["final/%s.img" % s["key"] for s in d["stages"] if s["stage"] == "finalize"]
assert len(fin) == 3 and all(f in used for f in fin), (fin, used)
assert any(u.startswith("appliance/") for u in used) and any(u.startswith("base/") for u in used)' \
        "$report" "$WB_TEST_CACHE/last-build"
"$WHONIX_BUILD" cache --cache "$WB_TEST_CACHE" >"$T/cache-list" 2>&1
diag "$(tail -n 1 "$T/cache-list")"
check "whonix-build cache lists the test cache, marking what the build used ($(grep -c ' yes$' "$T/cache-list") entries)" \
        test "$(grep -c ' yes$' "$T/cache-list")" -ge 8

for f in Whonix-Gateway.qcow2 Whonix-Workstation.qcow2 Whonix-Workstation-Desktop.qcow2 Whonix-Gateway.xml \
        Whonix-Workstation.xml Whonix-Workstation-Desktop.xml Whonix-External.xml Whonix-Internal.xml; do
        check "$f is written" test -s "$out/$f"
done
check "no temporary files are left in the output" bash -c "! ls -A '$out' | grep -q '^\.'"

if command -v virt-xml-validate >/dev/null; then
        for f in Whonix-Gateway Whonix-Workstation Whonix-Workstation-Desktop; do
                check "$f.xml is a valid libvirt domain" virt-xml-validate "$out/$f.xml" domain
        done
        for f in Whonix-External Whonix-Internal; do
                check "$f.xml is a valid libvirt network" virt-xml-validate "$out/$f.xml" network
        done
else
        skip_one "virt-xml-validate is not installed (libvirt-clients): the XML not validated against libvirt's schemas"
fi
check "the Gateway is on both networks" test "$(grep -c "<source network=" "$out/Whonix-Gateway.xml")" -eq 2
for vm in Whonix-Workstation Whonix-Workstation-Desktop; do
        check "$vm is on Whonix-Internal only" bash -c \
                "[ \$(grep -c '<source network=' '$out/$vm.xml') -eq 1 ] && grep -q \"<source network='Whonix-Internal'\" '$out/$vm.xml'"
done
check "the desktop's domain: a virtio screen on a SPICE display that opens no port, a virtio tablet, 2 GiB" \
        python3 -c 'import sys, xml.etree.ElementTree as ET
d = ET.parse(sys.argv[1]).getroot()
g = d.find("devices/graphics")
assert g.get("type") == "spice" and g.find("listen").get("type") == "none", ET.tostring(g)
assert d.find("devices/video/model").get("type") == "virtio"
assert [(i.get("type"), i.get("bus")) for i in d.findall("devices/input")] == [("tablet", "virtio")]
assert d.find("memory").text == "2048" and d.find("memory").get("unit") == "MiB", d.find("memory").text' \
        "$out/Whonix-Workstation-Desktop.xml"
check "the CLI Workstation's domain has no tablet" sh -c '! grep -q "<input type=.tablet" "$1"' sh "$out/Whonix-Workstation.xml"
check "Whonix-Internal has no forward and no ip" bash -c "! grep -Eq '<forward|<ip' '$out/Whonix-Internal.xml'"

machine_id=$(sed -n 's/^MachineId=//p' "$WB_SOURCE_ROOT/recipes/kicksecure.conf")
# The build date: systemd's update stamps carry it.
epoch=$(sed -n 's/^Source-Date-Epoch: *//p' "$out/whonix.buildinfo")
for vm in Whonix-Gateway Whonix-Workstation Whonix-Workstation-Desktop; do
        img="$out/$vm.qcow2"
        [ -s "$img" ] || continue
        check "$vm: qemu-img check passes" qemu-img check -q "$img"
        qemu-img info --output=json "$img" >"$T/$vm.info"
        vsize=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["virtual-size"])' "$T/$vm.info")
        fsize=$(stat -c %s "$img")
        diag "$vm: virtual $((vsize >> 30)) GiB, file $((fsize >> 20)) MiB"
        check "$vm: virtual size is the recipe's 100 GiB" test "$vsize" -eq $((100 << 30))
        if [ "$vm" = Whonix-Workstation-Desktop ]; then
                check "$vm: the file is within the desktop's budget (< 1.5 GiB)" test "$fsize" -lt $((3 << 29))
        else
                check "$vm: the file is compact (< 2 GiB)" test "$fsize" -lt $((2 << 30))
        fi

        # One appliance launch per image (each costs seconds under TCG):
        # the UUID; every file the checks below read, in one cat (for the
        # identity checks too, and the network files of the roles; a file a
        # flavor lacks is only a line in the error log); the directories,
        # in one ls (the names of absent files too).
        "$inspect" "$img" /dev/sda2 each "$T/uuid" uuid -- \
                "$T/files" cat /etc/os-release /etc/hostname /etc/fstab /boot/grub/grub.cfg /etc/machine-id \
                /etc/resolv.conf /etc/hosts /etc/mailname /etc/apt/sources.list.d/debian.sources \
                /etc/apt/apt.conf.d/50whonix-tor /etc/default/grub /etc/passwd /etc/group /etc/issue /etc/motd \
                /etc/network/interfaces /etc/tor/torrc /etc/.updated /var/.updated -- \
                "$T/ls" ls /boot /etc/ssh /var/lib/apt/lists /usr/sbin /etc/apt /etc/apparmor.d/disable -- \
                "$T/xattrs" xattrs /var/log/journal -- "$T/nlink" nlink /usr/bin/perl /usr/bin/perl5.40.1 2>"$T/err"
        check "$vm: the root filesystem is on partition 2" test -s "$T/uuid"
        uuid=$(cat "$T/uuid")
        cp "$T/files" "$T/id-$vm"
        cp "$T/ls" "$T/ls-$vm"
        check "$vm: Debian trixie" grep -q '^VERSION_CODENAME=trixie$' "$T/files"
        check "$vm: hostname is 'host'" grep -qx 'host' "$T/files"
        check "$vm: a kernel and an initramfs in /boot" bash -c "grep -q '^vmlinuz-' '$T/ls' && grep -q '^initrd.img-' '$T/ls'"
        check "$vm: fstab mounts the root by its UUID $uuid" grep -q "^UUID=$uuid[[:space:]]/[[:space:]]" "$T/files"
        check "$vm: grub.cfg boots root=UUID=$uuid" grep -q "root=UUID=$uuid ro " "$T/files"
        check "$vm: grub.cfg carries the recipe's kernel command line" grep -q 'console=ttyS0,115200 net.ifnames=0 slab_nomerge' "$T/files"
        check "$vm: machine-id is the recipe's, the same for every image and build" grep -qx "$machine_id" "$T/files"
        check "$vm: os-release names the system" grep -qx "NAME=\"$vm\"" "$T/files"
        check "$vm: systemd's update stamps (/etc/.updated, /var/.updated) carry the build date $epoch: the first boot redoes no cache" \
                test "$(grep -cx "TIMESTAMP_NSEC=${epoch:-none}000000000" "$T/files")" -eq 2
        check "$vm: no ssh host keys, no apt lists" bash -c "! grep -Eq '^ssh_host_|_Packages' '$T/ls'"
        check "$vm: AppArmor's profiles that confine nothing are disabled (1password, signal-desktop), none that confines" \
                sh -c 'grep -qx 1password "$1" && grep -qx signal-desktop "$1" &&
                        ! grep -Eqx "system_tor|unix-chkpwd|usr\.sbin\.dhclient|Xorg|torbrowser\..*|usr\.lib\.libreoffice\..*" "$1"' \
                sh "$T/ls"
        check "$vm: no policy-rc.d left from the build in /usr/sbin (which lists nft: the listing worked)" \
                sh -c '! grep -qx "policy-rc.d" "$1" && grep -qx "nft" "$1"' sh "$T/ls"
        # The root filesystem is made from the tree by mke2fs on the host
        # (finalize-native.h): what its archive reader drops must be there
        # all the same.  systemd's tmpfiles gives /var/log/journal ACLs (the
        # group adm may read: tag 8, r-x, gid 4); perl-base ships perl under
        # two names of one file.
        check "$vm: /var/log/journal keeps its POSIX ACLs, access and default (group adm r-x)" \
                sh -c 'grep -Eq "^/var/log/journal system\.posix_acl_access [0-9a-f]*0800050004000000" "$1" &&
                        grep -Eq "^/var/log/journal system\.posix_acl_default [0-9a-f]*0800050004000000" "$1"' sh "$T/xattrs"
        check "$vm: a file of two names (perl) stays one file: 2 links each" \
                sh -c 'grep -qx "/usr/bin/perl 2" "$1" && grep -qx "/usr/bin/perl5.40.1 2" "$1"' sh "$T/nlink"
        diag_file "$T/err" 5
done

# Identity hygiene: nothing of the build appliance or the build host in
# the files the build writes or that packages fill in from their
# surroundings; the image's apt sources are the recipe's, over Tor.
host_name=$(hostname)
for vm in Whonix-Gateway Whonix-Workstation Whonix-Workstation-Desktop; do
        check "$vm: no appliance address (169.254.x, 10.0.2.x) in the files the build writes" \
                sh -c '! grep -Eq "169\.254\.|10\.0\.2\." "$1"' sh "$T/id-$vm"
        case $host_name in
        localhost | host | debian | "") diag "the build host's name '$host_name' is too common to search for" ;;
        *) check "$vm: the build host's name '$host_name' is in none of them (comments aside)" \
                sh -c '! grep -v "^[[:space:]]*#" "$2" | grep -qiw -- "$1"' sh "$host_name" "$T/id-$vm" ;;
        esac
        check "$vm: no /etc/apt/sources.list (debootstrap's, with the build's mirror), beside sources.list.d" \
                sh -c '! grep -qx "sources.list" "$1" && grep -qx "sources.list.d" "$1"' sh "$T/ls-$vm"
        for suite in "trixie trixie-updates" trixie-security; do
                check "$vm: apt sources: '$suite' over tor+https" \
                        sh -c 'grep -A1 "^URIs: tor+https://deb.debian.org/" "$1" | grep -qx "Suites: $2"' sh "$T/id-$vm" "$suite"
        done
        check "$vm: no plain http source" sh -c '! grep -Eq "^URIs: (http|https)://" "$1"' sh "$T/id-$vm"
done
check "Gateway: resolv.conf sends its own lookups to Tor (127.0.0.1)" grep -qx 'nameserver 127.0.0.1' "$T/id-Whonix-Gateway"
check "Gateway: apt uses its own SOCKS port 9104" grep -q '^Acquire::tor::Proxy "socks5h://apt-transport-tor@127.0.0.1:9104";' "$T/id-Whonix-Gateway"
for vm in Whonix-Workstation Whonix-Workstation-Desktop; do
        check "$vm: apt uses the Gateway's apt port 9104" \
                grep -q '^Acquire::tor::Proxy "socks5h://apt-transport-tor@10.152.152.10:9104";' "$T/id-$vm"
done
check "Whonix-Workstation-Desktop: apt sources carry contrib (torbrowser-launcher)" \
        grep -q '^Components: main contrib$' "$T/id-Whonix-Workstation-Desktop"
for vm in Whonix-Gateway Whonix-Workstation Whonix-Workstation-Desktop; do
        check "$vm.xml: a generic CPU model, not the host's" \
                sh -c 'grep -q "<model fallback=.forbid.>qemu64</model>" "$1" && ! grep -q "host-passthrough\|host-model" "$1"' \
                sh "$out/$vm.xml"
done

cp "$T/id-Whonix-Workstation" "$T/ws"
check "Workstation: DNS is the Gateway" grep -qx 'nameserver 10.152.152.10' "$T/ws"
check "Workstation: eth0 is 10.152.152.11 behind 10.152.152.10" \
        bash -c "grep -q 'address 10.152.152.11' '$T/ws' && grep -q 'gateway 10.152.152.10' '$T/ws'"
cp "$T/id-Whonix-Gateway" "$T/gw"
check "Gateway: Tor's TransPort is on the internal address" grep -q '^TransPort 10.152.152.10:9040' "$T/gw"
check "Gateway: eth1 is 10.152.152.10" grep -q 'address 10.152.152.10' "$T/gw"

done_testing
