#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The command line's options, three ways, from one table (cli/option-table.c):
# --help, the man page rendered from it, and the bash and zsh completion
# scripts.  They must name the same options; the parser must know each of
# them; and the completion must work as a person uses it (Tab after an
# option, after a partial verb, after --): bash's with bash-completion's own
# helpers, zsh's in a real zsh on a terminal (tmux), keys typed and the
# screen read.
. "$WB_SOURCE_ROOT/tests/lib.sh"

wb=$WHONIX_BUILD
man=$WB_BUILD_ROOT/cli/whonix-build.1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
bc=/usr/share/bash-completion/bash_completion
[ -r "$bc" ] || skip_all "bash-completion is not installed (tools/install-deps)"
[ -r "$man" ] || skip_all "the man page was not built ($man): python3 is missing at configure time"

"$wb" --help >"$T/help" 2>&1
check "--help exits 0" test $? -eq 0
"$wb" completion bash >"$T/completion.bash"
check "'completion bash' prints a script bash accepts" bash -n "$T/completion.bash"
"$wb" completion fish >/dev/null 2>"$T/err"
rc=$?
check "'completion fish' is refused as a usage error, saying which shells (exit $rc)" \
        sh -c '[ "$1" -eq 2 ] && grep -q "expected bash or zsh" "$2"' sh "$rc" "$T/err"

# complete WORD...: what Tab offers after the command line "WORD..." (the
# last word is the one being completed, "" for a fresh one), one a line.
complete() {
        bash -c '. "$1"; . "$2"; shift 2; compopt() { :; }
                COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
                COMPREPLY=(); _whonix_build; printf "%s\n" "${COMPREPLY[@]}"' sh "$bc" "$T/completion.bash" "$@" |
                grep -v '^$' | sort
}

# The options each way, one a line, sorted.
sed -n 's/^ *\(-., \)\{0,1\}--\([a-z][a-z-]*\).*/\2/p' "$T/help" | sort -u >"$T/from-help"
grep -oE '\\-\\-[a-z]([a-z]|\\-)*' "$man" | sed 's/\\-/-/g; s/^--//' | sort -u >"$T/from-man"
complete whonix-build -- | sed 's/^--//; s/=$//' | sort -u >"$T/from-completion"
n=$(wc -l <"$T/from-help")
check "--help lists the options ($n)" test "$n" -ge 15
check "the man page names exactly the options --help lists" diff "$T/from-help" "$T/from-man"
diff "$T/from-help" "$T/from-man" | sed 's/^/# /' | head -n 10
check "Tab after -- offers exactly the options --help lists" diff "$T/from-help" "$T/from-completion"
diff "$T/from-help" "$T/from-completion" | sed 's/^/# /' | head -n 10

# The parser knows every option --help lists: a value it may refuse, never
# "unknown option".
unknown=
while read -r o; do
        if grep -Eq -- "--$o=" "$T/help"; then "$wb" "--$o=x" --help; else "$wb" "--$o" --help; fi >/dev/null 2>"$T/err"
        grep -q "unknown option" "$T/err" && unknown+=" --$o"
done <"$T/from-help"
check "the parser knows every option --help lists${unknown:+ (unknown:$unknown)}" test -z "$unknown"

# As a person uses it.
check "whonix-build --ta<Tab> gives --target= (a value follows)" test "$(complete whonix-build --ta)" = "--target="
check "whonix-build --target <Tab> offers kvm and virtualbox" \
        test "$(complete whonix-build --target '' | paste -sd' ')" = "kvm virtualbox"
check "whonix-build -f w<Tab> offers the two Workstations" \
        test "$(complete whonix-build -f w | paste -sd' ')" = "workstation workstation-desktop"
check "whonix-build -f d<Tab> offers the desktop pair" test "$(complete whonix-build -f d)" = "desktop"
check "whonix-build --until f<Tab> offers the stages fetch and finalize" \
        test "$(complete whonix-build --until f | paste -sd' ')" = "fetch finalize"
check "whonix-build --mirror <Tab> offers nothing (a URL)" test -z "$(complete whonix-build --mirror '')"
mkdir "$T/somedir" && : >"$T/somefile"
check "whonix-build --output <Tab> offers directories, not files" \
        sh -c 'cd "$1" && out=$(bash -c ". \"$2\"; . \"$3\"; COMP_WORDS=(whonix-build --output s); COMP_CWORD=2;
                COMP_LINE=\"whonix-build --output s\"; COMP_POINT=\${#COMP_LINE}; COMPREPLY=(); _whonix_build;
                printf \"%s\\n\" \"\${COMPREPLY[@]}\"") && [ "$out" = somedir ]' sh "$T" "$bc" "$T/completion.bash"
check "whonix-build co<Tab> offers the verbs compare and completion" \
        test "$(complete whonix-build co | paste -sd' ')" = "compare completion"
sed -n '/^Verbs:/,/^$/p' "$T/help" | awk 'NF && !/^Verbs:/ { print $1 }' | sort >"$T/verbs-help"
complete whonix-build '' >"$T/verbs-completion"
check "Tab on an empty command line offers exactly the verbs --help lists" diff "$T/verbs-help" "$T/verbs-completion"
check "whonix-build --target kvm -f gateway <Tab> still offers the verbs (option values are no verb)" \
        sh -c '[ "$(cat "$1")" = "$2" ]' sh "$T/verbs-completion" "$(complete whonix-build --target kvm -f gateway '')"
