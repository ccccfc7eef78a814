#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The desktop Workstation's application settings (overlays/
# whonix-workstation-desktop), read as their programs read them, and held
# against the Gateway they must lead to: each proxy is one of the Gateway's
# SOCKS ports (overlays/whonix-gateway/etc/tor/torrc) with the isolation the
# application needs, each local port the Workstation forwards; and every
# settings file says why (a comment), save JSON, which cannot (the README's
# table of applications covers it).  The same settings are used for real in
# the desktop e2e test (tests/e2e/desktop.sh).
. "$WB_SOURCE_ROOT/tests/lib.sh"

ov=$WB_SOURCE_ROOT/overlays/whonix-workstation-desktop
skel=$ov/etc/skel/.config
torrc=$WB_SOURCE_ROOT/overlays/whonix-gateway/etc/tor/torrc
recipe=$WB_SOURCE_ROOT/recipes/whonix-workstation-desktop.conf
[ -d "$ov" ] || bail_out "no $ov"

# gateway_port PORT: the Gateway's SocksPort line for 10.152.152.10:PORT.
gateway_port() { grep -E "^SocksPort 10\.152\.152\.10:$1( |\$)" "$torrc"; }

# --- the recipe ---
check "the desktop recipe stands on the CLI Workstation's" grep -qx 'Include=whonix-workstation.conf' "$recipe"
check "the desktop recipe is a workstation variant (Flavor=workstation-desktop)" grep -qx 'Flavor=workstation-desktop' "$recipe"
check "the desktop recipe asks for a display (Graphics=yes)" grep -qx 'Graphics=yes' "$recipe"
for p in lightdm lxqt-core openbox qterminal pcmanfm-qt torbrowser-launcher hexchat libreoffice-writer \
        libreoffice-calc keepassxc-minimal mat2; do
        check "the desktop recipe installs $p" grep -Eq "^[[:space:]]+$p\$" "$recipe"
done
check "torbrowser-launcher's component, contrib, is in the archive the build uses" \
        grep -Eq '^Components=.*\bcontrib\b' "$WB_SOURCE_ROOT/recipes/kicksecure.conf"

# --- HexChat ---
hc=$skel/hexchat/hexchat.conf
val() { sed -n "s/^$2 = \\(.*\\)\$/\\1/p" "$1"; }
check "HexChat: SOCKS5 proxy (net_proxy_type 3) for every connection (net_proxy_use 0)" \
        sh -c '[ "$1" = 3 ] && [ "$2" = 0 ]' sh "$(val "$hc" net_proxy_type)" "$(val "$hc" net_proxy_use)"
hp="$(val "$hc" net_proxy_host):$(val "$hc" net_proxy_port)"
check "HexChat's proxy is the Gateway's IRC port ($hp)" test "$hp" = 10.152.152.10:9101
l=$(gateway_port 9101)
check "the Gateway's 9101 isolates by destination ($l)" \
        sh -c 'printf "%s" "$1" | grep -q IsolateDestAddr && printf "%s" "$1" | grep -q IsolateDestPort' sh "$l"
check "HexChat: no identd server, no version in CTCP VERSION" \
        sh -c '[ "$1" = 0 ] && [ "$2" = 1 ]' sh "$(val "$hc" identd_server)" "$(val "$hc" irc_hide_version)"
check "HexChat: a neutral nick, user and real name ('user')" \
        sh -c '[ "$1" = user ] && [ "$2" = user ] && [ "$3" = user ]' sh "$(val "$hc" irc_nick1)" \
        "$(val "$hc" irc_user_name)" "$(val "$hc" irc_real_name)"
check "HexChat: DCC never offers an address (dcc_ip 0.0.0.0, not from the server)" \
        sh -c '[ "$1" = 0.0.0.0 ] && [ "$2" = 0 ]' sh "$(val "$hc" dcc_ip)" "$(val "$hc" dcc_ip_from_server)"
check "HexChat ignores every CTCP and DCC (ignore.conf: *!*@*, type 8 + 128)" \
        sh -c 'grep -qx "mask = \*!\*@\*" "$1" && grep -qx "type = 136" "$1"' sh "$skel/hexchat/ignore.conf"
check "HexChat answers no CTCP: its reply list has no entry" \
        sh -c '! grep -Eq "^(NAME|CMD) " "$1"' sh "$skel/hexchat/ctcpreply.conf"
check "HexChat's networks: each server over TLS (/+PORT) and through the proxy (flags with 16 and 4)" \
        python3 -c 'import sys
nets = {}
for l in open(sys.argv[1]):
    l = l.rstrip("\n")
    if l.startswith("N="): cur = nets.setdefault(l[2:], {"S": [], "F": 0})
    elif l.startswith("F="): cur["F"] = int(l[2:])
    elif l.startswith("S="): cur["S"].append(l[2:])
assert nets
for n, v in nets.items():
    assert v["F"] & 16 and v["F"] & 4 and not v["F"] & 8, (n, v)
    assert v["S"] and all("/+" in s for s in v["S"]), (n, v)' "$skel/hexchat/servlist.conf"

# --- torbrowser-launcher and Tor Browser ---
tb=$skel/torbrowser/settings.json
socks=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["download_over_tor"] is True; print(d["tor_socks_address"])' "$tb" 2>/dev/null)
check "torbrowser-launcher downloads over Tor (settings.json: download_over_tor, $socks)" test -n "$socks"
l=$(gateway_port "${socks##*:}")
check "its SOCKS address is a port of the Gateway's own (${socks%%:*} is 10.152.152.10; $l)" \
        sh -c '[ "$1" = 10.152.152.10 ] && [ -n "$2" ]' sh "${socks%%:*}" "$l"
