#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The desktop Workstation, used as a person uses it, with the Gateway on a
# private Tor network (tests/e2e/tornet.sh) under TCG:
#
#   Desktop Workstation --(internal bridge)--> Gateway --(wbt0)--> test Tor network
#   10.152.152.11, a screen (virtio-vga)       eth1/eth0             --> exits --> servers
#
# - The graphical session comes up by itself (LightDM logs "user" in to
#   LXQt): the screen is taken over QMP (screendump), must not be blank and
#   must show the panel; it is kept as a test artifact
#   ($WB_BUILD_ROOT/test-artifacts/desktop-*.png).
# - At the serial console (tests/helpers/console.py types, as the user):
#   LibreOffice converts a test document to PDF (soffice --headless);
#   HexChat, started in the graphical session with a throwaway server list
#   (the test's IRC network, ngircd from Debian on the test network), joins
#   a channel through the Gateway's IRC port and says something there; the
#   other person on that server (tests/helpers/irc-watch.py) sees it come
#   from an exit relay, with a neutral user name and real name, and gets no
#   answer to any CTCP request and no connection for a DCC offer;
#   torbrowser-launcher fetches the version list, the signature and the
#   "Tor Browser" from the test network's HTTPS server (aus1.torproject.org,
#   dist.torproject.org and torproject.org resolve to it at the exits; its
#   certificate is from a throwaway CA added to the Workstation's copy), only
#   ever from an exit, and refuses it because the signature is not the Tor
#   Browser developers' (it keeps the files as .verification_failed and
#   installs nothing).
# - Tor Browser's settings reach the graphical session: TOR_SKIP_LAUNCH and
#   the SOCKS and control ports that lead to the Gateway.
# - The user's own traffic, as the anonymity test checks the CLI
#   Workstation's: a name resolved through the Gateway's DNS, and a page
#   fetched by plain TCP (the Gateway's TransPort) and through the local
#   SOCKS ports 9050 and 9150 (which lead to the Gateway): each arrives at
#   the server, from an exit relay only.
# - Stream isolation per application: HexChat, torbrowser-launcher and apt
#   each reach the Gateway on their own port of Whonix's map (9101, 9115,
#   9104) and on no other, as a sampler of the Workstation's own sockets
#   (ss, as root) sees them for the whole session.
# - The clock: the desktop Workstation's virtual RTC runs an hour ahead;
#   whonix-timesync sets it from three onion services on the test network
#   (a throwaway timesync.conf.d file names them): a step that undoes the
#   hour, and the clock within seconds of this host's.
# - Updates, as the user types them (sudo apt-get update, then install):
#   from a signed test repository served by name (tor+http://apt.wb-test)
#   on the test network, with the system's apt and its Tor transport; the
#   package is installed, and the repository's server saw only exits.
#
# Network safety (DESIGN.md): both VMs run in the test network's namespace,
# their NICs taps on bridges there; the Gateway's Tor knows only the test
# network's authorities; every server runs in that namespace.  The images
# are used through throwaway qcow2 overlays.
. "$WB_SOURCE_ROOT/tests/lib.sh"
. "$WB_SOURCE_ROOT/tests/e2e/images.sh"
. "$WB_SOURCE_ROOT/tests/e2e/tornet.sh"
. "$WB_SOURCE_ROOT/tests/e2e/aptrepo.sh"
t_start=$(date +%s)

[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces, bridges, taps)"
for tool in tor tor-gencert ip dnsmasq curl python3 qemu-system-x86_64 qemu-img openssl ngircd gpg dpkg-deb; do
        command -v "$tool" >/dev/null || skip_all "$tool is not installed (tools/install-deps)"
done
ip netns add "wb-desk-probe-$$" 2>/dev/null || skip_all "cannot create network namespaces here"
ip netns del "wb-desk-probe-$$"
need_appliance

T=$(mktemp -d /tmp/wb-desktop.XXXXXX)
cleanup() {
        trap '' HUP INT PIPE TERM
        [ -n "${WB_DESKTOP_KEEP:-}" ] && TORNET_KEEP=1 && echo "# kept $T and $TORNET_DIR"
        tornet_stop
        [ -n "${WB_DESKTOP_KEEP:-}" ] || rm -rf "$T"
}
on_exit cleanup

inspect="$WB_BUILD_ROOT/tests/wb-inspect"
artifacts=$WB_BUILD_ROOT/test-artifacts
mkdir -p "$artifacts"
GW_EXT_MAC=52:54:00:a6:00:01
GW_INT_MAC=52:54:00:a6:00:02
WS_MAC=52:54:00:a6:00:03
TAP_GW_EXT=wbdgw0 TAP_GW_INT=wbdgw1 TAP_WS=wbdws0 INT_BRIDGE=wbdint0
TB_VERSION=14.5.99
TB_TARBALL=tor-browser-linux-x86_64-$TB_VERSION.tar.xz
IRC_CHANNEL='#wb-test'
HELLO=wb-hello-from-the-workstation-$$
# The desktop Workstation's virtual RTC runs an hour ahead: whonix-timesync
# must set it from the onion services.
WS_RTC_SKEW=3600

