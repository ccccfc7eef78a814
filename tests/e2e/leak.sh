#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Leak tests: the Gateway and both Workstations (the CLI one and the
# desktop one, its graphical session coming up too) booted together (qemu
# TCG) on two isolated test networks, then probes inside each try every way
# out that a program, or root on a Workstation, might take, while tcpdump
# records the external network.  A second Gateway, whose firewall fails to
# load, must keep its external NIC down.  The desktop Workstation runs the
# same probes but root's from 10.152.152.12 (a second Workstation on the
# internal network, as Whonix documents it: the address in its throwaway
# overlay), with ports 40 above the CLI one's and DNS names of its own
# (dws-...), so that the capture tells the two apart.
#
# Network safety (DESIGN.md): everything lives in network namespaces this
# test creates (tests/e2e/netlab.sh); no qemu user-mode NIC, no NAT, no
# route off this machine; the root namespace gets nothing.  The "clearnet"
# host is a namespace with DHCP, DNS and TCP/UDP listeners, so that a leak
# would have somewhere to go and be seen.  Tor on the Gateway belongs to a
# private test network whose only directory authority is that host, which
# runs no Tor: its listeners open (with DisableNetwork 1 Tor closes every
# listener but the control port, so they could not be tested) and it can
# reach nothing (its connection file names an obfs4 bridge at the
# authority's ORPort, so obfs4proxy runs too: the shipped Gateway waits for
# that choice).  The second Gateway has DisableNetwork 1.  These changes,
# and the probes (tests/e2e/leak-probe.sh, leak-net.pl, run by an injected
# wb-leak.service), live in throwaway qcow2 overlays: the shipped images
# are never modified, which the test checks.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
t_start=$(date +%s)

[ "$(id -u)" -eq 0 ] || skip_all "needs root for network namespaces, bridges and taps"
for tool in ip tcpdump dnsmasq python3 qemu-system-x86_64 qemu-img tar sha256sum; do
        command -v "$tool" >/dev/null || skip_all "$tool is not installed (tools/install-deps)"
done
ip netns list >/dev/null 2>&1 || skip_all "ip netns does not work here"
need_appliance

T=$(mktemp -d /tmp/wb-leak.XXXXXX)
NL_DIR=$T
NL_TAG=$$
. "$WB_SOURCE_ROOT/tests/e2e/netlab.sh"
qemu_pids=()
stop_vms() {
        local p
        for p in "${qemu_pids[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${qemu_pids[@]}"; do wait "$p" 2>/dev/null; done
        qemu_pids=()
}
cleanup() {
        stop_vms
        netlab_down
        rm -rf "$T"
}
on_exit cleanup
inspect="$WB_BUILD_ROOT/tests/wb-inspect"
e2e=$WB_SOURCE_ROOT/tests/e2e

GW_EXT_MAC=52:54:00:b7:00:01
GW_INT_MAC=52:54:00:b7:00:02
WS_MAC=52:54:00:b7:00:03
DWS_MAC=52:54:00:b7:00:04
DWS_PORT_OFFSET=40
BGW_EXT_MAC=52:54:00:b7:00:11
BGW_INT_MAC=52:54:00:b7:00:12
WS_NET=10.152.128.0/18
# The Gateway's Tor may reach only its test directory authority.
TOR_DIRAUTH="tcp and dst host 10.0.2.2 and (dst port 9001 or dst port 9030)"

t=$(date +%s)
ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }
out=$WB_E2E_IMAGES
t_images=$(( $(date +%s) - t ))
for vm in Whonix-Gateway Whonix-Workstation Whonix-Workstation-Desktop; do
        sha256sum "$out/$vm.qcow2" | cut -d' ' -f1 >"$T/$vm.sum"
done

