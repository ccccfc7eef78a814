#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The private Tor test network of tests/e2e/tornet.sh on its own, no VM:
# it comes up, stays inside its namespaces, and a client tor in a namespace
# of its own fetches the test page by address and by the test DNS name,
# arriving at the server from an exit relay; streams with different SOCKS
# isolation ride different circuits.  Finally the Gateway's own torrc, with
# the lines tornet_gateway_torrc writes, is accepted by tor.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/tornet.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
for p in tor tor-gencert ip dnsmasq curl python3 ss; do
        command -v "$p" >/dev/null || skip_all "$p is not installed (tools/install-deps)"
done
ip netns add "wb-tor-probe-$$" 2>/dev/null || skip_all "cannot create network namespaces here"
ip netns del "wb-tor-probe-$$"

T=$(mktemp -d)
evpid=
cleanup() {
        trap '' HUP INT PIPE TERM
        [ -n "$evpid" ] && kill "$evpid" 2>/dev/null && wait "$evpid" 2>/dev/null
        tornet_stop
        rm -rf "$T"
}
on_exit cleanup

t0=$(date +%s)
if tornet_start; then
        ok "the private Tor network is up (ready after $TORNET_READY_SECS s)"
else
        fail "the private Tor network is up"
        tornet_dump_logs 20
        done_testing
        exit
fi
ns=$TORNET_NS

# --- Containment -----------------------------------------------------------
root_netns=$(readlink /proc/1/ns/net)
outside=
for p in "${TORNET_PIDS[@]}"; do
        [ "$(readlink "/proc/$p/ns/net")" = "$root_netns" ] && outside+=" $p"
done
check "all ${#TORNET_PIDS[@]} processes run outside the root network namespace" test -z "$outside"
if tornet_contained >"$T/contained"; then
        ok "no route off the subnet; every socket's peer is loopback or in $TORNET_SUBNET"
else
        fail "no route off the subnet; every socket's peer is loopback or in $TORNET_SUBNET"
        diag_file "$T/contained"