ensure_images || { fail "the images were built"; diag_file "$WB_BUILD_ROOT/e2e-build.log" 20; done_testing; exit; }
out=$WB_E2E_IMAGES
check "the build made the desktop Workstation's image" test -s "$out/Whonix-Workstation-Desktop.qcow2"
[ -s "$out/Whonix-Workstation-Desktop.qcow2" ] || { done_testing; exit; }

# --- what the servers serve --------------------------------------------------
# A throwaway CA and a certificate for the Tor Project's names, which the
# test network's exits resolve to its server.
mkdir -p "$T/tls" "$T/site/torbrowser/update_3/release/Linux_x86_64-gcc3/x" "$T/site/torbrowser/$TB_VERSION"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=whonix-build test CA" \
        -keyout "$T/tls/ca.key" -out "$T/tls/ca.pem" >"$T/tls/log" 2>&1 &&
openssl req -newkey rsa:2048 -nodes -subj "/CN=torproject.org" -keyout "$T/tls/server.key" \
        -out "$T/tls/server.csr" >>"$T/tls/log" 2>&1 &&
printf 'subjectAltName=DNS:torproject.org,DNS:aus1.torproject.org,DNS:dist.torproject.org\n' >"$T/tls/ext" &&
openssl x509 -req -in "$T/tls/server.csr" -CA "$T/tls/ca.pem" -CAkey "$T/tls/ca.key" -CAcreateserial -days 2 \
        -extfile "$T/tls/ext" -out "$T/tls/server.pem" >>"$T/tls/log" 2>&1
check "a throwaway CA and a certificate for aus1/dist.torproject.org and torproject.org" test $? -eq 0
# The version list names a release; its "tarball" is random bytes, signed
# by a throwaway key (a good signature, by the wrong key).
printf '<?xml version="1.0"?>\n<updates><update type="minor" displayVersion="%s" appVersion="%s" platformVersion="%s" buildID="20260101000000" detailsURL="https://www.torproject.org/" actions="showURL" openURL="https://www.torproject.org/"/></updates>\n' \
        "$TB_VERSION" "$TB_VERSION" "$TB_VERSION" >"$T/site/torbrowser/update_3/release/Linux_x86_64-gcc3/x/ALL"
head -c 65536 /dev/urandom >"$T/site/torbrowser/$TB_VERSION/$TB_TARBALL"
# The pages the user's own fetches ask for, one per way out.
ANON_WAYS="plain socks9050 socks9150"
ANON_TOKEN=wb-desk-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$T/site/wb-anon"
for w in $ANON_WAYS; do echo "$ANON_TOKEN $w" >"$T/site/wb-anon/$w"; done
mkdir -m 700 "$T/gnupg"
gpg --homedir "$T/gnupg" --batch --passphrase '' --quick-gen-key "Not the Tor Browser developers <wb-test@example.invalid>" \
        ed25519 sign never >"$T/gnupg.log" 2>&1 &&
gpg --homedir "$T/gnupg" --batch --armor --detach-sign -o "$T/site/torbrowser/$TB_VERSION/$TB_TARBALL.asc" \
        "$T/site/torbrowser/$TB_VERSION/$TB_TARBALL" >>"$T/gnupg.log" 2>&1
check "a fake Tor Browser release: version list, tarball, a signature by a throwaway key" test $? -eq 0
APT_TOKEN=wb-desk-apt-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
make_apt_repo "$T/apt" "$APT_TOKEN"
check "a signed test apt repository (wb-test-hello 1.0) made with a throwaway key" test $? -eq 0
TORNET_REPO_DIR=$T/apt/repo

# --- the private Tor network and its servers ---------------------------------
TORNET_EXTRA_NAMES="aus1.torproject.org dist.torproject.org torproject.org irc.wb-test apt.wb-test"
TORNET_EXIT_PORTS="443 6667 6000"
root_links=$(ip -o link show | awk -F': ' '{ print $2 }' | sort | tr '\n' ' ')
if tornet_start >"$T/tornet.out"; then
        ok "private Tor network up in namespace $TORNET_NS (ready after $TORNET_READY_SECS s)"
else
        fail "private Tor network up"
        diag_file "$T/tornet.out" 10
        tornet_dump_logs 15
        done_testing
        exit
