#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Anonymity, end to end: the Workstation fetches a page from a web server
# through the Gateway and a private Tor network, and the server sees only
# Tor exit relays.
#
#   Workstation --(internal bridge)--> Gateway --(wbt0)--> test Tor network
#   10.152.152.11                      eth1 10.152.152.10    (tests/e2e/
#                                      eth0 DHCP on wbt0      tornet.sh) --> server
#
# The Workstation's probe (tests/e2e/anonymity-probe.sh, in an injected
# wb-anon.service) fetches the page (a) by plain TCP to the server's address
# (the Gateway's firewall sends it into Tor's TransPort), (b) through the
# Gateway's SOCKS ports 9100 and 9117 and as two SOCKS users on 9050, (c) by
# name through the Gateway's DNS (udp 53 -> Tor's DnsPort), then TCP.  The
# Gateway's probe logs Tor's bootstrap, its STREAM and CIRC events and its
# circuits.  The test then checks: every page arrived; the server's log
# shows only exit relays; differently isolated fetches rode different
# circuits; a capture of the Gateway's external network for the whole run
# holds nothing from the Gateway but ARP, DHCP and Tor's connections to the
# test relays, and nothing at all from the Workstation.
#
# The same boot also uses the pair as a person would (the usable Whonix):
# - the clock: the Gateway's virtual RTC starts in the year 2001 (its
#   floor, the build date, ten days back: Tor cannot bootstrap until the
#   clock is stepped forward to Tor's consensus), the Workstation's an
#   hour ahead, and later both are set an hour back while running;
#   whonix-timesync on each takes the
#   time from three onion services on the test network (a throwaway
#   timesync.conf.d file names them) and must end within a few seconds of
#   this host's clock, its fetches arriving on the time port (9108) only;
# - updates: apt on each VM updates from a signed test repository served by
#   name on the test network (tor+http://apt.wb-test) and installs its
#   package, through its apt port (9104); the server sees only exits;
# - stream isolation: curl, wget, git, ssh and gpg, as user and as root,
#   each reach Tor on their own port of Whonix's map (9117, 9109, 9107,
#   9106, 9105);
#   the Gateway's probe calibrates which SESSION_GROUP in Tor's events is
#   which listener.
# - connecting: the shipped Gateway waits for the first-connection choice
#   (DisableNetwork 1, the self-check's hint on the console; the capture
#   holds nothing but ARP and DHCP from it) until its probe runs
#   "whonix-connect direct"; once the Workstation is done with the rest
#   (it opens a stream to ws-done.wb-test, which the Gateway's probe sees
#   in Tor's events), the Gateway switches to the test network's obfs4
#   bridge relay (whonix-connect wait, then bridges FILE): from then on it
#   sends only to the bridge's obfs4 port, and the Workstation's later
#   fetches arrive from an exit;
# - the control port as root: everything that could reconfigure or stop
#   Tor, reveal relays or addresses or reach the cookie is refused;
# - the self-check fails, naming the cause, on the Gateway while it waits
#   and on the Workstation with its firewall flushed (then restored).
#
# Network safety (DESIGN.md): both VMs run inside the test network's
# namespace (tornet_spawn), their NICs taps on bridges there; no user-mode
# or NAT NIC, no route off the test subnet.  The Gateway's Tor knows only
# the test network's authorities (tornet_gateway_torrc, as
# /etc/tor/torrc.d/50-test.conf).  Every change to the images lives in
# throwaway qcow2 overlays; the shipped images are checked unmodified.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
. "$WB_SOURCE_ROOT/tests/e2e/tornet.sh"
. "$WB_SOURCE_ROOT/tests/e2e/aptrepo.sh"
. "$WB_SOURCE_ROOT/tests/e2e/login.sh"
t_start=$(date +%s)

[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces, bridges, taps)"
for tool in tor tor-gencert ip dnsmasq curl python3 ss tcpdump qemu-system-x86_64 qemu-img tar sha256sum gpg dpkg-deb; do
        command -v "$tool" >/dev/null || skip_all "$tool is not installed (tools/install-deps)"
done
ip netns add "wb-anon-probe-$$" 2>/dev/null || skip_all "cannot create network namespaces here"
ip netns del "wb-anon-probe-$$"
need_appliance

T=$(mktemp -d /tmp/wb-anon.XXXXXX)
cap_pids=()
inspect_pids=()
# Our own processes: the captures and the overlays' wb-inspect (tornet_stop
# stops the VMs and the rest).
stop_captures() {
        local p
        for p in "${cap_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
        for p in "${cap_pids[@]}"; do wait "$p" 2>/dev/null; done
        cap_pids=()
}
cleanup() {
        local p
        trap '' HUP INT PIPE TERM
        for p in "${inspect_pids[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
        stop_captures
        [ -n "${WB_ANON_KEEP:-}" ] && TORNET_KEEP=1 && echo "# kept $T and $TORNET_DIR"
        tornet_stop
        [ -n "${WB_ANON_KEEP:-}" ] || rm -rf "$T"
}
on_exit cleanup

inspect="$WB_BUILD_ROOT/tests/wb-inspect"
e2e=$WB_SOURCE_ROOT/tests/e2e
# Every SOCKS listener of the Gateway's Tor (overlays/whonix-gateway/etc/tor/torrc).
CAL_LISTENERS=$(sed -n 's/^SocksPort \([0-9.]*:[0-9]*\).*/\1/p' "$WB_SOURCE_ROOT/overlays/whonix-gateway/etc/tor/torrc" | tr '\n' ' ')
# The virtual RTCs: the Gateway's in the year 2001 (a dead battery, a
# virtual machine's default), from an image built ten days ago (its
# /usr/lib/clock-epoch, the clock's floor, in a throwaway file); the
# Workstation's an hour ahead.  Later both clocks are set an hour back
# while running.
GW_RTC_SKEW=$(( $(date -u -d 2001-06-01T12:00:00Z +%s) - $(date +%s) ))
GW_FLOOR_AGE=$((10 * 86400))
WS_RTC_SKEW=3600
GW_EXT_MAC=52:54:00:a5:00:01
GW_INT_MAC=52:54:00:a5:00:02
WS_MAC=52:54:00:a5:00:03
WS_IP=10.152.152.11
INT_NET=10.152.128.0/18
TAP_GW_EXT=wbagw0 TAP_GW_INT=wbagw1 TAP_WS=wbaws0 INT_BRIDGE=wbaint0

t=$(date +%s)
ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }
out=$WB_E2E_IMAGES
t_images=$(( $(date +%s) - t ))
for vm in Whonix-Gateway Whonix-Workstation; do
        sha256sum "$out/$vm.qcow2" | cut -d' ' -f1 >"$T/$vm.sum"
done

# --- the private Tor network ---------------------------------------------
# One name per tool and user, so that the streams tell them apart; the
# test's apt repository, served by the test server under /repo/.
TOOL_RUNS="curl-user curl-root wget-user wget-root git-user git-root ssh-user ssh-root gpg-user gpg-root"
TORNET_EXTRA_NAMES="apt.wb-test"
for r in $TOOL_RUNS local-9050 local-9150 ws-done nym-1 nym-2 nym-3; do TORNET_EXTRA_NAMES+=" $r.wb-test"; done
APT_TOKEN=wb-apt-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
if make_apt_repo "$T/apt" "$APT_TOKEN"; then
        ok "a signed test apt repository (wb-test-hello 1.0) made with a throwaway key"
else
        fail "a signed test apt repository made with a throwaway key"
