/* The documentation tells the truth: docs/scenarios.md holds exactly the key table the
 * program prints, and docs/commands.md holds exactly each command's --help. */
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
    char *doc = src_file("docs/scenarios.md");
    cr_assert(strstr(doc, keys), "docs/scenarios.md is out of date: regenerate its table with "
                                 "`quinesim run --keys`");
    free(doc);
    free(keys);
}

Test(docs, command_reference_matches_every_help)
{
    static const char *const cmds[] = {"",       "run",     "worker",  "train",
                                       "repair", "inspect", "analyze", "data"};
    char *doc = src_file("docs/commands.md");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char cmd[1024], *help;
        snprintf(cmd, sizeof cmd, "%s %s --help", tu_bin(), cmds[i]);
        int rc = tu_run(cmd, &help);
        if (rc != 0 && strstr(help, "unknown command")) {
            free(help);
            continue; /* a command this build does not have yet */
        }
        cr_assert_eq(rc, 0, "%s: %s", cmd, help);
        cr_assert(strstr(doc, help), "docs/commands.md lacks the current `quinesim %s --help`",
                  cmds[i]);
        free(help);
    }
    free(doc);
}
