#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The in-guest half of tests/e2e/anonymity.sh, run as root by
# wb-anon.service, which that test injects into a throwaway overlay of each
# image (never into the shipped image).  Argument: gateway or workstation.
# Every result is one line on the second serial port (/dev/ttyS1):
#
#     WBANON <role> <what> <fields...>
#
# The verdicts are the host's: it compares the pages with its token, the
# web server's log with the exit relays, and the Gateway's circuits with the
# Workstation's fetches.
#
# gateway: waits for Tor's control cookie, logs Tor's STREAM and CIRC
#   events from then on ("ev" lines, so that no stream of the Workstation is
#   missed), reports the bootstrap ("bootstrapped", with the uptime of the
#   system and of tor), then dumps "GETINFO circuit-status" every 10 s
#   ("cs<N>" lines, closed by "cs<N> end").
#   Once bootstrapped, it opens one SOCKS stream to "cal-<port>.wb-test"
#   through each of Tor's SOCKS ports ("cal" lines), so that the host can
#   tell from the events which listener (SESSION_GROUP) a stream came in on.
#   Then, as the Workstation does below: the clock and the update.
# workstation: reads SERVER_IP, SERVER_PORT and SERVER_NAME from "env"
#   beside this script; waits for the Gateway's Tor (a name lookup through
#   it works); fetches the page transparently (plain TCP to the server's
#   address, which the Gateway sends into its TransPort), then through SOCKS
#   ports and by name, each "fetch" line with curl's exit status, the local
#   port of its connection to the Gateway (the source port in the Gateway's
#   STREAM events) and the page.  Then as a person would: each networked
#   tool once, as "user" and as root, through a login shell ("tool" lines:
#   curl, wget, git, ssh, gpg (fetching a key by URL), each to a name of
#   its own, "<tool>-<who>.wb-test"); the local Tor ports 127.0.0.1:9050
#   and 9150 ("tool local-<port>") and the control port 127.0.0.1:9051
#   ("cpf", the conversation);
#   then "done".
# Both, after that: wait for whonix-timesync's first result ("timesync"),
#   print the clock ("clock t=<epoch>": the host notes when the line
#   arrives), update from the test's apt repository and install its package
#   ("apt" lines), run whonix-selfcheck as user and root ("selfcheck"; on
#   the Workstation also with its port 9150 stopped); then set the clock an hour back and restart
#   whonix-timesync ("timesync-behind", "clock-behind"); the gateway then
#   says "usable-done".
# Both, once the boot is over: "booted" with the system's state, hostname
# and failed units, and a cue on the console (ttyS0) for the person there.
set -u
role=$1
here=$(dirname "$0")
out=/dev/ttyS1
say() { printf 'WBANON %s %s\n' "$role" "$*" >"$out"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
# Whole seconds since boot: deadlines must not move when whonix-timesync
# steps the clock (bash's SECONDS follows the wall clock).
now_s() { cut -d. -f1 /proc/uptime; }

gateway() {
        local cookie= deadline phase last= n=0 ctl_port=9052 cookie_file=/run/tor/control.authcookie
        CAL_LISTENERS=
        . "$here/env"
        deadline=$(( $(now_s) + 600 ))
        say start uptime=$(uptime_s)
        # tor writes the cookie once its control port listens.
        until [ -s "$cookie_file" ] && exec 3<>"/dev/tcp/127.0.0.1/$ctl_port"; do
                [ "$(now_s)" -ge "$deadline" ] && { say "no-control-port uptime=$(uptime_s)"; break; }
                sleep 1
        done 2>/dev/null
        exec 3<&- 2>/dev/null
        cookie=$(od -An -tx1 -v "$cookie_file" 2>/dev/null | tr -d ' \n')
        # ctl COMMAND...: one control connection, the replies without CR.
        ctl() {
                local c
                exec 4<>"/dev/tcp/127.0.0.1/$ctl_port" || return 1
                {
                        printf 'AUTHENTICATE %s\r\n' "$cookie"
                        for c; do printf '%s\r\n' "$c"; done
                        printf 'QUIT\r\n'
                } >&4
                timeout 10 cat <&4 | tr -d '\r'
                exec 4<&-
        }
        (
                exec 3<>"/dev/tcp/127.0.0.1/$ctl_port" || exit 1
                printf 'AUTHENTICATE %s\r\nSETEVENTS STREAM CIRC\r\n' "$cookie" >&3
                # Read straight from the socket: a filter such as tr would
                # hold the last events in its buffer when the VM stops.
                while IFS= read -r l <&3; do
                        printf 'WBANON gateway ev %s\n' "${l%$'\r'}"
                        case $l in *" ws-done.wb-test:80"*) : >/run/wb-anon-ws-done ;; esac
                done >"$out"
        ) &
        # The shipped Gateway waits for the first-connection choice: it
        # says so (Tor, whonix-connect status, the self-check's hint on the
        # console), and sends nothing (the host's capture) until the choice
        # is made, as a person makes it: the test types "sudo
        # whonix-connect" at the console and answers the menu.
        local waited=0 res
        say "waiting uptime=$(uptime_s) $(ctl "GETCONF DisableNetwork" | grep '^250' | tr '\n' ' ')"
        say "waiting-status $(whonix-connect status 2>&1 | tr '\n' '|')"
        until journalctl -b -u whonix-selfcheck --no-pager 2>/dev/null | grep -q 'waits for the first-connection choice'; do
                [ "$waited" -ge 240 ] && break
                sleep 2
                waited=$((waited + 2))
        done
        [ "$waited" -lt 20 ] && sleep $((20 - waited))
        say "waiting-hint $(journalctl -b -u whonix-selfcheck --no-pager -o cat 2>/dev/null | grep -m1 'first-connection' | cut -c1-200)"
        # A Gateway whose Tor cannot bootstrap (here: not told to yet): the
        # self-check fails and names Tor.
        res=$(timeout 300 whonix-selfcheck 2>&1 </dev/null)
        say "selfcheck waiting rc=$? out=|$(printf '%s' "$res" | tr '\n' '|' | cut -c1-1200)"
        # Everything before this line is before the choice; the person at
        # the console starts when it shows the cue.
        say "connect-start uptime=$(uptime_s)"
        echo "WB-PROBE first-connection: the person at the console may choose now" >/dev/ttyS0
        waited=0
        until ctl "GETCONF DisableNetwork" | grep -q '^250 DisableNetwork=0'; do
                [ "$waited" -ge 900 ] && break
                sleep 1
                waited=$((waited + 1))
        done
        say "connect-chosen uptime=$(uptime_s) after=${waited}s"
        deadline=$(( $(now_s) + 600 ))
        while :; do
                phase=$(ctl "GETINFO status/bootstrap-phase" | sed -n 's/^250-status\/bootstrap-phase=//p')
                if [ -n "$phase" ] && [ "$phase" != "$last" ]; then
                        say "phase uptime=$(uptime_s) $phase"
                        last=$phase
                fi
                case $phase in *PROGRESS=100*) break ;; esac
                if [ "$(now_s)" -ge "$deadline" ]; then
                        say "bootstrap-failed uptime=$(uptime_s)"
                        journalctl -b -u tor@default --no-pager -n 40 2>&1 | sed 's/^/WBANON gateway journal /' >"$out"
                        break
                fi
                sleep 2
        done
        case $phase in
        *PROGRESS=100*)
                say "bootstrapped uptime=$(uptime_s) tor_uptime=$(ctl "GETINFO uptime" | sed -n 's/^250-uptime=//p')"
                ;;
        esac
        say "eth0 $(ip -4 -o addr show dev eth0 | awk '{ print $4 }' | tr '\n' ' ')"
        local a
        for a in $CAL_LISTENERS; do
                socks_probe "${a%:*}" "${a##*:}" "cal-$(tr .: -- <<<"$a").wb-test"
                say "cal $a"
        done
        (
                usable
                say usable-done
                [ -n "${BRIDGE_LINE:-}" ] && bridge_switch
        ) &
        while [ "$(now_s)" -lt $((deadline + 600)) ]; do
                n=$((n + 1))
                ctl "GETINFO circuit-status" | sed "s/^/WBANON gateway cs$n /" >"$out"
                say "cs$n end"
                sleep 10
        done
}

