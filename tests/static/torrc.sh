#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Gateway's torrc: Debian's tor parses and validates it the way
# tor@default.service does (its defaults file first), without starting:
# --verify-config opens no listener and no connection, so addresses that
# are not local to this host (10.152.152.10) are fine.  Then the ports Tor
# listens on at 10.152.152.10 are compared with what the firewall accepts.
. "$WB_SOURCE_ROOT/tests/lib.sh"

command -v tor >/dev/null || skip_all "tor is not installed (tools/install-deps: tor)"

gw=$WB_SOURCE_ROOT/overlays/whonix-gateway
torrc=$gw/etc/tor/torrc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The image's %include names /etc/tor/torrc.d; read the overlay's instead
# of this host's.
sed "s|^%include /etc/tor/torrc.d/|%include $gw/etc/tor/torrc.d/|" "$torrc" >"$tmp/torrc"
check "the %include of torrc.d was redirected to the overlay" grep -q "^%include $gw/" "$tmp/torrc"

defaults=/usr/share/tor/tor-service-defaults-torrc
[ -f "$defaults" ] || { diag "no $defaults (not Debian's tor?): verifying without it"; defaults=/dev/null; }
if tor --verify-config --defaults-torrc "$defaults" -f "$tmp/torrc" >"$tmp/out" 2>&1; then
        ok "tor --verify-config accepts the Gateway's torrc"
else
        fail "tor --verify-config accepts the Gateway's torrc"
        diag_file "$tmp/out"
fi
# Warnings other than the one about verifying as root are mistakes.
if grep '\[warn\]' "$tmp/out" | grep -v 'running Tor as root' >"$tmp/warn"; then
        fail "tor prints no warnings about the torrc"
        diag_file "$tmp/warn"
else
        ok "tor prints no warnings about the torrc"
fi

# What DESIGN.md asks for, option by option (address:port and flags).
while read -r option value; do
        check "torrc: $option $value" grep -Eq "^$option $value( |\$)" "$torrc"
done <<'LIST'
SocksPort 127.0.0.1:9050
SocksPort 127.0.0.1:9104
SocksPort 127.0.0.1:9108 IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9050 IsolateSOCKSAuth
SocksPort 10.152.152.10:9100 IsolateSOCKSAuth KeepAliveIsolateSOCKSAuth
SocksPort 10.152.152.10:9101 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9102 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9103 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9104 IsolateSOCKSAuth
SocksPort 10.152.152.10:9105 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9106 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9107 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9108 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9109 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9110 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9111 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9114 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9115 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9117 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9118 IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
SocksPort 10.152.152.10:9150 IsolateSOCKSAuth KeepAliveIsolateSOCKSAuth
TransPort 10.152.152.10:9040
TransPort 127.0.0.1:9041
DNSPort 10.152.152.10:5300
DNSPort 127.0.0.1:5400
VirtualAddrNetworkIPv4 10.192.0.0/10
AutomapHostsOnResolve 1
ControlPort 127.0.0.1:9052
CookieAuthentication 1
ClientOnly 1
Log notice syslog
LIST
check "torrc: apt (9104) is the one Workstation port without per-destination isolation" \
        test "$(grep -c '^SocksPort 10\.152\.152\.10:[0-9]* .*IsolateDestAddr' "$torrc")" -eq 14
check "torrc: no ORPort (a client, not a relay)" sh -c '! grep -Eq "^(ORPort|DirPort|BridgeRelay|ExitRelay)" "$1"' sh "$torrc"

# Every TCP port Tor or the control port filter listens on at 10.152.152.10
# is in the Gateway's firewall set, and the set holds nothing else.
tor_ports=$( (sed -n 's/^\(SocksPort\|TransPort\) 10\.152\.152\.10:\([0-9]*\).*/\2/p' "$torrc"
        sed -n 's/^LISTEN=10\.152\.152\.10:\([0-9]*\)$/\1/p' "$gw/etc/whonix/control-port-filter.conf") | sort -n -u | tr '\n' ' ')
fw_ports=$(sed -n 's/^define tor_tcp_ports = { \(.*\) }$/\1/p' "$gw/etc/nftables.conf" | tr -d ' ' | tr ',' '\n' |
        awk -F- '{ if (NF == 2) for (p = $1; p <= $2; p++) print p; else print $1 }' | sort -n -u | tr '\n' ' ')
if [ -n "$tor_ports" ] && [ "$tor_ports" = "$fw_ports" ]; then
        ok "firewall accepts exactly the internal TCP ports of Tor and the control port filter ($tor_ports)"
else
        fail "firewall accepts exactly the internal TCP ports of Tor and the control port filter"
        diag "torrc: $tor_ports"
        diag "nftables.conf: $fw_ports"
fi
check "firewall DnsPort matches torrc" sh -c 'grep -q "^DNSPort 10.152.152.10:5300\$" "$1" && grep -q "^define tor_dns_port = 5300\$" "$2"' \
        sh "$torrc" "$gw/etc/nftables.conf"
check "firewall local TransPort/DnsPort match torrc" sh -c 'grep -q "^define local_trans_port = 9041\$" "$1" && grep -q "^define local_dns_port = 5400\$" "$1"' \
        sh "$gw/etc/nftables.conf"

done_testing