fi
# The key again, armored, for gpg --fetch-keys.
gpg --homedir "$T/apt/gnupg" --batch --armor --export >"$T/apt/repo/wb-test.asc" 2>/dev/null
TORNET_REPO_DIR=$T/apt/repo
root_links=$(ip -o link show | awk -F': ' '{ print $2 }' | sort | tr '\n' ' ')
if tornet_start >"$T/tornet.out"; then
        ok "private Tor network up in namespace $TORNET_NS (ready after $TORNET_READY_SECS s)"
else
        fail "private Tor network up"
        diag_file "$T/tornet.out" 10
        tornet_dump_logs 15
        done_testing
        exit
fi
sed 's/^# //; s/^/# /' "$T/tornet.out"
if tornet_obfs4_bridge_start >"$T/bridge.out"; then
        ok "an obfs4 bridge relay on the test network ($TORNET_BRIDGE_IP:$TORNET_OBFS4_PORT, in no consensus)"
else
        fail "an obfs4 bridge relay on the test network"
        diag_file "$T/bridge.out" 5
fi
if tornet_onions_start 3 >"$T/onions.out"; then
        ok "three onion services serve the time on the test network ($(sed -n 's/.*reachable after //p' "$T/onions.out"))"
else
        fail "three onion services serve the time on the test network"
        diag_file "$T/onions.out" 5
fi

# --- the throwaway overlays ------------------------------------------------
# One tar per VM, unpacked by one appliance launch each (both at once): the
# probe and its unit, and for the Gateway the test network's torrc lines.
stage_overlay() { # NAME ROLE
        local s=$T/stage-$1 files
        mkdir -p "$s/etc/systemd/system/multi-user.target.wants" "$s/usr/local/lib/wb-anon" "$s/etc/tor/torrc.d" \
                "$s/etc/apt/wb-test.d" "$s/etc/apt/keyrings"
        # The test's apt source and key, and the onion services as the
        # clock's pools (a few seconds between retries: the test waits).
        printf 'Types: deb\nURIs: tor+http://apt.wb-test/repo/\nSuites: wb-test\nComponents: main\nSigned-By: %s\n' \
                /etc/apt/keyrings/wb-test.gpg >"$s/etc/apt/wb-test.d/wb-test.sources"
        cp "$T/apt/wb-test.gpg" "$s/etc/apt/keyrings/wb-test.gpg"
        chmod 0644 "$s/etc/apt/wb-test.d/wb-test.sources" "$s/etc/apt/keyrings/wb-test.gpg"
        chmod 0755 "$s/etc/apt/wb-test.d" "$s/etc/apt/keyrings"
        cat >"$s/etc/systemd/system/wb-anon.service" <<UNIT
[Unit]
Description=whonix-build anonymity test probe ($2)
After=network.target
# The Gateway's probe subscribes to Tor's events as soon as its control
# port is up, long before the Workstation's first stream (which waits for
# Tor's bootstrap): so it starts before Tor.
$([ "$2" = gateway ] && echo "Before=tor@default.service")

[Service]
Type=simple
ExecStart=/bin/bash /usr/local/lib/wb-anon/anonymity-probe.sh $2

[Install]
WantedBy=multi-user.target
UNIT
        ln -s ../wb-anon.service "$s/etc/systemd/system/multi-user.target.wants/wb-anon.service"
        install -m 0755 "$e2e/anonymity-probe.sh" "$s/usr/local/lib/wb-anon/anonymity-probe.sh"
        chmod 0755 "$s/usr/local/lib/wb-anon"
        files="etc/systemd/system/wb-anon.service etc/systemd/system/multi-user.target.wants/wb-anon.service
                usr/local/lib/wb-anon usr/local/lib/wb-anon/anonymity-probe.sh
                etc/apt/wb-test.d etc/apt/wb-test.d/wb-test.sources etc/apt/keyrings etc/apt/keyrings/wb-test.gpg
                $(tornet_timesync_stage "$s")"
        case $2 in
        gateway)
                tornet_gateway_torrc "$s/etc/tor/torrc.d/50-test.conf"
                chmod 0644 "$s/etc/tor/torrc.d/50-test.conf"
                printf 'CAL_LISTENERS="%s"\nBRIDGE_LINE="%s"\n' "$CAL_LISTENERS" "${TORNET_BRIDGE_LINE:-}" \
                        >"$s/usr/local/lib/wb-anon/env"
                mkdir -p "$s/usr/lib"
                : >"$s/usr/lib/clock-epoch"
                chmod 0644 "$s/usr/lib/clock-epoch"
                touch -d "@$(( $(date +%s) - GW_FLOOR_AGE ))" "$s/usr/lib/clock-epoch"
                files="$files etc/tor/torrc.d/50-test.conf usr/local/lib/wb-anon/env usr/lib/clock-epoch"
                ;;
        workstation)
                printf 'SERVER_IP=%s\nSERVER_PORT=%s\nSERVER_NAME=%s\nWAIT_SECS=%s\nLATE_SECS=%s\n' "$TORNET_SERVER_IP" \
                        "$TORNET_SERVER_PORT" "$TORNET_SERVER_NAME" "${WB_ANON_WS_WAIT:-600}" 600 \
                        >"$s/usr/local/lib/wb-anon/env"
                files="$files usr/local/lib/wb-anon/env"
                ;;
        esac
        # shellcheck disable=SC2086
        tar --owner=0 --group=0 --numeric-owner --no-recursion -C "$s" -cf "$T/$1.tar" $files
}
# make_overlay NAME IMAGE ROLE: starts wb-inspect in the background
# ($! is its PID: cleanup stops it).
make_overlay() {
        stage_overlay "$1" "$3" &&
        qemu-img create -q -f qcow2 -b "$out/$2.qcow2" -F qcow2 "$T/$1.qcow2" || return 1
        "$inspect" --rw "$T/$1.qcow2" /dev/sda2 tar-in "$T/$1.tar" / >"$T/$1.inspect" 2>&1 </dev/null &
}
t=$(date +%s)
r1=1 r2=1
make_overlay gw Whonix-Gateway gateway && inspect_pids+=($!) && p1=$!
make_overlay ws Whonix-Workstation workstation && inspect_pids+=($!) && p2=$!
[ -n "${p1:-}" ] && { wait "$p1"; r1=$?; }
[ -n "${p2:-}" ] && { wait "$p2"; r2=$?; }
inspect_pids=()
check "probes and the test network's torrc injected into throwaway overlays ($(( $(date +%s) - t )) s)" \
        test $((r1 + r2)) -eq 0
for n in gw ws; do [ -s "$T/$n.inspect" ] && diag_file "$T/$n.inspect" 5; done
check "the Gateway's test torrc names only the test network's 3 authorities" \
        test "$(grep -c '^DirAuthority ' "$T/stage-gw/etc/tor/torrc.d/50-test.conf")" -eq 3

# --- networks, captures, VMs -----------------------------------------------
# wbt0 is the Gateway's external network; the internal network is a bridge
# of its own with the Gateway's eth1 and the Workstation's eth0 on it.
if tornet_bridge_add "$INT_BRIDGE" && tornet_tap_add "$TAP_GW_EXT" &&
        tornet_tap_add "$TAP_GW_INT" "$INT_BRIDGE" && tornet_tap_add "$TAP_WS" "$INT_BRIDGE"; then
        ok "taps: Gateway eth0 on $TORNET_BRIDGE, Gateway eth1 and Workstation eth0 on $INT_BRIDGE"
else
        fail "taps: Gateway eth0 on $TORNET_BRIDGE, Gateway eth1 and Workstation eth0 on $INT_BRIDGE"
