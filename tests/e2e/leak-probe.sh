#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The probes of tests/e2e/leak.sh, run as root inside a booted test VM by
# wb-leak.service (injected into a throwaway overlay, never into the shipped
# image).  The role (gateway, workstation, broken-gateway) is in the file
# "role" beside this script.  Each probe writes one line to the second
# serial port (/dev/ttyS1), which the host reads back:
#
#     WBLEAK <name> ok|FAIL <what was seen>
#
# "ok" here is only the guest's half of the verdict: the host also checks
# its capture of the external network and the clearnet host's logs.  The
# clearnet host is 10.0.2.2: its listeners answer with WB-CLEARNET, its DNS
# server answers every name with 10.0.2.99.  Each probe uses its own port
# (or DNS name), so the host can tell whose packet a capture holds.  A
# second Workstation on the same internal network (the desktop one) has
# the files "tag" (its DNS names' prefix, instead of "ws"), "port-offset"
# (added to each of its ports) and "user-only" (no root probes) beside
# "role".
set -u
here=$(dirname "$0")
role=$(cat "$here/role")
tag=$(cat "$here/tag" 2>/dev/null || echo ws)
po=$(cat "$here/port-offset" 2>/dev/null || echo 0)
port() { echo $(( $1 + po )); }
net() { perl "$here/leak-net.pl" "$@" 2>&1; }
out=/dev/ttyS1
say() { printf 'WBLEAK %s\n' "$*" >"$out"; }
# verdict NAME EXPECTATION-MET? DETAIL
verdict() { if [ "$2" = yes ]; then say "$1 ok $3"; else say "$1 FAIL $3"; fi; }
# A probe that must not have reached the clearnet host.
blocked() { # NAME RESULT
        case $2 in
        *WB-CLEARNET* | *"echo reply from"* | *10.0.2.99* | *"offer from"*) verdict "$1" no "$2" ;;
        *) verdict "$1" yes "$2" ;;
        esac
}
clearnet=10.0.2.2
gw_int=10.152.152.10
# A v3 onion address (valid checksum): Tor's DNSPort maps it to an address
# in VirtualAddrNetworkIPv4 (10.192.0.0/10) without any network.
onion=fpqzxxn7kawi2lz2jo4ykcjsectnbgxygzxgivkveytqmsiyib34ixqd.onion

# yes if a DNS answer holds an address of VirtualAddrNetworkIPv4 (10.192.0.0/10).
tor_answer() { echo "$1" | grep -q 'answer: 10\.\(19[2-9]\|2[0-5][0-9]\)\.' && echo yes; }