fi
if tornet_onions_start 3 >"$T/onions.out"; then
        ok "three onion services serve the time on the test network ($(sed -n 's/.*reachable after //p' "$T/onions.out"))"
else
        fail "three onion services serve the time on the test network"
        diag_file "$T/onions.out" 5
fi
srv=$TORNET_SERVER_IP
: >"$T/https.log"
tornet_spawn "$TORNET_NS" "$T/https.out" python3 "$WB_SOURCE_ROOT/tests/e2e/tornet/httpd.py" "$srv" 443 \
        "$T/https.log" "$TORNET_TOKEN" --tls "$T/tls/server.pem" "$T/tls/server.key" --site "$T/site"
cat >"$T/ngircd.conf" <<EOF
[Global]
Name = irc.wb-test
Info = whonix-build desktop test
Listen = $srv
Ports = 6667
MotdPhrase = whonix-build test network
[Options]
PAM = no
Ident = no
DNS = no
[Channel]
Name = $IRC_CHANNEL
Topic = whonix-build test channel
EOF
tornet_spawn "$TORNET_NS" "$T/ngircd.log" ngircd --nodaemon --config "$T/ngircd.conf"
# Whatever connects to the DCC offer's address and port is noted.
: >"$T/dcc.log"
tornet_spawn "$TORNET_NS" "$T/dcc.out" python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[1], 6000)); s.listen(5)
while True:
    c, a = s.accept(); open(sys.argv[2], "a").write("%s %d\n" % a); c.close()' "$srv" "$T/dcc.log"
for _ in $(seq 100); do
        tornet_exec ss -ltn | grep -q "$srv:443 " && tornet_exec ss -ltn | grep -q "$srv:6667 " && break
        sleep 0.2
done
check "HTTPS (443) and IRC (6667) servers listen on the test network's server $srv" \
        sh -c 'ip netns exec "$1" ss -ltn | grep -q "$2:443 " && ip netns exec "$1" ss -ltn | grep -q "$2:6667 "' \
        sh "$TORNET_NS" "$srv"
code=$(tornet_curl --cacert "$T/tls/ca.pem" -s -o /dev/null -w '%{http_code}' --max-time 60 \
        "https://aus1.torproject.org/torbrowser/update_3/release/Linux_x86_64-gcc3/x/ALL")
check "the test client fetches the version list over Tor and HTTPS (HTTP $code)" test "$code" = 200
: >"$T/https.log"
tornet_spawn "$TORNET_NS" "$T/irc-watch.out" python3 "$WB_SOURCE_ROOT/tests/helpers/irc-watch.py" "$srv" 6667 \
        watcher "$IRC_CHANNEL" user 1500 40 "$srv"

# --- the throwaway overlays ---------------------------------------------------
# Gateway: the test network's torrc, and a direct connection at boot (the
# first-connection choice has tests of its own).  Desktop Workstation: the
# test CA in the system's bundle (python3-requests uses it), HexChat's
# server list naming the test network (joined at start), a document.
mkdir -p "$T/gw/etc/tor/torrc.d"
tornet_gateway_torrc "$T/gw/etc/tor/torrc.d/50-test.conf"
printf '# whonix-build desktop test: connect directly\nUseBridges 0\n' >"$T/gw/etc/tor/torrc.d/40-connection.conf"
chmod 0644 "$T/gw/etc/tor/torrc.d/"*.conf
tar --owner=0 --group=0 --numeric-owner -C "$T/gw" -cf "$T/gw.tar" etc/tor/torrc.d/50-test.conf \
        etc/tor/torrc.d/40-connection.conf
mkdir -p "$T/ws/etc/ssl/certs" "$T/ws/home/user/.config/hexchat" "$T/ws/etc/apt/wb-test.d" "$T/ws/etc/apt/keyrings"
# The clock's pools: the test network's onion services.
ws_timesync=$(tornet_timesync_stage "$T/ws")
# The test repository's source and key, beside (not instead of) the image's.
printf 'Types: deb\nURIs: tor+http://apt.wb-test/repo/\nSuites: wb-test\nComponents: main\nSigned-By: %s\n' \
        /etc/apt/keyrings/wb-test.gpg >"$T/ws/etc/apt/wb-test.d/wb-test.sources"