fi
# The whole external network (wbt0: what reaches the relays, the server
# and dnsmasq) and the Gateway's external NIC itself (every frame it sends,
# whoever it is for).  -Z root: tcpdump would drop to a user who cannot
# write $T.
for i in "$TORNET_BRIDGE" "$TAP_GW_EXT"; do
        ip netns exec "$TORNET_NS" tcpdump -Z root -n -U -s 256 -i "$i" -w "$T/$i.pcap" \
                >"$T/tcpdump-$i.log" 2>&1 </dev/null &
        cap_pids+=($!)
done
for _ in $(seq 100); do
        [ "$(cat "$T"/tcpdump-*.log 2>/dev/null | grep -c 'listening on')" -eq 2 ] && break
        sleep 0.1
done
check "captures running on $TORNET_BRIDGE and $TAP_GW_EXT" \
        test "$(cat "$T"/tcpdump-*.log | grep -c 'listening on')" -eq 2

# boot NAME RTC-SKEW [TAP MAC]...: one VM in the test network's namespace,
# its RTC SKEW seconds off the true time, its NICs in this order (eth0,
# eth1: net.ifnames=0), console on ttyS0, probe on ttyS1 (each line also
# stamped with this host's clock as it appears, NAME.probe-ts).
boot() {
        local name=$1 rtc nics=() i=0
        rtc=$(date -u -d "@$(( $(date +%s) + $2 ))" +%Y-%m-%dT%H:%M:%S)
        shift 2
        while [ $# -ge 2 ]; do
                nics+=(-netdev "tap,id=n$i,ifname=$1,script=no,downscript=no"
                        -device "virtio-net-pci,netdev=n$i,mac=$2")
                i=$((i + 1))
                shift 2
        done
        : >"$T/$name.probe"
        tornet_spawn "$TORNET_NS" "$T/$name.qemu" qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp 1 \
                -m 1024 -nodefaults -no-user-config -display none "${nics[@]}" -device virtio-rng-pci \
                -drive "file=$T/$name.qcow2,if=virtio,format=qcow2" -rtc "base=$rtc" \
                -chardev "socket,id=con0,path=$T/$name.sock,server=on,wait=off,logfile=$T/$name.console" \
                -serial chardev:con0 -serial "file:$T/$name.probe" -no-reboot
        eval "pid_$name=\$!"
        python3 "$WB_SOURCE_ROOT/tests/helpers/serial-log.py" "$T/$name.probe" "$T/$name.probe-ts" &
        cap_pids+=($!)
}
lines() { tr -d '\r' <"$T/$1.probe" | grep -a "^WBANON "; }
# has_all TEXT PATTERN...: TEXT matches every (grep) PATTERN.
has_all() {
        local text=$1 p
        shift
        for p; do grep -q -- "$p" <<<"$text" || return 1; done
}
# stamp VM PATTERN: this host's clock when the VM's first probe line
# matching PATTERN (grep, after "WBANON ") arrived; empty if none did.
stamp() { grep -a " WBANON $2" "$T/$1.probe-ts" | head -n 1 | cut -d' ' -f1; }
# The Gateway's switch to the bridge is over: it failed, or a Workstation
# fetch succeeded after it.
through_bridge() {
        local t_b
        # bridge-status is the probe's last line of the switch.
        lines gw | grep -q '^WBANON gateway bridge-status ' || return 1
        lines gw | grep -q '^WBANON gateway bridge rc=0 ' || return 0
        t_b=$(stamp gw 'gateway bridge rc=0 ')
        grep -a ' WBANON workstation late [0-9]* rc=0 ' "$T/ws.probe-ts" | awk -v t="$t_b" '$1 > t { f = 1 } END { exit !f }'
}
t_vms=$(date +%s)
boot gw "$GW_RTC_SKEW" "$TAP_GW_EXT" "$GW_EXT_MAC" "$TAP_GW_INT" "$GW_INT_MAC"
boot ws "$WS_RTC_SKEW" "$TAP_WS" "$WS_MAC"
# The person at the Gateway's console (tests/helpers/console.py): when the
# probe's cue shows that the Gateway has waited (and the capture has seen
# it send nothing), presses Enter at the shell the console logged in,
# types "sudo whonix-connect", reads the menu and answers 1 (directly),
# asks for the status, then goes through the login session of
# tests/e2e/login.sh.  At the Workstation's console, the same session once
# the boot is over.
python3 "$WB_SOURCE_ROOT/tests/helpers/console.py" "$T/gw.sock" "$T/gw.typed" "${WB_ANON_TIMEOUT:-1080}" \
        "WB-PROBE first-connection:" 'user@host:~\$ $' -- \
        'sudo whonix-connect' '@expect Choice \[1-6\]: ' '@type 1' 'sudo whonix-connect status' \
        "${LOGIN_COMMANDS[@]}" >"$T/gw.login" 2>&1 &
console_pid=$!
python3 "$WB_SOURCE_ROOT/tests/helpers/console.py" "$T/ws.sock" "$T/ws.typed" "${WB_ANON_TIMEOUT:-1080}" \
        "WB-PROBE multi-user reached" 'user@host:~\$ $' -- "${LOGIN_COMMANDS[@]}" >"$T/ws.login" 2>&1 &
console_ws_pid=$!
sleep 1
root_ns=$(readlink /proc/1/ns/net)
check "network safety: both qemus run in $TORNET_NS, not the root namespace" \
        sh -c '[ -e "/proc/$1" ] && [ -e "/proc/$2" ] &&
                [ "$(readlink "/proc/$1/ns/net")" != "$3" ] && [ "$(readlink "/proc/$2/ns/net")" != "$3" ]' \
        sh "$pid_gw" "$pid_ws" "$root_ns"
check "network safety: the root namespace got no interface" \
        test "$(ip -o link show | awk -F': ' '{ print $2 }' | sort | tr '\n' ' ')" = "$root_links"

# Wait for the Workstation's "done" (its probe waits for the Gateway's
# Tor), then for one more circuit dump of the Gateway after it.
limit=${WB_ANON_TIMEOUT:-1080}
t_boot_gw= t_boot_ws= t_bootstrap=
while :; do
        now=$(( $(date +%s) - t_vms ))
        [ -z "$t_boot_gw" ] && lines gw | grep -q '^WBANON gateway start' && t_boot_gw=$now
        [ -z "$t_boot_ws" ] && lines ws | grep -q '^WBANON workstation start' && t_boot_ws=$now
        [ -z "$t_bootstrap" ] && lines gw | grep -q '^WBANON gateway \(bootstrapped\|bootstrap-failed\)' &&
                t_bootstrap=$now
        lines ws | grep -q '^WBANON workstation done' && lines gw | grep -q '^WBANON gateway usable-done' &&
                through_bridge && ! kill -0 "$console_pid" 2>/dev/null && ! kill -0 "$console_ws_pid" 2>/dev/null &&
                break
        for p in "$pid_gw" "$pid_ws"; do kill -0 "$p" 2>/dev/null || break 2; done
        [ "$now" -ge "$limit" ] && break
        sleep 2
done
t_done=$(( $(date +%s) - t_vms ))
diag "VMs: probes started after ${t_boot_gw:-?} s (Gateway), ${t_boot_ws:-?} s (Workstation);" \
        "Gateway's Tor bootstrapped after ${t_bootstrap:-?} s; Workstation done after $t_done s"
last_cs() { lines gw | awk '$3 ~ /^cs[0-9]+$/ && $4 == "end" { n = substr($3, 3) } END { print n + 0 }'; }
cs_at_done=$(last_cs)
for _ in $(seq 30); do [ "$(last_cs)" -gt "$cs_at_done" ] && break; sleep 1; done
cs=$(last_cs)

# Stop the VMs, then the captures: the record is complete.
for p in "$pid_gw" "$pid_ws"; do kill -TERM "$p" 2>/dev/null; done
for p in "$pid_gw" "$pid_ws"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
done
sleep 1
stop_captures
kill "$console_pid" "$console_ws_pid" 2>/dev/null
wait "$console_pid" "$console_ws_pid" 2>/dev/null
t_vm_secs=$(( $(date +%s) - t_vms ))

for n in gw ws; do
        role=gateway
        [ "$n" = ws ] && role=workstation
        if ! lines "$n" | grep -q "^WBANON $role \(done\|cs1 end\)"; then
                diag "$n: the probe did not finish; console tail:"
                tr -d '\r' <"$T/$n.console" | grep -a . | tail -n 25 | sed 's/^/#   /'
                diag_file "$T/$n.qemu" 5
        fi
        lines "$n" | grep -a "^WBANON $role \(start\|phase\|bootstrap\|eth0\|journal\|gateway-ready\|fetch\|dns\|done\)" |
                cut -c1-200 | sed 's/^/# /'
done

# --- the boot and the console, as a person finds them ---------------------
for n in gw ws; do
        role=gateway vm=Whonix-Gateway
        [ "$n" = ws ] && role=workstation vm=Whonix-Workstation
        res=$(lines "$n" | grep "^WBANON $role booted " | head -n 1)
        diag "$vm: ${res#WBANON $role }"
        check "$vm boots to multi-user.target under TCG, the system running (${res#WBANON $role booted })" \
                grep -q ' state=running ' <<<"$res"
        check "$vm reports hostname 'host'" grep -q ' host=host ' <<<"$res"
        check "$vm: no systemd unit failed" grep -q ' failed:$' <<<"$res"
        check "$vm: the first boot redid none of the image's caches (ldconfig, hwdb, journal catalog: the update stamps)" \
                grep -q ' redone: failed:' <<<"$res"
done
login_checks Whonix-Gateway "$T/gw.login" 4
login_checks Whonix-Workstation "$T/ws.login" 0

# --- the first connection: the Gateway waited for it ----------------------
# The shipped Gateway ([Tor] ConnectAtBoot=no) waits until its user runs
# whonix-connect; after the self-check's hint appeared (and at least 20 s of
# waiting) the test typed "sudo whonix-connect" at the console and chose 1.
res=$(lines gw | grep '^WBANON gateway waiting ' | head -n 1)
check "first connection: Tor started with DisableNetwork 1 (${res#WBANON gateway })" \
        grep -q '250 DisableNetwork=1' <<<"$res"
res=$(lines gw | grep '^WBANON gateway waiting-status ' | head -n 1)
check "first connection: whonix-connect status says the image waits for a choice" \
        grep -q 'chosen: wait|Tor is waiting for a choice (DisableNetwork 1): run whonix-connect|' <<<"$res"
diag "${res#WBANON gateway }"
check "first connection: the self-check told the console to run whonix-connect" \
        grep -q 'Tor waits for the first-connection choice: log in and run: sudo whonix-connect' "$T/gw.console"
# The console session, as the person saw it.
typed() { sed -n "s/^CMD $1 rc=\([-0-9]*\) out=/\1 /p" "$T/gw.login" | python3 -c 'import json, sys
for l in sys.stdin:
    rc, out = l.split(" ", 1)
    print("rc=" + rc); print(json.loads(out))'; }
grep -q '^FAIL' "$T/gw.login" && diag "console: $(grep '^FAIL' "$T/gw.login")"
res=$(typed 1)
diag_text() { printf '%s\n' "$1" | grep -v '^$' | tail -n "$2" | cut -c1-160 | sed 's/^/#   /'; }
diag "console: sudo whonix-connect (answered 1):"
diag_text "$res" 12
check "first connection, typed at the console: 'sudo whonix-connect' shows the menu of six choices" \
        has_all "$res" '^How should this Gateway connect to the Tor network?$' '^  1  directly' '^  6  not now' 'Choice \[1-6\]: 1$'
check "first connection, typed at the console: choice 1 ends after Tor's 100% and a new circuit, exit 0" \
        has_all "$res" '^rc=0$' 'Tor: 100%  Done' 'Tor: a new circuit was built: connected'
res=$(typed 4)
check "first connection, typed at the console: 'sudo whonix-connect status' then says direct, 100%" \
        has_all "$res" '^rc=0$' 'chosen: direct' '100%'
diag_text "$res" 6
# Every packet the Gateway sent before the choice, on its own NIC.
t_choice=$(stamp gw 'gateway connect-start ')
t_first=$(stamp gw 'gateway start ')
tcpdump -n -tt -e -r "$T/$TAP_GW_EXT.pcap" "ether src $GW_EXT_MAC and not arp and not (udp and src port 68 and dst port 67)" \
        2>/dev/null | awk -v t="${t_choice:-0}" '$1 < t' >"$T/before-choice"
check "first connection: before the choice ($(awk -v a="${t_first:-0}" -v b="${t_choice:-0}" 'BEGIN { printf "%.0f", b - a }') s after the probe started) the Gateway sent nothing but ARP and DHCP" \
        sh -c '[ -n "$1" ] && [ ! -s "$2" ]' sh "$t_choice" "$T/before-choice"
[ -s "$T/before-choice" ] && diag_file "$T/before-choice" 5

# --- later: the same Gateway through the obfs4 bridge ---------------------
res=$(lines gw | grep '^WBANON gateway bridge-wait ' | head -n 1)
check "bridge: whonix-connect wait exits 0 (Tor closes its connections)" grep -q '^WBANON gateway bridge-wait rc=0 ' <<<"$res"
res=$(lines gw | grep '^WBANON gateway bridge rc=' | head -n 1)
diag "${res:0:400}"
check "bridge: whonix-connect bridges FILE (the test bridge's obfs4 line) exits 0 after a new circuit" \
        grep -q '^WBANON gateway bridge rc=0 .*|Tor: a new circuit was built: connected' <<<"$res"
res=$(lines gw | grep '^WBANON gateway bridge-status ' | head -n 1)
diag "${res#WBANON gateway }"
check "bridge: whonix-connect status says bridges, 100%, a working circuit" \
        has_all "$res" 'rc=0 out=|chosen: bridges|Tor: 100%  Done|' '|Tor: has working circuit$'
t_bridge=$(stamp gw 'gateway bridge-start ')
t_bridge_ok=$(stamp gw 'gateway bridge rc=0 ')
late=$(grep -a ' WBANON workstation late [0-9]* rc=0 ' "$T/ws.probe-ts" | awk -v t="${t_bridge_ok:-9e12}" '$1 > t { print $5; exit }')
peer=$(awk -v p="/late-${late:-none}" '$4 == p { print $1 }' "$TORNET_HTTP_LOG" | tail -n 1)
check "bridge: a later Workstation fetch (late-${late:-none}) arrived through it, the server saw an exit (${peer:-none})" \
        sh -c 'case " $1 " in *" $2 "*) ;; *) exit 1 ;; esac' sh "$TORNET_EXIT_IPS" "${peer:-none}"
tcpdump -n -tt -r "$T/$TAP_GW_EXT.pcap" "ether src $GW_EXT_MAC and ip and not (udp and src port 68 and dst port 67)" \
        2>/dev/null | awk -v t="${t_bridge:-9e12}" '$1 >= t { sub(/:$/, "", $5); print $5 }' | sort | uniq -c >"$T/after-bridge"
check "bridge: from the switch on, the Gateway sent only to the bridge's obfs4 port $TORNET_BRIDGE_IP:$TORNET_OBFS4_PORT ($(awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }' "$T/after-bridge"))" \
        sh -c '[ -n "$1" ] && [ "$(awk "{ print \$2 }" "$2")" = "$3" ]' sh "$t_bridge" "$T/after-bridge" "$TORNET_BRIDGE_IP.$TORNET_OBFS4_PORT"

# --- the Gateway's Tor ----------------------------------------------------
bs=$(lines gw | grep '^WBANON gateway bootstrapped ' | head -n 1)
if [ -n "$bs" ]; then
        ok "the Gateway's Tor bootstrapped in the private network (${bs#WBANON gateway bootstrapped })"
else
        fail "the Gateway's Tor bootstrapped in the private network"
fi
gw_ext_ip=$(awk -v m="$GW_EXT_MAC" 'tolower($2) == m { print $3 }' "$TORNET_DIR/dnsmasq.leases" 2>/dev/null | tail -n 1)
case $gw_ext_ip in
"$TORNET_PREFIX".*) ok "the Gateway's eth0 got $gw_ext_ip from the test network's DHCP" ;;
*) fail "the Gateway's eth0 got an address from the test network's DHCP"; gw_ext_ip=none ;;
esac

