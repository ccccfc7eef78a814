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
        [ -n "$evpid" ] && kill "$evpid" 2>/dev/null && wait "$evpid" 2>/dev/null
        tornet_stop
        rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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
        ok "only subnet routes; every socket is local, loopback or in $TORNET_SUBNET"
else
        fail "only subnet routes; every socket is local, loopback or in $TORNET_SUBNET"
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
        local name=$1 url=$2 body peer
        shift 2
        body=$(tornet_curl "$@" "$url" 2>"$T/curl.err")
        case $body in
        "wb-tornet-page $TORNET_TOKEN path=/$name") ok "$name: the page arrived" ;;
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

# Isolation: SOCKS user a twice and user b on port 9050, no user on 9100.
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
        check "same SOCKS user on the same port: the same circuit ($a1)" test "$a1" = "$a2"
        check "SOCKS users a and b: different circuits ($a1, $b)" test "$a1" != "$b"
        check "ports 9050 and 9100: different circuits ($a1, $b vs $c)" test "$c" != "$a1" -a "$c" != "$b"
else
        fail "6 stream events for 6 fetches (${#circ[@]})"
        diag_file "$T/events" 20
fi
diag "exits seen by the server: by-ip ${seen_by_ip:-?}, by-name ${seen_by_name:-?}, a ${seen_iso_a1:-?}/${seen_iso_a2:-?}, b ${seen_iso_b:-?}, c ${seen_iso_c:-?}"

if tornet_contained >"$T/contained"; then
        ok "after the fetches, still every socket local, loopback or in $TORNET_SUBNET"
else
        fail "after the fetches, still every socket local, loopback or in $TORNET_SUBNET"
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
defaults=/usr/share/tor/tor-service-defaults-torrc
[ -f "$defaults" ] || defaults=$T/torrc.d/50-tornet.conf
if tor --verify-config --defaults-torrc "$defaults" -f "$T/gateway-torrc" >"$T/verify" 2>&1; then
        ok "tor --verify-config accepts the Gateway's torrc plus the snippet"
else
        fail "tor --verify-config accepts the Gateway's torrc plus the snippet"
        diag_file "$T/verify" 10
fi

# --- Teardown --------------------------------------------------------------
pids=("${TORNET_PIDS[@]}")
dir=$TORNET_DIR
tornet_stop
left=
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left+=" $p"; done
check "tornet_stop: no process left" test -z "$left"
check "tornet_stop: namespaces $ns and $ns-c removed" \
        sh -c '! ip netns list | grep -Eq "^$1(-c)?( |\$)"' sh "$ns"
check "tornet_stop: temporary directory removed" test ! -e "$dir"
diag "time to ready: $TORNET_READY_SECS s; total: $(( $(date +%s) - t0 )) s"

done_testing