check "whonix-build verify <Tab> offers files, not verbs" \
        sh -c 'cd "$1" && out=$(bash -c ". \"$2\"; . \"$3\"; COMP_WORDS=(whonix-build verify s); COMP_CWORD=2;
                COMP_LINE=\"whonix-build verify s\"; COMP_POINT=\${#COMP_LINE}; COMPREPLY=(); _whonix_build;
                printf \"%s\\n\" \"\${COMPREPLY[@]}\"" | sort | paste -sd" ") && [ "$out" = "somedir somefile" ]' \
        sh "$T" "$bc" "$T/completion.bash"

# zsh, as a person has it: compinit finds _whonix-build in a directory of
# $fpath (where meson install puts it); Tab is pressed at the prompt of a
# zsh on a terminal (tmux), and the screen says what it offered.
if ! command -v zsh >/dev/null || ! command -v tmux >/dev/null; then
        skip_one "zsh or tmux is not installed (tools/install-deps): the zsh completion is not tried"
        done_testing
        exit
fi
Z=$T/zsh
mkdir -p "$Z/fpath" "$Z/bin" "$Z/home"
"$wb" completion zsh >"$Z/fpath/_whonix-build"
check "'completion zsh' prints a script zsh accepts" zsh -n "$Z/fpath/_whonix-build"
check "... a #compdef function for whonix-build" grep -qx '#compdef whonix-build' "$Z/fpath/_whonix-build"
ln -s "$wb" "$Z/bin/whonix-build"
mkdir "$Z/home/somedir" && : >"$Z/home/somefile"
printf '%s\n' "PS1='%% '" "fpath=('$Z/fpath' \$fpath)" "path=('$Z/bin' \$path)" \
        "autoload -Uz compinit && compinit -u -d '$Z/zcompdump'" >"$Z/home/.zshrc"
sock=$Z/tmux.sock
zsh_done() { tmux -S "$sock" kill-server 2>/dev/null; rm -rf "$T"; }
trap zsh_done EXIT
(cd "$Z/home" && env -i PATH="$PATH" TERM=xterm HOME="$Z/home" ZDOTDIR="$Z/home" \
        tmux -S "$sock" new-session -d -x 160 -y 50 zsh)
# tab LINE [N]: type LINE, press Tab (N times), and print the screen
# (blank lines dropped) once it has stopped changing; then clear the line
# and the screen.
tab() {
        local before='' now='' i
        tmux -S "$sock" send-keys -l "$1"
        for ((i = 0; i < ${2:-1}; i++)); do
                tmux -S "$sock" send-keys Tab
                sleep 0.3
        done
        for _ in $(seq 50); do
                sleep 0.2
                now=$(tmux -S "$sock" capture-pane -p | grep -v '^$')
                [ -n "$now" ] && [ "$now" = "$before" ] && break
                before=$now
        done
        printf '%s\n' "$now"
        tmux -S "$sock" send-keys C-u C-l
        sleep 0.3
}
for _ in $(seq 50); do tmux -S "$sock" capture-pane -p | grep -q '^% ' && break; sleep 0.2; done
tab 'whonix-build --target ' >"$Z/s1"
check "zsh: whonix-build --target <Tab> offers kvm and virtualbox" \
        sh -c 'tail -n 1 "$1" | grep -Eq "^kvm +virtualbox *$"' sh "$Z/s1"
tab 'whonix-build --ta' >"$Z/s2"
check "zsh: whonix-build --ta<Tab> gives --target= (a value follows)" grep -qx '% whonix-build --target=' "$Z/s2"
tab 'whonix-build --until f' >"$Z/s3"
check "zsh: whonix-build --until f<Tab> offers the stages fetch and finalize" \
        sh -c 'tail -n 1 "$1" | grep -Eq "^fetch +finalize *$"' sh "$Z/s3"
tab 'whonix-build --output s' >"$Z/s4"
check "zsh: whonix-build --output s<Tab> completes the directory, not the file" \
        grep -qx '% whonix-build --output somedir/' "$Z/s4"
tab 'whonix-build verify somef' >"$Z/s5"
check "zsh: whonix-build verify somef<Tab> completes the file" grep -qx '% whonix-build verify somefile' "$Z/s5"
tab 'whonix-build comp' 2 >"$Z/s6"
check "zsh: whonix-build comp<Tab><Tab> offers the verbs compare and completion, each with its help" \
        sh -c 'grep -Eq "^compare +-- list the files that differ" "$1" &&
                grep -Eq "^completion +-- print the completion script" "$1"' sh "$Z/s6"
tab 'whonix-build --' >"$Z/s7"
grep -oE '(^|  )--[a-z][a-z-]*' "$Z/s7" | sed 's/^ *--//' | sort -u >"$Z/from-zsh"
check "zsh: Tab after -- offers exactly the options --help lists" diff "$T/from-help" "$Z/from-zsh"
diff "$T/from-help" "$Z/from-zsh" | sed 's/^/# /' | head -n 10
check "zsh: ... each with its help" sh -c '! grep -E "^--" "$1" | grep -qv -- " -- [a-zA-Z]"' sh "$Z/s7"
check "zsh: an option's help names the verbs it is for (--connect: install, uninstall)" \
        grep -Eq -- "^--connect +-- the libvirt connection, for install, uninstall *$" "$Z/s7"
done_testing