cp "$T/apt/wb-test.gpg" "$T/ws/etc/apt/keyrings/wb-test.gpg"
chmod 0644 "$T/ws/etc/apt/wb-test.d/wb-test.sources" "$T/ws/etc/apt/keyrings/wb-test.gpg"
chmod 0755 "$T/ws/etc/apt/wb-test.d" "$T/ws/etc/apt/keyrings"
qemu-img create -q -f qcow2 -b "$out/Whonix-Gateway.qcow2" -F qcow2 "$T/gw.qcow2" &&
qemu-img create -q -f qcow2 -b "$out/Whonix-Workstation-Desktop.qcow2" -F qcow2 "$T/ws.qcow2"
rc_img=$?
# The Gateway's overlay is written while the Workstation's CA bundle is
# read (an appliance launch each, side by side).
"$inspect" --rw "$T/gw.qcow2" /dev/sda2 tar-in "$T/gw.tar" / >>"$T/gw.inspect" 2>&1 </dev/null &
gw_inspect=$!
"$inspect" "$out/Whonix-Workstation-Desktop.qcow2" /dev/sda2 cat /etc/ssl/certs/ca-certificates.crt \
        >"$T/ws/etc/ssl/certs/ca-certificates.crt" 2>"$T/ws.inspect" && cat "$T/tls/ca.pem" >>"$T/ws/etc/ssl/certs/ca-certificates.crt"
rc_ca=$?
wait "$gw_inspect"
rc_gw=$?
cat >"$T/ws/home/user/.config/hexchat/servlist.conf" <<EOF
v=2.16.2

N=WB-Test
E=UTF-8 (Unicode)
F=27
D=0
S=irc.wb-test/6667
J=$IRC_CHANNEL
EOF
cat >"$T/ws/home/user/wb-test.fodt" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"
 office:mimetype="application/vnd.oasis.opendocument.text">
 <office:body><office:text><text:p>A letter written on the Whonix desktop Workstation.</text:p></office:text></office:body>
</office:document>
EOF
chmod 0644 "$T/ws/etc/ssl/certs/ca-certificates.crt" "$T/ws/home/user/.config/hexchat/servlist.conf" \
        "$T/ws/home/user/wb-test.fodt"
# One tar, root's files and the user's (appended with their owner: tar -A
# keeps each member's).
tar --owner=1000 --group=1000 --numeric-owner -C "$T/ws" -cf "$T/ws-user.tar" \
        home/user/.config/hexchat/servlist.conf home/user/wb-test.fodt
# shellcheck disable=SC2086 # $ws_timesync: the helper's paths, a word each
tar --owner=0 --group=0 --numeric-owner -C "$T/ws" -cf "$T/ws.tar" etc/ssl/certs/ca-certificates.crt \
        etc/apt/wb-test.d etc/apt/wb-test.d/wb-test.sources etc/apt/keyrings/wb-test.gpg \
        $ws_timesync &&
tar -Af "$T/ws.tar" "$T/ws-user.tar" &&
[ "$rc_img" -eq 0 ] && [ "$rc_gw" -eq 0 ] && [ "$rc_ca" -eq 0 ] &&
"$inspect" --rw "$T/ws.qcow2" /dev/sda2 tar-in "$T/ws.tar" / >>"$T/ws.inspect" 2>&1 </dev/null
check "the test's files injected into throwaway overlays of both images" test $? -eq 0
diag_file "$T/ws.inspect" 3

# --- the VMs ------------------------------------------------------------------
if tornet_bridge_add "$INT_BRIDGE" && tornet_tap_add "$TAP_GW_EXT" &&
        tornet_tap_add "$TAP_GW_INT" "$INT_BRIDGE" && tornet_tap_add "$TAP_WS" "$INT_BRIDGE"; then
        ok "taps: Gateway eth0 on $TORNET_BRIDGE, Gateway eth1 and the Workstation's eth0 on $INT_BRIDGE"
else
        fail "taps: Gateway eth0 on $TORNET_BRIDGE, Gateway eth1 and the Workstation's eth0 on $INT_BRIDGE"
fi
t_vms=$(date +%s)
tornet_spawn "$TORNET_NS" "$T/gw.qemu" qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp 1 -m 768 \
        -nodefaults -no-user-config -display none \
        -netdev "tap,id=n0,ifname=$TAP_GW_EXT,script=no,downscript=no" -device "virtio-net-pci,netdev=n0,mac=$GW_EXT_MAC" \
        -netdev "tap,id=n1,ifname=$TAP_GW_INT,script=no,downscript=no" -device "virtio-net-pci,netdev=n1,mac=$GW_INT_MAC" \
        -device virtio-rng-pci -drive "file=$T/gw.qcow2,if=virtio,format=qcow2" \
        -chardev "socket,id=con0,path=$T/gw.sock,server=on,wait=off,logfile=$T/gw.console" -serial chardev:con0 \
        -no-reboot
