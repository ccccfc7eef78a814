#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Gateway's connection file, without a network: every choice of
# whonix-connect (overlays/whonix-gateway) and every [Tor] section the
# builder writes (format/tor-connection.c) is accepted by Debian's tor
# together with the Gateway's torrc (tor --verify-config, as
# tor@default.service checks it); what tor refuses, and input that is no
# bridge line or proxy, changes nothing.  Nothing is started: Tor's reload
# is /bin/true and no control port answers, so after writing the file
# whonix-connect stops at "Tor's control port ... does not answer".
. "$WB_SOURCE_ROOT/tests/lib.sh"

command -v tor >/dev/null || skip_all "tor is not installed (tools/install-deps: tor)"
command -v perl >/dev/null || skip_all "perl is not installed"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (whonix-connect refuses to run as another user)"

gw=$WB_SOURCE_ROOT/overlays/whonix-gateway
connect=$gw/usr/local/bin/whonix-connect
render=$WB_BUILD_ROOT/tests/test-tor-connection
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/torrc.d"
sed "s|^%include /etc/tor/torrc.d/|%include $T/torrc.d/|" "$gw/etc/tor/torrc" >"$T/torrc"
defaults=/usr/share/tor/tor-service-defaults-torrc
[ -f "$defaults" ] || defaults=/dev/null
file=$T/torrc.d/40-connection.conf
cat >"$T/connect.conf" <<EOF
TORRC = $T/torrc
DEFAULTS = $defaults
FILE = $file
BUILTIN_DIR = $gw/usr/share/whonix/bridges
CONTROL = 127.0.0.1:1
RELOAD = /bin/true
EOF
wc_run() { WB_CONNECT_CONF=$T/connect.conf perl "$connect" "$@" >"$T/out" 2>&1; }
verify() { tor --verify-config --defaults-torrc "$defaults" -f "$T/torrc" >"$T/verify" 2>&1; }

check "perl -c whonix-connect" perl -c "$connect"

# choice DESCRIPTION LINE-IN-FILE ARGS...: saved (tor accepted it), the file
# has the line, and tor accepts the whole configuration.
choice() {
        local desc=$1 want=$2
        shift 2
        wc_run "$@"
        if grep -q "^saved: $file" "$T/out" && grep -qxF -- "$want" "$file" && verify; then
                ok "whonix-connect $desc: saved after tor --verify-config, file has '$want'"
        else
                fail "whonix-connect $desc: saved after tor --verify-config, file has '$want'"
                diag_file "$T/out" 5
                diag_file "$file" 8
        fi
}
choice wait "DisableNetwork 1" wait
check "wait: exit 0 without asking Tor anything" test "$(wc_run wait; echo $?)" -eq 0
choice direct "UseBridges 0" direct
check "direct: then it follows Tor, whose control port does not answer here (exit 1, said so)" \
        sh -c 'grep -q "control port 127.0.0.1:1 does not answer" "$1"' sh "$T/out"
choice "builtin obfs4" "ClientTransportPlugin obfs4 exec /usr/bin/obfs4proxy" builtin obfs4
check "builtin obfs4: every line of the built-in list is in the file" \
        test "$(grep -c '^Bridge obfs4 ' "$file")" -eq "$(grep -c '^obfs4 ' "$gw/usr/share/whonix/bridges/obfs4.txt")"
choice "builtin snowflake" "ClientTransportPlugin snowflake exec /usr/bin/snowflake-client" builtin snowflake
printf '# mine\nBridge 192.0.2.1:9001\n\nobfs4 [2001:db8::2]:443 0123456789ABCDEF0123456789ABCDEF01234567 cert=AbC iat-mode=1\n' \
        >"$T/mine.txt"
choice "bridges FILE (plain and obfs4, IPv6)" "Bridge obfs4 [2001:db8::2]:443 0123456789ABCDEF0123456789ABCDEF01234567 cert=AbC iat-mode=1" \
        bridges "$T/mine.txt"
check "bridges FILE: the plain bridge line too, no transport for it" grep -qx 'Bridge 192.0.2.1:9001' "$file"
choice "bridges - (stdin)" "Bridge 192.0.2.1:9001" bridges - <"$T/mine.txt"
choice "proxy socks5 with a user" "Socks5ProxyUsername alice" proxy socks5://alice:secret@192.0.2.9:1080
choice "proxy https" "HTTPSProxy 192.0.2.9:3128" proxy https://192.0.2.9:3128
choice "proxy socks4" "Socks4Proxy 192.0.2.9:1080" proxy socks4://192.0.2.9:1080

# Refusals: nothing changes.
cp "$file" "$T/before"
long=$(printf 'u%.0s' $(seq 300))
wc_run proxy "socks5://$long:x@192.0.2.9:1080"
check "a proxy user name tor refuses (300 characters): whonix-connect says Tor refuses it, exit 1" \
        sh -c '[ "$1" -eq 1 ] && grep -q "Tor refuses this configuration; nothing was changed" "$2"' sh $? "$T/out"
check "... and the file is the one before" cmp -s "$T/before" "$file"
printf 'meek 192.0.2.3:443\n' >"$T/meek.txt"
wc_run bridges "$T/meek.txt"
check "a bridge of a transport the Gateway lacks: refused, line named, exit 1" \
        sh -c '[ "$1" -eq 1 ] && grep -q "line 1: unknown transport .meek." "$2"' sh $? "$T/out"
printf '192.0.2.3:443\nExitNodes {us}\n' >"$T/inject.txt"
wc_run bridges "$T/inject.txt"
check "a line that is an option, not a bridge: refused, exit 1" \
        sh -c '[ "$1" -eq 1 ] && grep -q "line 2: " "$2"' sh $? "$T/out"
wc_run proxy 'http://192.0.2.9:3128/path'
check "a proxy URL with a path: refused, exit 1" sh -c '[ "$1" -eq 1 ] && grep -q "not a proxy URL" "$2"' sh $? "$T/out"
wc_run frobnicate
check "an unknown command: usage, exit 2" sh -c '[ "$1" -eq 2 ] && grep -q "^usage: whonix-connect" "$2"' sh $? "$T/out"
check "after the refusals the file is the one before" cmp -s "$T/before" "$file"
wc_run status
check "status: names the choice (proxy) and that the control port does not answer" \
        sh -c 'grep -q "^chosen: proxy" "$1" && grep -q "does not answer" "$1"' sh "$T/out"

# The builder's files for a recipe's [Tor] section (the same renderer the
# build uses, through the unit test's --render).
rm -f "$file"
for how in wait direct bridges; do
        set --
        [ "$how" = bridges ] && set -- "obfs4 192.0.2.3:443 0123456789ABCDEF0123456789ABCDEF01234567 cert=AbC iat-mode=0" \
                "snowflake 192.0.2.4:80 2B280B23E1107BB62ABFC40DDCC8824814F80A72 url=https://snowflake-broker.torproject.net/"
        if "$render" --render "$how" "$@" >"$file" && verify; then
                ok "[Tor] $how: the builder's file is accepted by tor with the Gateway's torrc"
        else
                fail "[Tor] $how: the builder's file is accepted by tor with the Gateway's torrc"
                diag_file "$T/verify" 5
        fi
        wc_run status
        check "[Tor] $how: whonix-connect status reads the builder's file as '$how'" grep -q "^chosen: $how$" "$T/out"
done
done_testing