# --- the fetches ----------------------------------------------------------
is_exit() { case " $TORNET_EXIT_IPS " in *" $1 "*) return 0 ;; esac; return 1; }
declare -A port_of exit_of
# fetch_check NAME DESCRIPTION: the page arrived, and the server saw the
# request from an exit.  No result line at all is a failure.
fetch_check() {
        local name=$1 desc=$2 line body peers p bad=
        line=$(lines ws | grep "^WBANON workstation fetch $name " | tail -n 1)
        if [ -z "$line" ]; then
                fail "$name: $desc: the page arrived (no result: the probe did not get this far)"
                fail "$name: the server saw the request from an exit relay (no result)"
                return
        fi
        body=${line#* body=}
        port_of[$name]=$(sed -n 's/.* port=\([0-9]*\) .*/\1/p' <<<"$line")
        if [ "$body" = "wb-tornet-page $TORNET_TOKEN path=/$name" ]; then
                ok "$name: $desc: the page arrived ($(grep -o 'tries=[0-9]*' <<<"$line"))"
        else
                fail "$name: $desc: the page arrived"
                diag "${line#WBANON workstation }"
        fi
        peers=$(awk -v p="/$name" '$4 == p { print $1 }' "$TORNET_HTTP_LOG" | sort -u | tr '\n' ' ')
        peers=${peers% }
        for p in $peers; do is_exit "$p" || bad+=" $p"; done
        if [ -n "$peers" ] && [ -z "$bad" ]; then
                ok "$name: the server saw the request from exit relay $peers"
                exit_of[$name]=$peers
        else
                fail "$name: the server saw the request from an exit relay ($TORNET_EXIT_IPS)"
                diag "server saw: ${peers:-nothing}"
        fi
}
fetch_check trans "(a) plain TCP to $TORNET_SERVER_IP:$TORNET_SERVER_PORT, into the Gateway's TransPort"
fetch_check socks-9100 "(b) SOCKS port 9100, the name resolved by Tor"
fetch_check socks-9117 "(b) SOCKS port 9117, the name resolved by Tor"
fetch_check socks-user-a "(b) SOCKS port 9050, user wb-a"
fetch_check socks-user-b "(b) SOCKS port 9050, user wb-b"
dns=$(lines ws | grep "^WBANON workstation dns " | tail -n 1)
if [ -z "$dns" ]; then
        fail "(c) $TORNET_SERVER_NAME resolved through the Gateway's DNS (no result)"
elif [ "$(sed -n 's/.* addr=\([^ ]*\).*/\1/p' <<<"$dns")" = "$TORNET_SERVER_IP" ]; then
        ok "(c) $TORNET_SERVER_NAME resolved through the Gateway's DNS to $TORNET_SERVER_IP"
else
        fail "(c) $TORNET_SERVER_NAME resolved through the Gateway's DNS to $TORNET_SERVER_IP"
        diag "$dns"
fi
fetch_check byname "(c) by name: the Gateway's DNS, then plain TCP"
check "the Gateway's Tor resolved $TORNET_SERVER_NAME through an exit (dnsmasq saw the exit's query)" \
        grep -qi "config $TORNET_SERVER_NAME is $TORNET_SERVER_IP" "$TORNET_DIR/dnsmasq.log"

# Every request the server got, not only the last of each fetch.
all_peers=$(awk '{ print $1 }' "$TORNET_HTTP_LOG" | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
bad=$(awk '{ print $1 }' "$TORNET_HTTP_LOG" | sort -u | while read -r a; do is_exit "$a" || echo "$a"; done | tr '\n' ' ')
n_req=$(wc -l <"$TORNET_HTTP_LOG")
check "all $n_req requests the server got came from exit relays ($all_peers)" test "$n_req" -gt 0 -a -z "$bad"
check "none came from the Gateway's external address ($gw_ext_ip) or the Workstation's ($WS_IP)" \
        sh -c '! awk "{ print \$1 }" "$1" | grep -qxF -e "$2" -e "$3"' sh "$TORNET_HTTP_LOG" "$gw_ext_ip" "$WS_IP"

# --- stream isolation -----------------------------------------------------
# The Gateway's STREAM events name the circuit of each stream and its
# source (the Workstation's address and the local port curl reported).
# Circuits of one conflux set count as one (the last circuit dump says).
lines gw | awk '$3 == "ev" { $1 = $2 = $3 = ""; sub(/^ +/, ""); print }' >"$T/events"
lines gw | awk -v cs="cs$cs" '$3 == cs && $4 != "end" { $1 = $2 = $3 = ""; sub(/^ +/, ""); print }' |
        sed 's/^250[-+ ]circuit-status=//' >"$T/circuits"
# Tor names the source only in a stream's NEW event, the circuit in the
# later ones (a TransPort stream gets no SUCCEEDED event: there is no SOCKS
# reply; the last attachment counts).
# circ_of_new WORD: the circuit of the stream whose NEW event has WORD (its
# target, or SOURCE_ADDR=...) among its fields.
circ_of_new() {
        awk -v w="$1" '/ ws-done\.wb-test:80 / { exit }
                $1 != "650" || $2 != "STREAM" { next }
                $4 == "NEW" { for (i = 6; i <= NF; i++) if ($i == w) id = $3 }
                $4 ~ /^(SENTCONNECT|REMAP|SUCCEEDED)$/ && id != "" && $3 == id && $5 != "0" { c = $5 }
                END { print c }' "$T/events"
}
circ_of() { circ_of_new "SOURCE_ADDR=$WS_IP:$1"; } # local port: the stream from $WS_IP:PORT
set_of() { # circuit: its conflux set, or the circuit itself
        local c
        [ -n "$1" ] || return 0
        c=$(awk -v id="$1" '$1 == id { for (i = 2; i <= NF; i++) if ($i ~ /^CONFLUX_ID=/) { sub(/^CONFLUX_ID=/, "", $i); print $i } }' \
                "$T/circuits" | tail -n 1)
        echo "${c:-circuit-$1}"
}
path_of() { awk -v id="$1" '$1 == id { print $3 }' "$T/circuits" | sed 's/\$[0-9A-F]*~//g' | tail -n 1; }
declare -A set_of_fetch nym_set
for f in trans socks-9100 socks-9117 socks-user-a socks-user-b byname; do
        c=
        [ -n "${port_of[$f]:-}" ] && [ "${port_of[$f]}" != 0 ] && c=$(circ_of "${port_of[$f]}")
        set_of_fetch[$f]=$(set_of "$c")
        diag "$f: port ${port_of[$f]:-?}, circuit ${c:-?} (${set_of_fetch[$f]:-?}), path $(path_of "$c")"
done
# isolated A B: the fetches' streams were found, on different circuits.
isolated() {
        local a=${set_of_fetch[$1]:-} b=${set_of_fetch[$2]:-}
        if [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]; then
                ok "isolation: $1 and $2 rode different circuits ($a, $b)"
        else
                fail "isolation: $1 and $2 rode different circuits (${a:-not found}, ${b:-not found})"
        fi
}
isolated socks-9100 socks-9117
isolated socks-user-a socks-user-b
isolated trans socks-9100
isolated byname socks-9117

# New identity: the circuit (conflux set) of each "nym" fetch.  Its name
# is the target only in the stream's NEW event (the exit's answer remaps it
# to the address).
for n in 1 2 3; do
        c=$(circ_of_new "nym-$n.wb-test:80")
        nym_set[$n]=$(set_of "$c")
        res=$(lines ws | grep "^WBANON workstation nym $n " | head -n 1)
        diag "nym-$n: circuit ${c:-?} (${nym_set[$n]:-?}), path $(path_of "$c"); ${res#WBANON workstation }"
done
check "new identity: two fetches as one SOCKS user before SIGNAL NEWNYM rode one circuit (${nym_set[1]:-?}, ${nym_set[2]:-?})" \
        sh -c '[ -n "$1" ] && [ "$1" = "$2" ]' sh "${nym_set[1]:-}" "${nym_set[2]:-}"
check "new identity: after SIGNAL NEWNYM through the Workstation's control port, a new stream of the same user rode a new circuit (${nym_set[3]:-?})" \
        sh -c '[ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]' sh "${nym_set[1]:-}" "${nym_set[3]:-}"
[ "$(grep -c '^650 STREAM' "$T/events")" -gt 0 ] || diag "no STREAM events from the Gateway"

# Which of Tor's listeners took each kind of traffic, by the NEW event of
# the Workstation's stream: the plain TCP connection by name arrived at the
# TransPort (the firewall's redirect), the SOCKS fetches at SOCKS ports, and
# the name lookup at the DnsPort (udp 53 redirected).  Only the events
# before the Workstation's "done" stream (ws-done.wb-test): its later
# fetches through the bridge may reuse a source port.
proto_of() { # NEW|NEWRESOLVE PORT
        awk -v ev="$1" -v src="SOURCE_ADDR=$WS_IP:$2" '/ ws-done\.wb-test:80 / { exit }
                $1 == "650" && $2 == "STREAM" && $4 == ev {
                hit = 0; p = ""
                for (i = 6; i <= NF; i++) { if ($i == src) hit = 1; if ($i ~ /^CLIENT_PROTOCOL=/) p = substr($i, 17) }
                if (hit) print p }' "$T/events" | tail -n 1
}
p=$(proto_of NEW "${port_of[trans]:-0}")
check "(a) Tor got the Workstation's plain TCP connection on its TransPort (CLIENT_PROTOCOL=${p:-not found})" \
        test "$p" = TRANS
p=$(proto_of NEW "${port_of[byname]:-0}")
check "(c) by name: Tor got the Workstation's TCP connection on its TransPort (CLIENT_PROTOCOL=${p:-not found})" \
        test "$p" = TRANS
p=$(proto_of NEW "${port_of[socks-9100]:-0}")
check "(b) port 9100: Tor got the Workstation's stream as SOCKS5 (CLIENT_PROTOCOL=${p:-not found})" test "$p" = SOCKS5
p=$(awk -v name="$TORNET_SERVER_NAME:0" -v src="SOURCE_ADDR=$WS_IP:" '$1 == "650" && $2 == "STREAM" &&
        $4 == "NEWRESOLVE" && $5 == "0" && $6 == name && index($7, src) == 1 {
                for (i = 8; i <= NF; i++) if ($i ~ /^CLIENT_PROTOCOL=/) print substr($i, 17) }' "$T/events" | sort -u | paste -sd,)
check "(c) the Workstation's lookup of $TORNET_SERVER_NAME reached Tor's DnsPort (CLIENT_PROTOCOL=${p:-not found})" \
        test "$p" = DNS

# --- the usable Whonix: the clock, updates, a Tor port per tool -----------
# Which listener is which: the session group of the Gateway's calibration
# stream through each SOCKS port.
declare -A group_of
for a in $CAL_LISTENERS; do
        group_of[$a]=$(awk -v t="cal-$(tr .: -- <<<"$a").wb-test:80" '$1 == "650" && $2 == "STREAM" && $4 == "NEW" && $6 == t {
                for (i = 7; i <= NF; i++) if ($i ~ /^SESSION_GROUP=/) print substr($i, 15) }' "$T/events" | tail -n 1)
done
n_listeners=$(wc -w <<<"$CAL_LISTENERS")
n_groups=$(printf '%s\n' "${group_of[@]}" | grep -c .)
n_distinct=$(printf '%s\n' "${group_of[@]}" | grep . | sort -u | wc -l)
check "calibration: each of Tor's $n_listeners SOCKS listeners has a session group of its own ($n_groups found, $n_distinct distinct)" \
        test "$n_groups" -eq "$n_listeners" -a "$n_distinct" -eq "$n_listeners"
# stream_groups TARGET-PREFIX SOURCE: the session groups of the streams (and
# name lookups) to targets starting with the prefix, from that address,
# until the Workstation's "done" stream (the switch to the bridge reopens
# every listener with a new session group).
stream_groups() {
        awk -v t="$1" -v src="SOURCE_ADDR=$2:" '/ ws-done\.wb-test:80 / { exit }
                $1 == "650" && $2 == "STREAM" && ($4 == "NEW" || $4 == "NEWRESOLVE") &&
                index($6, t) == 1 { hit = 0; g = ""
                        for (i = 7; i <= NF; i++) { if (index($i, src) == 1) hit = 1; if ($i ~ /^SESSION_GROUP=/) g = substr($i, 15) }
                        if (hit) print g }' "$T/events" | sort -u | paste -sd' '
}
# on_listener WHAT SOURCE LISTENER TARGET-PREFIX...: every such stream came
# in on that listener, and there was at least one.
on_listener() {
        local what=$1 src=$2 listener=$3 want=${group_of[$3]:-none} got= p
        shift 3
        for p; do got+=" $(stream_groups "$p" "$src")"; done
        got=$(tr ' ' '\n' <<<"$got" | grep . | sort -u | paste -sd' ')
        if [ -n "$got" ] && [ "$got" = "$want" ]; then
                ok "$what: every stream arrived on Tor's $listener"
        else
                fail "$what: every stream arrived on Tor's $listener (session groups ${got:-none: no stream}; $listener is ${want})"
        fi
}
role_of() { [ "$1" = gw ] && echo gateway || echo workstation; }
src_of() { [ "$1" = gw ] && echo 127.0.0.1 || echo "$WS_IP"; }
socks_of() { [ "$1" = gw ] && echo "127.0.0.1:$2" || echo "10.152.152.10:$2"; }

# clock_within_3s VM KEY WHAT: the guest's clock in its last "KEY t=<epoch>"
# probe line is within 3 s of this host's clock when the line arrived.
clock_within_3s() {
        local line host_t guest_t d
        line=$(grep " WBANON $(role_of "$1") $2 t=" "$T/$1.probe-ts" | tail -n 1)
        host_t=${line%% *}
        guest_t=$(sed -n "s/.* $2 t=\\([0-9.]*\\).*/\\1/p" <<<"$line")
        d=$(awk -v g="${guest_t:-0}" -v h="${host_t:-0}" 'BEGIN { printf "%.2f", g - h }')
        check "$3 (off by $d s)" \
                awk -v g="${guest_t:-x}" -v h="${host_t:-x}" 'BEGIN { d = g - h; if (d < 0) d = -d; exit !(g != "x" && h != "x" && d <= 3) }'
}

# The clock: whonix-timesync's result, and the guest's clock when the line
# arrived here.
for n in gw ws; do
        r=$(role_of "$n")
        skew=$GW_RTC_SKEW
        [ "$n" = ws ] && skew=$WS_RTC_SKEW
        st=$(lines "$n" | grep "^WBANON $r timesync " | tail -n 1)
        lines "$n" | grep "^WBANON $r timesync-log " | sed 's/^WBANON [a-z]* timesync-log /#   /'
        n_src=$(sed -n 's/.* sources=\([^=]*\) [a-z]*=.*/\1/p' <<<"$st" | wc -w)
        check "$r: whonix-timesync set the clock from all 3 pools of onion services (${st#WBANON $r timesync })" \
                sh -c 'case $1 in *method=step*state=synced*) [ "$2" -eq 3 ] ;; *) false ;; esac' sh "$st" "$n_src"
        off=$(sed -n 's/.*offset=\([-+0-9.]*\).*/\1/p' <<<"$st")
        if [ "$n" = gw ]; then
                # Booted at the floor, ten days behind: Tor builds no
                # circuit, so whonix-timesync first steps the clock forward
                # to Tor's consensus (the rest of the ten days, less the
                # boot-time nudge), then sets it from the onion services.
                up=$(sed -n 's/.*caught_up=\([-+0-9]*\).*/\1/p' <<<"$st")
                check "$r: booted in 2001, at the floor ten days back, it first stepped forward to Tor's consensus (by ${up:-nothing} s)" \
                        awk -v u="${up:-x}" -v f="$GW_FLOOR_AGE" 'BEGIN { d = u - f; if (d < 0) d = -d; exit !(u != "x" && d <= 600) }'
                check "$r: then the onion services' time set it (offset ${off:-none} s)" \
                        awk -v o="${off:-x}" 'BEGIN { d = o; if (d < 0) d = -d; exit !(o != "x" && d <= 600) }'
        else
                check "$r: its first step undid the RTC's error of $skew s, less the boot-time nudge (offset ${off:-none})" \
                        awk -v o="${off:-x}" -v s="$skew" 'BEGIN { d = o + s; if (d < 0) d = -d; exit !(o != "x" && d <= 200) }'
        fi
        clock_within_3s "$n" clock "$r: its clock is within 3 s of the true time after the sync"
        on_listener "$r: the time fetches" "$(src_of "$n")" "$(socks_of "$n" 9108)" $TORNET_ONIONS
        # Then an hour back while running, and whonix-timesync restarted.
        st=$(lines "$n" | grep "^WBANON $r timesync-behind " | tail -n 1)
        check "$r: set an hour back while running, whonix-timesync set the clock again (${st#WBANON $r timesync-behind })" \
                grep -q 'state=synced' <<<"$st"
        clock_within_3s "$n" clock-behind "$r: and it is within 3 s of the true time again"
done
check "the onion services saw time requests (the log has $(wc -l <"$TORNET_ONION_LOG") requests)" \
        test "$(grep -vc ' /ready ' "$TORNET_ONION_LOG")" -gt 0

# Updates over Tor.
for n in gw ws; do
        r=$(role_of "$n")
        up=$(lines "$n" | grep "^WBANON $r apt update " | tail -n 1)
        in=$(lines "$n" | grep "^WBANON $r apt install " | tail -n 1)
        check "$r: apt-get update from tor+http://apt.wb-test succeeds (${up#WBANON $r apt update })" \
                grep -q '^WBANON [a-z]* apt update rc=0 ' <<<"$up"
        check "$r: apt-get install wb-test-hello installs the repository's package (${in#WBANON $r apt install })" \
                grep -q "^WBANON [a-z]* apt install rc=0 token=$APT_TOKEN" <<<"$in"
        on_listener "$r: apt" "$(src_of "$n")" "$(socks_of "$n" 9104)" apt.wb-test:
done
repo_peers=$(awk '$4 ~ "^/repo/" { print $1 }' "$TORNET_HTTP_LOG" | sort -u | paste -sd' ')
bad=
for p in $repo_peers; do is_exit "$p" || bad+=" $p"; done
check "the repository's server saw apt only from exit relays (${repo_peers:-no request})" test -n "$repo_peers" -a -z "$bad"

# The self-check: once after boot, its verdict on the console; then run by
# hand as user and as root; and on the Workstation with a fault it must name.
for n in gw ws; do
        r=$(role_of "$n")
        boot=$(tr -d '\r' <"$T/$n.console" | grep -a "whonix-selfcheck: $r: " | tail -n 1)
        check "$r: after boot the self-check's verdict is on the console: all 7 checks passed (${boot:-nothing})" \
                grep -q "whonix-selfcheck: $r: all 7 checks passed: safe to use" <<<"$boot"
        for who in user root; do
                res=$(lines "$n" | grep "^WBANON $r selfcheck $who " | tail -n 1)
                diag "selfcheck $r $who: ${res#WBANON $r selfcheck $who }"
                check "$r: whonix-selfcheck as $who exits 0: all 7 checks passed" \
                        grep -q "rc=0 out=.*|whonix-selfcheck: $r: all 7 checks passed: safe to use$" <<<"$res"
        done
done
res=$(lines gw | grep "^WBANON gateway selfcheck waiting " | tail -n 1)
diag "selfcheck while Tor waits: ${res#WBANON gateway selfcheck waiting }"
check "gateway: while Tor waits for the choice (cannot bootstrap), whonix-selfcheck exits 1 naming Tor and whonix-connect" \
        grep -q "rc=1 out=.*|whonix-selfcheck: FAIL tor .*waits for the first-connection choice: log in and run: sudo whonix-connect|.*NOT SAFE TO USE: .*checks failed: tor" <<<"$res"
res=$(lines ws | grep "^WBANON workstation selfcheck flushed " | tail -n 1)
diag "selfcheck with the firewall flushed: ${res#WBANON workstation selfcheck flushed }"
check "workstation: with its firewall flushed, whonix-selfcheck exits 1 naming the firewall" \
        grep -q "rc=1 out=.*|whonix-selfcheck: FAIL firewall .*|whonix-selfcheck: workstation: NOT SAFE TO USE: .*checks failed: .*firewall" <<<"$res"
res=$(lines ws | grep "^WBANON workstation firewall restored " | tail -n 1)
check "workstation: the firewall came back after that ($res)" grep -q 'restored rc=0 chains=[1-9]' <<<"$res"
res=$(lines ws | grep "^WBANON workstation selfcheck broken " | tail -n 1)
diag "selfcheck with 9150 stopped: ${res#WBANON workstation selfcheck broken }"
check "workstation: with its local port 9150 stopped, whonix-selfcheck exits 1 naming the check and the port" \
        grep -q "rc=1 out=.*|whonix-selfcheck: FAIL socks .*127.0.0.1:9150.*|whonix-selfcheck: workstation: NOT SAFE TO USE: 1 of 7 checks failed: socks$" <<<"$res"

# One Tor port per tool, for user and root alike.
for run in $TOOL_RUNS; do
        tool=${run%-*}
        res=$(lines ws | grep "^WBANON workstation tool $run " | tail -n 1)
        diag "$run: ${res#WBANON workstation tool $run }"
        case $tool in
        curl) port=9117 ;;
        wget) port=9109 ;;
        git) port=9107 ;;
        ssh) port=9106 ;;
        gpg) port=9105 ;;
        esac
        case $tool in
        curl | wget)
                check "$run: the page arrived" grep -q "rc=0 out=wb-tornet-page $TORNET_TOKEN path=/$run" <<<"$res" ;;
        gpg)
                check "$run: gpg fetched the test key by URL and imported it" \
                        grep -q "rc=0 out=whonix-build test repository <tests@wb-test.invalid>" <<<"$res" ;;
        esac
        on_listener "$run" "$WS_IP" "10.152.152.10:$port" "$run.wb-test:"
