# SPDX-License-Identifier: GPL-2.0-or-later
# tornet.sh: a private Tor network on this machine, for tests (bash, source it).
#
# Everything runs inside network namespaces this file creates; nothing
# listens in the root namespace, and the namespaces have no route off their
# own test subnet, so nothing here can reach the public Tor network (the only
# DirAuthority lines any of these tors know are the ones generated below).
# Needs root, tor, tor-gencert, ip, dnsmasq, python3, curl.
#
# Layout (TORNET_PREFIX defaults to 10.99.0; every address is a /24 on one
# bridge, "wbt0", inside the namespace TORNET_NS = wb-tor-<pid>):
#
#   namespace TORNET_NS                                namespace TORNET_NS-c
#   +--------------------------------------------+    +--------------------+
#   | bridge wbt0                                |    | eth0 .2  test      |
#   |   .11 .12 .13  authorities a1 a2 a3        |    | client tor: Socks  |
#   |                ORPort 5000, DirPort 7000   |veth| 127.0.0.1:9050 and |
#   |   .21 .22      relays r1 r2 (ORPort 5000)  |----| :9100 (both Isolate|
#   |   .31 .32      exits e1 e2  (ORPort 5000)  |    | SOCKSAuth), Control|
#   |   .53          dnsmasq: DNS, DHCP .100-.199|    | 127.0.0.1:9052     |
#   |   .80          HTTP server, port 80        |    | (no auth)          |
#   |   v-c          veth to the client          |    +--------------------+
#   |   taps (tornet_tap_add) for VMs            |
#   | more bridges without addresses, e.g. the   |    more namespaces on wbt0:
#   | Whonix-Internal network (tornet_bridge_add)|    tornet_netns_add
#   +--------------------------------------------+
#
# - The exits resolve names with dnsmasq (.53; no upstream server: it knows
#   only TORNET_SERVER_NAME, "server.wb-test", and answers NXDOMAIN for every
#   other name).  Their exit policy accepts the test subnet, and port 80
#   anywhere: clients see only a port summary of an exit's policy (in the
#   microdescriptor), which leaves out rules for private addresses, so
#   without "*:80" no client would pick them for a name; the namespace has
#   no route beyond the subnet, so "*:80" can only reach the test subnet.
# - dnsmasq also serves DHCP (.100-.199, no router option, DNS .53), for a
#   Gateway VM whose external NIC (eth0, DHCP) is a tap on wbt0.
# - The HTTP server serves "wb-tornet-page <TORNET_TOKEN> path=<path>" and
#   logs "<peer ip> <peer port> <method> <path> <host>" per request to
#   TORNET_HTTP_LOG.
#
# API (call these from the main shell, not from $(...): the PIDs are kept in
# shell variables; tornet_stop belongs in the caller's EXIT trap, and HUP,
# INT, PIPE and TERM should be trapped to "exit", so that it runs then too):
#   tornet_start [NS]       create the namespaces and start everything; wait
#                           until the test client has built a circuit, has a
#                           consensus listing all 7 relays (Exit flag on e1,
#                           e2) and fetched the page (at most TORNET_TIMEOUT
#                           s, 240);
#                           sets TORNET_READY_SECS.  Returns 1 on failure
#                           (tornet_dump_logs shows why; tornet_stop cleans).
#   tornet_stop             kill what tornet_start started (by PID), delete
#                           the namespaces and the temporary directory
#   tornet_exec CMD...      run CMD inside TORNET_NS (e.g. qemu with a tap)
#   tornet_client_exec CMD...   run CMD inside the test client's namespace
#   tornet_curl ARGS...     curl in the client namespace through its
#                           SocksPort 9050, names resolved by the exit
#                           (--proxy socks5h://127.0.0.1:9050; ARGS may add
#                           -U user:pass or another --proxy, which wins)
#   tornet_ctl CMD...       send control commands to the test client's tor,
#                           print the replies (CR stripped)
#   tornet_gateway_torrc FILE   write the torrc lines a client outside (the
#                           Gateway VM) needs to use this network, e.g. as
#                           /etc/tor/torrc.d/50-test.conf of a test overlay
#   tornet_netns_add SUFFIX [ADDRESS]   one more host on wbt0: namespace
#                           TORNET_NS-SUFFIX (SUFFIX at most 12 characters),
#                           its eth0 a veth to the bridge, with ADDRESS/24 if
#                           given (else e.g. for a DHCP client); no IPv6
#   tornet_spawn NS LOG CMD...  run CMD in the background in namespace NS,
#                           output to LOG; tornet_stop kills it
#   tornet_bridge_add NAME  another bridge in TORNET_NS, with no address
#                           and no link to wbt0 (the Gateway's internal
#                           network: only VMs' taps on it)
#   tornet_tap_add NAME [BRIDGE]   tap NAME on wbt0 (or BRIDGE), in
#                           TORNET_NS: qemu must run there too and be stopped
#                           before the namespace goes, so start it with
#                           tornet_spawn "$TORNET_NS" LOG qemu-system-x86_64
#                           ... -netdev tap,id=n0,ifname=NAME,script=no,
#                           downscript=no
#   tornet_onions_start N   N onion services on the test network, run by
#                           one more tor ("o1", a client, not a relay) in
#                           TORNET_NS, each serving HTTP with a Date header
#                           from a web server of their own (TORNET_ONION_WEB_IP
#                           port 80, log TORNET_ONION_LOG); sets TORNET_ONIONS
#                           (their names, space-separated); returns once the
#                           test client has fetched a page from each (at most
#                           TORNET_TIMEOUT s), 1 otherwise
#   tornet_obfs4_bridge_start   one more relay, "b1" (TORNET_BRIDGE_IP, .41),
#                           a bridge with obfs4 (obfs4proxy as its server
#                           transport on port TORNET_OBFS4_PORT, 5100; its
#                           ORPort 5000 too): it publishes no descriptor, so
#                           no consensus lists it; sets TORNET_BRIDGE_LINE
#                           ("obfs4 IP:PORT FINGERPRINT cert=... iat-mode=0")
#                           and TORNET_BRIDGE_FP; returns once obfs4proxy
#                           listens (at most 60 s), 1 otherwise
#   tornet_contained        0 if no namespace of ours has a default route,
#                           a route via a gateway or an IPv6 route, and every
#                           socket's peer is loopback, in the test subnet or
#                           the namespace's own; prints offenders
#   tornet_dump_logs [N]    the last N lines of every log, as TAP comments
# Variables set by tornet_start: TORNET_NS, TORNET_CLIENT_NS, TORNET_DIR,
# TORNET_SUBNET, TORNET_SERVER_IP, TORNET_SERVER_PORT, TORNET_SERVER_NAME,
# TORNET_DNS_IP, TORNET_EXIT_IPS (space-separated), TORNET_RELAY_IPS (all
# relays, authorities included), TORNET_CLIENT_IP, TORNET_TOKEN,
# TORNET_HTTP_LOG, TORNET_PIDS, TORNET_READY_SECS.
# Set before tornet_start: TORNET_EXTRA_NAMES, more names that dnsmasq
# gives the server's address (e.g. one per program a test runs, so that the
# streams tell the programs apart); TORNET_REPO_DIR, a directory that the
# server serves under /repo/ (e.g. an apt repository); TORNET_EXIT_PORTS,
# more ports the exits accept anywhere besides 80 (a client picks an exit
# for a name by the port: e.g. 443 for a test's HTTPS server, 6667 for
# IRC; the namespace has no route off the subnet, so "anywhere" is it).