check "... which isolates its streams by destination" sh -c 'printf "%s" "$1" | grep -q IsolateDestAddr' sh "$l"
check "... and no other application's settings name that port" \
        sh -c '! grep -rl -- "$1" "$2" | grep -v "/torbrowser/settings.json$" | grep -q .' sh ":${socks##*:}" "$ov"
prof=$ov/etc/profile.d/60-whonix-tor-browser.sh
check "Tor Browser's environment is valid sh" sh -n "$prof"
env=$(env -i sh -c ". '$prof'; env" | grep '^TOR_' | sort)
check "Tor Browser starts no Tor of its own (TOR_SKIP_LAUNCH=1)" grep -qx 'TOR_SKIP_LAUNCH=1' <<<"$env"
# LightDM starts the session through /etc/X11/Xsession, which reads
# Xsession.d, not /etc/profile.
xs=$ov/etc/X11/Xsession.d/60whonix-tor-browser
check "the graphical session (Xsession.d) reads the same settings" \
        sh -c 'sh -n "$1" && [ "$(grep -v "^#" "$1")" = ". /etc/profile.d/60-whonix-tor-browser.sh" ] &&
                [ -f "$2/etc/profile.d/60-whonix-tor-browser.sh" ]' sh "$xs" "$ov"
wsscript=$WB_SOURCE_ROOT/recipes/scripts/whonix-workstation.sh
for v in SOCKS CONTROL; do
        host=$(sed -n "s/^TOR_${v}_HOST=//p" <<<"$env") port=$(sed -n "s/^TOR_${v}_PORT=//p" <<<"$env")
        check "Tor Browser's $v port $host:$port is a local port the Workstation leads to the Gateway" \
                sh -c '[ "$1" = 127.0.0.1 ] && grep -Eq "^for port in .*\b$2\b" "$3"' sh "$host" "$port" "$wsscript"
done
check "the Gateway listens on Tor Browser's SOCKS port for the Workstation, isolating by SOCKS user" \
        sh -c 'gateway_port() { grep -E "^SocksPort 10\.152\.152\.10:$1( |\$)" "$2"; }; gateway_port 9150 "$2" | grep -q IsolateSOCKSAuth' \
        sh x "$torrc"

# --- LibreOffice ---
xcd=$ov/etc/libreoffice/registry/whonix.xcd
check "LibreOffice's settings are well-formed XML, read after main.xcd" \
        sh -c 'xmllint --noout "$1" && grep -q "<dependency file=\"main\"/>" "$1"' sh "$xcd"
prop() { # COMPONENT PATH/PROP: the value set
        python3 -c 'import sys, xml.etree.ElementTree as ET
ns = "{http://openoffice.org/2001/registry}"
comp, path = sys.argv[2], sys.argv[3].split("/")
for c in ET.parse(sys.argv[1]).getroot():
    if c.get(ns + "name") != comp: continue
    node = c
    for p in path[:-1]:
        node = next(n for n in node if n.tag == "node" and n.get(ns + "name") == p)
    prop = next(n for n in node if n.tag == "prop" and n.get(ns + "name") == path[-1])
    print(prop.find("value").text)' "$xcd" "$1" "$2" 2>/dev/null
}
check "LibreOffice: macro security 'very high' and macros disabled" \
        sh -c '[ "$1" = 3 ] && [ "$2" = true ]' sh "$(prop Common Security/Scripting/MacroSecurityLevel)" \
        "$(prop Common Security/Scripting/DisableMacrosExecution)"
check "LibreOffice: no active content, no images from untrusted referers" \
        sh -c '[ "$1" = true ] && [ "$2" = true ]' sh "$(prop Common Security/Scripting/DisableActiveContent)" \
        "$(prop Common Security/Scripting/BlockUntrustedRefererLinks)"
check "LibreOffice: links never updated on load (Writer 0 = never, Calc 1 = never)" \
        sh -c '[ "$1" = 0 ] && [ "$2" = 1 ]' sh "$(prop Writer Content/Update/Link)" "$(prop Calc Content/Update/Link)"
check "LibreOffice: no crash reports" test "$(prop Common Misc/CrashReport)" = false

# --- KeePassXC ---
kp=$skel/keepassxc/keepassxc.ini
check "KeePassXC: no update check, and no first-start question that would turn it on" \
        sh -c 'grep -qx "CheckForUpdates=false" "$1" && grep -qx "UpdateCheckMessageShown=true" "$1"' sh "$kp"
check "KeePassXC: no icon downloads" grep -qx 'IconDownloadFallback=false' "$kp"

# --- the session ---
check "LightDM logs 'user' in to LXQt at once" \
        sh -c 'grep -qx "autologin-user=user" "$1" && grep -qx "autologin-user-timeout=0" "$1" && grep -qx "autologin-session=lxqt" "$1"' \
        sh "$ov/etc/lightdm/lightdm.conf.d/50-whonix.conf"
check "LXQt's session runs Openbox (no window manager question at first login)" \
        grep -qx 'window_manager=openbox' "$ov/etc/xdg/lxqt/session.conf"

# --- every file says why ---
missing=
while IFS= read -r f; do
        case $f in
        *.json) continue ;;
        *.xcd) grep -q '<!--' "$f" || missing+=" ${f#"$ov"/}" ;;
        *) grep -Eq '^[#;] *whonix-build' "$f" || missing+=" ${f#"$ov"/}" ;;
        esac
done < <(find "$ov" -type f | sort)
check "every settings file of the overlay says why, in a comment${missing:+ (missing:$missing)}" test -z "$missing"

done_testing
