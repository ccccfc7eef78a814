#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Gateway's control-port filter (overlays/whonix-gateway/usr/lib/whonix/
# control-port-filter) between a client and a fake Tor control port on
# loopback (tests/helpers/fake-tor-control.py), with the shipped allow-list:
# what passes, what is answered locally, what is refused and never reaches
# Tor, and how events are cleaned of relays and the Gateway's addresses.
. "$WB_SOURCE_ROOT/tests/lib.sh"

command -v perl >/dev/null || skip_all "perl is not installed"
command -v python3 >/dev/null || skip_all "python3 is not installed"

cpf=$WB_SOURCE_ROOT/overlays/whonix-gateway/usr/lib/whonix/control-port-filter
profiles=$WB_SOURCE_ROOT/overlays/whonix-gateway/etc/whonix/control-port-filter.d
temp_dir_with_pids

check "perl compiles it" perl -c -M-warnings "$cpf"
mods=$(grep -Eo '^use [A-Za-z:]+' "$cpf" | awk '{ print $2 }' | sort -u | tr '\n' ' ')
check "it uses only perl-base modules ($mods)" test "$mods" = "IO::Select IO::Socket::INET POSIX strict warnings "

python3 "$WB_SOURCE_ROOT/tests/helpers/fake-tor-control.py" "$T/tor.log" "$T/cookie" >"$T/tor.port" 2>"$T/tor.err" &
pids="$pids $!"
for _ in $(seq 50); do [ -s "$T/tor.port" ] && break; sleep 0.1; done
tport=$(sed -n 's/^PORT //p' "$T/tor.port")
check "the fake Tor control port listens (${tport:-none})" test -n "$tport"

# A free port for the filter.
fport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/cpf.conf" <<EOF
LISTEN=127.0.0.1:$fport
CONTROL=127.0.0.1:$tport
CONTROL_COOKIE=$T/cookie
MAX_CLIENTS=4
EOF
export WB_CPF_CONF=$T/cpf.conf WB_CPF_DIR=$profiles
"$cpf" check-config >"$T/allow" 2>&1
check "check-config accepts the shipped profile" test $? -eq 0
diag "allowed: $(cat "$T/allow")"
"$cpf" daemon 2>"$T/cpf.err" &
pids="$pids $!"
for _ in $(seq 50); do grep -q listening "$T/cpf.err" && break; sleep 0.1; done
check "the filter listens on 127.0.0.1:$fport" grep -q "listening on 127.0.0.1:$fport" "$T/cpf.err"

# talk CMD...: one connection; every reply (and, after SETEVENTS, the events
# of the next second), lines as received.
talk() {
        python3 - "$fport" "$@" <<'EOF'
import socket, sys, time, re
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
buf = b""
def line(deadline):
    global buf
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            got = s.recv(65536)
        except (socket.timeout, TimeoutError):
            return None
        if not got:
            return ""
        buf += got
    l, buf = buf.split(b"\n", 1)
    return l.decode(errors="replace").rstrip("\r")
for cmd in sys.argv[2:]:
    s.sendall(cmd.encode() + b"\r\n")
    while True:
        l = line(time.monotonic() + 5)
        if not l:
            sys.exit(0)
        print(l)
        if re.match(r"^\d{3} ", l) and not l.startswith("650"):
            break
    if cmd.upper().startswith(("SETEVENTS", "SIGNAL")):
        end = time.monotonic() + 1.5
        while (l := line(end)):
            print(l)
EOF
}

# Before AUTHENTICATE: only PROTOCOLINFO.
talk "PROTOCOLINFO 1" "GETINFO version" >"$T/pre"
check "PROTOCOLINFO is answered by the filter, offering no authentication to break" \
        bash -c "grep -qx '250-AUTH METHODS=NULL' '$T/pre' && grep -qx '250-VERSION Tor=\"0.4.9.99\"' '$T/pre'"
check "a command before AUTHENTICATE is refused and the connection closed" \
        bash -c "tail -n 1 '$T/pre' | grep -qx '514 Authentication required.'"

: >"$T/tor.log"
talk "AUTHENTICATE" "GETINFO status/circuit-established" "GETINFO version consensus/valid-after" \
        "GETINFO net/listeners/socks" "SIGNAL NEWNYM" "GETINFO address" "GETINFO version config-file" \
        "SETCONF DisableNetwork=1" "SIGNAL HALT" "SETEVENTS NS" "QUIT" >"$T/main"
sed 's/^/# /' "$T/main"
check "AUTHENTICATE with no password: 250 OK (the client never needs the cookie)" \
        bash -c "sed -n 1p '$T/main' | grep -qx '250 OK'"
