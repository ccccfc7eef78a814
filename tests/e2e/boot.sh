#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boot each built image under qemu (TCG) and check from outside that it
# reaches multi-user.target.  Network safety: the VMs get no NIC at all, and
# the Gateway's Tor has DisableNetwork 1; both changes live in a throwaway
# qcow2 overlay, the shipped image is never modified.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
need_appliance

T=$(mktemp -d)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
        rm -rf "$T"
}
trap cleanup EXIT
inspect="$WB_BUILD_ROOT/tests/wb-inspect"

ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }
out=$WB_E2E_IMAGES

# The probe: after multi-user.target, say so on the serial port with the
# hostname and the failed units.
cat >"$T/wb-probe.service" <<'UNIT'
[Unit]
Description=whonix-build boot test probe
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "WB-PROBE multi-user reached on $(cat /etc/hostname); failed: $(systemctl --failed --no-legend --plain | cut -d" " -f1 | tr "\\n" " ")" > /dev/ttyS0'

[Install]
WantedBy=multi-user.target
UNIT
printf 'DisableNetwork 1\n' >"$T/torrc-test"

for vm in Whonix-Gateway Whonix-Workstation; do
        sums_before=$(sha256sum "$out/$vm.qcow2" | cut -d' ' -f1)
        echo "$sums_before" >"$T/$vm.sum"
        ov="$T/$vm-test.qcow2"
        qemu-img create -q -f qcow2 -b "$out/$vm.qcow2" -F qcow2 "$ov"
        "$inspect" --rw "$ov" /dev/sda2 upload "$T/wb-probe.service" /etc/systemd/system/wb-probe.service &&
        "$inspect" --rw "$ov" /dev/sda2 ln-s /etc/systemd/system/wb-probe.service \
                /etc/systemd/system/multi-user.target.wants/wb-probe.service
        check "$vm: probe injected into a throwaway overlay" test $? -eq 0
        if [ "$vm" = Whonix-Gateway ]; then
                # torrc ends with %include /etc/tor/torrc.d/*.conf
                "$inspect" --rw "$ov" /dev/sda2 upload "$T/torrc-test" /etc/tor/torrc.d/50-test.conf
                check "$vm: Tor has DisableNetwork 1 in the test overlay" test $? -eq 0
        fi
        # No NIC at all (-nic none): nothing can leave this machine.
        qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp 1 -m 1024 -nodefaults -display none \
                -no-user-config -nic none -device virtio-rng-pci \
                -drive "file=$ov,if=virtio,format=qcow2" \
                -serial "file:$T/$vm.serial" -no-reboot >"$T/$vm.qemu" 2>&1 &
        pids+=($!)
done

start=$(date +%s)
limit=${WB_BOOT_TIMEOUT:-900}
for vm in Whonix-Gateway Whonix-Workstation; do
        until grep -q 'WB-PROBE multi-user reached' "$T/$vm.serial" 2>/dev/null; do
                [ $(( $(date +%s) - start )) -ge "$limit" ] && break
                sleep 2
        done
        took=$(( $(date +%s) - start ))
        line=$(grep -a 'WB-PROBE' "$T/$vm.serial" | head -n 1)
        diag "$vm: ${line:-no probe line} (after ${took} s)"
        check "$vm boots to multi-user.target under TCG" test -n "$line"
        check "$vm reports hostname 'host'" grep -aq 'WB-PROBE multi-user reached on host;' "$T/$vm.serial"
        [ -n "$line" ] || { grep -a . "$T/$vm.serial" | tail -n 25 | sed 's/^/# /'; cat "$T/$vm.qemu" | sed 's/^/# /'; }
done
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
pids=()

for vm in Whonix-Gateway Whonix-Workstation; do
        check "$vm: the shipped image was not modified" \
                test "$(sha256sum "$out/$vm.qcow2" | cut -d' ' -f1)" = "$(cat "$T/$vm.sum")"
done

done_testing