# The Gateway, once used, switches to the test network's obfs4 bridge as
# its user would: whonix-connect wait (Tor closes every connection), then
# whonix-connect bridges FILE with the bridge line.  The host's capture
# must then hold connections to the bridge's obfs4 port only, and the
# Workstation's later fetches arrive through it.
bridge_switch() {
        local res l
        # Only once the Workstation is done with everything else (its probe
        # then opens a stream to ws-done.wb-test): the switch closes every
        # listener for a while and gives the ports new session groups.
        for l in $(seq 600); do
                [ -e /run/wb-anon-ws-done ] && break
                sleep 2
        done
        say "bridge-wait-start uptime=$(uptime_s)"
        res=$(timeout 120 whonix-connect wait 2>&1 </dev/null)
        say "bridge-wait rc=$? out=|$(printf '%s' "$res" | tr '\n' '|' | cut -c1-300)"
        sleep 5
        printf '%s\n' "$BRIDGE_LINE" >/tmp/wb-bridge.txt
        say "bridge-start uptime=$(uptime_s)"
        res=$(timeout 900 whonix-connect bridges /tmp/wb-bridge.txt 2>&1 </dev/null)
        say "bridge rc=$? uptime=$(uptime_s) out=|$(printf '%s' "$res" | tr '\n' '|' | cut -c1-1200)"
        res=$(whonix-connect status 2>&1)
        say "bridge-status rc=$? out=|$(printf '%s' "$res" | tr '\n' '|' | cut -c1-300)"
}