check "GETINFO status/circuit-established is passed to Tor and answered" \
        grep -qx '250-status/circuit-established=1' "$T/main"
check "GETINFO with two allowed keys: both answered" \
        bash -c "grep -qx '250-version=0.4.9.99 (fake)' '$T/main' && grep -qx '250-consensus/valid-after=2026-11-30 01:00:00' '$T/main'"
check "GETINFO net/listeners/socks is answered by the filter with the Workstation's address" \
        bash -c "grep -qx '250-net/listeners/socks=\"127.0.0.1:9150\"' '$T/main' && ! grep -q 10.152.152.10 '$T/main'"
check "GETINFO address (the Gateway's public address) is refused: 552" grep -qx '552 Unrecognized key "address"' "$T/main"
check "GETINFO of an allowed and a refused key is refused whole" grep -qx '552 Unrecognized key "config-file"' "$T/main"
check "SETCONF is refused: 510" grep -q '^510 Command filtered: "SETCONF"' "$T/main"
check "SIGNAL HALT is refused: 552" grep -qx '552 Unrecognized signal code "HALT"' "$T/main"
check "SETEVENTS NS is refused: 552" grep -qx '552 Unrecognized event "NS"' "$T/main"
check "QUIT closes" bash -c "tail -n 1 '$T/main' | grep -qx '250 closing connection'"
sed 's/^/# tor got: /' "$T/tor.log" | sed 's/AUTHENTICATE [0-9a-f]*/AUTHENTICATE <cookie>/'
check "Tor received the filter's cookie authentication" grep -Eqx "AUTHENTICATE $(od -An -tx1 "$T/cookie" | tr -d ' \n')" "$T/tor.log"
check "Tor received SIGNAL NEWNYM and the allowed GETINFOs" \
        bash -c "grep -qx 'SIGNAL NEWNYM' '$T/tor.log' && grep -qx 'GETINFO status/circuit-established' '$T/tor.log' && grep -qx 'GETINFO version consensus/valid-after' '$T/tor.log'"
check "Tor never received a refused command or key" \
        bash -c "! grep -Eq 'SETCONF|HALT|address|config-file|net/listeners|SETEVENTS NS' '$T/tor.log'"

talk "AUTHENTICATE" "SETEVENTS CIRC STREAM STATUS_CLIENT STATUS_SERVER SIGNAL" "SIGNAL NEWNYM" >"$T/ev"
sed 's/^/# /' "$T/ev"
check "SETEVENTS of allowed events: 250 OK" bash -c "sed -n 2p '$T/ev' | grep -qx '250 OK'"
check "a CIRC event arrives without its path and its time" grep -qx '650 CIRC 7 BUILT BUILD_FLAGS=NEED_CAPACITY PURPOSE=GENERAL' "$T/ev"
check "no relay fingerprint or nickname reaches the client" bash -c "! grep -Eq '\\\$[A-F0-9]{40}|guard1|middle2|exit3' '$T/ev'"
check "the client's own stream events arrive, without its source address" \
        bash -c "grep -qx '650 STREAM 21 NEW 0 example.org:80 PURPOSE=USER' '$T/ev' && grep -qx '650 STREAM 21 SUCCEEDED 7 example.org:80' '$T/ev' && grep -qx '650 STREAM 21 CLOSED 7 example.org:80 REASON=DONE' '$T/ev'"
check "another client's (the Gateway's own) streams never arrive" bash -c "! grep -q 'secret-gateway-target\\|STREAM 22' '$T/ev'"
check "BOOTSTRAP status arrives without the guard's name and address" \
        grep -qx '650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"' "$T/ev"
check "the Gateway's external address never arrives" bash -c "! grep -q '198.51.100.7\\|192.0.2.1\\|EXTERNAL_ADDRESS' '$T/ev'"
check "a multi-line event is dropped whole" bash -c "! grep -Eq '^(650\\+NS|r guard1|\\.|650 OK)$' '$T/ev'"
check "a SIGNAL event that came in the same read as the reply arrives" grep -qx '650 SIGNAL NEWNYM' "$T/ev"

# Tor Browser's circuit display, enabled as the shipped file says (a link
# to it beside the default profile): a second filter on another port.
mkdir "$T/circ"
cp "$profiles"/*.conf "$T/circ/"
ln -s "$WB_SOURCE_ROOT/overlays/whonix-gateway/usr/share/whonix/control-port-filter/40-tor-browser-circuits.conf" "$T/circ/"
fport_default=$fport
fport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed "s/^LISTEN=.*/LISTEN=127.0.0.1:$fport/" "$T/cpf.conf" >"$T/cpf-circ.conf"
check "check-config accepts the circuit display's profile" \
        bash -c "WB_CPF_CONF='$T/cpf-circ.conf' WB_CPF_DIR='$T/circ' '$cpf' check-config | grep -q 'own circuits'"