# --- the throwaway overlays --------------------------------------------
# One tar per VM, unpacked by one appliance launch: the probe service and
# scripts, and the Gateway's test torrc (and for the broken Gateway, a
# firewall ruleset with a syntax error).
stage_overlay() { # NAME ROLE
        local s=$T/stage-$1 role=$2
        mkdir -p "$s/etc/systemd/system/multi-user.target.wants" "$s/usr/local/lib/wb-leak" "$s/etc/tor/torrc.d"
        cat >"$s/etc/systemd/system/wb-leak.service" <<'UNIT'
[Unit]
Description=whonix-build leak test probes
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/bin/sh /usr/local/lib/wb-leak/leak-probe.sh
TimeoutStartSec=900

[Install]
WantedBy=multi-user.target
UNIT
        ln -s ../wb-leak.service "$s/etc/systemd/system/multi-user.target.wants/wb-leak.service"
        install -m 0755 "$e2e/leak-probe.sh" "$s/usr/local/lib/wb-leak/leak-probe.sh"
        install -m 0644 "$e2e/leak-net.pl" "$s/usr/local/lib/wb-leak/leak-net.pl"
        [ "$role" = desktop-workstation ] && role=workstation
        echo "$role" >"$s/usr/local/lib/wb-leak/role"
        chmod 0755 "$s/usr/local/lib/wb-leak"
        local files="etc/systemd/system/wb-leak.service etc/systemd/system/multi-user.target.wants/wb-leak.service
                usr/local/lib/wb-leak usr/local/lib/wb-leak/leak-probe.sh usr/local/lib/wb-leak/leak-net.pl
                usr/local/lib/wb-leak/role"
        case $2 in
        gateway)
                cat >"$s/etc/tor/torrc.d/50-test.conf" <<'TORRC'
# whonix-build leak test: a private test network whose only directory
# authority is the test's clearnet host (10.0.2.2), which runs no Tor.
TestingTorNetwork 1
DirAuthority wbleak orport=9001 no-v2 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 10.0.2.2:9030 89ABCDEF0123456789ABCDEF0123456789ABCDEF
TORRC
                # The shipped Gateway waits for the first-connection choice
                # (DisableNetwork 1 in 40-connection.conf), which would
                # close the listeners under test: this one was given an
                # obfs4 bridge, as whonix-connect bridges writes it, so that
                # the matrix runs with obfs4proxy started by Tor.  The
                # bridge's address is the directory authority's ORPort (the
                # one place Tor may go); its fingerprint and cert are the
                # first built-in line's (nothing there speaks obfs4).
                local b
                b=$(grep -m1 '^obfs4 ' "$WB_SOURCE_ROOT/overlays/whonix-gateway/usr/share/whonix/bridges/obfs4.txt" |
                        awk '{ $2 = "10.0.2.2:9001"; print }')
                printf '# whonix-build: how this Gateway connects, chosen with whonix-connect (bridges).\nUseBridges 1\nClientTransportPlugin obfs4 exec /usr/bin/obfs4proxy\nBridge %s\n' \
                        "$b" >"$s/etc/tor/torrc.d/40-connection.conf"
                files="$files etc/tor/torrc.d/50-test.conf etc/tor/torrc.d/40-connection.conf"
                ;;
        broken-gateway)
                printf 'DisableNetwork 1\n' >"$s/etc/tor/torrc.d/50-test.conf"
                { cat "$WB_SOURCE_ROOT/overlays/whonix-gateway/etc/nftables.conf"
                  echo "wb-leak-test: this line is not nftables syntax"; } >"$s/etc/nftables.conf"
                files="$files etc/tor/torrc.d/50-test.conf etc/nftables.conf"
                ;;
        desktop-workstation)
                # The second Workstation's address, its probes' names and ports.
                mkdir -p "$s/etc/network"
                sed 's/^\([[:space:]]*address\) 10\.152\.152\.11$/\1 10.152.152.12/' \
                        "$WB_SOURCE_ROOT/overlays/whonix-workstation/etc/network/interfaces" >"$s/etc/network/interfaces"
                grep -q 'address 10.152.152.12$' "$s/etc/network/interfaces" || return 1
                chmod 0644 "$s/etc/network/interfaces"
                echo dws >"$s/usr/local/lib/wb-leak/tag"
                echo "$DWS_PORT_OFFSET" >"$s/usr/local/lib/wb-leak/port-offset"
                : >"$s/usr/local/lib/wb-leak/user-only"
                files="$files etc/network/interfaces usr/local/lib/wb-leak/tag usr/local/lib/wb-leak/port-offset
                        usr/local/lib/wb-leak/user-only"
                ;;
        esac
        # shellcheck disable=SC2086
        tar --owner=0 --group=0 --numeric-owner --no-recursion -C "$s" -cf "$T/$1.tar" $files
}
make_overlay() { # NAME IMAGE ROLE
        stage_overlay "$1" "$3" &&
        qemu-img create -q -f qcow2 -b "$out/$2.qcow2" -F qcow2 "$T/$1.qcow2" &&
        "$inspect" --rw "$T/$1.qcow2" /dev/sda2 tar-in "$T/$1.tar" / >"$T/$1.inspect" 2>&1
}
t=$(date +%s)
make_overlay gw Whonix-Gateway gateway & p1=$!
make_overlay ws Whonix-Workstation workstation & p2=$!
make_overlay bgw Whonix-Gateway broken-gateway & p3=$!
wait $p1; r1=$?
wait $p2; r2=$?
wait $p3; r3=$?
# The fourth launch after the first three: four appliances on two CPUs
# only wait for each other.
make_overlay dws Whonix-Workstation-Desktop desktop-workstation; r4=$?
check "probes and test torrc injected into throwaway overlays ($(( $(date +%s) - t )) s)" test $((r1 + r2 + r3 + r4)) -eq 0
for n in gw ws bgw dws; do [ -s "$T/$n.inspect" ] && diag_file "$T/$n.inspect" 5; done

