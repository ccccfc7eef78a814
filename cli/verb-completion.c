/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `whonix-build completion bash`: the bash completion script, made from the
 * option table and the verbs, so that it knows exactly the options --help
 * and the man page describe.  It uses bash-completion's helpers
 * (_init_completion, _filedir), as the scripts in
 * /usr/share/bash-completion/completions do. */
#include "build.h"
#include "cli.h"
#include "option-table.h"

static void print_bash(FILE *f) {
        size_t n_opts, n_verbs;
        const CliOption *t = cli_option_table(&n_opts);
        const Verb *v = cli_verbs(&n_verbs);

        fputs("# bash completion for whonix-build: made by `whonix-build completion bash`\n"
              "# from the same option table as --help and the man page.\n"
              "_whonix_build() {\n"
              "        local cur prev words cword split\n"
              "        _init_completion -s || return\n"
              "        case $prev in\n",
              f);
        /* Each option that takes a value: what its value completes to. */
        for (size_t i = 0; i < n_opts; i++) {
                if (!t[i].arg)
                        continue;
                fputs("        --", f);
                fputs(t[i].name, f);
                if (t[i].id < 0x100)
                        fprintf(f, "|-%c", t[i].id);
                fputs(")\n", f);
                switch (t[i].complete) {
                case COMPLETE_WORDS:
                        fprintf(f, "                COMPREPLY=($(compgen -W '%s' -- \"$cur\"))\n", t[i].words);
                        break;
                case COMPLETE_STAGE:
                        fputs("                COMPREPLY=($(compgen -W '", f);
                        for (size_t s = 0; build_stage_name(s); s++)
                                fprintf(f, "%s%s", s ? " " : "", build_stage_name(s));
                        fputs("' -- \"$cur\"))\n", f);
                        break;
                case COMPLETE_DIR:
                        fputs("                _filedir -d\n", f);
                        break;
                case COMPLETE_FILE:
                        fputs("                _filedir\n", f);
                        break;
                case COMPLETE_NONE:
                        break;
                }
                fputs("                return\n"
                      "                ;;\n",
                      f);
        }
        fputs("        esac\n"
              "        $split && return\n"
              "        if [[ $cur == -* ]]; then\n"
              "                COMPREPLY=($(compgen -W '",
              f);
        for (size_t i = 0; i < n_opts; i++)
                fprintf(f, "%s--%s%s", i ? " " : "", t[i].name, t[i].arg ? "=" : "");
        fputs("' -- \"$cur\"))\n"
              "                [[ ${COMPREPLY-} == *= ]] && compopt -o nospace\n"
              "                return\n"
              "        fi\n"
              "        # The verb: the first word that is neither an option nor an\n"
              "        # option's value; after it, its arguments are files.\n"
              "        local i takes='|",
              f);
        for (size_t i = 0; i < n_opts; i++)
                if (t[i].arg) {
                        fprintf(f, "--%s|", t[i].name);
                        if (t[i].id < 0x100)
                                fprintf(f, "-%c|", t[i].id);
                }
        fputs("'\n"
              "        for ((i = 1; i < cword; i++)); do\n"
              "                case ${words[i]} in\n"
              "                -*) [[ $takes == *\"|${words[i]}|\"* ]] && ((i++)) ;;\n"
              "                *)\n"
              "                        _filedir\n"
              "                        return\n"
              "                        ;;\n"
              "                esac\n"
              "        done\n"
              "        COMPREPLY=($(compgen -W '",
              f);
        for (size_t i = 0; i < n_verbs; i++)
                fprintf(f, "%s%s", i ? " " : "", v[i].name);
        fputs("' -- \"$cur\"))\n"
              "}\n"
              "complete -F _whonix_build whonix-build\n",
              f);
}

int verb_completion(const CliOptions *o, int argc, char **argv) {
        if (!streq(argv[0], "bash")) {
                fprintf(stderr, "whonix-build: completion: unknown shell '%s' (expected bash)\n", argv[0]);
                return EXIT_USAGE;
        }
        print_bash(stdout);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}