TORNET_PREFIX=${TORNET_PREFIX:-10.99.0}
TORNET_TIMEOUT=${TORNET_TIMEOUT:-240}
TORNET_BRIDGE=wbt0
TORNET_ORPORT=5000
TORNET_DIRPORT=7000
TORNET_CLIENT_CONTROL_PORT=9052
TORNET_SERVER_NAME=server.wb-test
TORNET_SERVER_PORT=80
TORNET_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TORNET_NS=
TORNET_CLIENT_NS=
TORNET_DIR=
TORNET_PIDS=()
TORNET_EXTRA_NS=()
TORNET_EXTRA_NAMES=${TORNET_EXTRA_NAMES:-}
TORNET_REPO_DIR=${TORNET_REPO_DIR:-}
TORNET_EXIT_PORTS=${TORNET_EXIT_PORTS:-}
TORNET_ONIONS=

# name role last-octet
_tornet_nodes="a1 auth 11
a2 auth 12
a3 auth 13
r1 relay 21
r2 relay 22
e1 exit 31
e2 exit 32"

_tornet_say() { echo "# tornet: $*"; }

_tornet_now() { date +%s.%N; }
_tornet_since() { echo "$(_tornet_now) $1" | awk '{ printf "%.1f", $1 - $2 }'; }