# --- the networks ---------------------------------------------------------
root_links=$(ip -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' ')
if netlab_up && netlab_tap gw-ext br-ext && netlab_tap gw-int br-int && netlab_tap ws-int br-int &&
        netlab_tap dws-int br-int &&
        netlab_tap bgw-ext br-ext && netlab_tap bgw-int br-int2 &&
        netlab_services "$GW_EXT_MAC" "$BGW_EXT_MAC"; then
        ok "test networks in namespaces $NL_LAB and $NL_CN; capture, DHCP, DNS, listeners up"
else
        fail "test networks in namespaces $NL_LAB and $NL_CN; capture, DHCP, DNS, listeners up"
        for f in "$T"/*.out "$T"/tcpdump-*.log; do [ -f "$f" ] && diag_file "$f" 5; done
        done_testing
        exit
fi
check "network safety: the root namespace got no interface" \
        test "$(ip -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' ')" = "$root_links"

# boot NAME [TAP MAC]...: one VM in the lab namespace, NICs in that order
# (eth0, eth1), console on ttyS0, probe results on ttyS1.  The desktop
# Workstation as its libvirt XML describes it (2 GiB, a virtio screen and
# tablet), so that its graphical session starts.
boot() {
        local name=$1 nics=() i=0 machine=(-m 1024)
        shift
        [ "$name" = dws ] && machine=(-m 2048 -device virtio-vga -device virtio-tablet-pci)
        while [ $# -ge 2 ]; do
                nics+=(-netdev "tap,id=n$i,ifname=$1,script=no,downscript=no"
                        -device "virtio-net-pci,netdev=n$i,mac=$2")
                i=$((i + 1))
                shift 2
        done
        : >"$T/$name.probe"
        ip netns exec "$NL_LAB" qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp 1 "${machine[@]}" \
                -nodefaults -no-user-config -display none "${nics[@]}" -device virtio-rng-pci \
                -drive "file=$T/$name.qcow2,if=virtio,format=qcow2" \
                -serial "file:$T/$name.console" -serial "file:$T/$name.probe" -no-reboot \
                >"$T/$name.qemu" 2>&1 &
        qemu_pids+=($!)
}
# Wait until the probe log of each NAME says "done", or the time is up.
wait_done() { # LIMIT NAME...
        local limit=$1 start
        start=$(date +%s)
        shift
        for n in "$@"; do
                until grep -aq '^WBLEAK done' "$T/$n.probe"; do
                        [ $(( $(date +%s) - start )) -ge "$limit" ] && break
                        sleep 2
                done
        done
}
# Probe lines without the serial port's carriage returns.
lines() { tr -d '\r' <"$T/$1.probe" | grep -a '^WBLEAK '; }

# --- Gateway + Workstation, then a Gateway whose firewall fails ----------
# The second Gateway boots once the first one's probes are done: the
# Workstation's probes mostly wait for time-outs, so the CPU is free, and
# the broken Gateway has networks of its own (bgw-ext on the same external
# bridge, told apart by its MAC).
t=$(date +%s)
boot gw gw-ext "$GW_EXT_MAC" gw-int "$GW_INT_MAC"
boot ws ws-int "$WS_MAC"
boot dws dws-int "$DWS_MAC"
limit=${WB_LEAK_TIMEOUT:-600}
wait_done "$limit" gw
diag "Gateway: probes finished after $(( $(date +%s) - t )) s"
boot bgw bgw-ext "$BGW_EXT_MAC" bgw-int "$BGW_INT_MAC"
t2=$(date +%s)
wait_done "$limit" ws
diag "Workstation: probes finished after $(( $(date +%s) - t )) s"
wait_done "$limit" dws
diag "desktop Workstation: probes finished after $(( $(date +%s) - t )) s"
wait_done "$limit" bgw
diag "broken Gateway: probes finished after $(( $(date +%s) - t2 )) s"
stop_vms
sleep 1
netlab_stop_services
ext=$T/ext.pcap

# --- verdicts -----------------------------------------------------------
for n in gw ws dws bgw; do
        if ! grep -aq '^WBLEAK done' "$T/$n.probe"; then
                diag "$n: the probes did not finish; console tail:"
                tr -d '\r' <"$T/$n.console" | grep -a . | tail -n 25 | sed 's/^/#   /'
                diag_file "$T/$n.qemu" 5
        fi
        lines "$n" | grep -a '^WBLEAK \(start\|failed-units\)' | sed 's/^/# /'
done

# wire_clean PORT-OR-DNSNAME: nothing of this probe reached the external
# network or the clearnet host.  Sets $wire to what was seen.
wire_clean() {
        local w=$1 n=0
        wire=
        case $w in
        '' | -) return 0 ;;
        [0-9]*)
                n=$(netlab_count "$ext" "port $w")
                grep -Eq "^(tcp|udp) $w " "$T/clearnet.log" && wire="clearnet host got port $w: $(grep -E "^(tcp|udp) $w " "$T/clearnet.log" | head -n 2 | tr '\n' ' ')"
                ;;
        *)
                grep -q "query\[.*\] $w " "$T/dnsmasq.log" && wire="clearnet DNS got: $(grep "query\[.*\] $w " "$T/dnsmasq.log" | head -n 1)"
                ;;
        esac
        [ "$n" -eq 0 ] || wire="$wire $n packet(s) with port $w on the external network: $(netlab_show "$ext" "port $w" 2 | tr '\n' ' ')"
        [ -z "$wire" ]
}

# probe VM NAME [PORT|DNSNAME] DESCRIPTION: one TAP test per probe.  No
# result line is a failure, never a pass.
probe() {
        local vm=$1 name=$2 w=$3 desc=$4 line
        line=$(lines "$vm" | grep -a "^WBLEAK $name " | head -n 1)
        if [ -z "$line" ]; then
                fail "$vm $name: $desc (no result: the probe did not run)"
                return
        fi
        diag "${line#WBLEAK }"
        case $line in
        "WBLEAK $name ok "*)
                if wire_clean "$w"; then ok "$vm $name: $desc"; else fail "$vm $name: $desc"; diag "  on the wire: $wire"; fi
                ;;
        *) fail "$vm $name: $desc" ;;
        esac
}

# Each Workstation probe but root's runs on the desktop Workstation too:
# its port 40 higher, its DNS names "dws-" where the CLI one's are "ws-".
# Root's probes (firewall flushed, routes and addresses changed) test the
# firewall and network files the desktop shares with the CLI Workstation
# (its layer is on top of the CLI one's): they run there.
dws_wire() { # PORT-OR-DNSNAME of the CLI Workstation's probe
        case $1 in
        [0-9]*) echo $(( $1 + DWS_PORT_OFFSET )) ;;
        ws-*) echo "d$1" ;;
        *) echo "$1" ;;
        esac
}
while read -r vm name w desc; do
        [ -n "$vm" ] && probe "$vm" "$name" "$w" "$desc"
        case $vm:$name in
        ws:ws-root-* | ws:ws-neighbours) ;;
        ws:*) probe dws "$name" "$(dws_wire "$w")" "(desktop) $desc" ;;
        esac
done <<'PROBES'
gw gw-eth0-dhcp - external NIC got its address from the test network's DHCP (a leak would get out)
gw gw-ip-forward - net.ipv4.ip_forward is 0
gw gw-nftables - nftables ruleset active: inet filter (input/forward/output policy drop) and ip nat only
gw gw-tor-listeners - Tor listens on 10.152.152.10 (TransPort 9040, DnsPort 5300, SOCKS ports) and 127.0.0.1 (9041, 5400, 9050, 9052)
gw gw-no-external-listeners - nothing listens on a wildcard or external address
gw gw-transport-is-tor - the TransPort 9040 belongs to tor
gw gw-nobody-tcp 7121 a non-tor user's TCP connection does not get out
gw gw-nobody-udp 7122 a non-tor user's UDP datagram does not get out
gw gw-nobody-dns gw-nobody.leak.test a non-tor user's DNS query does not reach the clearnet resolver
gw gw-root-tcp 7123 root's TCP connection does not get out
gw gw-root-udp 7124 root's UDP datagram does not get out
gw gw-root-icmp - root's ping does not get out
gw gw-root-dns gw-root.leak.test root's DNS query does not reach the clearnet resolver
gw gw-local-torified - the Gateway's own TCP and DNS go to Tor's local TransPort and DnsPort
gw gw-arp - the Gateway answers ARP only for the NIC's own address (arp_ignore 1, arp_announce 2)
gw gw-getent gw-getent.leak.test name lookups (resolv.conf from DHCP) do not reach the clearnet resolver
ws ws-gateway-ready - the Gateway's Tor SocksPort answers on the internal network
ws ws-routes - the route table has no route but via 10.152.152.10 (and no IPv6 route)
ws ws-tcp 7101 TCP to the clearnet host does not reach it
ws ws-udp 7102 UDP to the clearnet host does not reach it
ws ws-icmp - ping to the clearnet host gets no reply
ws ws-ipv6 7103 IPv6 does not work at all (no address, no route)
ws ws-dns-clearnet ws-clearnet.leak.test DNS to the clearnet resolver does not reach it
ws ws-dns-gateway ws-gateway.leak.test DNS to 10.152.152.10 does not reach the clearnet resolver
ws ws-dns-tor - DNS to 10.152.152.10 is answered by the Gateway's Tor (.onion automapped)
ws ws-tcp-gw-external 7104 TCP to the Gateway's external address ends in Tor
ws ws-root-flush-firewall - root flushes the Workstation's own firewall
ws ws-root-nofw-tcp 7105 without the Workstation firewall: TCP does not get out
ws ws-root-nofw-udp 7106 without the Workstation firewall: UDP does not get out
ws ws-root-nofw-icmp - without the Workstation firewall: ping gets no reply
ws ws-root-nofw-dns ws-nofw.leak.test without the Workstation firewall: DNS to the clearnet resolver does not reach it
ws ws-root-nofw-dns-tor - without the Workstation firewall: DNS to the clearnet resolver is answered by the Gateway's Tor
ws ws-root-route-onlink-tcp 7107 root adds an on-link route to the clearnet host: TCP does not get out
ws ws-root-route-onlink-udp 7108 root adds an on-link route to the clearnet host: UDP does not get out
ws ws-root-addr-external-tcp 7109 root adds an external-network address: TCP does not get out
ws ws-root-addr-external-udp 7110 root adds an external-network address: UDP does not get out
ws ws-root-addr-external-icmp - root adds an external-network address: ping gets no reply
ws ws-root-gateway-elsewhere-tcp 7111 root points the default route elsewhere: TCP does not get out
ws ws-root-gateway-elsewhere-udp 7112 root points the default route elsewhere: UDP does not get out
ws ws-root-gateway-external-tcp 7113 root routes via the Gateway's external address: TCP does not get out
ws ws-root-gateway-external-udp 7114 root routes via the Gateway's external address: UDP does not get out
ws ws-root-gateway-external-icmp - root routes via the Gateway's external address: ping gets no reply
ws ws-root-dhcp - root runs a DHCP client on eth0: no offer
ws ws-neighbours - no address of the external network answered the Workstation (ARP)
bgw bgw-firewall-failed - the broken ruleset did not load
bgw bgw-external-down - fail closed: the external NIC is down, without an address
bgw bgw-root-tcp 7131 fail closed: TCP does not get out
bgw bgw-root-udp 7132 fail closed: UDP does not get out
bgw bgw-root-dhcp - fail closed: no DHCP request gets out
PROBES

# Hardening, as the booted guests see it (both flavors).
for vm in gw ws dws; do
        for name in $(lines "$vm" | awk '$2 ~ /^(sysctl-|module-)/ {print $2}') cmdline apparmor no-ntp no-sshd; do
                probe "$vm" "$name" - "hardening"
        done
        [ "$(lines "$vm" | grep -ac '^WBLEAK sysctl-')" -ge 16 ] && [ "$(lines "$vm" | grep -ac '^WBLEAK module-')" -ge 7 ]
        check "$vm: every sysctl and module probe reported" test $? -eq 0
done

# --- the external network, as recorded for the whole run ---------------
count() { netlab_count "$ext" "$1"; }
wire_check() { # DESCRIPTION FILTER
        local n
        n=$(count "$2")
        if [ "$n" -eq 0 ]; then ok "$1"; else fail "$1"; diag "$n packet(s), e.g.:"; netlab_show "$ext" "$2" 5 | sed 's/^/#   /'; fi
}
diag "external capture: $(count '') packets in all"
n=$(count "ether src $GW_EXT_MAC and udp src port 68 and udp dst port 67")
check "capture works: the Gateway's DHCP requests were recorded ($n)" test "$n" -gt 0
n=$(count "ether src $GW_EXT_MAC and $TOR_DIRAUTH")
check "Tor (debian-tor) may leave: connections to its test directory authority were recorded ($n)" test "$n" -gt 0
res=$(lines gw | grep -a '^WBLEAK transport ' | head -n 1 | tr -d '\r')
check "the matrix ran with an obfs4 bridge configured: Tor's obfs4proxy ran as debian-tor (${res#WBLEAK transport })" \
        grep -q '^WBLEAK transport debian-tor  */usr/bin/obfs4proxy' <<<"$res"