pid_gw=$!
# The desktop as its libvirt XML describes it: a virtio screen and tablet,
# 2 GiB; the screen is read over QMP.
tornet_spawn "$TORNET_NS" "$T/ws.qemu" qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp 2 -m 2048 \
        -nodefaults -no-user-config -display none -device virtio-vga -device virtio-tablet-pci \
        -device virtio-keyboard-pci \
        -netdev "tap,id=n0,ifname=$TAP_WS,script=no,downscript=no" -device "virtio-net-pci,netdev=n0,mac=$WS_MAC" \
        -device virtio-rng-pci -drive "file=$T/ws.qcow2,if=virtio,format=qcow2" \
        -rtc "base=$(date -u -d "@$(( $(date +%s) + WS_RTC_SKEW ))" +%Y-%m-%dT%H:%M:%S)" \
        -chardev "socket,id=con0,path=$T/ws.sock,server=on,wait=off,logfile=$T/ws.console" -serial chardev:con0 \
        -qmp "unix:$T/ws.qmp,server=on,wait=off" -no-reboot
pid_ws=$!
sleep 1
root_ns=$(readlink /proc/1/ns/net)
check "network safety: both qemus run in $TORNET_NS, not the root namespace" \
        sh -c '[ -e "/proc/$1" ] && [ -e "/proc/$2" ] &&
                [ "$(readlink "/proc/$1/ns/net")" != "$3" ] && [ "$(readlink "/proc/$2/ns/net")" != "$3" ]' \
        sh "$pid_gw" "$pid_ws" "$root_ns"
check "network safety: the root namespace got no interface" \
        test "$(ip -o link show | awk -F': ' '{ print $2 }' | sort | tr '\n' ' ')" = "$root_links"

# The person at the desktop Workstation (its serial console logs "user"
# in, as the screen does): each command as typed, in the graphical
# session's display.
panel_wait='for i in $(seq 900); do pgrep -u user -x lxqt-panel >/dev/null && break; sleep 1; done; pgrep -u user -x lxqt-panel >/dev/null && echo panel-up after $i s'
soffice_cmd='soffice --headless --convert-to pdf --outdir /tmp ~/wb-test.fodt >/tmp/soffice.log 2>&1; cat /tmp/soffice.log | tail -n 2; head -c 5 /tmp/wb-test.pdf; echo; stat -c "pdf-size %s" /tmp/wb-test.pdf'
hexchat_cmd="export DISPLAY=:0; (hexchat >/tmp/hexchat.log 2>&1 &); for i in \$(seq 600); do ss -Htn state established '( dport = :9101 )' | grep -q 10.152.152.10 && break; sleep 1; done; ss -Htn state established '( dport = :9101 )'; sleep 30; hexchat --existing --command='msg $IRC_CHANNEL $HELLO'; echo said-rc=\$?"
tbl_cmd='export DISPLAY=:0; (PYTHONUNBUFFERED=1 torbrowser-launcher >/tmp/tbl.log 2>&1 &); for i in $(seq 900); do ls ~/.cache/torbrowser/download/*.verification_failed >/dev/null 2>&1 && break; sleep 1; done; sleep 5; echo tbl-after $i s; ls ~/.cache/torbrowser/download/; cat /tmp/tbl.log; ls -d ~/.local/share/torbrowser/tbb/x86_64/tor-browser 2>&1'
anon_cmd='getent hosts dist.torproject.org; for w in plain socks9050 socks9150; do case $w in plain) o= ;; socks9050) o="--socks5-hostname 127.0.0.1:9050" ;; socks9150) o="--socks5-hostname 127.0.0.1:9150" ;; esac; echo "$w: $(curl -sS --max-time 180 $o https://dist.torproject.org/wb-anon/$w 2>&1)"; done'
env_cmd='tr "\0" "\n" </proc/$(pgrep -u user -x lxqt-panel | head -n 1)/environ | grep "^TOR_" | sort'
# Which program talks to which of the Gateway's ports, as the Workstation's
# own sockets show it: a sampler (as root, for the sockets' owners) from
# before the first application starts to the end; then "PROGRAM PORT"
# pairs, one each.
ss_start='sudo sh -c "while :; do ss -Htnp dst 10.152.152.10; sleep 0.2; done >/tmp/wb-ss.log 2>&1 &"; sleep 1'
read -r -d '' ss_read <<'CMD'
sudo cat /tmp/wb-ss.log | sed -n 's/.*[[:space:]]10\.152\.152\.10:\([0-9]*\)[[:space:]].*users:(("\([^"]*\)".*/\2 \1/p' | sort -u | tr '\n' ' '; echo
CMD
# The clock, once whonix-timesync has a result: its status, and the
# guest's clock as the command ends (compared with this host's below).
clock_cmd='for i in $(seq 120); do grep -q "^state=synced" /run/whonix-timesync/status 2>/dev/null && break; sleep 3; done; tr "\n" " " </run/whonix-timesync/status; echo; echo clock t=$(date +%s)'
# Updates: the test's repository only (the test network has no Debian
# mirror; the image's own sources are checked by the kvm-images test).
apt_opts='-q -o Dir::Etc::SourceParts=/etc/apt/wb-test.d -o Dir::Etc::SourceList=/dev/null'
apt_cmd="sudo apt-get $apt_opts update 2>&1 | tail -n 4; echo update-rc=\${PIPESTATUS[0]}; sudo DEBIAN_FRONTEND=noninteractive apt-get $apt_opts install -y wb-test-hello 2>&1 | tail -n 2; echo install-rc=\${PIPESTATUS[0]}; echo token=\$(cat /usr/share/wb-test-hello/token)"
python3 "$WB_SOURCE_ROOT/tests/helpers/console.py" "$T/ws.sock" "$T/ws.typed" "${WB_DESKTOP_TIMEOUT:-2400}" \
        "(automatic login)" 'user@host:~\$ $' -- \
        'systemctl is-system-running --wait' "$panel_wait" "$ss_start" "$env_cmd" "$soffice_cmd" "$hexchat_cmd" \
        'sleep 5' "$tbl_cmd" 'sleep 3' "$anon_cmd" "$apt_cmd" "$ss_read" "$clock_cmd" \
        >"$T/ws.session" 2>&1 &