# socks_probe ADDRESS PORT NAME: one SOCKS5 CONNECT to NAME:80 (the answer
# does not matter: the stream is what counts).  perl: the Gateway has no
# SOCKS client.
socks_probe() {
        timeout 60 perl -MIO::Socket::INET -e '
                my ($a, $p, $h) = @ARGV;
                my $s = IO::Socket::INET->new(PeerAddr => $a, PeerPort => $p, Timeout => 10) or exit 1;
                syswrite($s, "\x05\x01\x00"); sysread($s, my $b, 2);
                syswrite($s, "\x05\x01\x00\x03" . chr(length $h) . $h . pack("n", 80));
                sysread($s, $b, 10);' "$1" "$2" "$3"
}

# The clock and the update, as on a machine in use.
usable() {
        local st i rc res
        # whonix-timesync's first result (it starts when Tor answers).
        for i in $(seq 120); do
                st=$(cat /run/whonix-timesync/status 2>/dev/null | tr '\n' ' ')
                case $st in *state=synced*) break ;; esac
                sleep 3
        done
        say "timesync ${st:-no status} uptime=$(uptime_s)"
        journalctl -b -u whonix-timesync -u whonix-bootclock --no-pager -o cat 2>&1 | tail -n 12 |
                sed 's/^/WBANON '"$role"' timesync-log /' | cut -c1-400 >"$out"
        say "clock t=$(date +%s.%N)"
        # Updates over Tor: the test's repository only (the private network
        # has no Debian mirror; the image's own sources are checked by the
        # kvm-images test), through the same apt configuration.
        apt_() { apt-get -q -o Dir::Etc::SourceParts=/etc/apt/wb-test.d -o Dir::Etc::SourceList=/dev/null "$@"; }
        for i in 1 2 3; do
                apt_ update >/tmp/wb-apt.out 2>&1
                rc=$?
                [ "$rc" -eq 0 ] && ! grep -q '^[EW]:' /tmp/wb-apt.out && break
                sleep 5
        done
        say "apt update rc=$rc tries=$i $(grep -E '^(Get|Err|E|W):' /tmp/wb-apt.out | tr '\n' ' ' | cut -c1-300)"
        DEBIAN_FRONTEND=noninteractive apt_ install -y wb-test-hello >/tmp/wb-apt.out 2>&1
        rc=$?
        say "apt install rc=$rc token=$(cat /usr/share/wb-test-hello/token 2>/dev/null)" \
                "$(grep -E '^(Get|Err|E|W):' /tmp/wb-apt.out | tr '\n' ' ' | cut -c1-200)"
        # The self-check, as a person runs it: as user (a login shell) and
        # as root; on the Workstation also with its local SOCKS port 9150
        # stopped, which it must name.
        res=$(timeout 300 setsid -w runuser -l user -c whonix-selfcheck 2>&1 </dev/null)
        say "selfcheck user rc=$? out=|$(printf '%s' "$res" | tr '\n' '|' | cut -c1-1200)"
        res=$(timeout 300 whonix-selfcheck 2>&1 </dev/null)
        say "selfcheck root rc=$? out=|$(printf '%s' "$res" | tr '\n' '|' | cut -c1-1200)"
        if [ "$role" = workstation ]; then
                systemctl stop whonix-tor-port@9150.socket
                res=$(timeout 300 whonix-selfcheck 2>&1 </dev/null)
                say "selfcheck broken rc=$? out=|$(printf '%s' "$res" | tr '\n' '|' | cut -c1-1200)"
                systemctl start whonix-tor-port@9150.socket
                # A Workstation whose firewall was flushed (for a few
                # seconds; it has no route off the internal network even
                # then): the self-check must name the firewall.
                nft list ruleset >/tmp/wb-nft.saved
                nft flush ruleset
                res=$(timeout 300 whonix-selfcheck 2>&1 </dev/null)
                say "selfcheck flushed rc=$? out=|$(printf '%s' "$res" | tr '\n' '|' | cut -c1-1200)"
                nft -f /tmp/wb-nft.saved
                say "firewall restored rc=$? chains=$(nft list ruleset | grep -c 'policy drop')"
        fi
        # An hour behind, while running (the machine suspended, a clock
        # set by hand): a new start of whonix-timesync must undo it.
        date -s "@$(( $(date +%s) - 3600 ))" >/dev/null
        systemctl restart whonix-timesync
        st=
        for i in $(seq 120); do
                st=$(cat /run/whonix-timesync/status 2>/dev/null | tr '\n' ' ')
                case $st in *state=synced*) break ;; esac
                sleep 3
        done
        say "timesync-behind ${st:-no status} uptime=$(uptime_s)"
        say "clock-behind t=$(date +%s.%N)"
}