wire_check "nothing from either Workstation on the external network (MAC or address)" \
        "ether host $WS_MAC or ether host $DWS_MAC or net $WS_NET"
wire_check "nothing from the Gateway but ARP, DHCP and Tor's own connections" \
        "ether src $GW_EXT_MAC and not arp and not (udp src port 68 and udp dst port 67) and not ($TOR_DIRAUTH)"
wire_check "no IPv6 on the external network" "ip6"
wire_check "no ICMP from the Gateway" "ether src $GW_EXT_MAC and icmp"
wire_check "fail closed: nothing at all from the Gateway whose firewall failed" "ether src $BGW_EXT_MAC"
check "the clearnet host's listeners got nothing" sh -c '! grep -Eq "^(tcp|udp) " "$1"' sh "$T/clearnet.log"
grep -E '^(tcp|udp) ' "$T/clearnet.log" | head -n 5 | sed 's/^/#   /'
check "the clearnet resolver got no query" sh -c '! grep -q "query\[" "$1"' sh "$T/dnsmasq.log"
grep 'query\[' "$T/dnsmasq.log" | head -n 5 | sed 's/^/#   /'
# The probes really sent: the Workstation's packets to the clearnet host
# are on the internal network, where the Gateway stops them.
n=$(netlab_count "$T/int.pcap" "ether src $WS_MAC and dst host 10.0.2.2")
check "the Workstation's probe packets were on the internal network ($n)" test "$n" -gt 0
n=$(netlab_count "$T/int.pcap" "ether src $DWS_MAC and src host 10.152.152.12 and dst host 10.0.2.2")
check "the desktop Workstation's probe packets were on the internal network, from 10.152.152.12 ($n)" test "$n" -gt 0
res=$(lines dws | grep -a '^WBLEAK desktop ' | head -n 1)
check "the desktop Workstation's probes ran beside its display manager (${res#WBLEAK desktop })" \
        grep -q '^WBLEAK desktop display-manager=active ' <<<"$res"
lines ws | grep -q '^WBLEAK desktop '
check "the CLI Workstation has no display manager" test $? -ne 0

for vm in Whonix-Gateway Whonix-Workstation Whonix-Workstation-Desktop; do
        check "$vm: the shipped image was not modified" \
                test "$(sha256sum "$out/$vm.qcow2" | cut -d' ' -f1)" = "$(cat "$T/$vm.sum")"
done
diag "leak test took $(( $(date +%s) - t_start )) s ($t_images s of it making sure the images were built)"
done_testing
