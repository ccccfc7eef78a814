/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"
#include "recipe.h"

int verb_recipes(const CliOptions *o, int argc, char **argv) {
        _cleanup_strv_free_ char **names = NULL, **descriptions = NULL;
        _cleanup_free_ char *dir = path_join(o->data_dir, "recipes");
        ErrorSlot err = {};
        int r;

        if (!dir)
                return EXIT_FAILED;
        r = recipe_list(&err, dir, &names, &descriptions);
        if (r < 0) {
                fprintf(stderr, "whonix-build: error: %s\n", error_text(&err, r));
                if (o->json)
                        cli_print_recipes_json(NULL, NULL, error_text(&err, r), EXIT_FAILED);
                error_done(&err);
                return EXIT_FAILED;
        }
        if (o->json) {
                cli_print_recipes_json(names, descriptions, NULL, EXIT_OK);
                return EXIT_OK;
        }
        /* One column for the names, as wide as the longest. */
        int width = 0;
        for (size_t i = 0; names[i]; i++)
                if ((int) strlen(names[i]) > width)
                        width = (int) strlen(names[i]);
        for (size_t i = 0; names[i]; i++)
                printf("%-*s  %s\n", width, names[i], descriptions && descriptions[i] ? descriptions[i] : "");
        return EXIT_OK;
}