done

# The Workstation's local Tor ports lead to the Gateway (no Tor over Tor),
# and its control port is the Gateway's filter.
for p in 9050 9150; do
        res=$(lines ws | grep "^WBANON workstation tool local-$p " | tail -n 1)
        diag "local-$p: ${res#WBANON workstation tool local-$p }"
        check "local-$p: curl through the Workstation's 127.0.0.1:$p gets the page" \
                grep -q "rc=0 out=wb-tornet-page $TORNET_TOKEN path=/local-$p" <<<"$res"
        on_listener "local-$p" "$WS_IP" "10.152.152.10:$p" "local-$p.wb-test:"
done
cpf=$(lines ws | grep "^WBANON workstation cpf " | tail -n 1)
diag "control port: ${cpf#WBANON workstation cpf }"
check "control port 127.0.0.1:9051 on the Workstation: AUTHENTICATE without the cookie is accepted" \
        grep -q 'out=|250 OK|' <<<"$cpf"
check "... GETINFO status/circuit-established: Tor has a circuit" grep -q '|250-status/circuit-established=1|' <<<"$cpf"
check "... GETINFO net/listeners/socks names the Workstation's own port" \
        grep -q '|250-net/listeners/socks="127.0.0.1:9150"|' <<<"$cpf"
check "... SETEVENTS SIGNAL and SIGNAL NEWNYM: Tor's two 250 OK" \
        grep -Eq '\|250-net/listeners/socks="127.0.0.1:9150"\|250 OK\|250 OK\|250 OK\|(650 SIGNAL NEWNYM\|)?552 Unrecognized key "address"\|' <<<"$cpf"
