/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `whonix-build completion bash|zsh`: the shell's completion script, made
 * from the option table and the verbs, so that it knows exactly the options
 * --help and the man page describe.  The bash one uses bash-completion's
 * helpers (_init_completion, _filedir), as the scripts in
 * /usr/share/bash-completion/completions do; the zsh one is a #compdef
 * function on _arguments, as those in zsh's Completion/ directories are. */
#include "build.h"
#include "cli.h"
#include "option-table.h"

/* The pipeline's stages, space-separated: --until's values in both shells. */
static void print_stages(FILE *f) {
        for (size_t s = 0; build_stage_name(s); s++)
                fprintf(f, "%s%s", s ? " " : "", build_stage_name(s));
}

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
                        print_stages(f);
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

/* Whether s (n bytes) is an option's context in its help, as in
 * "install, uninstall: ...": the verbs (or targets) it is for. */
static bool is_context(const char *s, size_t n) {
        size_t n_verbs;
        const Verb *v = cli_verbs(&n_verbs);

        while (n > 0) {
                size_t k = 0;
                bool known = false;

                while (k < n && s[k] != ',')
                        k++;
                for (size_t i = 0; i < n_verbs && !known; i++)
                        known = strlen(v[i].name) == k && strncmp(s, v[i].name, k) == 0;
                known = known || (k == 11 && strncmp(s, "cache prune", k) == 0) ||
                        (k == 10 && strncmp(s, "virtualbox", k) == 0);
                if (!known)
                        return false;
                s += k;
                n -= k;
                if (n > 0 && *s == ',') {
                        s++, n--;
                        if (n > 0 && *s == ' ')
                                s++, n--;
                }
        }
        return true;
}

/* Help text for zsh's menu, from p to the end of its first clause (':',
 * ';', a full stop, ", e.g."), on one line and without what is in
 * parentheses; inside a single-quoted word and _arguments' brackets, so
 * without brackets, double quotes or backslashes, and a quote as '\''. */
static void print_zsh_clause(FILE *f, const char *p) {
        int depth = 0;

        for (; *p; p++) {
                if (*p == '(' || ((*p == ' ' || *p == '\n') && p[1] == '(')) {
                        depth += *p == '(';
                        continue;
                }
                if (depth > 0) {
                        depth -= *p == ')';
                        continue;
                }
                if (*p == ':' || *p == ';' || *p == '.' || startswith(p, ", e.g."))
                        break;
                if (*p == '\n')
                        fputc(' ', f);
                else if (*p == '\'')
                        fputs("'\\''", f);
                else if (!strchr("[]\\\"", *p))
                        fputc(*p, f);
        }
}

/* An option's or verb's help: its first clause, and the verbs it is for
 * after it ("the libvirt connection, for install, uninstall"). */
static void print_zsh_help(FILE *f, const char *help) {
        const char *colon = strchr(help, ':');

        if (!colon || !is_context(help, (size_t) (colon - help))) {
                print_zsh_clause(f, help);
                return;
        }
        print_zsh_clause(f, colon[1] == ' ' ? colon + 2 : colon + 1);
        fprintf(f, ", for %.*s", (int) (colon - help), help);
}

/* An option's value for _arguments: ':MESSAGE:ACTION', the message its name. */
static void print_zsh_value(FILE *f, const CliOption *t) {
        fprintf(f, ":%s:", t->name);
        switch (t->complete) {
        case COMPLETE_WORDS:
                fprintf(f, "(%s)", t->words);
                break;
        case COMPLETE_STAGE:
                fputc('(', f);
                print_stages(f);
                fputc(')', f);
                break;
        case COMPLETE_DIR:
                fputs("_files -/", f);
                break;
        case COMPLETE_FILE:
                fputs("_files", f);
                break;
        case COMPLETE_NONE:
                fputc(' ', f); /* a free value: a message, nothing offered */
                break;
        }
}

static void print_zsh(FILE *f) {
        size_t n_opts, n_verbs;
        const CliOption *t = cli_option_table(&n_opts);
        const Verb *v = cli_verbs(&n_verbs);

        fputs("#compdef whonix-build\n"
              "# zsh completion for whonix-build: made by `whonix-build completion zsh`\n"
              "# from the same option table as --help, the man page and the bash completion.\n"
              "_whonix_build() {\n"
              "        local -a args\n"
              "        args=(\n",
              f);
        /* -t and --target exclude each other; a long option's value may
         * follow '=' or be the next word, a short one's the next word. */
        for (size_t i = 0; i < n_opts; i++) {
                bool s = t[i].id < 0x100;

                for (int form = s ? 0 : 1; form < 2; form++) {
                        fputs("                '", f);
                        if (s)
                                fprintf(f, "(-%c --%s)", t[i].id, t[i].name);
                        if (form == 0)
                                fprintf(f, "-%c%s[", t[i].id, t[i].arg ? "+" : "");
                        else
                                fprintf(f, "--%s%s[", t[i].name, t[i].arg ? "=" : "");
                        print_zsh_help(f, t[i].help);
                        fputc(']', f);
                        if (t[i].arg)
                                print_zsh_value(f, &t[i]);
                        fputs("'\n", f);
                }
        }
        /* The verb, with its help as the menu shows it; after it, files. */
        fputs("                '1:verb:((", f);
        for (size_t i = 0; i < n_verbs; i++) {
                fprintf(f, "%s%s\\:\"", i ? " " : "", v[i].name);
                print_zsh_help(f, v[i].help);
                fputc('"', f);
        }
        fputs("))'\n"
              "                '*:file:_files'\n"
              "        )\n"
              "        _arguments -s -S $args\n"
              "}\n"
              "# Autoloaded from $fpath (as _whonix-build) it completes now; sourced,\n"
              "# it registers itself.\n"
              "if [[ $funcstack[1] == _whonix-build ]]; then\n"
              "        _whonix_build \"$@\"\n"
              "else\n"
              "        compdef _whonix_build whonix-build\n"
              "fi\n",
              f);
}

int verb_completion(const CliOptions *o, int argc, char **argv) {
        if (streq(argv[0], "bash"))
                print_bash(stdout);
        else if (streq(argv[0], "zsh"))
                print_zsh(stdout);
        else {
                fprintf(stderr, "whonix-build: completion: unknown shell '%s' (expected bash or zsh)\n", argv[0]);
                return EXIT_USAGE;
        }
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}
