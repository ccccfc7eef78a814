# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tests/e2e/leak.sh: the test's own isolated networks.
#
# Everything lives in two network namespaces this file creates, with names
# unique to the test run; the root namespace gets nothing (no bridge, no
# tap, no address, no route), and nothing has a route off this machine:
#
#   $NL_LAB  the "wire": bridges and the VMs' taps, no IP address at all.
#            br-ext  external network: Gateway eth0 taps + the clearnet host
#            br-int  internal network: Gateway eth1 + Workstation eth0
#            br-int2 an empty internal network for a second Gateway
#            qemu runs in here (ip netns exec), so its taps are here too.
#   $NL_CN   the "clearnet" host, 10.0.2.2/24 on a veth into br-ext: DHCP
#            and DNS (dnsmasq), TCP and UDP listeners (leak-clearnet.py),
#            all bound to 10.0.2.2 only.  It plays the host's NAT router:
#            the Gateway's DHCP lease names it as router and DNS server, so
#            a leak would have somewhere to go -- and would be seen.
#
# tcpdump records br-ext (and br-int, for diagnostics) for the whole run.
#
# Needs: NL_DIR (a private temp dir), NL_TAG (unique, e.g. $$).

NL_LAB=wb-leak-$NL_TAG-lab
NL_CN=wb-leak-$NL_TAG-cn
NL_CN_ADDR=10.0.2.2
NL_CN_MAC=52:54:00:b7:0f:fe
NL_PORT_FIRST=7100
NL_PORT_LAST=7159
# What the clearnet DNS server answers for every name: an answer holding it
# means a query escaped.
NL_DNS_MARK=10.0.2.99
nl_pids=()

nl_lab() { ip netns exec "$NL_LAB" "$@"; }
nl_cn() { ip netns exec "$NL_CN" "$@"; }

# A process started in a namespace, in the background, remembered by PID
# ("ip netns exec" execs the command: $! is its PID).
nl_spawn() { # LOGFILE NAMESPACE COMMAND...
        local log=$1 ns=$2
        shift 2
        ip netns exec "$ns" "$@" >"$log" 2>&1 &
        nl_pids+=($!)
}

netlab_up() {
        ip netns add "$NL_LAB" || return 1
        ip netns add "$NL_CN" || return 1
        local ns
        for ns in "$NL_LAB" "$NL_CN"; do
                # No IPv6 anywhere on the wire but what a VM would send, so
                # that any IPv6 packet in the capture is a VM's.
                ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
                        net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0 || return 1
                ip -n "$ns" link set lo up || return 1
        done
        local br
        for br in br-ext br-int br-int2; do
                ip -n "$NL_LAB" link add "$br" type bridge stp_state 0 forward_delay 0 || return 1
                ip -n "$NL_LAB" link set "$br" up || return 1
        done
        ip -n "$NL_LAB" link add cn-port type veth peer name cn0 netns "$NL_CN" || return 1
        ip -n "$NL_LAB" link set cn-port master br-ext up || return 1
        ip -n "$NL_CN" link set cn0 address "$NL_CN_MAC" || return 1
        ip -n "$NL_CN" addr add "$NL_CN_ADDR/24" dev cn0 || return 1
        ip -n "$NL_CN" link set cn0 up || return 1
}

# A tap for a VM's NIC on a bridge of the lab.
netlab_tap() { # NAME BRIDGE
        ip -n "$NL_LAB" tuntap add dev "$1" mode tap || return 1
        ip -n "$NL_LAB" link set "$1" master "$2" up
}

# Start the capture and the clearnet host's services.  GW_MAC gets
# 10.0.2.15 by DHCP, a second Gateway's MAC 10.0.2.16.
netlab_services() { # GW_MAC GW2_MAC
        local i
        # -Z root: tcpdump would drop to its own user, who cannot write NL_DIR.
        nl_spawn "$NL_DIR/tcpdump-ext.log" "$NL_LAB" tcpdump -Z root -n -U -s 512 -i br-ext -w "$NL_DIR/ext.pcap"
        nl_spawn "$NL_DIR/tcpdump-int.log" "$NL_LAB" tcpdump -Z root -n -U -s 512 -i br-int -w "$NL_DIR/int.pcap"
        nl_spawn "$NL_DIR/clearnet.out" "$NL_CN" python3 "$WB_SOURCE_ROOT/tests/e2e/leak-clearnet.py" \
                "$NL_CN_ADDR" "$NL_PORT_FIRST" "$NL_PORT_LAST" "$NL_DIR/clearnet.log" --lifetime 1800
        nl_spawn "$NL_DIR/dnsmasq.out" "$NL_CN" dnsmasq --keep-in-foreground --conf-file=/dev/null \
                --user=root --group=root --no-resolv --no-hosts --no-poll \
                --interface=cn0 --bind-interfaces --listen-address="$NL_CN_ADDR" \
                --address=/#/"$NL_DNS_MARK" --log-queries --log-dhcp --log-facility="$NL_DIR/dnsmasq.log" \
                --dhcp-range=10.0.2.15,10.0.2.40,255.255.255.0,10m \
                --dhcp-host="$1",10.0.2.15 --dhcp-host="$2",10.0.2.16 \
                --dhcp-option=option:router,"$NL_CN_ADDR" --dhcp-option=option:dns-server,"$NL_CN_ADDR" \
                --dhcp-leasefile="$NL_DIR/dnsmasq.leases" --pid-file="$NL_DIR/dnsmasq.pid"
        # Wait until all four listen: the capture must not miss a VM's
        # first packet.
        for i in $(seq 50); do
                grep -q 'listening on br-ext' "$NL_DIR/tcpdump-ext.log" 2>/dev/null &&
                        grep -q 'listening on br-int' "$NL_DIR/tcpdump-int.log" 2>/dev/null &&
                        grep -q '^listening' "$NL_DIR/clearnet.log" 2>/dev/null &&
                        nl_cn ss -Hlun "sport = :53" | grep -q "$NL_CN_ADDR:53" && return 0
                sleep 0.2
        done
        return 1
}

# Packets in a capture that match a tcpdump filter.
netlab_count() { # PCAP FILTER
        tcpdump -n -r "$1" "$2" 2>/dev/null | wc -l
}
netlab_show() { # PCAP FILTER [N]
        tcpdump -n -e -r "$1" "$2" 2>/dev/null | head -n "${3:-10}"
}

netlab_stop_services() {
        local p
        for p in "${nl_pids[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${nl_pids[@]}"; do wait "$p" 2>/dev/null; done
        nl_pids=()
}

netlab_down() {
        netlab_stop_services
        # Deleting a namespace deletes its bridges, taps and veths with it.
        ip netns del "$NL_CN" 2>/dev/null
        ip netns del "$NL_LAB" 2>/dev/null
        return 0
}