hardening() {
        for kv in kernel.kptr_restrict=2 kernel.dmesg_restrict=1 kernel.unprivileged_bpf_disabled=1 \
                net.core.bpf_jit_harden=2 kernel.perf_event_paranoid=3 kernel.kexec_load_disabled=1 \
                kernel.sysrq=0 net.ipv4.tcp_timestamps=0 net.ipv4.ip_forward=0 fs.suid_dumpable=0 \
                net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.all.accept_redirects=0 \
                net.ipv4.conf.all.accept_source_route=0 net.ipv6.conf.all.disable_ipv6=1; do
                k=${kv%%=*}
                want=${kv#*=}
                got=$(sysctl -n "$k" 2>&1)
                verdict "sysctl-$k" "$([ "$got" = "$want" ] && echo yes)" "$k = $got (want $want)"
        done
        got=$(sysctl -n kernel.yama.ptrace_scope 2>&1)
        verdict sysctl-kernel.yama.ptrace_scope "$([ "$got" -ge 2 ] 2>/dev/null && echo yes)" "kernel.yama.ptrace_scope = $got (want >= 2)"
        got=$(sysctl -n kernel.core_pattern 2>&1)
        verdict sysctl-kernel.core_pattern "$([ "$got" = '|/bin/false' ] && echo yes)" "kernel.core_pattern = $got"

        cmdline=$(cat /proc/cmdline)
        missing=
        for p in slab_nomerge init_on_alloc=1 init_on_free=1 page_alloc.shuffle=1 randomize_kstack_offset=on \
                vsyscall=none debugfs=off apparmor=1; do
                case " $cmdline " in *" $p "*) ;; *) missing="$missing $p" ;; esac
        done
        verdict cmdline "$([ -z "$missing" ] && echo yes)" "missing:${missing:- none}; /proc/cmdline: $cmdline"

        for m in dccp sctp rds tipc firewire_core thunderbolt cramfs; do
                dry=$(modprobe -n -v "$m" 2>&1 | tr '\n' ' ')
                modprobe "$m" >/dev/null 2>&1
                rc=$?
                loaded=$(grep -c "^$m " /proc/modules 2>/dev/null)
                loaded=${loaded:-0}
                verdict "module-$m" "$([ "$rc" -ne 0 ] && [ "$loaded" -eq 0 ] &&
                        case $dry in *'install /bin/false'*) echo yes ;; esac)" \
                        "modprobe $m: exit $rc, loaded: $loaded, dry run: $dry"
        done

        aa=$(cat /sys/module/apparmor/parameters/enabled 2>&1)
        lsm=$(cat /sys/kernel/security/lsm 2>&1)
        verdict apparmor "$([ "$aa" = Y ] && echo yes)" "apparmor enabled: $aa; lsm: $lsm"

        ts=$(systemctl is-active systemd-timesyncd.service 2>&1)
        ts_en=$(systemctl is-enabled systemd-timesyncd.service 2>&1)
        ntp=$(ss -Hanu 'sport = :123 or dport = :123' 2>&1 | head -n 3 | tr '\n' ' ')
        verdict no-ntp "$([ "$ts" != active ] && [ -z "$ntp" ] && echo yes)" \
                "systemd-timesyncd: $ts, $ts_en; port 123 sockets: ${ntp:-none}"

        sshd=$(ss -Hltn 'sport = :22' 2>&1)
        verdict no-sshd "$([ -z "$sshd" ] && ! pgrep -x sshd >/dev/null && echo yes)" \
                "sshd running: $(pgrep -x sshd >/dev/null && echo yes || echo no); port 22: ${sshd:-not listening}"
}

# Wait up to $1 s for a condition (a command).
wait_for() {
        t=$1
        shift
        while [ "$t" -gt 0 ]; do
                "$@" && return 0
                sleep 2
                t=$((t - 2))
        done
        return 1
}