workstation() {
        local deadline i r
        . "$here/env"
        deadline=$(( $(now_s) + ${WAIT_SECS:-360} ))
        say start uptime=$(uptime_s)
        # fetch NAME TRIES URL CURL-ARGS...: -q first, so no .curlrc applies.
        fetch() {
                local name=$1 max=$2 url=$3 i=0 rc body port
                shift 3
                while :; do
                        i=$((i + 1))
                        body=$(curl -q -sS --max-time 45 -w '\nWBPORT %{local_port}\n' "$@" "$url" 2>/tmp/wb-curl.err)
                        rc=$?
                        [ "$rc" -eq 0 ] && break
                        [ "$i" -ge "$max" ] && break
                        sleep 3
                done
                port=$(printf '%s\n' "$body" | sed -n 's/^WBPORT //p')
                body=$(printf '%s\n' "$body" | grep -v '^WBPORT ' | head -n 1)
                [ "$rc" -eq 0 ] || body="error: $(head -c 200 /tmp/wb-curl.err | tr '\n' ' ')"
                say "fetch $name rc=$rc port=${port:-0} tries=$i uptime=$(uptime_s) body=$body"
        }
        # Wait for the Gateway's Tor: a lookup through its DnsPort succeeds
        # only once Tor can build circuits.  So every fetch below starts
        # after the Gateway's probe subscribed to Tor's stream events (Tor
        # would take a TCP connection as soon as it starts, and hold it).
        i=0
        until r=$(getent ahostsv4 "$SERVER_NAME" | awk 'NR == 1 { print $1 }'); [ -n "$r" ]; do
                i=$((i + 1))
                [ "$(now_s)" -ge "$deadline" ] && break
                sleep 3
        done
        say "gateway-ready addr=${r:-none} lookups=$((i + 1)) uptime=$(uptime_s)"
        # (a) Plain TCP to the server: the Gateway's TransPort.
        fetch trans 3 "http://$SERVER_IP:$SERVER_PORT/trans" --noproxy '*'
        # (b) The Gateway's SOCKS ports; socks5h: Tor (the exit) resolves
        # the name.  Two per-application ports, and two SOCKS users on 9050
        # (IsolateSOCKSAuth).
        fetch socks-9100 3 "http://$SERVER_NAME:$SERVER_PORT/socks-9100" --socks5-hostname 10.152.152.10:9100
        fetch socks-9117 3 "http://$SERVER_NAME:$SERVER_PORT/socks-9117" --socks5-hostname 10.152.152.10:9117
        fetch socks-user-a 3 "http://$SERVER_NAME:$SERVER_PORT/socks-user-a" \
                --socks5-hostname 10.152.152.10:9050 --proxy-user wb-a:x
        fetch socks-user-b 3 "http://$SERVER_NAME:$SERVER_PORT/socks-user-b" \
                --socks5-hostname 10.152.152.10:9050 --proxy-user wb-b:x
        # (c) The name through the Gateway's DNS (resolv.conf: 10.152.152.10,
        # udp 53 redirected to Tor's DnsPort), then plain TCP.
        for _ in 1 2 3; do
                r=$(getent ahostsv4 "$SERVER_NAME" | awk 'NR == 1 { print $1 }')
                [ -n "$r" ] && break
                sleep 3
        done
        say "dns $SERVER_NAME addr=${r:-none} uptime=$(uptime_s)"
        fetch byname 3 "http://$SERVER_NAME:$SERVER_PORT/byname" --noproxy '*'

        # Each networked tool as its user types it, in a login shell (the
        # PATH, home and configuration a person gets), as user and as root.
        local who cmd res
        for who in user root; do
                for t in curl wget git ssh gpg; do
                        case $t in
                        curl) cmd="curl -sS --max-time 60 http://curl-$who.wb-test/curl-$who" ;;
                        wget) cmd="wget -q -T 60 -O- http://wget-$who.wb-test/wget-$who" ;;
                        git) cmd="git ls-remote http://git-$who.wb-test/repo.git" ;;
                        ssh) cmd="ssh -o BatchMode=yes -o ConnectTimeout=60 ssh-$who.wb-test true" ;;
                        gpg) cmd="gpg --batch --quiet --fetch-keys http://gpg-$who.wb-test/repo/wb-test.asc 2>/dev/null &&
                                gpg --batch --with-colons --list-keys tests@wb-test.invalid | grep ^uid: | cut -d: -f10" ;;
                        esac
                        # A session of its own, as a login has.
                        res=$(timeout 120 setsid -w runuser -l "$who" -c "$cmd" 2>&1 </dev/null)
                        say "tool $t-$who rc=$? out=$(printf '%s' "$res" | tr '\n' ' ' | cut -c1-200)"
                done
        done
        # The usual local Tor ports, as an application that expects a
        # local Tor uses them: SOCKS on 127.0.0.1:9050 and 9150, and the
        # control port 127.0.0.1:9051 (the Gateway's filter), as "user".
        for p in 9050 9150; do
                res=$(timeout 120 setsid -w runuser -l user -c \
                        "curl -q -sS --max-time 60 --socks5-hostname 127.0.0.1:$p http://local-$p.wb-test/local-$p" 2>&1 </dev/null)
                say "tool local-$p rc=$? out=$(printf '%s' "$res" | tr '\n' ' ' | cut -c1-200)"
        done
        # New identity, as an application asks for it: two fetches as one
        # SOCKS user (one circuit), SIGNAL NEWNYM through the filtered
        # control port below, then a third as the same user ("nym" lines;
        # the host finds each stream's circuit in the Gateway's events).
        nym() {
                res=$(curl -q -sS --max-time 60 --proxy socks5h://10.152.152.10:9100 -U nym:x \
                        "http://nym-$1.wb-test/nym-$1" 2>&1)
                say "nym $1 rc=$? body=$(printf '%s' "$res" | tr '\n' ' ' | cut -c1-120)"
        }
        nym 1
        nym 2
        res=$(timeout 90 setsid -w runuser -l user -c 'exec 3<>/dev/tcp/127.0.0.1/9051 || exit 9
                printf "AUTHENTICATE\r\nGETINFO status/circuit-established\r\nGETINFO net/listeners/socks\r\nSETEVENTS SIGNAL\r\nSIGNAL NEWNYM\r\n" >&3
                sleep 5
                printf "GETINFO address\r\nSETCONF DisableNetwork=1\r\nQUIT\r\n" >&3
                timeout 60 cat <&3' 2>&1 </dev/null)
        say "cpf rc=$? out=|$(printf '%s' "$res" | tr -d '\r' | tr '\n' '|' | cut -c1-700)"
        nym 3
        # As root: what could reconfigure or stop Tor, reveal the
        # Gateway's relays or address, or reach the cookie, is refused; Tor
        # still has its circuits afterwards (SIGNAL HALT did not reach it).
        res=$(timeout 90 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9051 || exit 9
                printf "AUTHENTICATE\r\nGETINFO circuit-status\r\nGETCONF SocksPort\r\nSIGNAL HALT\r\nSAVECONF\r\nTAKEOWNERSHIP\r\nADD_ONION NEW:BEST Port=80,127.0.0.1:80\r\nAUTHCHALLENGE SAFECOOKIE 00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF\r\nGETINFO address\r\nGETINFO status/circuit-established\r\nQUIT\r\n" >&3
                timeout 60 cat <&3' 2>&1 </dev/null)
        say "cpf-root rc=$? out=|$(printf '%s' "$res" | tr -d '\r' | tr '\n' '|' | cut -c1-1200)"
        usable
        say "done uptime=$(uptime_s)"
        # Tell the Gateway's probe (it watches Tor's stream events) that it
        # may switch to the bridge; then later fetches, while it switches
        # (they fail while it waits): one every few seconds for LATE_SECS.
        local end n=0 body
        [ "${LATE_SECS:-0}" -gt 0 ] && curl -q -sS --max-time 60 --proxy socks5h://10.152.152.10:9100 -U ws-done:x \
                -o /dev/null "http://ws-done.wb-test/ws-done" 2>/dev/null
        say "ws-done-sent rc=$? uptime=$(uptime_s)"
        end=$(( $(now_s) + ${LATE_SECS:-0} ))
        while [ "$(now_s)" -lt "$end" ]; do
                n=$((n + 1))
                body=$(curl -q -sS --max-time 30 --proxy socks5h://10.152.152.10:9100 -U "late-$n:x" \
                        "http://$SERVER_IP/late-$n" 2>&1)
                say "late $n rc=$? body=$(printf '%s' "$body" | tr '\n' ' ' | cut -c1-120)"
                sleep 5
        done
}

# Once the boot is over: the system's state, its name, the caches that
# systemd made again because the image's update stamps said /usr was newer
# (their units' conditions held: "redone") and the units that failed
# ("booted"); then the cue for the person at the console.
(
        state=$(systemctl is-system-running --wait 2>/dev/null)
        redone=
        for u in ldconfig.service systemd-hwdb-update.service systemd-journal-catalog-update.service; do
                [ "$(systemctl show -p ConditionResult --value "$u" 2>/dev/null)" = yes ] && redone="$redone $u"
        done
        say "booted state=$state host=$(cat /etc/hostname) redone:$redone failed:$(systemctl --failed --no-legend --plain |
                cut -d' ' -f1 | tr '\n' ' ' | sed 's/ *$//; s/^./ &/')"
        echo "WB-PROBE multi-user reached on $(cat /etc/hostname)" >/dev/ttyS0
) &

case $role in
gateway) gateway ;;
workstation) workstation ;;
*) say "unknown role" ;;
esac
