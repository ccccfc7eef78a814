#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Kicksecure and Whonix hardening files say what DESIGN.md asks: the
# effective value of every sysctl in each flavor (files merged the way
# systemd-sysctl does: by file name, later wins), every blacklisted module,
# core dumps off, sudo's drop-in and its mode, and the fail-closed unit
# drop-ins (checked with systemd-analyze verify when it is installed).
. "$WB_SOURCE_ROOT/tests/lib.sh"

ov=$WB_SOURCE_ROOT/overlays
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# KEY VALUE FLAVORS (both / gateway / workstation)
sysctls='
kernel.kptr_restrict 2 both
kernel.dmesg_restrict 1 both
kernel.unprivileged_bpf_disabled 1 both
net.core.bpf_jit_harden 2 both
kernel.perf_event_paranoid 3 both
kernel.kexec_load_disabled 1 both
kernel.yama.ptrace_scope 2 both
kernel.sysrq 0 both
net.ipv4.tcp_timestamps 0 both
net.ipv4.conf.all.accept_redirects 0 both
net.ipv4.conf.default.accept_redirects 0 both
net.ipv4.conf.all.secure_redirects 0 both
net.ipv4.conf.default.secure_redirects 0 both
net.ipv6.conf.all.accept_redirects 0 both
net.ipv6.conf.default.accept_redirects 0 both
net.ipv4.conf.all.send_redirects 0 both
net.ipv4.conf.default.send_redirects 0 both
net.ipv4.conf.all.accept_source_route 0 both
net.ipv4.conf.default.accept_source_route 0 both
net.ipv6.conf.all.accept_source_route 0 both
net.ipv6.conf.default.accept_source_route 0 both
net.ipv4.conf.all.rp_filter 1 both
net.ipv4.conf.default.rp_filter 1 both
fs.suid_dumpable 0 both
kernel.core_pattern |/bin/false both
net.ipv4.ip_forward 0 both
net.ipv6.conf.all.disable_ipv6 1 both
net.ipv6.conf.default.disable_ipv6 1 both
net.ipv4.conf.all.arp_ignore 1 gateway
net.ipv4.conf.all.arp_announce 2 gateway
'

# Effective sysctls of a flavor: kicksecure's and the flavor's sysctl.d
# files sorted by name, "key = value" with blanks around "=" trimmed.
effective() {
        for f in "$ov"/kicksecure/etc/sysctl.d/*.conf "$ov/$1"/etc/sysctl.d/*.conf; do
                [ -f "$f" ] && printf '%s %s\n' "$(basename "$f")" "$f"
        done | sort | while read -r _ f; do
                sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's/^[[:space:]]*//' \
                    -e 's/[[:space:]]*=[[:space:]]*/=/' -e 's/[[:space:]]*$//' "$f"
        done | awk -F= '{ v[$1] = $2 } END { for (k in v) print k "=" v[k] }'
}

for flavor in whonix-gateway whonix-workstation; do
        effective "$flavor" >"$tmp/$flavor"
        echo "$sysctls" | while read -r key value which; do
                [ -n "$key" ] || continue
                case $which in both | "${flavor#whonix-}") ;; *) continue ;; esac
                got=$(sed -n "s|^$key=||p" "$tmp/$flavor")
                if [ "$got" = "$value" ]; then
                        echo "ok $key=$value"
                else
                        echo "not ok $key: want '$value', got '${got:-unset}'"
                fi
        done >"$tmp/$flavor.res"
        if grep -q '^not ok' "$tmp/$flavor.res"; then
                fail "$flavor: every required sysctl has its value"
                grep '^not ok' "$tmp/$flavor.res" | sed 's/^not ok /# /'
        else
                ok "$flavor: every required sysctl has its value ($(wc -l <"$tmp/$flavor.res") keys)"
        fi
done

# Read after systemd's /usr/lib/sysctl.d/50-default.conf (sysrq, rp_filter).
for f in "$ov"/*/etc/sysctl.d/*.conf; do
        n=$(basename "$f")
        check "sysctl.d/$n sorts after systemd's 50-default.conf" sh -c '[ "$(printf "%s\n" "$1" 50-default.conf | LC_ALL=C sort | tail -n 1)" = "$1" ]' sh "$n"
done

# Every module of DESIGN.md's list fails to load ("install M /bin/false";
# modprobe treats - and _ alike).
modules='firewire_core firewire_ohci firewire_sbp2 firewire_net thunderbolt
cramfs freevxfs jffs2 hfs hfsplus udf
dccp sctp rds tipc n_hdlc ax25 netrom x25 rose decnet econet af_802154 ipx appletalk psnap p8023 p8022 can atm'
cat "$ov"/kicksecure-initramfs/etc/modprobe.d/*.conf | sed -e 's/#.*//' | awk '$1 == "install" && $3 == "/bin/false" { gsub("-", "_", $2); print $2 }' >"$tmp/blocked"
missing=
for m in $modules; do
        grep -qx "$m" "$tmp/blocked" || missing="$missing $m"