tornet_exec() { ip netns exec "$TORNET_NS" "$@"; }
tornet_client_exec() { ip netns exec "$TORNET_CLIENT_NS" "$@"; }

# Start CMD in the background inside namespace NS, output to LOG, and
# remember its PID for tornet_stop (env and "ip netns exec" exec the
# command, so $! is the program's own PID).  Without MALLOC_PERTURB_, which
# meson sets for every test to catch our own code's use of uninitialized
# or freed memory: the network's ten tors are not ours, and with it each
# spent most of its time filling the memory it allocated and freed (perf:
# memset 50%, page faults 35%); together they took over a core from the
# booting VMs under test (tor 112% and both qemus 62%, seen in the
# anonymity test, which then timed out waiting for the boot).
tornet_spawn() { # ns log cmd...
        local ns=$1 log=$2
        shift 2
        env -u MALLOC_PERTURB_ ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
        TORNET_PIDS+=($!)
}

# The relay's RSA identity fingerprint, making its keys in DATADIR.
_tornet_relay_fp() { # datadir nickname ip
        local d=$1
        : >"$d/empty-torrc"
        tor --list-fingerprint --DataDirectory "$d" --Nickname "$2" --Address "$3" \
                --ORPort "$3:$TORNET_ORPORT" -f "$d/empty-torrc" --defaults-torrc "$d/empty-torrc" \
                --Log 'err stderr' >/dev/null || return 1
        cut -d' ' -f2 "$d/fingerprint"
}

# The v3 authority keys (identity, signing key and certificate) in
# DATADIR/keys; prints the v3 identity fingerprint.
_tornet_auth_keys() { # datadir ip
        mkdir -p "$1/keys" || return 1
        # An empty passphrase: the identity key is only used here, once.
        echo "" | tor-gencert --create-identity-key -m 12 -a "$2:$TORNET_DIRPORT" \
                -i "$1/keys/authority_identity_key" -s "$1/keys/authority_signing_key" \
                -c "$1/keys/authority_certificate" --passphrase-fd 0 >/dev/null 2>&1 || return 1
        awk '$1 == "fingerprint" { print $2 }' "$1/keys/authority_certificate"
}

# Lines every tor of the test network has: ours are the only authorities.
_tornet_common_torrc() {
        echo "TestingTorNetwork 1"
        cat "$TORNET_DIR/dirauthorities"
        cat <<EOF
ClientUseIPv6 0
ClientRejectInternalAddresses 0
ClientDNSRejectInternalAddresses 0
EnforceDistinctSubnets 0
EOF
}

_tornet_node_torrc() { # name role ip datadir
        local name=$1 role=$2 ip=$3 d=$4
        _tornet_common_torrc
        cat <<EOF
DataDirectory $d
PidFile $d/pid
Log notice file $d/notice.log
SafeLogging 0
ShutdownWaitLength 0
Nickname $name
ContactInfo whonix-build tornet test relay $name
Address $ip
AddressDisableIPv6 1
OutboundBindAddress $ip
ORPort $ip:$TORNET_ORPORT
SocksPort 0
AssumeReachable 1
DirAllowPrivateAddresses 1
ExtendAllowPrivateAddresses 1
EOF
        case $role in
        auth)
                cat <<EOF
ExitRelay 0
ExitPolicy reject *:*
DirPort $ip:$TORNET_DIRPORT
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
AuthDirHasIPv6Connectivity 0
AuthDirMaxServersPerAddr 0
TestingV3AuthInitialVotingInterval 10
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
TestingV3AuthVotingStartOffset 0
V3AuthVotingInterval 20
V3AuthVoteDelay 4
V3AuthDistDelay 4
TestingAuthDirTimeToLearnReachability 0
TestingMinFastFlagThreshold 0
TestingMinExitFlagThreshold 0
TestingDirAuthVoteGuard $TORNET_SUBNET
TestingDirAuthVoteHSDir $TORNET_SUBNET
TestingDirAuthVoteExit ${TORNET_EXIT_IPS// /,}
EOF
                ;;
        relay)
                printf 'ExitRelay 0\nExitPolicy reject *:*\n'
                ;;
        exit)
                cat <<EOF
