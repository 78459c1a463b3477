/* make install / uninstall: into a temporary DESTDIR with PREFIX=/usr, the installed
 * binary runs, `man -l` renders the page with every command's current --help as its own
 * section, the bash completion completes commands, options and scenario keys, and
 * uninstall leaves no file behind. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <libgen.h>

#include "tests/testutil.h"

static char dest[512];

static void setup(void)
{
    tu_tmpdir(dest, sizeof dest);
}

static void teardown(void)
{
    tu_rmrf(dest);
}

TestSuite(install, .init = setup, .fini = teardown, .timeout = 120);

/* `make -C SRC TARGET` for the build folder of the binary under test (build/ or, under
 * `make asan`, build-asan/), outside the make that runs the suite. */
static int make_target(const char *target, char **out)
{
    const char *src = getenv("QS_SRC");
    char bin[1024], cmd[4096];
    snprintf(bin, sizeof bin, "%s", tu_bin());
    const char *build = dirname(bin);
    size_t n = src ? strlen(src) : 0;
    if (src && !strncmp(build, src, n) && build[n] == '/')
        build += n + 1;
    snprintf(cmd, sizeof cmd,
             "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C %s %s BUILD=%s DESTDIR=%s "
             "PREFIX=/usr",
             src && *src ? src : ".", target, build, dest);
    return tu_run(cmd, out);
}

/* Text with every run of white space made one space, for comparing a rendered page. */
static char *squeeze(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    int space = 1;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            if (!space)
                *o++ = ' ';
            space = 1;
        } else {
            *o++ = *s;
            space = 0;
        }
    }
    *o = 0;
    return out;
}

/* COMPREPLY of the installed completion for the words given (the last is being typed). */
static char *complete(const char *words)
{
    char cmd[4096], *out;
    snprintf(cmd, sizeof cmd,
             "PATH=%s/usr/bin:$PATH bash --norc --noprofile -c '"
             ". %s/usr/share/bash-completion/completions/quinesim && "
             "complete -p quinesim >/dev/null && COMP_WORDS=(%s) && "
             "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _quinesim && echo \" ${COMPREPLY[*]} \"'",
             dest, dest, words);
    cr_assert_eq(tu_run(cmd, &out), 0, "%s: %s", cmd, out);
    return out;
}

Test(install, installs_a_working_binary_man_page_and_completion)
{
    char *log, cmd[2048], p[1024];
    cr_assert_eq(make_target("install", &log), 0, "make install: %s", log);
    free(log);

    snprintf(cmd, sizeof cmd, "%s/usr/bin/quinesim --version", dest);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    cr_assert(!strncmp(log, "quinesim ", 9), "%s", log);
    free(log);
    char *run_help;
    snprintf(cmd, sizeof cmd, "%s/usr/bin/quinesim help run", dest);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    snprintf(cmd, sizeof cmd, "%s run --help", tu_bin());
    cr_assert_eq(tu_run(cmd, &run_help), 0);
    cr_assert_str_eq(log, run_help, "quinesim help run is run's --help");
    free(run_help);
    free(log);
    snprintf(p, sizeof p, "%s/usr/share/doc/quinesim/sim/commands.md", dest);
    cr_assert_eq(access(p, R_OK), 0, "docs installed");

    /* The page, rendered: each command's section holds its current --help. */
    snprintf(cmd, sizeof cmd,
             "MANWIDTH=200 man -E ascii -P cat -l %s/usr/share/man/man1/quinesim.1", dest);
    char *page;
    cr_assert_eq(tu_run(cmd, &page), 0, "%s: %s", cmd, page);
    char *flat = squeeze(page);
    cr_assert(strstr(flat, "/usr/share/doc/quinesim"), "FILES names the installed docs");
    /* Every command `quinesim --help` lists. */
    char *top, cmds[32][32];
    size_t ncmds = 0;
    snprintf(cmd, sizeof cmd, "%s --help", tu_bin());
    cr_assert_eq(tu_run(cmd, &top), 0);
    const char *at = strstr(top, "\ncommands:\n");
    cr_assert(at, "%s", top);
    for (at = strchr(at + 1, '\n'); at && ncmds < 32; at = strchr(at + 1, '\n'))
        if (sscanf(at, "\n  %31[a-z-]", cmds[ncmds]) == 1)
            ncmds++;
    free(top);
    cr_assert_geq(ncmds, 7, "commands found in quinesim --help");
    for (size_t i = 0; i < ncmds; i++) {
        char *help, head[64];
        snprintf(head, sizeof head, " quinesim %s ", cmds[i]);
        char *sec = strstr(flat, head);
        cr_assert(sec, "no section for %s in\n%s", cmds[i], page);
        snprintf(cmd, sizeof cmd, "%s %s --help", tu_bin(), cmds[i]);
        cr_assert_eq(tu_run(cmd, &help), 0);
        char *want = squeeze(help);
        cr_assert(strstr(sec, want), "the man page lacks the current `quinesim %s --help`:\n%s",
                  cmds[i], want);
        free(want);
        free(help);
    }
    free(flat);
    free(page);

    char *got = complete("quinesim an");
    cr_assert(strstr(got, " analyze "), "commands: %s", got);
    free(got);
    got = complete("quinesim analyze --ph");
    cr_assert(strstr(got, " --phylogeny "), "options: %s", got);
    free(got);
    got = complete("quinesim run x.ini --set selection.pop");
    cr_assert(strstr(got, " selection.population= "), "scenario keys: %s", got);
    free(got);
    got = complete("quinesim data ch");
    cr_assert(strstr(got, " check "), "data's subcommands: %s", got);
    free(got);
    got = complete("quinesim help tr");
    cr_assert(strstr(got, " train "), "help's commands: %s", got);
    free(got);

    cr_assert_eq(make_target("uninstall", &log), 0, "make uninstall: %s", log);
    free(log);
    snprintf(cmd, sizeof cmd, "find %s -type f", dest);
    cr_assert_eq(tu_run(cmd, &log), 0);
    cr_assert_str_empty(log, "left behind by uninstall:\n%s", log);
    free(log);
}