workstation() {
        # The Gateway boots at the same time: wait until its Tor listens.
        ready() { case $(net tcp $gw_int 9050) in connected*) return 0 ;; esac; return 1; }
        wait_for 240 ready
        verdict ws-gateway-ready "$(ready && echo yes)" "Gateway SocksPort 10.152.152.10:9050: $(net tcp $gw_int 9050)"

        r4=$(ip -4 route show table all | grep -v '^local \|^broadcast ' | tr '\n' ';')
        r6=$(ip -6 route show table all 2>&1 | tr '\n' ';')
        bad=$(ip -4 route show table all | grep -v '^local \|^broadcast ' |
                grep -v '^default via 10\.152\.152\.10 dev eth0' | grep -v '^10\.152\.128\.0/18 dev eth0 .*scope link')
        verdict ws-routes "$([ -z "$bad" ] && [ -z "$r6" ] && echo "$r4" | grep -q 'default via 10.152.152.10' && echo yes)" \
                "ipv4: $r4 ipv6: ${r6:-none}"

        blocked ws-tcp "$(net tcp $clearnet $(port 7101))"
        blocked ws-udp "$(net udp $clearnet $(port 7102))"
        blocked ws-icmp "$(net ping $clearnet)"
        a6=$(ip -6 addr show 2>&1 | grep inet6 | tr '\n' ' ')
        t6=$(net tcp6 2001:db8::2 $(port 7103))
        u6=$(net udp6 2001:db8::2 $(port 7103))
        verdict ws-ipv6 "$(case "$t6$u6" in *connected* | *sent,*) ;; *) [ -z "$a6" ] && echo yes ;; esac)" \
                "addresses: ${a6:-none}; tcp6: $t6; udp6: $u6"
        blocked ws-dns-clearnet "$(net dns $clearnet $tag-clearnet.leak.test)"
        blocked ws-dns-gateway "$(net dns $gw_int $tag-gateway.leak.test)"
        # Positive: DNS to the Gateway is answered by its Tor.
        d=$(net dns $gw_int $onion)
        verdict ws-dns-tor "$(tor_answer "$d")" "$onion to $gw_int: $d"
        # TCP to anywhere ends at the Gateway's TransPort, not at the host.
        blocked ws-tcp-gw-external "$(net tcp 10.0.2.15 $(port 7104))"

        # Root on a compromised Workstation: firewall off, routes changed.
        # A second Workstation ("user-only" beside role: the desktop one,
        # whose firewall and network files are the CLI one's, its layer
        # below) leaves these to the first.
        [ -e "$here/user-only" ] && return 0
        nft flush ruleset
        verdict ws-root-flush-firewall "$([ -z "$(nft list ruleset)" ] && echo yes)" "nft flush ruleset: $(nft list ruleset | wc -l) lines left"
        blocked ws-root-nofw-tcp "$(net tcp $clearnet $(port 7105))"
        blocked ws-root-nofw-udp "$(net udp $clearnet $(port 7106))"
        blocked ws-root-nofw-icmp "$(net ping $clearnet)"
        blocked ws-root-nofw-dns "$(net dns $clearnet $tag-nofw.leak.test)"
        # ... because the Gateway hands DNS aimed anywhere to its Tor.
        d=$(net dns $clearnet $onion)
        verdict ws-root-nofw-dns-tor "$(tor_answer "$d")" "$onion to $clearnet (redirected): $d"

        # A route straight to the clearnet host, on the link.
        ip route add $clearnet/32 dev eth0 2>/dev/null
        r=$(ip route get $clearnet 2>&1 | head -n 1)
        blocked ws-root-route-onlink-tcp "route: $r; $(net tcp $clearnet $(port 7107))"
        blocked ws-root-route-onlink-udp "$(net udp $clearnet $(port 7108))"
        ip route del $clearnet/32 dev eth0 2>/dev/null
        # An address on the external network, so the host is "on link"
        # (each Workstation its own).
        ext_addr=10.0.2.$((77 + po))
        ip addr add "$ext_addr/24" dev eth0 2>/dev/null
        blocked ws-root-addr-external-tcp "$(net tcp $clearnet $(port 7109))"
        blocked ws-root-addr-external-udp "$(net udp $clearnet $(port 7110))"
        blocked ws-root-addr-external-icmp "$(net ping $clearnet)"
        ip addr del "$ext_addr/24" dev eth0 2>/dev/null
        # The default gateway elsewhere: another address on the internal
        # network (nobody there), then the Gateway's own external address.
        ip route replace default via 10.152.152.1 dev eth0 onlink
        blocked ws-root-gateway-elsewhere-tcp "$(net tcp $clearnet $(port 7111))"
        blocked ws-root-gateway-elsewhere-udp "$(net udp $clearnet $(port 7112))"
        ip route replace default via 10.0.2.15 dev eth0 onlink
        blocked ws-root-gateway-external-tcp "$(net tcp $clearnet $(port 7113))"
        blocked ws-root-gateway-external-udp "$(net udp $clearnet $(port 7114))"
        blocked ws-root-gateway-external-icmp "$(net ping $clearnet)"
        ip route replace default via $gw_int dev eth0
        # A DHCP client on the internal NIC: no server answers, and the
        # broadcast must not cross to the external network.
        blocked ws-root-dhcp "$(net dhcp eth0)"
        neigh=$(ip neigh show 2>&1 | tr '\n' ';')
        # Whatever root tried, no machine answered for an address of the
        # external network (the Gateway's 10.0.2.15 included).
        # One entry per line: on the joined line ".*lladdr" would reach the
        # Gateway's own entry after a FAILED one.
        verdict ws-neighbours "$(ip neigh show | grep -q '^10\.0\.2\.[0-9]* .*lladdr' && echo no || echo yes)" \
                "neighbours: ${neigh:-none} (none on 10.0.2.0/24 may have answered)"
}