ExitRelay 1
IPv6Exit 0
ExitPolicyRejectPrivate 0
ExitPolicyRejectLocalInterfaces 0
ExitPolicy accept $TORNET_SUBNET:*
ExitPolicy accept *:$TORNET_SERVER_PORT
$(for p in $TORNET_EXIT_PORTS; do echo "ExitPolicy accept *:$p"; done)
ExitPolicy reject *:*
ServerDNSResolvConfFile $TORNET_DIR/resolv.conf
ServerDNSDetectHijacking 0
ServerDNSAllowBrokenConfig 1
EOF
                ;;
        esac
}

_tornet_client_torrc() { # datadir
        local d=$1
        _tornet_common_torrc
        cat <<EOF
DataDirectory $d
PidFile $d/pid
Log notice file $d/notice.log
SafeLogging 0
ShutdownWaitLength 0
ClientOnly 1
SocksPort 127.0.0.1:9050 IsolateSOCKSAuth
SocksPort 127.0.0.1:9100 IsolateSOCKSAuth
ControlPort 127.0.0.1:$TORNET_CLIENT_CONTROL_PORT
CookieAuthentication 0
EOF
}

tornet_gateway_torrc() { # file
        {
                echo "# whonix-build tests: join the private Tor test network of tests/e2e/tornet.sh"
                echo "# (generated for namespace $TORNET_NS; valid only while it runs)."
                _tornet_common_torrc
        } >"$1"
}

tornet_ctl() { # command...
        local cmds='AUTHENTICATE ""\r\n' c
        for c; do cmds+="$c\\r\\n"; done
        cmds+='QUIT\r\n'
        ip netns exec "$TORNET_CLIENT_NS" timeout 20 bash -c \
                'exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1; printf "%b" "$2" >&3; cat <&3' \
                _ "$TORNET_CLIENT_CONTROL_PORT" "$cmds" | tr -d '\r'
}

tornet_curl() { # curl args...
        ip netns exec "$TORNET_CLIENT_NS" curl -sS --max-time 60 --noproxy '' \
                --proxy socks5h://127.0.0.1:9050 "$@"
}

tornet_netns_add() { # suffix [address]
        local n=$TORNET_NS-$1
        ip netns add "$n" || return 1
        TORNET_EXTRA_NS+=("$n")
        ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
                net.ipv6.conf.default.disable_ipv6=1 &&
        ip -n "$n" link set lo up &&
        ip -n "$TORNET_NS" link add "v-$1" type veth peer name eth0 netns "$n" &&
        ip -n "$TORNET_NS" link set "v-$1" master "$TORNET_BRIDGE" up &&
        ip -n "$n" link set eth0 up || return 1
        [ -z "${2:-}" ] || ip -n "$n" addr add "$2/24" dev eth0
}

tornet_bridge_add() { # name
        ip -n "$TORNET_NS" link add "$1" type bridge &&
        ip -n "$TORNET_NS" link set "$1" up
}

tornet_tap_add() { # name [bridge]
        ip -n "$TORNET_NS" tuntap add dev "$1" mode tap &&
        ip -n "$TORNET_NS" link set "$1" master "${2:-$TORNET_BRIDGE}" up
}

# Is ADDRESS (no port) loopback, unspecified, inside the test subnet or
# one of the words in OWN (the namespace's own addresses)?
_tornet_allowed_peer() { # address own
        case $1 in
        127.*|0.0.0.0|'*'|'[::]'|'[::1]'|'::'|'::1') return 0 ;;
        "$TORNET_PREFIX".*) return 0 ;;
        esac
        case " $2 " in *" $1 "*) return 0 ;; esac
        return 1
}