console_pid=$!

# non_exits: the addresses on stdin (one a line) that are no exit relay's
# of the test network, sorted, space-separated.
non_exits() { grep . | grep -vxF -f <(tr ' ' '\n' <<<"$TORNET_EXIT_IPS") | sort -u | tr '\n' ' '; }

# answer N: command N's output (JSON-decoded); rc_of N: its exit status.
answer() { python3 -c 'import json, sys
for l in open(sys.argv[1]):
    if l.startswith("CMD %s " % sys.argv[2]):
        print(json.loads(l.split(" out=", 1)[1]).strip())' "$T/ws.session" "$1"; }
rc_of() { sed -n "s/^CMD $1 rc=\([-0-9]*\) .*/\1/p" "$T/ws.session"; }
# Wait for command N to have answered (or the console to have given up).
wait_cmd() {
        while kill -0 "$console_pid" 2>/dev/null && ! grep -q "^CMD $1 " "$T/ws.session"; do sleep 2; done
        grep -q "^CMD $1 " "$T/ws.session"
}
shot() { # NAME [WAIT]: the screen now (or once it shows the panel, within WAIT s), kept as an artifact
        python3 "$WB_SOURCE_ROOT/tests/helpers/screen.py" "$T/ws.qmp" "$artifacts/desktop-$1.png" ${2:-} 2>&1 | tail -n 1
}
wait_cmd 2 && t_panel=$(( $(date +%s) - t_vms ))
# The desktop draws its panel, wallpaper and icons some seconds after the
# panel's process starts (more under TCG on a busy machine): the screen is
# looked at until it shows the panel, for up to 5 minutes.
wait_cmd 3
screen1=$(shot session 300)
wait_cmd 7
screen_irc=$(shot hexchat)
wait_cmd 9
screen_tbl=$(shot torbrowser-launcher)
wait_cmd 13
t_clock=$(date +%s)
wait "$console_pid"
t_done=$(( $(date +%s) - t_vms ))
# The IRC watcher asks its questions slowly (one every 8 s) and listens on.
for _ in $(seq 150); do grep -q '^DONE\|^FAIL' "$T/irc-watch.out" && break; sleep 2; done
kill -TERM "$pid_gw" "$pid_ws" 2>/dev/null
diag "desktop session's panel up after ${t_panel:-?} s of VM time; the session's commands done after $t_done s"

# --- what the person saw -------------------------------------------------------
grep '^FAIL' "$T/ws.session" && tr -d '\r' <"$T/ws.console" | grep -a . | tail -n 25 | sed 's/^/#   /'
check "the desktop Workstation boots with no failed unit ($(answer 1 | tail -n 1))" \
        sh -c '[ "$1" = 0 ]' sh "$(rc_of 1)"
check "the graphical session comes up by itself: LightDM logs the user in to LXQt ($(answer 2 | tail -n 1))" \
        sh -c 'printf "%s\n" "$1" | grep -q "^panel-up after"' sh "$(answer 2)"
diag "$screen1"
check "the screen is not blank (${screen1#SCREEN })" \
        sh -c 'b=$(printf "%s" "$1" | sed -n "s/.* busy=\([0-9]*\).*/\1/p"); [ -n "$b" ] && [ "$b" -ge 2 ]' sh "$screen1"
check "the screen shows the LXQt panel at an edge" sh -c 'printf "%s" "$1" | grep -q " panel=yes "' sh "$screen1"
e=$(answer 4)
for v in TOR_SKIP_LAUNCH=1 TOR_SOCKS_HOST=127.0.0.1 TOR_SOCKS_PORT=9150 TOR_CONTROL_HOST=127.0.0.1 TOR_CONTROL_PORT=9051; do
        check "the graphical session's programs have $v (Tor Browser uses the Gateway's Tor)" \
                sh -c 'printf "%s\n" "$1" | grep -qx "$2"' sh "$e" "$v"
done

a=$(answer 5)
check "LibreOffice converts a document to PDF headless, in the Workstation (${a//$'\n'/ | })" \
        sh -c '[ "$1" = 0 ] && printf "%s\n" "$2" | grep -qx "%PDF-" && printf "%s\n" "$2" | grep -Eq "^pdf-size [0-9]{4,}$"' \
        sh "$(rc_of 5)" "$a"

# IRC: what the other person on the server saw (it connects from the
# server's own address).
watch=$(cat "$T/irc-watch.out")
diag "IRC watcher: $(tr '\n' '|' <<<"$watch")"
a=$(answer 6)
diag "hexchat: ${a//$'\n'/ | }"
joined=$(sed -n 's/^JOINED //p' <<<"$watch")
jhost=${joined##*@}
check "HexChat joins $IRC_CHANNEL on the test network's IRC server ($joined)" test -n "$joined"
check "... from an exit relay ($jhost; exits: $TORNET_EXIT_IPS)" sh -c 'for e in $2; do [ "$1" = "$e" ] && exit 0; done; exit 1' \
        sh "$jhost" "$TORNET_EXIT_IPS"
check "... with a neutral user name and real name (WHOIS: $(sed -n 's/^WHOIS //p' <<<"$watch"))" \
        grep -Eq '^WHOIS ~?user [0-9.]+ user$' <<<"$watch"
check "HexChat says what its user types to the channel" grep -qx "SAID $HELLO" <<<"$watch"
check "HexChat answers no CTCP request (VERSION, TIME, PING, CLIENTINFO, USERINFO, SOURCE, FINGER)" \
        grep -qx 'DONE replies=0' <<<"$watch"
check "HexChat accepts no DCC chat offer (no connection to the offered address)" test ! -s "$T/dcc.log"
c=$(grep -c 'Accepted connection' "$T/ngircd.log")
bad=$(grep 'Accepted connection' "$T/ngircd.log" | grep -v "\"$srv:" |
        sed -n 's/.*from "\([0-9.]*\):.*/\1/p' | non_exits)
check "the IRC server's connections from outside the server come only from exits (${c} accepted; others: ${bad:-none})" \
        test -z "$bad"

# torbrowser-launcher: what it fetched, from where, and what it made of it.
a=$(answer 8)
diag "torbrowser-launcher: $(tr '\n' '|' <<<"$a" | cut -c1-600)"
check "torbrowser-launcher asks for the version list at aus1.torproject.org" \
        grep -q '^Downloading https://aus1.torproject.org/torbrowser/update_3/release/Linux_x86_64-gcc3/x/ALL' <<<"$a"
check "... learns the release $TB_VERSION from it" grep -q "^Latest version: $TB_VERSION" <<<"$a"
check "... downloads the signature and the tarball from dist.torproject.org" \
        sh -c 'printf "%s\n" "$1" | grep -q "^Downloading https://dist.torproject.org/torbrowser/$2/$3.asc" &&
                printf "%s\n" "$1" | grep -q "^Downloading https://dist.torproject.org/torbrowser/$2/$3\$"' \
        sh "$a" "$TB_VERSION" "$TB_TARBALL"
check "... checks the signature and refuses the download: the files kept as .verification_failed" \
        sh -c 'printf "%s\n" "$1" | grep -q "^Verifying Signature" &&
                printf "%s\n" "$1" | grep -qx "$2.verification_failed" && printf "%s\n" "$1" | grep -qx "$2.asc.verification_failed"' \
        sh "$a" "$TB_TARBALL"
check "... and installs nothing" grep -q 'tor-browser.*No such file or directory' <<<"$a"
diag "HTTPS server: $(awk '{print $1, $3, $4}' "$T/https.log" | tr '\n' '|' | cut -c1-500)"
for p in "/torbrowser/update_3/release/Linux_x86_64-gcc3/x/ALL aus1.torproject.org" \
        "/torbrowser/$TB_VERSION/$TB_TARBALL.asc dist.torproject.org" "/torbrowser/$TB_VERSION/$TB_TARBALL dist.torproject.org"; do
        set -- $p
        check "the HTTPS server got GET $1 for $2" awk -v p="$1" -v h="$2" '$3 == "GET" && $4 == p && $5 == h { f = 1 } END { exit !f }' \
                "$T/https.log"
done
bad=$(awk '{print $1}' "$T/https.log" | non_exits)
check "every request to the HTTPS server came from an exit ($(wc -l <"$T/https.log") requests; others: ${bad:-none})" \
        sh -c '[ -s "$1" ] && [ -z "$2" ]' sh "$T/https.log" "$bad"
diag "screens: ${screen_irc#SCREEN } / ${screen_tbl#SCREEN }"

# The user's own traffic (command 10).
a=$(answer 10)
diag "the user's fetches: ${a//$'\n'/ | }"
check "a name resolves through the Gateway's DNS (Tor's DnsPort: the test network's server, $srv)" \
        sh -c 'printf "%s\n" "$1" | grep -Eq "^$2[[:space:]]+dist\.torproject\.org"' sh "$a" "$srv"
for w in $ANON_WAYS; do
        case $w in
        plain) how="by plain TCP (the Gateway's TransPort)" ;;
        *) how="through the local SOCKS port ${w#socks} (to the Gateway)" ;;
        esac
        from=$(awk -v p="/wb-anon/$w" '$3 == "GET" && $4 == p { print $1 }' "$T/https.log" | sort -u | tr '\n' ' ')
        check "the user fetches a page $how: the page arrives" grep -qx "$w: $ANON_TOKEN $w" <<<"$a"
        check "... and the server saw that request from an exit only (${from:-none})" \
                sh -c '[ -n "$1" ] && for f in $1; do case " $2 " in *" $f "*) ;; *) exit 1 ;; esac; done' \
                sh "$from" "$TORNET_EXIT_IPS"