check "... SIGNAL NEWNYM reached Tor: its SIGNAL event came back through the filter" grep -q '|650 SIGNAL NEWNYM|' <<<"$cpf"
check "... GETINFO address (the Gateway's address) is refused" grep -q '|552 Unrecognized key "address"|' <<<"$cpf"
check "... SETCONF is refused" grep -q '|510 Command filtered: "SETCONF"' <<<"$cpf"
check "... and the conversation ends with QUIT's answer" grep -q '|250 closing connection$' <<<"$cpf"
cpf=$(lines ws | grep "^WBANON workstation cpf-root " | tail -n 1)
diag "control port as root: ${cpf#WBANON workstation cpf-root }"
while IFS='|' read -r what want; do
        check "control port as root: $what is refused ($want)" grep -qF "|$want" <<<"$cpf"
done <<'LIST'
GETINFO circuit-status (the relays)|552 Unrecognized key "circuit-status"
GETCONF|510 Command filtered: "GETCONF"
SIGNAL HALT|552 Unrecognized signal code "HALT"
SAVECONF|510 Command filtered: "SAVECONF"
TAKEOWNERSHIP|510 Command filtered: "TAKEOWNERSHIP"
ADD_ONION without a profile|510 Command filtered: "ADD_ONION"
AUTHCHALLENGE (a way to the cookie)|510 Command filtered: "AUTHCHALLENGE"
GETINFO address|552 Unrecognized key "address"
LIST
check "control port as root: afterwards Tor still has its circuits (nothing reached it)" \
        grep -q '|250-status/circuit-established=1|250 OK|250 closing connection$' <<<"$cpf"