# No way off the test network: in every namespace of ours, no default
# route, no route through a gateway, no IPv6 route, and every socket's peer
# is loopback, in the test subnet or an address of that namespace itself.
tornet_contained() {
        local ns bad=0 line peer own
        for ns in "$TORNET_NS" "${TORNET_EXTRA_NS[@]}"; do
                while read -r line; do
                        case $line in
                        default*|*" via "*) echo "route in $ns: $line"; bad=1 ;;
                        esac
                done < <(ip -n "$ns" -4 route show table all)
                if ip -n "$ns" -6 route show table all 2>/dev/null | grep -qv '^local \|^multicast \|^anycast '; then
                        echo "IPv6 routes in $ns"; bad=1
                fi
                own=$(ip -n "$ns" -4 -o addr show | awk '{ sub(/\/.*/, "", $4); print $4 }' | tr '\n' ' ')
                # ss -Htuna: netid state recv-q send-q local peer
                while read -r _ _ _ _ _ peer _; do
                        _tornet_allowed_peer "${peer%:*}" "$own" && continue
                        echo "socket in $ns: peer $peer"; bad=1
                done < <(ip netns exec "$ns" ss -Htuna)
        done
        return "$bad"
}

tornet_dump_logs() { # [lines]
        local f
        [ -n "$TORNET_DIR" ] || return 0
        for f in "$TORNET_DIR"/nodes/*/notice.log "$TORNET_DIR"/*.log; do
                [ -s "$f" ] || continue
                echo "# --- ${f#"$TORNET_DIR"/}"
                tail -n "${1:-15}" "$f" | sed 's/^/# /'
        done
}

_tornet_fail() { _tornet_say "$*"; return 1; }

tornet_start() { # [ns]
        local t0 n name role octet ip d fp v3 dl up
        for n in tor tor-gencert ip dnsmasq curl python3 ss; do
                command -v "$n" >/dev/null || _tornet_fail "$n is not installed" || return 1
        done
        t0=$(_tornet_now)
        TORNET_NS=${1:-wb-tor-$$}
        TORNET_CLIENT_NS=$TORNET_NS-c
        TORNET_SUBNET=$TORNET_PREFIX.0/24
        TORNET_DNS_IP=$TORNET_PREFIX.53
        TORNET_SERVER_IP=$TORNET_PREFIX.80
        TORNET_CLIENT_IP=$TORNET_PREFIX.2
        TORNET_EXIT_IPS=
        TORNET_RELAY_IPS=
        while read -r name role octet; do
                TORNET_RELAY_IPS+="${TORNET_RELAY_IPS:+ }$TORNET_PREFIX.$octet"
                [ "$role" = exit ] && TORNET_EXIT_IPS+="${TORNET_EXIT_IPS:+ }$TORNET_PREFIX.$octet"
        done <<<"$_tornet_nodes"
        TORNET_DIR=$(mktemp -d /tmp/wb-tornet.XXXXXX) || return 1
        TORNET_HTTP_LOG=$TORNET_DIR/http-requests.log
        TORNET_TOKEN=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
        : >"$TORNET_HTTP_LOG"
        mkdir -p "$TORNET_DIR/nodes"

        # The namespaces: one bridge with every address of the network; the
        # client's namespace hangs off it by a veth pair.  No IPv6, no routes
        # but the subnet's own.
        ip netns add "$TORNET_NS" || { TORNET_NS=; _tornet_fail "cannot create a namespace"; return 1; }
        ip netns exec "$TORNET_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
                net.ipv6.conf.default.disable_ipv6=1 &&
        ip -n "$TORNET_NS" link set lo up &&
        ip -n "$TORNET_NS" link add "$TORNET_BRIDGE" type bridge &&
        ip -n "$TORNET_NS" link set "$TORNET_BRIDGE" up &&
        tornet_netns_add c "$TORNET_CLIENT_IP" || _tornet_fail "cannot set up the links" || return 1
        for ip in $TORNET_RELAY_IPS "$TORNET_DNS_IP" "$TORNET_SERVER_IP"; do
                ip -n "$TORNET_NS" addr add "$ip/24" dev "$TORNET_BRIDGE" || return 1
        done

        # Keys (in parallel: a few seconds each on a loaded machine), then
        # the DirAuthority lines every tor shares.
        local keygen=()
        while read -r name role octet; do
                d=$TORNET_DIR/nodes/$name
                mkdir -p "$d" && chmod 700 "$d" || return 1
                (
                        _tornet_relay_fp "$d" "$name" "$TORNET_PREFIX.$octet" >"$d/fpr" || exit 1
                        [ "$role" != auth ] || _tornet_auth_keys "$d" "$TORNET_PREFIX.$octet" >"$d/v3ident"
                ) &
                keygen+=($!)
        done <<<"$_tornet_nodes"
        for n in "${keygen[@]}"; do wait "$n" || _tornet_fail "making the relays' keys failed" || return 1; done
        : >"$TORNET_DIR/dirauthorities"
        while read -r name role octet; do
                [ "$role" = auth ] || continue
                d=$TORNET_DIR/nodes/$name
                fp=$(cat "$d/fpr") v3=$(cat "$d/v3ident")
                [ -n "$fp" ] && [ -n "$v3" ] || _tornet_fail "no keys for $name" || return 1
                echo "DirAuthority $name orport=$TORNET_ORPORT no-v2 v3ident=$v3 $TORNET_PREFIX.$octet:$TORNET_DIRPORT $fp" \
                        >>"$TORNET_DIR/dirauthorities"
        done <<<"$_tornet_nodes"
        echo "nameserver $TORNET_DNS_IP" >"$TORNET_DIR/resolv.conf"

        # dnsmasq: only our names, no upstream, no /etc/hosts, DHCP for VMs.
        local records=(--host-record="$TORNET_SERVER_NAME,$TORNET_SERVER_IP")
        for n in $TORNET_EXTRA_NAMES; do records+=(--host-record="$n,$TORNET_SERVER_IP"); done
        tornet_spawn "$TORNET_NS" "$TORNET_DIR/dnsmasq.log" dnsmasq --keep-in-foreground \
                --conf-file=/dev/null --no-resolv --no-hosts --no-poll --user=root --group=root \
                --bind-interfaces --listen-address="$TORNET_DNS_IP" --address=/#/ \
                "${records[@]}" \
                --dhcp-range="$TORNET_PREFIX.100,$TORNET_PREFIX.199,255.255.255.0,1h" \
                --dhcp-option=option:router --dhcp-option=option:dns-server,"$TORNET_DNS_IP" \
                --dhcp-leasefile="$TORNET_DIR/dnsmasq.leases" --pid-file="$TORNET_DIR/dnsmasq.pid" \
                --log-queries --log-dhcp --log-facility=- || return 1
        tornet_spawn "$TORNET_NS" "$TORNET_DIR/httpd.log" python3 "$TORNET_HERE/tornet/httpd.py" \
                "$TORNET_SERVER_IP" "$TORNET_SERVER_PORT" "$TORNET_HTTP_LOG" "$TORNET_TOKEN" $TORNET_REPO_DIR || return 1

        while read -r name role octet; do
                d=$TORNET_DIR/nodes/$name
                _tornet_node_torrc "$name" "$role" "$TORNET_PREFIX.$octet" "$d" >"$d/torrc"
                tornet_spawn "$TORNET_NS" "$d/stdout.log" tor -f "$d/torrc" --defaults-torrc "$d/empty-torrc" \
                        || return 1
        done <<<"$_tornet_nodes"
        d=$TORNET_DIR/nodes/client
        mkdir -p "$d" && chmod 700 "$d" && : >"$d/empty-torrc"
        _tornet_client_torrc "$d" >"$d/torrc"
        tornet_spawn "$TORNET_CLIENT_NS" "$d/stdout.log" tor -f "$d/torrc" --defaults-torrc "$d/empty-torrc" \
                || return 1
        _tornet_say "started ${#TORNET_PIDS[@]} processes in $TORNET_NS (subnet $TORNET_SUBNET) after $(_tornet_since "$t0") s"

        # Ready: the client has a circuit, its consensus lists every relay
        # (a first consensus may lack some) with the Exit flag on both
        # exits, and the page arrives.
        local want_relays want_exits ns_all full=
        want_relays=$(wc -l <<<"$_tornet_nodes")
        want_exits=$(wc -w <<<"$TORNET_EXIT_IPS")
        up=
        while :; do
                for n in "${TORNET_PIDS[@]}"; do
                        kill -0 "$n" 2>/dev/null || _tornet_fail "process $n died" || return 1
                done
                if [ -z "$up" ] && tornet_ctl "GETINFO status/circuit-established" 2>/dev/null |
                        grep -q '^250-status/circuit-established=1'; then
                        up=$(_tornet_since "$t0")
                        _tornet_say "client has a circuit after $up s"
                fi
                if [ -n "$up" ] && [ -z "$full" ]; then
                        ns_all=$(tornet_ctl "GETINFO ns/all" 2>/dev/null)
                        if [ "$(grep -c '^r ' <<<"$ns_all")" -eq "$want_relays" ] &&
                                [ "$(grep -cE '^s( [A-Za-z]+)* Exit( |$)' <<<"$ns_all")" -eq "$want_exits" ]; then
                                full=$(_tornet_since "$t0")
                                _tornet_say "client's consensus lists all $want_relays relays after $full s"
                        fi
                fi
                if [ -n "$full" ] && tornet_curl --max-time 20 "http://$TORNET_SERVER_IP/ready" 2>/dev/null |
                        grep -q "$TORNET_TOKEN"; then
                        break
                fi
                dl=$(_tornet_since "$t0")
                [ "${dl%.*}" -ge "$TORNET_TIMEOUT" ] && { _tornet_fail "not ready after $dl s"; return 1; }
                sleep 1
        done
        TORNET_READY_SECS=$(_tornet_since "$t0")
        _tornet_say "ready after $TORNET_READY_SECS s (the page arrived through Tor)"
}

TORNET_ONION_WEB_IP=${TORNET_PREFIX}.81

# tornet_timesync_stage DIR: in DIR, a tree a test unpacks onto a VM's root,
# the clock's pools as the test network's onion services (TORNET_ONIONS,
# from tornet_onions_start) and a throwaway timesync.conf.d file naming
# them, with a few seconds between retries (the tests wait); prints the
# paths it made, relative to DIR, for tar.
tornet_timesync_stage() {
        local d=$1 o i=0
        mkdir -p "$d/etc/whonix/timesync.conf.d" &&
                printf 'POOLS=/etc/whonix/wb-test-pools.conf\nRETRY_MIN=5\nRETRY_MAX=20\nFETCH_TIMEOUT=60\n' \
                        >"$d/etc/whonix/timesync.conf.d/50-test.conf" || return 1
        for o in $TORNET_ONIONS; do i=$((i + 1)); echo "pool$i $o"; done >"$d/etc/whonix/wb-test-pools.conf" &&
                chmod 0755 "$d/etc/whonix/timesync.conf.d" &&
                chmod 0644 "$d/etc/whonix/timesync.conf.d/50-test.conf" "$d/etc/whonix/wb-test-pools.conf" || return 1
        echo "etc/whonix/timesync.conf.d etc/whonix/timesync.conf.d/50-test.conf etc/whonix/wb-test-pools.conf"
}
tornet_onions_start() { # n
        local t0 d i dl name ok
        t0=$(_tornet_now)
        TORNET_ONION_LOG=$TORNET_DIR/onion-requests.log
        : >"$TORNET_ONION_LOG"
        ip -n "$TORNET_NS" addr add "$TORNET_ONION_WEB_IP/24" dev "$TORNET_BRIDGE" || return 1
        tornet_spawn "$TORNET_NS" "$TORNET_DIR/onion-httpd.log" python3 "$TORNET_HERE/tornet/httpd.py" \
                "$TORNET_ONION_WEB_IP" 80 "$TORNET_ONION_LOG" "$TORNET_TOKEN" || return 1
        d=$TORNET_DIR/nodes/o1
        mkdir -p "$d" && chmod 700 "$d" && : >"$d/empty-torrc" || return 1
        {
                _tornet_common_torrc
                printf 'DataDirectory %s\nPidFile %s/pid\nLog notice file %s/notice.log\n' "$d" "$d" "$d"
                printf 'SafeLogging 0\nShutdownWaitLength 0\nClientOnly 1\nSocksPort 0\n'
                for i in $(seq "$1"); do
                        printf 'HiddenServiceDir %s/hs%s\nHiddenServicePort 80 %s:80\n' "$d" "$i" "$TORNET_ONION_WEB_IP"
                done
        } >"$d/torrc"
        tornet_spawn "$TORNET_NS" "$d/stdout.log" tor -f "$d/torrc" --defaults-torrc "$d/empty-torrc" || return 1
        TORNET_ONIONS=
        for i in $(seq "$1"); do
                until [ -s "$d/hs$i/hostname" ]; do
                        dl=$(_tornet_since "$t0")
                        [ "${dl%.*}" -ge 30 ] && { _tornet_fail "onion service $i has no name after $dl s"; return 1; }
                        sleep 0.5
                done
                TORNET_ONIONS+="${TORNET_ONIONS:+ }$(cat "$d/hs$i/hostname")"
        done
        # Reachable: the descriptors are on the HSDirs.
        for name in $TORNET_ONIONS; do
                ok=
                until [ -n "$ok" ]; do
                        tornet_curl --max-time 30 -o /dev/null "http://$name/ready" 2>/dev/null && ok=1 && break
                        dl=$(_tornet_since "$t0")
                        [ "${dl%.*}" -ge "$TORNET_TIMEOUT" ] && { _tornet_fail "$name not reachable after $dl s"; return 1; }
                        sleep 2
                done
        done
        _tornet_say "$1 onion services reachable after $(_tornet_since "$t0") s"
}

TORNET_BRIDGE_IP=${TORNET_PREFIX}.41
TORNET_OBFS4_PORT=5100
tornet_obfs4_bridge_start() {
        local t0 d dl line
        command -v obfs4proxy >/dev/null || { _tornet_fail "obfs4proxy is not installed"; return 1; }
        t0=$(_tornet_now)
        ip -n "$TORNET_NS" addr add "$TORNET_BRIDGE_IP/24" dev "$TORNET_BRIDGE" || return 1
        d=$TORNET_DIR/nodes/b1
        mkdir -p "$d" && chmod 700 "$d" || return 1
        TORNET_BRIDGE_FP=$(_tornet_relay_fp "$d" b1 "$TORNET_BRIDGE_IP") || return 1
        {
                _tornet_node_torrc b1 relay "$TORNET_BRIDGE_IP" "$d"
                cat <<EOF
BridgeRelay 1
PublishServerDescriptor 0
ServerTransportPlugin obfs4 exec $(command -v obfs4proxy)
ServerTransportListenAddr obfs4 $TORNET_BRIDGE_IP:$TORNET_OBFS4_PORT
ExtORPort auto
EOF
        } >"$d/torrc"
        tornet_spawn "$TORNET_NS" "$d/stdout.log" tor -f "$d/torrc" --defaults-torrc "$d/empty-torrc" || return 1
        # obfs4proxy writes the bridge's line (its cert) once it listens.
        until [ -s "$d/pt_state/obfs4_bridgeline.txt" ] &&
                tornet_exec ss -Hltn "src $TORNET_BRIDGE_IP:$TORNET_OBFS4_PORT" | grep -q .; do
                dl=$(_tornet_since "$t0")
                [ "${dl%.*}" -ge 60 ] && { _tornet_fail "the obfs4 bridge does not listen after $dl s"; return 1; }
                sleep 0.5
        done
        # "Bridge obfs4 <IP ADDRESS>:<PORT> <FINGERPRINT> cert=... iat-mode=0"
        line=$(grep -o ' cert=[A-Za-z0-9+/=]* iat-mode=[0-2]$' "$d/pt_state/obfs4_bridgeline.txt" | head -n 1)
        [ -n "$line" ] || { _tornet_fail "no obfs4 cert in $d/pt_state/obfs4_bridgeline.txt"; return 1; }
        TORNET_BRIDGE_LINE="obfs4 $TORNET_BRIDGE_IP:$TORNET_OBFS4_PORT $TORNET_BRIDGE_FP$line"
        _tornet_say "obfs4 bridge b1 listens on $TORNET_BRIDGE_IP:$TORNET_OBFS4_PORT after $(_tornet_since "$t0") s"
}

# Quiet: it runs from EXIT traps, where stdout may be a closed pipe (and
# bash reports killed jobs on stderr).
tornet_stop() { _tornet_stop >/dev/null 2>&1; }
_tornet_stop() {
        local p alive
        for p in "${TORNET_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
        for _ in $(seq 50); do
                alive=
                for p in "${TORNET_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
                [ -z "$alive" ] && break
                sleep 0.1
        done
        for p in "${TORNET_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        TORNET_PIDS=()
        for p in "${TORNET_EXTRA_NS[@]}" "$TORNET_NS"; do
                [ -n "$p" ] && ip netns del "$p" 2>/dev/null
        done
        TORNET_EXTRA_NS=()
        [ -n "$TORNET_DIR" ] && [ -z "${TORNET_KEEP:-}" ] && rm -rf "$TORNET_DIR"
        TORNET_NS='' TORNET_CLIENT_NS='' TORNET_DIR=''
        return 0
}