done

# Updates (command 11).
a=$(answer 11)
diag "updates: ${a//$'\n'/ | }"
check "the user updates the package lists over Tor (sudo apt-get update from tor+http://apt.wb-test: exit 0, no error)" \
        sh -c 'printf "%s\n" "$1" | grep -qx "update-rc=0" && ! printf "%s\n" "$1" | grep -q "^[EW]:"' sh "$a"
check "... and installs the repository's package (its file holds the token)" \
        sh -c 'printf "%s\n" "$1" | grep -qx "install-rc=0" && printf "%s\n" "$1" | grep -qx "token=$2"' sh "$a" "$APT_TOKEN"
repo_peers=$(awk '$4 ~ "^/repo/" { print $1 }' "$TORNET_HTTP_LOG" | sort -u | tr '\n' ' ')
bad=$(tr ' ' '\n' <<<"$repo_peers" | non_exits)
check "the repository's server saw apt only from exit relays (${repo_peers:-no request})" \
        sh -c '[ -n "$1" ] && [ -z "$2" ]' sh "$repo_peers" "$bad"

# Stream isolation per application (command 12): each reached the Gateway
# on its own port of Whonix's map (the Gateway's Tor gives each SocksPort
# circuits of its own: the anonymity test shows that per listener).
a=$(answer 12)
diag "programs and the Gateway's ports they used: ${a:-none}"
for pp in "hexchat 9101 HexChat" "torbrowser-laun 9115 torbrowser-launcher" "tor+http 9104 apt"; do
        set -- $pp
        ports=$(printf '%s\n' $a | paste - - | awk -v p="$1" '$1 == p { print $2 }' | sort -u | tr '\n' ' ')
        check "$3 reached the Gateway on its own port $2 only (${ports:-not seen})" test "$ports" = "$2 "