fi
# Every tor knows only our authorities, and the client's consensus lists
# only our relays.
grep -h '^DirAuthority' "$TORNET_DIR"/nodes/*/torrc | sort -u >"$T/dirauths"
check "the only DirAuthority lines are the 3 test authorities" test "$(wc -l <"$T/dirauths")" -eq 3
tornet_ctl "GETINFO ns/all" >"$T/ns"
relays=$(grep -c '^r ' "$T/ns")
others=$(awk '$1 == "r" { print $7 }' "$T/ns" | grep -vc "^${TORNET_PREFIX//./\\.}\.")
check "the client's consensus lists the 7 test relays ($relays) and no other ($others)" \
        test "$relays" -eq 7 -a "$others" -eq 0
exits_flagged=$(awk '$1 == "s" && / Exit/' "$T/ns" | wc -l)
check "the consensus has 2 relays with the Exit flag ($exits_flagged)" test "$exits_flagged" -eq 2

# --- Fetches ---------------------------------------------------------------
# The client's stream events, to see which circuit carried each fetch.
ip netns exec "$TORNET_CLIENT_NS" bash -c \
        'exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1
         printf "AUTHENTICATE \"\"\r\nSETEVENTS STREAM\r\n" >&3
         exec cat <&3' _ "$TORNET_CLIENT_CONTROL_PORT" >"$T/events.raw" 2>&1 &
evpid=$!
for _ in $(seq 50); do [ "$(grep -c '^250 OK' "$T/events.raw")" -ge 2 ] && break; sleep 0.1; done

is_exit() { case " $TORNET_EXIT_IPS " in *" $1 "*) return 0 ;; esac; return 1; }
# fetch NAME URL CURL-ARGS...: the page arrives, and the server saw an exit.
fetch() {
        local name=$1 url=$2 body peer tries
        shift 2
        # A fresh circuit's first stream can fail at the exit (END, MISC)
        # while the young network settles: up to 3 tries, reported.
        for tries in 1 2 3; do
                body=$(tornet_curl "$@" "$url" 2>"$T/curl.err")
                [ "$body" = "wb-tornet-page $TORNET_TOKEN path=/$name" ] && break
                sleep 2
        done
        case $body in
        "wb-tornet-page $TORNET_TOKEN path=/$name") ok "$name: the page arrived (tries=$tries)" ;;
        *) fail "$name: the page arrived"; diag "got: $body"; diag_file "$T/curl.err" 5; return ;;
        esac
        peer=$(awk -v p="/$name" '$4 == p { print $1 }' "$TORNET_HTTP_LOG" | tail -n 1)
        if is_exit "$peer"; then
                ok "$name: the server saw the request come from exit $peer"
        else
                fail "$name: the server saw the request come from an exit ($TORNET_EXIT_IPS)"
                diag "peer: ${peer:-none}"
        fi
        eval "seen_${name//-/_}=\$peer"
}
fetch by-ip "http://$TORNET_SERVER_IP/by-ip" --proxy "socks5://127.0.0.1:9050"
fetch by-name "http://$TORNET_SERVER_NAME/by-name"
check "dnsmasq answered the exit's query for $TORNET_SERVER_NAME" \
        grep -qi "config $TORNET_SERVER_NAME is $TORNET_SERVER_IP" "$TORNET_DIR/dnsmasq.log"

# Isolation: SOCKS user a and user b on port 9050, no user on 9100, then
# user a again (any circuit but those of b and of 9100).
fetch iso-a1 "http://$TORNET_SERVER_NAME/iso-a1" -U a:x
fetch iso-b "http://$TORNET_SERVER_NAME/iso-b" -U b:x
fetch iso-c "http://$TORNET_SERVER_NAME/iso-c" --proxy socks5h://127.0.0.1:9100
fetch iso-a2 "http://$TORNET_SERVER_NAME/iso-a2" -U a:x
sleep 1
kill "$evpid" 2>/dev/null; wait "$evpid" 2>/dev/null; evpid=
tr -d '\r' <"$T/events.raw" >"$T/events"
tornet_ctl "GETINFO circuit-status" >"$T/circuits"
# "650 STREAM <id> SUCCEEDED <circuit> <target> ...", in the order of the
# fetches (the two by address/name first).  With conflux, two circuits can
# carry one set's streams: compare conflux sets where there are any.
mapfile -t circ < <(awk '$1 == "650" && $2 == "STREAM" && $4 == "SUCCEEDED" && $6 ~ /:80$/ { print $5 }' "$T/events")
set_of() {
        local c
        c=$(awk -v id="$1" '$1 == id { for (i = 2; i <= NF; i++) if ($i ~ /^CONFLUX_ID=/) { sub(/^CONFLUX_ID=/, "", $i); print $i } }' "$T/circuits")
        echo "${c:-circuit-$1}"
}
path_of() { awk -v id="$1" '$1 == id { print $3 }' "$T/circuits" | sed 's/\$[0-9A-F]*~//g'; }
if [ "${#circ[@]}" -eq 6 ]; then
        ok "6 stream events for 6 fetches"
        a1=$(set_of "${circ[2]}") b=$(set_of "${circ[3]}") c=$(set_of "${circ[4]}") a2=$(set_of "${circ[5]}")
        for i in 2 3 4 5; do diag "fetch $((i + 1)): circuit ${circ[$i]} ($(set_of "${circ[$i]}")) path $(path_of "${circ[$i]}")"; done
        # The same user may, but need not, get the same circuit again.
        diag "SOCKS user a twice: $a1, $a2"
        check "SOCKS users a and b: different circuits ($a1, $b)" test "$a1" != "$b"
        check "ports 9050 and 9100: different circuits ($a1, $b vs $c)" test "$c" != "$a1" -a "$c" != "$b"
        check "user a again: not on the circuit of b or of 9100 ($a2)" test "$a2" != "$b" -a "$a2" != "$c"
else
        fail "6 stream events for 6 fetches (${#circ[@]})"
        diag_file "$T/events" 20
fi
diag "exits seen by the server: by-ip ${seen_by_ip:-?}, by-name ${seen_by_name:-?}, a ${seen_iso_a1:-?}/${seen_iso_a2:-?}, b ${seen_iso_b:-?}, c ${seen_iso_c:-?}"

if tornet_contained >"$T/contained"; then
        ok "after the fetches, still no route off the subnet, no peer outside it"
else
        fail "after the fetches, still no route off the subnet, no peer outside it"
        diag_file "$T/contained"
fi

# --- The Gateway's side ----------------------------------------------------
# What a VM test drops into /etc/tor/torrc.d/: with the Gateway's torrc and
# Debian's defaults file, tor accepts it.
gw=$WB_SOURCE_ROOT/overlays/whonix-gateway
mkdir -p "$T/torrc.d"
tornet_gateway_torrc "$T/torrc.d/50-tornet.conf"
check "the Gateway snippet names the 3 test authorities" \
        test "$(grep -c '^DirAuthority ' "$T/torrc.d/50-tornet.conf")" -eq 3
check "the Gateway snippet sets TestingTorNetwork 1" grep -q '^TestingTorNetwork 1$' "$T/torrc.d/50-tornet.conf"
sed "s|^%include /etc/tor/torrc.d/|%include $T/torrc.d/|" "$gw/etc/tor/torrc" >"$T/gateway-torrc"
: >"$T/empty"
defaults=/usr/share/tor/tor-service-defaults-torrc
[ -f "$defaults" ] || defaults=$T/empty
if tor --verify-config --defaults-torrc "$defaults" -f "$T/gateway-torrc" >"$T/verify" 2>&1; then
        ok "tor --verify-config accepts the Gateway's torrc plus the snippet"
else
        fail "tor --verify-config accepts the Gateway's torrc plus the snippet"
        diag_file "$T/verify" 10
fi

# The Gateway without a VM: a namespace on the bridge whose eth0 asks
# dnsmasq for an address (as the Gateway's eth0 does), and an "eth1" with
# 10.152.152.10; there the Gateway's own torrc plus the snippet (without
# Debian's defaults file: no User switch, our data directory and log)
# bootstraps in the test network, and its SocksPort on the internal address
# fetches the page by name.
gwns=$TORNET_NS-gw
tornet_netns_add gw
# (a veth pair whose other end stays unconnected: not every kernel has dummy)
ip -n "$gwns" link add eth1 type veth peer name eth1-peer &&
        ip -n "$gwns" addr add 10.152.152.10/18 dev eth1 &&
        ip -n "$gwns" link set eth1 up && ip -n "$gwns" link set eth1-peer up
gw_ip=$TORNET_PREFIX.98
if command -v dhclient >/dev/null; then
        : >"$T/dhclient.conf"
        tornet_spawn "$gwns" "$T/dhclient.log" dhclient -d -1 -v -cf "$T/dhclient.conf" -sf /bin/true \
                -lf "$T/dhcp.leases" -pf "$T/dhclient.pid" eth0
        for _ in $(seq 100); do grep -q 'fixed-address' "$T/dhcp.leases" 2>/dev/null && break; sleep 0.2; done
        lease=$(awk '$1 == "fixed-address" { sub(/;/, "", $2); print $2 }' "$T/dhcp.leases" 2>/dev/null | tail -n 1)
        case $lease in
        "$TORNET_PREFIX".1[0-9][0-9]) ok "DHCP on the test network: eth0 was offered $lease"; gw_ip=$lease ;;
        *) fail "DHCP on the test network offers an address in .100-.199"; diag_file "$T/dhclient.log" 10 ;;
        esac
        check "DHCP: the offer names dnsmasq as DNS server and no router" \
                sh -c 'grep -q "domain-name-servers $2;" "$1" && ! grep -q "option routers" "$1"' \
                sh "$T/dhcp.leases" "$TORNET_DNS_IP"
else
        ok "DHCP on the test network # SKIP dhclient is not installed (isc-dhcp-client)"
fi
ip -n "$gwns" addr add "$gw_ip/24" dev eth0
mkdir -p "$T/gw-tor" && chmod 700 "$T/gw-tor"
gw_t0=$(date +%s)
tornet_spawn "$gwns" "$T/gw-tor.out" tor --defaults-torrc "$T/empty" -f "$T/gateway-torrc" \
        --DataDirectory "$T/gw-tor" --Log "notice file $T/gw-tor.log"
body=
while [ $(( $(date +%s) - gw_t0 )) -lt 120 ]; do
        body=$(ip netns exec "$gwns" curl -sS --max-time 20 --noproxy '' \
                --proxy socks5h://10.152.152.10:9100 "http://$TORNET_SERVER_NAME/gateway" 2>/dev/null) && break
        sleep 1
done
gw_peer=$(awk '$4 == "/gateway" { print $1 }' "$TORNET_HTTP_LOG" | tail -n 1)
if [ "$body" = "wb-tornet-page $TORNET_TOKEN path=/gateway" ] && is_exit "$gw_peer"; then
        ok "the Gateway's torrc joins the test network: the page arrived after $(( $(date +%s) - gw_t0 )) s, from exit $gw_peer"
else
        fail "the Gateway's torrc joins the test network and fetches the page by name"
        diag "got: ${body:-nothing}; server saw: ${gw_peer:-nothing}"
        diag_file "$T/gw-tor.log" 15
        diag_file "$T/gw-tor.out" 5
fi
if tornet_contained >"$T/contained"; then
        ok "with the Gateway's tor too, no route off the subnet, no peer outside it"
else
        fail "with the Gateway's tor too, no route off the subnet, no peer outside it"
        diag_file "$T/contained"
fi
# The Gateway's tor talks to test relays and nothing else (its other
# sockets are the local SOCKS connections).
gw_peers=$(ip netns exec "$gwns" ss -Htnp state established |
        awk '/users:\(\("tor"/ { sub(/:[0-9]+$/, "", $4); print $4 }' |
        grep -v -e '^127\.' -e '^10\.152\.152\.10$' | sort -u | paste -sd' ')
unexpected=
for a in $gw_peers; do case " $TORNET_RELAY_IPS " in *" $a "*) ;; *) unexpected+=" $a" ;; esac; done
check "the Gateway's tor is connected to test relays only (${gw_peers:-none})" \
        test -n "$gw_peers" -a -z "$unexpected"

# Where a VM test plugs in a Gateway: a tap on wbt0 for its external NIC,
# a tap on a bridge of its own for the internal one.
tornet_bridge_add wbint0 && tornet_tap_add tapgw0 && tornet_tap_add tapgw1 wbint0
check "taps for a Gateway VM: tapgw0 on wbt0, tapgw1 on the isolated bridge wbint0" \
        sh -c 'ip -n "$1" -o link show tapgw0 | grep -q "master wbt0" &&
                ip -n "$1" -o link show tapgw1 | grep -q "master wbint0" &&
                ! ip -n "$1" -4 -o addr show dev wbint0 | grep -q inet' sh "$TORNET_NS"

# --- Teardown --------------------------------------------------------------
pids=("${TORNET_PIDS[@]}")
dir=$TORNET_DIR
tornet_stop
left=
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left+=" $p"; done
check "tornet_stop: no process left" test -z "$left"
check "tornet_stop: namespaces $ns, $ns-c, $ns-gw removed" \
        sh -c '! ip netns list | grep -Eq "^$1(-c|-gw)?( |\$)"' sh "$ns"
check "tornet_stop: temporary directory removed" test ! -e "$dir"
diag "time to ready: $TORNET_READY_SECS s; total: $(( $(date +%s) - t0 )) s"

done_testing