gateway() {
        dhcp_ok() { ip -4 -o addr show dev eth0 | grep -q 'inet 10\.0\.2\.15/24'; }
        wait_for 120 dhcp_ok
        verdict gw-eth0-dhcp "$(dhcp_ok && echo yes)" "eth0: $(ip -4 -o addr show dev eth0 | awk '{print $4}' | tr '\n' ' ')(want 10.0.2.15/24 from the test network's DHCP)"
        listening() { ss -Hltn 'sport = :9040' | grep -q '10.152.152.10:9040'; }
        wait_for 120 listening

        f=$(cat /proc/sys/net/ipv4/ip_forward)
        fa=$(cat /proc/sys/net/ipv4/conf/all/forwarding)
        verdict gw-ip-forward "$([ "$f" = 0 ] && [ "$fa" = 0 ] && echo yes)" "ip_forward=$f conf.all.forwarding=$fa"

        rs=$(nft list ruleset 2>&1)
        tables=$(echo "$rs" | grep '^table' | tr '\n' ' ')
        drops=$(echo "$rs" | grep -c 'hook \(input\|forward\|output\) priority filter; policy drop;')
        verdict gw-nftables "$([ "$tables" = 'table inet filter { table ip nat { ' ] && [ "$drops" -eq 3 ] && echo yes)" \
                "nftables.service: $(systemctl is-active nftables.service); tables: $tables; filter chains with policy drop: $drops"

        # tcp: address:port; udp: address:port
        ltcp=$(ss -Hltn | awk '{print $4}' | sort | tr '\n' ' ')
        ludp=$(ss -Hlun | awk '{print $4}' | sort | tr '\n' ' ')
        want_tcp="127.0.0.1:9041 127.0.0.1:9050 127.0.0.1:9052 127.0.0.1:9104 127.0.0.1:9108 10.152.152.10:9040
10.152.152.10:9050 $(for p in 9100 9101 9102 9103 9104 9105 9106 9107 9108 9109 9110 9111 9114 9115 9117 9118 9150; do
                printf '10.152.152.10:%s ' "$p"; done)"
        missing=
        for a in $want_tcp; do case " $ltcp " in *" $a "*) ;; *) missing="$missing tcp:$a" ;; esac; done
        for a in 10.152.152.10:5300 127.0.0.1:5400; do case " $ludp " in *" $a "*) ;; *) missing="$missing udp:$a" ;; esac; done
        verdict gw-tor-listeners "$([ -z "$missing" ] && echo yes)" "missing:${missing:- none}; tcp: $ltcp; udp: $ludp"
        # Nothing listens on a wildcard or the external address: a service
        # there would answer the outside world.  (dhclient's socket on udp
        # port 68 receives only DHCP answers, which the firewall accepts.)
        wild=$(ss -Hltnu | awk '{print $1 " " $5}' | grep -v ' 127\.\| 10\.152\.152\.10:\| \[::1\]:\|^udp .*:68$' |
                tr '\n' ' ')
        verdict gw-no-external-listeners "$([ -z "$wild" ] && echo yes)" "listeners on other addresses: ${wild:-none}"
        owner=$(ss -Hltnp 'sport = :9040' | grep -o 'users:(("[a-z]*"' | head -n 1)
        verdict gw-transport-is-tor "$(echo "$owner" | grep -q '"tor"' && echo yes)" "9040: $owner"

        # Not the tor user: connections to the outside must not get out.
        asuser() { setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$@"; }
        nobody_tcp=$(asuser perl "$here/leak-net.pl" tcp $clearnet 7121 2>&1)
        blocked gw-nobody-tcp "$nobody_tcp"
        blocked gw-nobody-udp "$(asuser perl "$here/leak-net.pl" udp $clearnet 7122 2>&1)"
        blocked gw-nobody-dns "$(asuser perl "$here/leak-net.pl" dns $clearnet gw-nobody.leak.test 2>&1)"
        blocked gw-root-tcp "$(net tcp $clearnet 7123)"
        blocked gw-root-udp "$(net udp $clearnet 7124)"
        blocked gw-root-icmp "$(net ping $clearnet)"
        blocked gw-root-dns "$(net dns $clearnet gw-root.leak.test)"
        # Positive: the Gateway's own programs are torified (nat output):
        # TCP ends in the local TransPort, DNS in the local DnsPort.
        d=$(asuser perl "$here/leak-net.pl" dns $clearnet $onion 2>&1)
        verdict gw-local-torified "$(case $nobody_tcp in connected*) tor_answer "$d" ;; esac)" \
                "nobody's TCP: $nobody_tcp; $onion to $clearnet: $d"
        ai=$(sysctl -n net.ipv4.conf.all.arp_ignore)
        aa=$(sysctl -n net.ipv4.conf.all.arp_announce)
        verdict gw-arp "$([ "$ai" = 1 ] && [ "$aa" = 2 ] && echo yes)" "arp_ignore=$ai (want 1) arp_announce=$aa (want 2)"
        # The resolver from DHCP (10.0.2.2) is in resolv.conf; glibc's
        # lookups must still go to Tor.
        blocked gw-getent "resolv.conf: $(grep nameserver /etc/resolv.conf 2>/dev/null | tr '\n' ' '); getent: $(timeout 10 getent ahostsv4 gw-getent.leak.test 2>&1 | head -n 1)"
}

