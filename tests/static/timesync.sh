#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# whonix-timesync (overlays/kicksecure/usr/lib/whonix/timesync) against a
# fake Tor on loopback (tests/helpers/fake-time-socks.py), in its "check"
# mode, which computes what it would set and sets nothing: the median of
# one answer per pool, a retry within a pool, too few pools, the floor of
# the build date, Tor's consensus (a clock far behind it steps forward to
# it; no fetch before Tor has a circuit), a circuit of its own per fetch,
# and the HTTP Date parser.
. "$WB_SOURCE_ROOT/tests/lib.sh"

command -v perl >/dev/null || skip_all "perl is not installed"
command -v python3 >/dev/null || skip_all "python3 is not installed"

ts=$WB_SOURCE_ROOT/overlays/kicksecure/usr/lib/whonix/timesync
fake=$WB_SOURCE_ROOT/tests/helpers/fake-time-socks.py
temp_dir_with_pids

check "perl compiles it with perl-base's modules only" \
        perl -c -M-warnings "$ts"
mods=$(grep -Eo '^use [A-Za-z:]+' "$ts" | awk '{ print $2 }' | sort -u | tr '\n' ' ')
check "it uses only perl-base modules ($mods)" test "$mods" = "IO::Select IO::Socket::INET POSIX strict warnings "

# start_fake NAME ARGS...: sets PORT (and CPORT with --control)
start_fake() {
        local name=$1
        shift
        : >"$T/$name.log"
        python3 "$fake" "$T/$name.log" "$@" >"$T/$name.ports" 2>"$T/$name.err" &
        pids="$pids $!"
        for _ in $(seq 50); do [ -s "$T/$name.ports" ] && break; sleep 0.1; done
        PORT=$(sed -n '1s/^PORT //p' "$T/$name.ports")
        CPORT=$(sed -n '2s/^PORT //p' "$T/$name.ports")
}
# conf NAME SOCKS-PORT [EXTRA LINES]
conf() {
        printf 'SOCKS=127.0.0.1:%s\nPOOLS=%s\nFETCH_TIMEOUT=10\n%s\n' "$2" "$T/pools" "${3:-}" >"$T/$1.conf"
}
run() { # NAME: check mode, output in $T/NAME.out
        WHONIX_TIMESYNC_CONF=$T/$1.conf WHONIX_TIMESYNC_FLOOR_FILE=$T/floor perl "$ts" check >"$T/$1.out" 2>&1
}
offset_of() { sed -n 's/^would set the clock by \([-+][0-9.]*\) s.*/\1/p' "$T/$1.out"; }
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 3) }'; }
touch -d @1000000000 "$T/floor"

cat >"$T/pools" <<'POOLS'
# three pools; one source each answers, one of pool b first refuses
a a1.onion
b b1.onion
b b2.onion
c c1.onion:8080
POOLS
start_fake median a1.onion=+100 b1.onion=refuse b2.onion=+110 c1.onion=+5000
conf median "$PORT"
run median
diag_file "$T/median.out" 3
check "three pools answer: it would set the clock" grep -q '^would set the clock by' "$T/median.out"
off=$(offset_of median)
check "the offset is the median of +100, +110, +5000 (got ${off:-none})" near "${off:-x}" 110
check "every fetch went through the configured SOCKS port, to the named port (80 by default)" \
        bash -c "grep -q '^a1.onion 80 ' '$T/median.log' && grep -q '^c1.onion 8080 ' '$T/median.log' && grep -q '^b2.onion 80 ' '$T/median.log'"
users=$(awk '{ print $3 }' "$T/median.log" | sort -u | wc -l)
check "each fetch used a SOCKS user of its own, so a circuit of its own ($users users, $(wc -l <"$T/median.log") fetches)" \
        test "$users" -eq "$(wc -l <"$T/median.log")" -a "$users" -ge 3

cat >"$T/pools" <<'POOLS'
a a1.onion
b b1.onion
c c1.onion
POOLS
start_fake few a1.onion=+100 b1.onion=close c1.onion=nodate
conf few "$PORT"
run few
rc=$?
diag_file "$T/few.out" 2
check "one of three pools answers: nothing is set, exit 1 (rc $rc)" test "$rc" -eq 1
check "it says how many pools answered and why the others did not" \
        bash -c "grep -q '1 of 3 pools answered (3 needed)' '$T/few.out' && grep -q 'no Date header' '$T/few.out' && grep -q 'c1.onion' '$T/few.out'"

start_fake bad a1.onion=+100 b1.onion=baddate c1.onion=+100
conf bad "$PORT"
run bad
check "an obsolete (RFC 850) Date is refused" grep -q "unreadable Date header 'Sunday, 06-Nov-94" "$T/bad.out"

# Hostile answers: random bytes, a header without end, junk dates (twenty
# rounds): each is refused with a reason, never taken, never a crash.
cat >"$T/pools" <<'POOLS'
a a1.onion
b b1.onion
c c1.onion
POOLS
start_fake hostile a1.onion=garbage b1.onion=huge c1.onion=baddates
conf hostile "$PORT"
bad=0
for i in $(seq 20); do
        run hostile
        rc=$?
        { [ "$rc" -eq 1 ] && grep -q '^0 of 3 pools answered' "$T/hostile.out"; } || { bad=$((bad + 1)); diag_file "$T/hostile.out" 2; }
