/* The files of a real (small) run, read by the tools researchers use, each with its
 * defaults (and as ALifeStdDev's loader reads a phylogeny: roots ['none'], the alive
 * "none") (tests/analysis/interop.py, run with Debian's /usr/bin/python3 and its
 * python3-pandas, -biopython, -dendropy and -ete3 from `make deps`): pandas reads both
 * CSVs, Biopython, DendroPy and ete3 read both Newick trees, and every tool counts the
 * organisms the summary counts, with the same ids (internal nodes included). */
#include <criterion/criterion.h>

#include "tests/simutil.h"

static char dir[512];

static void setup(void)
{
    tu_tmpdir(dir, sizeof dir);
}

static void teardown(void)
{
    tu_rmrf(dir);
}

TestSuite(interop, .init = setup, .fini = teardown, .timeout = 180);

/* The number after "key": in a JSON summary line. */
static long json_count(const char *json, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *at = strstr(json, k);
    cr_assert(at, "no %s in %s", key, json);
    return strtol(at + strlen(k), NULL, 10);
}

Test(interop, standard_tools_read_every_organism)
{
    if (tu_run("/usr/bin/python3 -c 'import pandas, Bio, dendropy, ete3'", NULL) != 0)
        cr_assert_fail("Debian's python3-pandas, -biopython, -dendropy and -ete3 are missing: "
                       "run `make deps`");
    char sc[600], out[600], cmd[4096], *log;
    su_scenario(sc, sizeof sc, dir, "interop", "");
    snprintf(out, sizeof out, "%s/run", dir);
    cr_assert_eq(su_run(NULL, sc, out, "", &log), 0, "%s", log);
    free(log);
    snprintf(cmd, sizeof cmd,
             "%s analyze %s --phylogeny %s/p.csv --generations %s/g.csv --newick %s/all.nwk --all"
             " && %s analyze %s --newick %s/surv.nwk",
             tu_bin(), out, dir, dir, dir, tu_bin(), out, dir);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    free(log);
    char *json;
    snprintf(cmd, sizeof cmd, "%s analyze %s --json", tu_bin(), out);
    cr_assert_eq(tu_run(cmd, &json), 0, "%s", json);
    long organisms = json_count(json, "organisms"), alive = json_count(json, "alive_at_end");
    free(json);

    const char *src = getenv("QS_SRC");
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/tests/analysis/interop.py %s/p.csv %s/g.csv %s/all.nwk "
             "%s/surv.nwk %s/phylogeny.csv",
             src && *src ? src : ".", dir, dir, dir, dir, out);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    static const char *const tools[] = {"pandas", "biopython", "dendropy", "ete3"};
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "%s %ld\n", tools[i], organisms);
        cr_assert(strstr(log, want), "%s does not count %ld organisms:\n%s", tools[i], organisms,
                  log);
    }
    char want[64];
    snprintf(want, sizeof want, "alife %ld\n", alive);
    cr_assert(strstr(log, want), "ALifeStdDev's reading does not find %ld extant taxa:\n%s", alive,
              log);
    free(log);
}
