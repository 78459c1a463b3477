/* End-to-end tests of [islands]: one island is the central population, file for file. */
#include <criterion/criterion.h>

#include "tests/simutil.h"

SU_RUN_SUITE(islands, 120);

/* The bytes of a run's file (malloc'ed). */
static char *run_file(const char *run, const char *name)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", run, name);
    char *t = tu_read_file(p, NULL);
    cr_assert(t, "missing %s", p);
    return t;
}

Test(islands, one_island_is_the_central_population_file_for_file)
{
    char plain[512], one[512], a[512], b[512], *log;
    su_scenario(plain, sizeof plain, su_dir, "plain", NULL);
    /* every other [islands] key set away from its default: with one island none counts */
    su_scenario(one, sizeof one, su_dir, "plain1",
                "[islands]\ncount = 1\ntopology = full\ninterval = 1\nmigrants = 3\n"
                "emigrants = tournament\nreplace = random\nbudget = each\ncapacity = each\n");
    snprintf(a, sizeof a, "%s/plain", su_dir);
    snprintf(b, sizeof b, "%s/one", su_dir);
    cr_assert_eq(su_run(NULL, plain, a, "--workers 2 --set run.name=same", &log), 0, "%s", log);
    free(log);
    cr_assert_eq(su_run(NULL, one, b, "--workers 2 --set run.name=same", &log), 0, "%s", log);
    free(log);
    char *pa = run_file(a, "phylogeny.csv"), *pb = run_file(b, "phylogeny.csv");
    cr_assert_str_eq(pa, pb, "phylogeny.csv differs");
    free(pa);
    free(pb);
    /* generations.csv: the same bytes but for each generation's wall time and the
     * workers that happened to be ready when it ended */
    static const char *const wall[] = {"wall_seconds", "workers"};
    char *ga = run_file(a, "generations.csv"), *gb = run_file(b, "generations.csv");
    char *ca = su_csv_without(ga, wall, 2), *cb = su_csv_without(gb, wall, 2);
    cr_assert_str_eq(ca, cb, "generations.csv differs");
    cr_assert(strstr(ga, "wall_seconds"));
    free(ga);
    free(gb);
    free(ca);
    free(cb);
}
