# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tests/e2e/anonymity.sh: the console session of a person who sits
# down at a booted VM (tests/helpers/console.py types it) and what it must
# show.  The console logs "user" in by itself; the person presses Enter,
# reads the prompt, types each command and reads its answer, as that user
# and with sudo, logs out and gets a fresh session.

# The commands, in console.py's order (LOGIN_COMMANDS[0] is command 1 of
# the session when it starts the session).
LOGIN_COMMANDS=('id -un' 'sudo -n id -un' 'sudo -n passwd -S root' 'cat /etc/machine-id'
        '. /etc/os-release; echo "$PRETTY_NAME"' 'systemctl is-active whonix-timesync whonix-bootclock'
        'cat /etc/issue' '@logout' 'id -un'
        'systemctl is-enabled systemd-timesyncd.service chrony.service ntpsec.service nftables.service')

# login_checks VM LOGIN OFFSET: the checks of a session whose console.py
# output is LOGIN, where LOGIN_COMMANDS[0] was command OFFSET + 1.
login_checks() {
        local vm=$1 login=$2 off=$3 prompt a machine_id
        machine_id=$(sed -n 's/^MachineId=//p' "$WB_SOURCE_ROOT/recipes/kicksecure.conf")
        # answer N: the output of the session's command N (JSON-decoded), ""
        # if none; rc_of N: its exit status.
        answer() { python3 -c 'import json, sys
for l in open(sys.argv[1]):
    if l.startswith("CMD %s " % sys.argv[2]):
        print(json.loads(l.split(" out=", 1)[1]).strip())' "$login" "$((off + $1))"; }
        rc_of() { sed -n "s/^CMD $((off + $1)) rc=\([-0-9]*\) .*/\1/p" "$login"; }
        # answered N LINE: command N exited 0 and LINE is one of its lines.
        answered() { [ "$(rc_of "$1")" = 0 ] && answer "$1" | grep -qxF -- "$2"; }
        prompt=$(sed -n 's/^PROMPT //p' "$login")
        check "$vm: the serial console shows a shell prompt after Enter, logged in automatically (${prompt:-none})" \
                test -n "$prompt"
        grep -q '^FAIL' "$login" && diag "$vm: $(grep '^FAIL' "$login")"
        # What the console shows also carries what the system prints there
        # meanwhile (the self-check's verdict, kernel messages), as a person
        # sees it: each answer is looked for among the lines.
        check "$vm: 'id -un' typed at the prompt answers 'user'" answered 1 user
        check "$vm: 'sudo -n id -un' answers 'root', without a password" answered 2 root
        a=$(answer 3 | grep '^root ')
        check "$vm: root's password is locked ('$a')" test "${a#root L }" != "$a"
        a=$(answer 4 | grep -E '^[0-9a-f]{32}$')
        check "$vm: the machine-id is the fixed one every build ships ($a)" test "$a" = "$machine_id"
        a=$(answer 5 | grep -F "$vm (")
        check "$vm: os-release names the system ($a)" test "$a" = "$vm (Debian GNU/Linux 13 (trixie))"
        a=$(answer 6 | grep -Ex '(in)?active|failed|activating|deactivating' | paste -sd' ')
        check "$vm: the user's systemctl says whonix-timesync and the boot clock's nudge are active ($a)" \
                test "$a" = "active active"
        check "$vm: the console greeting names the system" grep -q "^$vm (Debian GNU/Linux 13)" <<<"$(answer 7)"
        check "$vm: after 'exit' the console logs the user in again" sh -c '[ "$1" = 0 ]' sh "$(rc_of 8)"
        check "$vm: ... and 'id -un' answers 'user' there" answered 9 user
        # What the Kicksecure layer's script did, seen from the running
        # system (not from the script's text): no NTP client can start, and
        # the firewall loads at boot.
        a=$(answer 10 | grep -Ex 'masked|enabled|disabled|static|alias|indirect|generated|transient|linked|not-found' |
                paste -sd' ')
        check "$vm: NTP units are masked and nftables is enabled ($a)" test "$a" = "masked masked masked enabled"
        for i in 1 2 3 4 5 6 7 9 10; do
                answer "$i" | grep -q . || diag "$vm: command $i answered nothing"
        done
        if [ "$(rc_of 9)" != 0 ] || ! answer 1 | grep -qx user; then
                diag "$vm: the console session:"
                sed 's/^/#   /' "$login" | cut -c1-200
        fi
}
