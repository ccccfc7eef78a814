#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A mirror on 127.0.0.1 whose InRelease differs from the signed one by one
# byte (and one whose InRelease is not signed at all): the build must stop
# with a signature error before anything is built, and leave no output.
. "$WB_SOURCE_ROOT/tests/lib.sh"

T=$(mktemp -d)
server_pid=
cleanup() {
        [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

# A real, correctly signed InRelease to tamper with: the cache's copy if a
# build already verified one, otherwise the host mirror's.
real=$(ls "$WB_TEST_CACHE"/sources/*/InRelease 2>/dev/null | head -n 1)
if [ -z "$real" ]; then
        mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
        curl -fsS --max-time 60 "${mirror:-http://deb.debian.org/debian}/dists/trixie/InRelease" -o "$T/InRelease.real" ||
                skip_all "no verified InRelease in the cache and the Debian mirror cannot be reached"
        real="$T/InRelease.real"
fi

mkdir -p "$T/bad/debian/dists/trixie" "$T/unsigned/debian/dists/trixie"
# Flip one byte of the signed text (a digit of the Date line).
python3 - "$real" "$T/bad/debian/dists/trixie/InRelease" "$T/unsigned/debian/dists/trixie/InRelease" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
i = data.index(b'\nDate: ') + len(b'\nDate: ') + 5
flipped = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]
assert flipped != data and len(flipped) == len(data)
open(sys.argv[2], 'wb').write(flipped)
# The plain Release text with no signature around it.
body = data.split(b'\n\n', 1)[1].split(b'\n-----BEGIN PGP SIGNATURE-----', 1)[0] + b'\n'
open(sys.argv[3], 'wb').write(body)
PY
check "tampered InRelease differs from the real one by one byte" \
        test "$(cmp -l "$real" "$T/bad/debian/dists/trixie/InRelease" | wc -l)" -eq 1

python3 "$WB_SOURCE_ROOT/tests/helpers/http-server.py" "$T" "$T/port" &
server_pid=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
port=$(cat "$T/port" 2>/dev/null)
[ -n "$port" ] || { fail "the loopback HTTP server started"; done_testing; exit; }

for kind in bad unsigned; do
        "$WHONIX_BUILD" --flavor gateway --mirror "http://127.0.0.1:$port/$kind/debian" \
                --cache "$T/cache-$kind" --output "$T/out-$kind" >"$T/log-$kind" 2>&1
        rc=$?
        diag_file "$T/log-$kind" 4
        check "$kind InRelease: the build fails with exit status 1 (rc=$rc)" test "$rc" -eq 1
        check "$kind InRelease: the message says the signature check failed" grep -qi 'signature' "$T/log-$kind"
        check "$kind InRelease: the message names the URL" grep -q "127.0.0.1:$port/$kind/debian/dists/trixie/InRelease" "$T/log-$kind"
        check "$kind InRelease: no stage after fetch ran" bash -c "! grep -Eq '^stage (appliance|bootstrap)' '$T/log-$kind'"
        check "$kind InRelease: no output directory" test ! -e "$T/out-$kind"
        check "$kind InRelease: nothing stored in the cache" \
                bash -c "! ls '$T/cache-$kind'/sources/*/InRelease '$T/cache-$kind'/base/*.qcow2 2>/dev/null | grep -q ."
done

done_testing
