/* End-to-end tests of `quinesim run --seeds/--sweep` (sim/runset.c): the runs of a set on
 * one pool give what each gives alone, bad seeds and values are refused before anything
 * starts, --dry-run lists the points, SIGINT and --resume of the parent folder. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <sys/wait.h>

#include "sim/runset.h"
#include "tests/simutil.h"

static char dir[256];

static void setup(void)
{
    if (!tu_data())
        cr_skip_test("no data/mnist (run `make data`)");
    tu_tmpdir(dir, sizeof dir);
}

static void teardown(void)
{
    su_kill_spawned();
    tu_rmrf(dir);
}

TestSuite(runset, .init = setup, .fini = teardown, .timeout = 120);

/* The run of sc alone with sets ("--set a=b --set c=d") into dir/name. */
static void single(const char *sc, const char *name, const char *sets, char *out, size_t cap)
{
    char args[512], *log;
    snprintf(out, cap, "%s/%s", dir, name);
    snprintf(args, sizeof args, "--workers 1 %s", sets);
    cr_assert_eq(su_run(NULL, sc, out, args, &log), 0, "%s", log);
    free(log);
}

static void assert_same(const char *a, const char *b)
{
    char pa[700], pb[700];
    snprintf(pa, sizeof pa, "%s/phylogeny.csv", a);
    snprintf(pb, sizeof pb, "%s/phylogeny.csv", b);
    size_t la = 0, lb = 0;
    char *ta = tu_read_file(pa, &la), *tb = tu_read_file(pb, &lb);
    cr_assert(ta && tb, "%s, %s", pa, pb);
    cr_assert(la == lb && !memcmp(ta, tb, la), "%s and %s differ", pa, pb);
    free(ta);
    free(tb);
    const char *why = su_same_results(a, b); /* generations.csv but wall_seconds, workers */
    cr_assert_null(why, "%s vs %s: %s", a, b, why);
}

/* set/seed-1 .. seed-n against single runs of sc with run.seed = k and sets. */
static void same_as_seeds_alone(const char *sc, const char *set, int n, const char *sets)
{
    for (int k = 1; k <= n; k++) {
        char one[512], args[256], name[16], in_set[700];
        snprintf(args, sizeof args, "--set run.seed=%d %s", k, sets);
        snprintf(name, sizeof name, "one-%d", k);
        single(sc, name, args, one, sizeof one);
        snprintf(in_set, sizeof in_set, "%s/seed-%d", set, k);
        assert_same(one, in_set);
    }
}

/* The "done when": three run directories identical to three single runs. */
Test(runset, seeds_give_the_single_runs)
{
    char sc[512], set[512], *log;
    su_scenario(sc, sizeof sc, dir, "r", "");
    snprintf(set, sizeof set, "%s/set", dir);
    cr_assert_eq(su_run(NULL, sc, set, "--workers 2 --seeds 1-3", &log), 0, "%s", log);
    free(log);
    same_as_seeds_alone(sc, set, 3, "");
    /* analyze takes the parent folder for its runs, grouped by what varies */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s analyze %s", tu_bin(), set);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    cr_assert(strstr(log, "seed-1") && strstr(log, "seed-3"), "%s", log);
    free(log);
}

/* A 2 x 2 grid over a life key (in each task) and a replication key (in each worker's
 * config): four configs on every worker, each run as alone; the summary table. */
Test(runset, sweep_grid_gives_the_single_runs)
{
    char sc[512], set[512], cmd[1400], *log;
    su_scenario(sc, sizeof sc, dir, "g", "");
    snprintf(set, sizeof set, "%s/grid", dir);
    snprintf(cmd, sizeof cmd,
             "%s run %s --out %s --progress lines --workers 2 --sweep life.steps=10,20 --sweep "
             "replication.mode=self,copy",
             tu_bin(), sc, set);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    cr_assert(strstr(log, "[life.steps=20,replication.mode=copy] gen 3"), "%s", log);
    const char *steps[] = {"10", "20"}, *modes[] = {"self", "copy"};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            char one[512], sets[128], name[32], in_set[800], row[128];
            snprintf(sets, sizeof sets, "--set life.steps=%s --set replication.mode=%s", steps[i],
                     modes[j]);
            snprintf(name, sizeof name, "one-%d-%d", i, j);
            single(sc, name, sets, one, sizeof one);
            snprintf(in_set, sizeof in_set, "%s/life.steps=%s,replication.mode=%s", set, steps[i],
                     modes[j]);
            assert_same(one, in_set);
            snprintf(row, sizeof row, "\nlife.steps=%s,replication.mode=%s  completed", steps[i],
                     modes[j]);
            cr_assert(strstr(log, row), "the table has '%s':\n%s", row + 1, log);
        }
    free(log);
}

