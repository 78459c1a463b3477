/* The documentation tells the truth: scenarios/README.md holds exactly the key table the
 * program prints, sim/commands.md holds exactly each command's --help, and the README's
 * headline results are the rows `make experiments` wrote to scenarios/experiments/experiments.md; a
 * bad option is answered with one line pointing at --help. */
#include <criterion/criterion.h>

#include "tests/testutil.h"

static char *src_file(const char *rel)
{
    const char *src = getenv("QS_SRC");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", src && *src ? src : ".", rel);
    char *t = tu_read_file(path, NULL);
    cr_assert(t, "cannot read %s", path);
    return t;
}

Test(docs, scenario_reference_matches_the_program)
{
    char cmd[1024], *keys;
    snprintf(cmd, sizeof cmd, "%s run --keys", tu_bin());
    cr_assert_eq(tu_run(cmd, &keys), 0);
    char *doc = src_file("scenarios/README.md");
    cr_assert(strstr(doc, keys), "scenarios/README.md is out of date: regenerate its table with "
                                 "`quinesim run --keys`");
    free(doc);
    free(keys);
}

Test(docs, command_reference_matches_every_help)
{
    static const char *const cmds[] = {"",          "run",     "worker",  "train",   "repair",
                                       "fertility", "inspect", "extract", "analyze", "data"};
    char *doc = src_file("sim/commands.md");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char cmd[1024], *help;
        snprintf(cmd, sizeof cmd, "%s %s --help", tu_bin(), cmds[i]);
        int rc = tu_run(cmd, &help);
        cr_assert_eq(rc, 0, "%s: %s", cmd, help);
        cr_assert(strstr(doc, help), "sim/commands.md lacks the current `quinesim %s --help`",
                  cmds[i]);
        free(help);
    }
    free(doc);
}

/* A bad option gets two lines, the error and where the help is, never the whole help;
 * exit status 2. For the program itself and each command `quinesim --help` lists. */
Test(docs, bad_option_gets_a_one_line_hint)
{
    char cmd[1024], *top, *out, want[256];
    snprintf(cmd, sizeof cmd, "%s --help", tu_bin());
    cr_assert_eq(tu_run(cmd, &top), 0);
    const char *at = strstr(top, "\ncommands:\n");
    cr_assert(at, "%s", top);
    unsigned n = 0;
    char name[32];
    for (at = strchr(at + 1, '\n'); at; at = strchr(at + 1, '\n')) {
        if (sscanf(at, "\n  %31[a-z-]", name) != 1)
            continue;
        n++;
        snprintf(cmd, sizeof cmd, "%s %s --no-such-option", tu_bin(), name);
        cr_assert_eq(tu_run(cmd, &out), 2, "%s: %s", cmd, out);
        snprintf(want, sizeof want,
                 "quinesim %s: unknown option '--no-such-option'\n(see quinesim %s --help)\n", name,
                 name);
        cr_assert_str_eq(out, want, "%s", cmd);
        free(out);
    }
    cr_assert_geq(n, 8, "commands found in\n%s", top);
    free(top);
    snprintf(cmd, sizeof cmd, "%s no-such-command", tu_bin());
    cr_assert_eq(tu_run(cmd, &out), 2);
    cr_assert_str_eq(out, "quinesim: unknown command 'no-such-command'\n(see quinesim --help)\n");
    free(out);
}

/* Every row of the "## Headline" table of scenarios/experiments/experiments.md (written by the full
 * `make experiments`) appears verbatim in the README. */
Test(docs, readme_headline_is_what_the_experiments_printed)
{
    char *doc = src_file("scenarios/experiments/experiments.md"), *readme = src_file("README.md");
    char *table = strstr(doc, "\n## Headline\n");
    cr_assert(table, "scenarios/experiments/experiments.md has no headline table");
    char *end = strstr(table + 1, "\n#");
    if (end)
        *end = 0;
    unsigned rows = 0;
    for (char *line = strtok(table, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "| ", 2) != 0 || strncmp(line, "| experiment |", 14) == 0)
            continue;
        rows++;
        cr_assert(strstr(readme, line),
                  "README.md lacks this headline row of "
                  "scenarios/experiments/experiments.md:\n%s",
                  line);
    }
    cr_assert_geq(rows, 8, "only %u headline rows in scenarios/experiments/experiments.md", rows);
    free(doc);
    free(readme);
}