done
check "random bytes, an endless header and junk dates: refused every time (20 rounds, $bad otherwise)" test "$bad" -eq 0
check "an endless header is cut at 16 KiB" grep -q 'response header longer than 16 KiB' "$T/hostile.out"

start_fake floor a1.onion=-7200 b1.onion=-7200 c1.onion=-7200
conf floor "$PORT"
touch -d "@$(( $(date +%s) - 3600 ))" "$T/floor"
run floor
rc=$?
diag_file "$T/floor.out" 1
check "a time before the build date (the floor) is refused (rc $rc)" \
        bash -c "[ $rc -eq 1 ] && grep -q 'earlier than this image was built' '$T/floor.out'"
touch -d @1000000000 "$T/floor"

start_fake cons --control -172800 -162000 a1.onion=+0 b1.onion=+0 c1.onion=+0
conf cons "$PORT" "CONTROL=127.0.0.1:$CPORT"
run cons
rc=$?
diag_file "$T/cons.out" 1
check "a time outside Tor's consensus (valid two days ago) is refused (rc $rc)" \
        bash -c "[ $rc -eq 1 ] && grep -q 'outside the Tor consensus' '$T/cons.out'"
start_fake cons2 --control -1800 +9000 a1.onion=+30 b1.onion=+31 c1.onion=+32
conf cons2 "$PORT" "CONTROL=127.0.0.1:$CPORT"
run cons2
check "a time within Tor's consensus is taken, and says so" grep -q 'within the Tor consensus' "$T/cons2.out"
check "a consensus older than the clock (a stale cache) never moves the clock back" \
        bash -c "! grep -q 'step the clock' '$T/cons.out' '$T/cons2.out'"

# Far behind: Tor holds a consensus valid from ten days on, and builds no
# circuit.  The clock would step forward to the consensus's start, and
# nothing is fetched in that round.
start_fake ahead --control 864000 874800 --no-circuit a1.onion=+864000 b1.onion=+864000 c1.onion=+864000
conf ahead "$PORT" "CONTROL=127.0.0.1:$CPORT"
run ahead
rc=$?
diag_file "$T/ahead.out" 1
step=$(sed -n "s/^would step the clock forward by \([0-9]*\) s to .*where Tor's consensus begins$/\1/p" "$T/ahead.out")
check "ten days behind Tor's consensus: it would step forward to the consensus's start (by ${step:-nothing} s; rc $rc)" \
        bash -c "[ $rc -eq 1 ] && [ -n '$step' ] && [ '${step:-0}' -ge 863990 ] && [ '${step:-0}' -le 864010 ]"
check "and fetches nothing in that round" test ! -s "$T/ahead.log"
start_fake nocirc --control -1800 9000 --no-circuit a1.onion=+30 b1.onion=+31 c1.onion=+32
conf nocirc "$PORT" "CONTROL=127.0.0.1:$CPORT"
run nocirc
rc=$?
check "Tor without a circuit: it waits, fetches nothing, sets nothing (rc $rc)" \
        bash -c "[ $rc -eq 1 ] && grep -q 'Tor has built no circuit yet; waiting' '$T/nocirc.out' && [ ! -s '$T/nocirc.log' ]"
conf noctl "$PORT" "CONTROL=127.0.0.1:1"
run noctl
rc=$?
check "a control port that does not answer: it waits (rc $rc)" \
        bash -c "[ $rc -eq 1 ] && grep -q 'control port (127.0.0.1:1) does not answer yet; waiting' '$T/noctl.out'"

printf 'SOCKS=127.0.0.1:1\nNTP_SERVER=pool.ntp.org\n' >"$T/badconf.conf"
WHONIX_TIMESYNC_CONF=$T/badconf.conf perl "$ts" check >"$T/badconf.out" 2>&1
check "an unknown setting is an error naming file and line" grep -q "badconf.conf:2: not a setting" "$T/badconf.out"

# The HTTP Date parser, against GNU date.
for d in "Sun, 06 Nov 1994 08:49:37 GMT" "Thu, 01 Jan 1970 00:00:00 GMT" "Tue, 29 Feb 2028 23:59:59 GMT" \
        "Sun, 29 Nov 2026 14:40:00 GMT"; do
        want=$(date -u -d "$(sed 's/^[A-Za-z]*, //; s/ GMT$/ UTC/' <<<"$d")" +%s)
        got=$(perl "$ts" parse-date "$d")
        check "Date '$d' is $want (got $got)" test "$got" = "$want"
done
for d in "Sunday, 06-Nov-94 08:49:37 GMT" "Sun Nov  6 08:49:37 1994" "Sun, 06 Nov 1994 08:49:37 UTC" \
        "Sun, 32 Nov 1994 08:49:37 GMT" "Sun, 06 Nov 1994 24:00:00 GMT" ""; do
        check "Date '$d' is refused" test "$(perl "$ts" parse-date "$d")" = invalid
done

done_testing