WB_CPF_CONF=$T/cpf-circ.conf WB_CPF_DIR=$T/circ "$cpf" daemon 2>"$T/cpf-circ.err" &
pids="$pids $!"
for _ in $(seq 50); do grep -q listening "$T/cpf-circ.err" && break; sleep 0.1; done
: >"$T/tor.log"
# As Tor Browser does: its streams' events, then for a circuit it does not
# know, circuit-status, each relay's entry and its country.
talk "AUTHENTICATE" "GETINFO circuit-status" "SETEVENTS STREAM CIRC" "GETINFO circuit-status" \
        "GETINFO ns/id/CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC" "GETINFO ip-to-country/203.0.113.3" \
        "GETINFO ip-to-country/2001:db8::3" "GETINFO ns/id/EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE" \
        "GETINFO ip-to-country/203.0.113.5" "GETINFO address" "QUIT" >"$T/circ.out"
sed 's/^/# /' "$T/circ.out"
check "circuits: before any stream of its own, circuit-status lists nothing" \
        bash -c "sed -n 2p '$T/circ.out' | grep -qx '250-circuit-status='"
check "circuits: CIRC events pass only as the end of a circuit, by number" \
        bash -c "grep -qx '650 CIRC 9 CLOSED' '$T/circ.out' && ! grep -q '650 CIRC 7' '$T/circ.out'"
check "circuits: after its stream rode circuit 7, circuit-status lists circuit 7 with its relays and SOCKS credentials" \
        grep -qx '250-circuit-status=7 BUILT \$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA~guard1,\$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB~middle2,\$CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC~exit3 BUILD_FLAGS=NEED_CAPACITY PURPOSE=GENERAL SOCKS_USERNAME="example.org" SOCKS_PASSWORD="tab1"' "$T/circ.out"
check "circuits: never circuit 9, which carries no stream of its own" \
        bash -c "! grep -q 'secret-gateway-user\|middle4\|exit5\|^9 BUILT' '$T/circ.out'"
check "circuits: ns/id of its exit is answered (the relay's entry, its addresses)" \
        bash -c "grep -qx '250+ns/id/CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=' '$T/circ.out' && grep -qx 'r exit3 zMzM 2026-11-30 01:00:00 203.0.113.3 443 0' '$T/circ.out'"
check "circuits: the country of that relay's IPv4 and IPv6 address is answered" \
        bash -c "grep -qx '250-ip-to-country/203.0.113.3=de' '$T/circ.out' && grep -qx '250-ip-to-country/2001:db8::3=de' '$T/circ.out'"
check "circuits: ns/id of a relay on another circuit is refused: 552" \
        grep -qx '552 Unrecognized key "ns/id/EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE"' "$T/circ.out"
check "circuits: the country of an address it was not told is refused: 552" \
        grep -qx '552 Unrecognized key "ip-to-country/203.0.113.5"' "$T/circ.out"
check "circuits: the rest of the filter is unchanged (GETINFO address: 552)" \
        grep -qx '552 Unrecognized key "address"' "$T/circ.out"
check "circuits: Tor never received the refused keys" \
        bash -c "! grep -Eq 'EEEEEEEE|203.0.113.5|address' '$T/tor.log'"
fport=$fport_default

# A profile error names the file and line; the daemon would not start.
mkdir "$T/bad"
printf 'signal NEWNYM\ngetinfo\n' >"$T/bad/10-bad.conf"
WB_CPF_DIR=$T/bad "$cpf" check-config >"$T/badout" 2>&1
rc=$?
check "a bad profile line is refused with its file and line (rc=$rc)" \
        bash -c "[ $rc -eq 1 ] && grep -q '10-bad.conf:2: expected' '$T/badout'"
printf 'circuits all\n' >"$T/bad/10-bad.conf"
WB_CPF_DIR=$T/bad "$cpf" check-config >"$T/badout" 2>&1
check "'circuits' takes only 'own'" grep -q "10-bad.conf:1: expected" "$T/badout"
printf 'events NS\n' >"$T/bad/10-bad.conf"
WB_CPF_DIR=$T/bad "$cpf" check-config >"$T/badout" 2>&1
check "an event the filter cannot clean is refused in a profile" grep -q "event 'NS' is not one this filter knows how to clean" "$T/badout"

done_testing