# --- the external network, recorded for the whole run ----------------------
pcap_count() { tcpdump -n -r "$1" "$2" 2>/dev/null | wc -l; }
pcap_show() { tcpdump -n -e -r "$1" "$2" 2>/dev/null | head -n "${3:-5}"; }
relay_hosts=$(awk '{ for (i = 1; i <= NF; i++) printf "%sdst host %s", (i > 1 ? " or " : ""), $i }' <<<"$TORNET_RELAY_IPS")
# (pcap filters give "and" and "or" the same precedence: every group in
# parentheses.)
tor_conn="tcp and ((($relay_hosts) and (dst port $TORNET_ORPORT or dst port $TORNET_DIRPORT)) or (dst host $TORNET_BRIDGE_IP and dst port $TORNET_OBFS4_PORT))"
dhcp="udp and src port 68 and dst port 67"
for i in "$TORNET_BRIDGE" "$TAP_GW_EXT"; do
        pc=$T/$i.pcap
        diag "capture on $i: $(pcap_count "$pc" '') packets"
        n=$(pcap_count "$pc" "ether src $GW_EXT_MAC and $dhcp")
        m=$(pcap_count "$pc" "ether src $GW_EXT_MAC and $tor_conn")
        check "$i: the capture saw the Gateway's DHCP ($n) and its Tor connections to the relays ($m)" \
                test "$n" -gt 0 -a "$m" -gt 0
        f="ether src $GW_EXT_MAC and not arp and not ($dhcp) and not ($tor_conn)"
        n=$(pcap_count "$pc" "$f")
        if [ "$n" -eq 0 ]; then
                ok "$i: every packet from the Gateway is ARP, DHCP or Tor's to a test relay"
        else
                fail "$i: every packet from the Gateway is ARP, DHCP or Tor's to a test relay ($n are not)"
                pcap_show "$pc" "$f" | sed 's/^/#   /'
        fi
        f="ether host $WS_MAC or ether host $GW_INT_MAC or net $INT_NET"
        n=$(pcap_count "$pc" "$f")
        if [ "$n" -eq 0 ]; then
                ok "$i: nothing from the Workstation or the internal network (MAC or address)"
        else
                fail "$i: nothing from the Workstation or the internal network ($n packets)"
                pcap_show "$pc" "$f" | sed 's/^/#   /'
        fi