done
if [ -z "$missing" ]; then
        ok "modprobe.d: all $(echo $modules | wc -w) modules are 'install M /bin/false'"
else
        fail "modprobe.d: modules not blocked:$missing"
fi

# Core dumps off beyond sysctl.
limits=$ov/kicksecure/etc/security/limits.d/90-kicksecure-coredump.conf
for who in '\*' root; do
        for kind in soft hard; do
                check "limits.d: $who $kind core 0" grep -Eq "^$who[[:space:]]+$kind[[:space:]]+core[[:space:]]+0\$" "$limits"
        done
done
check "coredump.conf.d: Storage=none" grep -qx 'Storage=none' "$ov"/kicksecure/etc/systemd/coredump.conf.d/*.conf
check "system.conf.d: DefaultLimitCORE=0" grep -qx 'DefaultLimitCORE=0' "$ov"/kicksecure/etc/systemd/system.conf.d/*.conf

# sudo: a name without "." (else ignored) and 0440 from the modes manifest.
check "sudoers.d/kicksecure-user grants user" grep -qx 'user ALL=(ALL:ALL) NOPASSWD: ALL' "$ov"/kicksecure/etc/sudoers.d/kicksecure-user
check "kicksecure.modes makes it 0440" grep -Eq '^0440[[:space:]]+etc/sudoers.d/kicksecure-user$' "$ov/kicksecure.modes"
if command -v visudo >/dev/null; then
        check "visudo accepts sudoers.d/kicksecure-user" visudo -c -q -f "$ov"/kicksecure/etc/sudoers.d/kicksecure-user
else
        skip_one "visudo is not installed (sudo): sudoers.d/kicksecure-user not checked by sudo itself"
fi

# The build-time script: valid shell, and run by the Kicksecure layer.
script=$WB_SOURCE_ROOT/recipes/scripts/kicksecure-harden.sh
check "kicksecure-harden.sh is valid sh" sh -n "$script"
# Its effect (NTP masked, nftables enabled) is checked in the booted
# guests in the anonymity boot (tests/e2e/login.sh), not from its text here.
check "kicksecure.conf runs kicksecure-harden.sh" grep -qx 'Scripts=scripts/kicksecure-harden.sh' "$WB_SOURCE_ROOT/recipes/kicksecure.conf"
if command -v shellcheck >/dev/null; then
        check "shellcheck kicksecure-harden.sh" shellcheck -s sh "$script"
        for s in whonix-gateway.sh whonix-workstation.sh whonix-workstation-desktop.sh; do
                check "shellcheck $s" shellcheck -s sh "$WB_SOURCE_ROOT/recipes/scripts/$s"
        done
        check "shellcheck whonix-selfcheck" shellcheck -s bash "$ov/kicksecure/usr/local/bin/whonix-selfcheck"
else
        skip_one "shellcheck is not installed: kicksecure-harden.sh not linted"
        skip_one "shellcheck is not installed: the flavors' scripts not linted"
        skip_one "shellcheck is not installed: whonix-selfcheck not linted"
fi

# Fail closed: both flavors make ifupdown's units require the firewall.
for flavor in whonix-gateway whonix-workstation; do
        for unit in networking.service ifup@.service; do
                d=$ov/$flavor/etc/systemd/system/$unit.d/50-whonix-firewall.conf
                check "$flavor: $unit Requires= and After= nftables.service" \
                        sh -c 'grep -qx "Requires=nftables.service" "$1" && grep -qx "After=nftables.service" "$1"' sh "$d"
        done
done
for unit in networking.service ifup@.service; do
        check "Gateway and Workstation $unit firewall drop-ins are identical" \
                diff -r "$ov/whonix-gateway/etc/systemd/system/$unit.d" "$ov/whonix-workstation/etc/systemd/system/$unit.d"
done

# systemd-analyze verify: a stand-in networking.service (the host may have
# no ifupdown) with our drop-in beside it; any message naming the drop-in
# (unknown key, bad section) or a missing nftables.service is a failure.
if command -v systemd-analyze >/dev/null && [ -f /lib/systemd/system/nftables.service ]; then
        mkdir -p "$tmp/units"
        printf '[Unit]\nDescription=stand-in\n[Service]\nType=oneshot\nExecStart=/bin/true\n' >"$tmp/units/networking.service"
        cp -r "$ov"/whonix-gateway/etc/systemd/system/networking.service.d "$tmp/units/"
        SYSTEMD_UNIT_PATH=$tmp/units: systemd-analyze verify "$tmp/units/networking.service" >"$tmp/verify" 2>&1
        if grep -Eq 'whonix-firewall|nftables' "$tmp/verify"; then
                fail "systemd-analyze verify: networking.service with the drop-in"
                diag_file "$tmp/verify"
        else
                ok "systemd-analyze verify: networking.service with the drop-in"
        fi
else
        skip_one "systemd-analyze or nftables.service is missing: the drop-in not verified by systemd"
fi

done_testing