done

# The clock (command 13): set from the onion services, the RTC's hour
# undone; the guest's clock when the command ended against this host's
# when the test saw the answer (it looks every 2 s: within 10 s).
a=$(answer 13)
diag "clock: ${a//$'\n'/ | }"
st=$(head -n 1 <<<"$a")
off=$(sed -n 's/.*offset=\([-+0-9.]*\).*/\1/p' <<<"$st")
check "whonix-timesync set the desktop Workstation's clock from the onion services (${st:-no status})" \
        sh -c 'case $1 in *method=step*state=synced*) ;; *) exit 1 ;; esac' sh "$st"
check "... its step undid the RTC's hour ahead (offset ${off:-none} s)" \
        awk -v o="${off:-x}" -v s="$WS_RTC_SKEW" 'BEGIN { d = o + s; if (d < 0) d = -d; exit !(o != "x" && d <= 200) }'
g=$(sed -n 's/^clock t=\([0-9]*\)$/\1/p' <<<"$a")
check "... and it is within 10 s of the true time (off by $(( ${g:-0} - ${t_clock:-0} )) s)" \
        awk -v g="${g:-x}" -v h="${t_clock:-x}" 'BEGIN { d = g - h; if (d < 0) d = -d; exit !(g != "x" && h != "x" && d <= 10) }'
on_onions=$(wc -l <"$TORNET_ONION_LOG")
check "the onion services saw the time requests ($on_onions)" test "$on_onions" -gt 0

diag "desktop test took $(( $(date +%s) - t_start )) s"
done_testing