done
n=$(pcap_count "$T/$TORNET_BRIDGE.pcap" "ether src $GW_EXT_MAC and dst host $TORNET_SERVER_IP")
check "$TORNET_BRIDGE: the Gateway never talked to the server itself ($n)" test "$n" -eq 0

if tornet_contained >"$T/contained"; then
        ok "with both VMs, still no route off the test subnet, no peer outside it"
else
        fail "with both VMs, still no route off the test subnet, no peer outside it"
        diag_file "$T/contained"
fi
for vm in Whonix-Gateway Whonix-Workstation; do
        check "$vm: the shipped image was not modified" \
                test "$(sha256sum "$out/$vm.qcow2" | cut -d' ' -f1)" = "$(cat "$T/$vm.sum")"
done

exits=
for f in trans socks-9100 socks-9117 socks-user-a socks-user-b byname; do exits+=" $f=${exit_of[$f]:-?}"; done
diag "exits the server saw:$exits"
diag "durations: images ${t_images} s, Tor network ready ${TORNET_READY_SECS} s, VMs ${t_vm_secs} s" \
        "(Gateway's Tor bootstrapped ${t_bootstrap:-?} s after start: ${bs#WBANON gateway bootstrapped }), total $(( $(date +%s) - t_start )) s"
[ "$_failed" -eq 0 ] || tornet_dump_logs 10
done_testing
