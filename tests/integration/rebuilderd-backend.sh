#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# contrib/rebuilderd/whonix-rebuilderd-backend as rebuilderd-worker runs it
# (BUILDINFO as its argument, REBUILDERD_OUTDIR set), without a VM: the
# whonix-build it runs is a stand-in that answers --version with this
# build's commit and writes, for verify, the rebuilt files its test asks
# for.  Checked: every artifact under its published name; a rebuild that
# differs is still a result; a second job for the same buildinfo reuses the
# first rebuild (the stand-in is not run again); a rebuild that did not run
# to the end leaves nothing and fails; a buildinfo of another commit, an
# input that is no buildinfo and a missing REBUILDERD_OUTDIR are refused.
. "$WB_SOURCE_ROOT/tests/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
backend=$WB_SOURCE_ROOT/contrib/rebuilderd/whonix-rebuilderd-backend
commit=$("$WHONIX_BUILD" --version | sed -n 's/^whonix-build [^ ]* (\([0-9a-f]*\))$/\1/p')
check "this whonix-build names its commit ($commit)" test -n "$commit"

# The stand-in: --version as the real one; verify writes OUTPUT/NAME for
# each NAME=CONTENT in STANDIN_FILES and prints a report whose result is
# STANDIN_RESULT; each run is counted in $T/runs.
cat >"$T/whonix-build" <<STANDIN
#!/bin/sh
[ "\$1" = --version ] && { echo "whonix-build 0.1.0 ($commit)"; exit 0; }
echo run >>"$T/runs"
out=
while [ \$# -gt 0 ]; do [ "\$1" = --output ] && out=\$2; shift; done
mkdir -p "\$out"
for f in \$STANDIN_FILES; do printf '%s\n' "\${f#*=}" >"\$out/\${f%%=*}"; done
printf '{\n  "schema": 1,\n  "verb": "verify",\n  "result": "%s"\n}\n' "\$STANDIN_RESULT"
[ "\$STANDIN_RESULT" = match ]
STANDIN
chmod +x "$T/whonix-build"

buildinfo() { # commit: a buildinfo naming two artifacts
        printf 'Format: whonix-buildinfo 2\nTool-Version: 0.1.0\nTool-Commit: %s\nSeed: whonix-build\nArtifacts:\n' "$1"
        printf ' %064d 10 Whonix-Gateway.qcow2\n %064d 20 Whonix-Gateway.xml\n' 1 2
}
buildinfo "$commit" >"$T/whonix.buildinfo"
mkdir "$T/out" "$T/out2" "$T/out3" "$T/out4"
run() { # outdir, buildinfo: the backend's exit status in rc, its output in $T/b.log
        REBUILDERD_OUTDIR=$1 WHONIX_BUILD=$T/whonix-build WHONIX_REBUILDERD_STATE=$T/state \
                "$backend" "$2" >"$T/b.log" 2>&1
        rc=$?
        diag_file "$T/b.log" 3
}

STANDIN_FILES="Whonix-Gateway.qcow2=disk Whonix-Gateway.xml=domain" STANDIN_RESULT=differs run "$T/out" "$T/whonix.buildinfo"
check "a rebuild that differs is still a result: exit 0 ($rc)" test "$rc" -eq 0
check "every artifact under its published name in REBUILDERD_OUTDIR" \
        sh -c '[ "$(cat "$1/Whonix-Gateway.qcow2")" = disk ] && [ "$(cat "$1/Whonix-Gateway.xml")" = domain ]' sh "$T/out"
check "the rebuild is kept by the buildinfo's SHA256" \
        test -f "$T/state/rebuilds/$(sha256sum "$T/whonix.buildinfo" | cut -d' ' -f1)/.complete"

STANDIN_FILES="Whonix-Gateway.qcow2=other Whonix-Gateway.xml=other" STANDIN_RESULT=match run "$T/out2" "$T/whonix.buildinfo"
check "a second job for the same buildinfo reuses the first rebuild: no second run (exit $rc)" \
        sh -c '[ "$1" -eq 0 ] && [ "$(wc -l <"$2")" -eq 1 ] && [ "$(cat "$3/Whonix-Gateway.qcow2")" = disk ] &&
                grep -q "reusing the rebuild of buildinfo" "$4"' sh "$rc" "$T/runs" "$T/out2" "$T/b.log"

sed 's/^Seed: whonix-build$/Seed: other/' "$T/whonix.buildinfo" >"$T/other.buildinfo"
STANDIN_FILES="Whonix-Gateway.qcow2=disk" STANDIN_RESULT=failed run "$T/out3" "$T/other.buildinfo"
check "a rebuild that did not run to the end: refused, nothing kept (exit $rc)" \
        sh -c '[ "$1" -eq 1 ] && grep -q "did not run to the end" "$2" && [ -z "$(ls "$3")" ] &&
                ! ls -d "$4"/rebuilds/*.tmp/.complete >/dev/null 2>&1' sh "$rc" "$T/b.log" "$T/out3" "$T/state"

STANDIN_FILES="Whonix-Gateway.qcow2=disk" STANDIN_RESULT=differs run "$T/out3" "$T/other.buildinfo"
check "a rebuild without one of the artifacts: refused, naming it (exit $rc)" \
        sh -c '[ "$1" -eq 1 ] && grep -q "the rebuild made no .Whonix-Gateway.xml." "$2"' sh "$rc" "$T/b.log"

buildinfo 0123456789ab >"$T/old.buildinfo"
run "$T/out4" "$T/old.buildinfo"
check "a buildinfo of another commit: refused, naming both commits (exit $rc)" \
        sh -c '[ "$1" -eq 1 ] && grep -q "is commit $2, the release was built by commit 0123456789ab" "$3"' sh "$rc" \
        "$commit" "$T/b.log"
echo "not a buildinfo" >"$T/junk"
run "$T/out4" "$T/junk"
check "an input that is no buildinfo: refused (exit $rc)" \
        sh -c '[ "$1" -eq 1 ] && grep -q "is not a whonix-build buildinfo" "$2"' sh "$rc" "$T/b.log"
WHONIX_BUILD=$T/whonix-build "$backend" "$T/whonix.buildinfo" >"$T/b.log" 2>&1
rc=$?
check "without REBUILDERD_OUTDIR: refused (exit $rc)" \
        sh -c '[ "$1" -eq 1 ] && grep -q "REBUILDERD_OUTDIR is not set" "$2"' sh "$rc" "$T/b.log"
done_testing