broken_gateway() {
        sleep 20
        nf=$(systemctl is-active nftables.service 2>&1)
        rs=$(nft list ruleset 2>&1 | wc -l)
        verdict bgw-firewall-failed "$([ "$nf" != active ] && echo yes)" "nftables.service: $nf; ruleset lines: $rs"
        nw=$(systemctl is-active networking.service 2>&1)
        link=$(ip -o link show dev eth0 2>&1 | grep -o 'state [A-Z]*')
        up=$(ip -o link show dev eth0 2>&1 | grep -o '<[^>]*>')
        a4=$(ip -4 -o addr show dev eth0 2>&1 | awk '{print $4}')
        verdict bgw-external-down "$([ -z "$a4" ] && case $up in *,UP*|*'<UP'*) false ;; *) true ;; esac && echo yes)" \
                "networking.service: $nw; eth0 flags $up $link; eth0 addresses: ${a4:-none}"
        blocked bgw-root-tcp "$(net tcp $clearnet 7131)"
        blocked bgw-root-udp "$(net udp $clearnet 7132)"
        blocked bgw-root-dhcp "$(net dhcp eth0)"
}

say "start $role $(uname -r)"
case $role in
workstation) workstation ;;
gateway) gateway ;;
broken-gateway) broken_gateway ;;
esac
[ "$role" = broken-gateway ] || hardening
# The Gateway's Tor runs with an obfs4 bridge configured: its transport
# process, and whose it is.
[ "$role" = gateway ] && say "transport $(ps -C obfs4proxy -o user:20=,args= | head -n 1)"
# A desktop Workstation: its display manager, and whether the graphical
# session had started by now (the probes ran beside it).
[ -e /etc/systemd/system/display-manager.service ] &&
        say "desktop display-manager=$(systemctl is-active display-manager) session=$(pgrep -x lxqt-session >/dev/null && echo up || echo not-yet)"
say "failed-units $(systemctl --failed --no-legend --plain | cut -d' ' -f1 | tr '\n' ' ')"
say "done $role"