typedef struct {
    char args[96];
    char needle[128];
} bad_case_t;

ParameterizedTestParameters(runset, bad_values_refused)
{
    static bad_case_t cases[] = {
        {"--seeds 5-1", "--seeds '5-1': the range runs backwards"},
        {"--seeds 1,x", "--seeds 'x': expected a seed"},
        {"--seeds 1-3,2", "seed 2 is given twice"},
        {"--seeds 1-5000", "more than 1024 runs"},
        {"--sweep life.steps=10,abc", "--sweep life.steps=abc: [life] steps = 'abc'"},
        {"--sweep replication.mode=self,clone", "--sweep replication.mode=clone: "},
        {"--sweep life.nosuch=1", "unknown key 'nosuch' in [life]"},
        {"--sweep life.steps", "expected section.key=value1,value2"},
        {"--sweep life.steps=1,,2", "an empty value"},
        {"--sweep workers.in_flight=1,2", "share one pool of workers"},
        {"--sweep run.seed=1,2", "use --seeds"},
        {"--sweep life.steps=1 --sweep life.steps=2", "--sweep life.steps is given twice"},
    };
    return cr_make_param_array(bad_case_t, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(bad_case_t *c, runset, bad_values_refused)
{
    char sc[512], out[512], *log;
    su_scenario(sc, sizeof sc, dir, "b", "");
    snprintf(out, sizeof out, "%s/bad", dir);
    cr_assert_eq(su_run(NULL, sc, out, c->args, &log), 2, "%s: %s", c->args, log);
    cr_assert(strstr(log, c->needle), "%s: '%s' lacks '%s'", c->args, log, c->needle);
    free(log);
    cr_assert_neq(access(out, F_OK), 0, "%s: nothing is created", c->args);
}

Test(runset, seeds_parsed_as_written)
{
    uint64_t *s;
    uint32_t n;
    qs_error_t err = {0};
    cr_assert_eq(qs_runset_parse_seeds("7,2-4,10", &s, &n, &err), 0, "%s", err.msg);
    uint64_t want[] = {7, 2, 3, 4, 10};
    cr_assert_eq(n, 5);
    cr_assert_arr_eq(s, want, sizeof want);
    free(s);
    cr_assert_eq(qs_runset_parse_seeds("18446744073709551615", &s, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_eq(s[0], UINT64_MAX);
    free(s);
    cr_assert_lt(qs_runset_parse_seeds("18446744073709551616", &s, &n, &err), 0);
    cr_assert_lt(qs_runset_parse_seeds("-3", &s, &n, &err), 0);
    cr_assert_lt(qs_runset_parse_seeds("1,", &s, &n, &err), 0);
}

Test(runset, dry_run_lists_the_points_and_creates_nothing)
{
    char sc[512], out[512], *log;
    su_scenario(sc, sizeof sc, dir, "d", "");
    snprintf(out, sizeof out, "%s/dry", dir);
    cr_assert_eq(su_run(NULL, sc, out, "--dry-run --seeds 1,2 --sweep data.train=300,400", &log), 0,
                 "%s", log);
    cr_assert(strstr(log, "; 4 runs under"), "%s", log);
    cr_assert(strstr(log, "data.train=400,seed-2"), "%s", log);
    cr_assert(strstr(log, "; memory (estimated)"), "%s", log);
    free(log);
    cr_assert_neq(access(out, F_OK), 0);
}

/* SIGINT stops every run of the set resumably; --resume of the parent folder continues them
 * all, and each ends as it would have alone. */
Test(runset, sigint_and_resume_of_the_parent)
{
    char sc[512], set[512], p[800], cmd[1200], *log;
    su_scenario(sc, sizeof sc, dir, "s", "");
    snprintf(set, sizeof set, "%s/set", dir);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        putenv("QS_FAULT=slow:40");
        int devnull = open("/dev/null", 1);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(tu_bin(), tu_bin(), "run", sc, "--out", set, "--quiet", "--seeds", "1,2", "--set",
              "run.generations=6", (char *)NULL);
        _exit(127);
    }
    su_track(pid);
    snprintf(p, sizeof p, "%s/seed-2/generations.csv", set);
    for (int i = 0; i < 600 && su_count_lines(p) < 3; i++)
        usleep(20000);
    cr_assert_geq(su_count_lines(p), 3, "two generations done before the signal");
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %d", st);
    snprintf(cmd, sizeof cmd, "%s run --resume %s --quiet", tu_bin(), set);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    free(log);
    same_as_seeds_alone(sc, set, 2, "--set run.generations=6");
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log); /* all done: nothing to resume */
    cr_assert(strstr(log, "all 2 runs are complete"), "%s", log);
    free(log);
}
