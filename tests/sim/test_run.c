/* End-to-end tests of `quinesim run`: a complete run directory, identical results with 1
 * and 3 workers, a worker dying mid-task, SIGINT, extinction, budgets, bad scenarios. */
#include <criterion/criterion.h>
#include <math.h>

#include "proto/genome.h"
#include "proto/lineage.h"
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

TestSuite(run, .init = setup, .fini = teardown, .timeout = 120);

static void out_dir(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

/* phylogeny.csv's rows are in id order, so every parent's row comes before its
 * children's. */
static void assert_id_order(const char *path)
{
    char *t = tu_read_file(path, NULL);
    cr_assert(t, "%s", path);
    unsigned long long prev = 0;
    size_t rows = 0;
    for (const char *l = strchr(t, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        unsigned long long id = strtoull(l + 1, NULL, 10), parent = 0;
        const char *anc = strchr(l + 1, ',');
        cr_assert(anc, "%s: a row without ancestor_list", path);
        if (anc[1] == '[' && anc[2] >= '0' && anc[2] <= '9')
            parent = strtoull(anc + 2, NULL, 10);
        cr_assert_gt(id, prev, "%s: row %zu: id %llu after %llu", path, rows + 1, id, prev);
        cr_assert_lt(parent, id, "%s: organism %llu's parent %llu comes later", path, id, parent);
        prev = id;
        rows++;
    }
    cr_assert_gt(rows, 0);
    free(t);
}

Test(run, writes_a_complete_run_directory)
{
    char sc[512], out[512], p[700], *log;
    su_scenario(sc, sizeof sc, dir, "tiny", NULL);
    out_dir(out, sizeof out, "r");
    int rc = su_run(NULL, sc, out, "--workers 2", &log);
    cr_assert_eq(rc, 0, "%s", log);
    free(log);

    snprintf(p, sizeof p, "%s/generations.csv", out);
    cr_assert_eq(su_count_lines(p), 5, "header + 4 generations");
    cr_assert(su_file_contains(p, "n_a,n_b,wall_seconds,workers"));
    snprintf(p, sizeof p, "%s/phylogeny.csv", out);
    cr_assert(su_file_contains(p, "id,ancestor_list,origin_time,destruction_time,species"));
    cr_assert(su_file_contains(p, "\n1," QS_ALIFE_ROOT ",0,"), "founder 1 is a root");
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "generation 3:"));
    snprintf(p, sizeof p, "%s/scenario.ini", out);
    cr_assert(su_file_contains(p, "[species.b]") && su_file_contains(p, "mutation_rate"));

    /* Every organism that lived has exactly one phylogeny row: births = rows. */
    qs_lineage_reader_t rd;
    qs_error_t err = {0};
    snprintf(p, sizeof p, "%s/lineage.msgpack", out);
    cr_assert_eq(qs_lineage_open(&rd, p, &err), 0, "%s", err.msg);
    qs_record_t r;
    int counts[8] = {0};
    while (qs_lineage_next(&rd, &r, &err) == 1) {
        counts[r.type]++;
        if (r.type == QS_REC_EVAL)
            cr_assert(r.u.eval.accuracy >= 0 && r.u.eval.accuracy <= 1);
        qs_record_destroy(&r);
    }
    qs_lineage_close(&rd);
    cr_assert_eq(counts[QS_REC_HEADER], 1);
    cr_assert_eq(counts[QS_REC_GENERATION], 4);
    cr_assert_eq(counts[QS_REC_END], 1);
    cr_assert_eq(counts[QS_REC_BIRTH], counts[QS_REC_DEATH], "everyone dies by the end");
    snprintf(p, sizeof p, "%s/phylogeny.csv", out);
    cr_assert_eq(su_count_lines(p), 1 + counts[QS_REC_BIRTH]);
    assert_id_order(p);

    qs_genome_t g;
    snprintf(p, sizeof p, "%s/best.genome", out);
    cr_assert_eq(qs_genome_load(&g, p, &err), 0, "%s", err.msg);
    cr_assert(g.metrics.present && g.metrics.accuracy > 0.1, "best accuracy %g",
              g.metrics.accuracy);
    cr_assert(!strcmp(g.species, "a") || !strcmp(g.species, "b"));
    /* Its generation is its birth's: the origin_time of its row in phylogeny.csv. */
    char row[64];
    snprintf(row, sizeof row, "\n%llu,", (unsigned long long)g.id);
    snprintf(p, sizeof p, "%s/phylogeny.csv", out);
    char *phylo = tu_read_file(p, NULL), *at = strstr(phylo, row);
    cr_assert(at, "best organism %llu has no row", (unsigned long long)g.id);
    at = strchr(at + strlen(row), ','); /* past ancestor_list (one id: no comma inside) */
    cr_assert(at);
    cr_assert_eq(strtoul(at + 1, NULL, 10), g.generation,
                 "best.genome says generation %u, phylogeny.csv origin_time %s", g.generation,
                 at + 1);
    free(phylo);
    qs_genome_destroy(&g);
}

/* The numbers a user reads agree: the terminal numbers generations from 0 like the CSVs,
 * and `run` and `analyze` count the same founders and births (births by replication). */
Test(run, terminal_and_analyze_agree_on_generations_and_births)
{
    char sc[512], out[512], cmd[2048], *log, *json;
    su_scenario(sc, sizeof sc, dir, "agree", "");
    out_dir(out, sizeof out, "agree");
    snprintf(cmd, sizeof cmd, "%s run %s --out %s --progress lines", tu_bin(), sc, out);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    cr_assert(strstr(log, "\ngen 0 (0..3) ") && strstr(log, "\ngen 3 (0..3) ") &&
                  !strstr(log, "gen 4 "),
              "%s", log);
    unsigned long founders, births;
    const char *done = strstr(log, "completed: 4 generations, ");
    cr_assert(done && sscanf(done, "completed: 4 generations, %lu founders and %lu births",
                             &founders, &births) == 2,
              "%s", log);
    snprintf(cmd, sizeof cmd, "%s analyze %s --json", tu_bin(), out);
    cr_assert_eq(tu_run(cmd, &json), 0, "%s", json);
    char want[128];
    snprintf(want, sizeof want, "\"founders\":%lu,\"births\":%lu,", founders, births);
    cr_assert(strstr(json, want), "run said %lu founders and %lu births; analyze: %s", founders,
              births, json);
    cr_assert_eq(founders, 6);
    free(json);
    free(log);
}

Test(run, same_results_with_1_and_3_workers)
{
    char sc[512], a[512], b[512], *log;
    su_scenario(sc, sizeof sc, dir, "tiny", NULL);
    out_dir(a, sizeof a, "one");
    out_dir(b, sizeof b, "three");
    cr_assert_eq(su_run(NULL, sc, a, "--workers 1", &log), 0, "%s", log);
    free(log);
    cr_assert_eq(su_run(NULL, sc, b, "--workers 3", &log), 0, "%s", log);
    free(log);
    const char *why = su_same_results(a, b);
    cr_assert_null(why, "%s", why);
    char pa[700], pb[700];
    snprintf(pa, sizeof pa, "%s/best.genome", a);
    snprintf(pb, sizeof pb, "%s/best.genome", b);
    size_t la = 0, lb = 0;
    char *ga = tu_read_file(pa, &la), *gb = tu_read_file(pb, &lb);
    cr_assert(ga && gb && la == lb && !memcmp(ga, gb, la), "best.genome differs");
    free(ga);
    free(gb);
}

/* [life] recipe = fertile with measure_child: every eval record carries the child's
 * figures, births are standardized, and 1 or 2 workers give the same run. */
Test(run, fertile_lives_record_the_childs_figures)
{
    char sc[512], a[512], b[512], p[700], *log;
    su_scenario(sc, sizeof sc, dir, "fert", NULL);
    const char *set = "--set life.recipe=fertile --set life.fertile_steps=1 --set "
                      "life.fertile_cg=3 --set life.measure_child=1 --set "
                      "replication.regen=standardize --set run.generations=2";
    char args[600];
    out_dir(a, sizeof a, "one");
    out_dir(b, sizeof b, "two");
    snprintf(args, sizeof args, "--workers 1 %s", set);
    cr_assert_eq(su_run(NULL, sc, a, args, &log), 0, "%s", log);
    free(log);
    snprintf(args, sizeof args, "--workers 2 %s", set);
    cr_assert_eq(su_run(NULL, sc, b, args, &log), 0, "%s", log);
    free(log);
    const char *why = su_same_results(a, b);
    cr_assert_null(why, "%s", why);
    snprintf(p, sizeof p, "%s/scenario.ini", a);
    cr_assert(su_file_contains(p, "recipe               = fertile"));
    qs_lineage_reader_t rd;
    qs_error_t err = {0};
    snprintf(p, sizeof p, "%s/lineage.msgpack", a);
    cr_assert_eq(qs_lineage_open(&rd, p, &err), 0, "%s", err.msg);
    qs_record_t r;
    int evals = 0;
    while (qs_lineage_next(&rd, &r, &err) == 1) {
        if (r.type == QS_REC_EVAL) {
            evals++;
            cr_assert(r.u.eval.has_child && isfinite(r.u.eval.child_r2) &&
                          isfinite(r.u.eval.drift2_r2) && r.u.eval.child_r2 <= 1,
                      "organism %llu: child_r2 %g", (unsigned long long)r.u.eval.id,
                      r.u.eval.child_r2);
        }
        qs_record_destroy(&r);
    }
    qs_lineage_close(&rd);
    cr_assert_eq(evals, 12, "6 organisms x 2 generations");
}

Test(run, worker_dying_mid_task_changes_nothing)
{
    char sc[512], a[512], b[512], env[700], p[700], *log;
    su_scenario(sc, sizeof sc, dir, "tiny", NULL);
    out_dir(a, sizeof a, "clean");
    out_dir(b, sizeof b, "faulty");
    cr_assert_eq(su_run(NULL, sc, a, "--workers 2", &log), 0, "%s", log);
    free(log);
    snprintf(env, sizeof env, "QS_FAULT=exit-on-task:3 QS_FAULT_ONCE=%s/fired", dir);
    cr_assert_eq(su_run(env, sc, b, "--workers 2", &log), 0, "%s", log);
    free(log);
    snprintf(p, sizeof p, "%s/fired", dir);
    cr_assert_eq(access(p, F_OK), 0, "the fault fired");
    const char *why = su_same_results(a, b);
    cr_assert_null(why, "%s", why);
    snprintf(p, sizeof p, "%s/run.log", b);
    cr_assert(su_file_contains(p, "exited with status 3"), "run.log names the event");
    cr_assert(su_file_contains(p, "respawning worker"));
}

/* Start a slowed 6-generation run of sc into out, send it signo once two generations are
 * written, and return its exit status. */
static int stop_slow_run(const char *sc, const char *out, int signo)
{
    char p[700];
    pid_t pid = su_spawn("QS_FAULT=slow:40", sc, out, "--set", "run.generations=6");
    snprintf(p, sizeof p, "%s/generations.csv", out);
    for (int i = 0; i < 600 && su_count_lines(p) < 3; i++)
        usleep(20000);
    cr_assert_geq(su_count_lines(p), 3, "two generations done before the signal");
    kill(pid, signo);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st), "killed by signal %d", WTERMSIG(st));
    return WEXITSTATUS(st);
}

Test(run, sigint_stops_cleanly_and_resumes)
{
    char sc[512], out[512], ref[512], p[700], cmd[1400], *log;
    su_scenario(sc, sizeof sc, dir, "slow", "");
    out_dir(out, sizeof out, "int");
    out_dir(ref, sizeof ref, "ref");
    cr_assert_eq(su_run(NULL, sc, ref, "--set run.generations=6", &log), 0, "%s", log);
    free(log);
    cr_assert_eq(stop_slow_run(sc, out, SIGINT), 130);
    snprintf(p, sizeof p, "%s/phylogeny.csv", out);
    assert_id_order(p); /* sorted when stopped, too */
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "resume with: quinesim run --resume"));
    snprintf(cmd, sizeof cmd, "%s run --resume %s --quiet", tu_bin(), out);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    free(log);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
}

/* SIGTERM (what `kill`, systemd and batch schedulers send) stops like SIGINT, with the
 * shell's status for it: 128 + 15. */
Test(run, sigterm_stops_with_status_143)
{
    char sc[512], out[512], p[700];
    su_scenario(sc, sizeof sc, dir, "term", "");
    out_dir(out, sizeof out, "term");
    cr_assert_eq(stop_slow_run(sc, out, SIGTERM), 143);
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "resume with: quinesim run --resume"));
}

Test(run, budget_too_small_to_replicate_ends_in_extinction)
{
    char sc[512], out[512], p[700], *log;
    su_scenario(sc, sizeof sc, dir, "poor", "[budget]\nflops_per_generation = 1000\n");
    out_dir(out, sizeof out, "poor");
    cr_assert_eq(su_run(NULL, sc, out, "--set selection.elitism=0", &log), 0, "%s", log);
    free(log);
    snprintf(p, sizeof p, "%s/generations.csv", out);
    cr_assert_eq(su_count_lines(p), 2, "one generation, then nobody can pay for a child");
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "went extinct"));
    cr_assert(su_file_contains(p, "run extinct after 1 generations"));
}

Test(run, budget_is_respected_every_generation)
{
    char sc[512], out[512], p[700], *log;
    su_scenario(sc, sizeof sc, dir, "budget",
                "[budget]\nflops_per_generation = 4e9\nallocation = fitness\n");
    out_dir(out, sizeof out, "b");
    cr_assert_eq(su_run(NULL, sc, out, "--set life.steps=100000", &log), 0, "%s", log);
    free(log);
    snprintf(p, sizeof p, "%s/generations.csv", out);
    char *t = tu_read_file(p, NULL);
    cr_assert(t);
    int rows = 0;
    for (char *line = strchr(t, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        /* the 11th column is flops */
        char *f = line;
        for (int c = 0; c < 10; c++)
            f = strchr(f, ',') + 1;
        unsigned long long flops = strtoull(f, NULL, 10);
        cr_assert_leq(flops, 4000000000ull, "generation spent %llu", flops);
        cr_assert_gt(flops, 3000000000ull, "most of the budget is used (%llu)", flops);
        rows++;
    }
    cr_assert_eq(rows, 4);
    free(t);
}

Test(run, bad_scenario_names_file_and_line)
{
    char sc[512], out[512], *log;
    snprintf(sc, sizeof sc, "%s/bad.ini", dir);
    tu_write_file(sc, "[run]\ngenerations = 3\n[lfe]\nsteps = 1\n", 37);
    out_dir(out, sizeof out, "x");
    cr_assert_eq(su_run(NULL, sc, out, NULL, &log), 2);
    cr_assert(strstr(log, "bad.ini:3: unknown section [lfe] (did you mean [life]?)"), "%s", log);
    free(log);
    cr_assert_neq(access(out, F_OK), 0, "nothing written");
}

Test(run, dry_run_prints_the_resolved_scenario)
{
    char sc[512], out[512], *log;
    su_scenario(sc, sizeof sc, dir, "tiny", NULL);
    out_dir(out, sizeof out, "dry");
    cr_assert_eq(su_run(NULL, sc, out, "--dry-run --set life.steps=5", &log), 0, "%s", log);
    cr_assert(strstr(log, "steps                = 5"), "%s", log);
    cr_assert(strstr(log, "[species.b]"), "%s", log);
    free(log);
    cr_assert_neq(access(out, F_OK), 0, "a dry run writes nothing");
}

Test(run, refuses_to_overwrite_a_run_without_force)
{
    char sc[512], out[512], *log;
    su_scenario(sc, sizeof sc, dir, "tiny", "");
    out_dir(out, sizeof out, "again");
    cr_assert_eq(su_run(NULL, sc, out, "--set run.generations=1", &log), 0, "%s", log);
    free(log);
    cr_assert_eq(su_run(NULL, sc, out, "--set run.generations=1", &log), 1);
    cr_assert(strstr(log, "not empty") && strstr(log, "--force"), "%s", log);
    free(log);
    cr_assert_eq(su_run(NULL, sc, out, "--set run.generations=1 --force", &log), 0, "%s", log);
    free(log);
}

/* The temporary file of an atomic write (NAME.tmp.PID), left by a run killed while writing
 * its checkpoint or seen while another run writes one, is the run's own: `--force`
 * replaces the run and removes it, instead of calling the folder not a run's; a file that
 * is not a run's is still refused. */
Test(run, temporary_files_of_a_run_are_its_own)
{
    char sc[512], out[512], tmp[700], other[700], *log;
    su_scenario(sc, sizeof sc, dir, "tiny", "");
    out_dir(out, sizeof out, "leftover");
    cr_assert_eq(su_run(NULL, sc, out, "--set run.generations=1", &log), 0, "%s", log);
    free(log);
    snprintf(tmp, sizeof tmp, "%s/checkpoint.msgpack.tmp.4242", out);
    tu_write_file(tmp, "half", 4);
    cr_assert_eq(su_run(NULL, sc, out, "--set run.generations=1", &log), 1);
    cr_assert(strstr(log, "it holds a run") && strstr(log, "--force"), "%s", log);
    free(log);
    cr_assert_eq(su_run(NULL, sc, out, "--set run.generations=1 --force", &log), 0, "%s", log);
    free(log);
    cr_assert_neq(access(tmp, F_OK), 0, "--force removed %s", tmp);
    snprintf(other, sizeof other, "%s/checkpoint.msgpack.tmp.notes", out);
    tu_write_file(other, "mine", 4);
    cr_assert_eq(su_run(NULL, sc, out, "--set run.generations=1 --force", &log), 1);
    cr_assert(strstr(log, "holds files that are not a run's"), "%s", log);
    free(log);
}

/* Issue 16, case 12, the empty name: without --out, a run named '' (a scenario file named
 * .ini, or --set run.name=) would be written into runs/ itself; it is refused, dry run
 * too, and nothing is written. With --out the name places nothing, and the run goes. */
Test(run, an_empty_run_name_is_refused_without_out)
{
    char sc[512], hidden[512], cmd[2048], runs[600], *log;
    su_scenario(sc, sizeof sc, dir, "named", "");
    snprintf(cmd, sizeof cmd, "cd %s && %s run %s --quiet --set run.name=", dir, tu_bin(), sc);
    cr_assert_eq(tu_run(cmd, &log), 2, "%s", log);
    cr_assert(strstr(log, "named.ini: [run] name is empty, so the run has no folder in runs/"),
              "%s", log);
    free(log);
    snprintf(hidden, sizeof hidden, "%s/.ini", dir);
    char *text = tu_read_file(sc, NULL), *at = strstr(text, "name = named\n");
    cr_assert(at);
    memmove(at, at + 13, strlen(at + 13) + 1);
    tu_write_file(hidden, text, strlen(text));
    free(text);
    snprintf(cmd, sizeof cmd, "cd %s && %s run .ini --dry-run", dir, tu_bin());
    cr_assert_eq(tu_run(cmd, &log), 2, "%s", log);
    cr_assert(strstr(log, ".ini: [run] name is empty"), "%s", log);
    free(log);
    snprintf(runs, sizeof runs, "%s/runs", dir);
    cr_assert_neq(access(runs, F_OK), 0, "nothing was written in runs/");
    out_dir(runs, sizeof runs, "placed");
    snprintf(cmd, sizeof cmd, "%s run %s --out %s --quiet --set run.generations=1", tu_bin(),
             hidden, runs);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    free(log);
}

/* Issue 16, case 11: a FIFO given as the scenario or as the data's images is refused at
 * once, naming it (it used to block `run` and `data check` forever). */
Test(run, fifo_inputs_are_refused, .timeout = 30)
{
    char fifo[512], data[512], cmd[1400], *log;
    out_dir(fifo, sizeof fifo, "scenario.fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    snprintf(cmd, sizeof cmd, "%s run %s --dry-run", tu_bin(), fifo);
    cr_assert_eq(tu_run(cmd, &log), 2, "%s", log);
    cr_assert(strstr(log, "is a FIFO (named pipe), not a regular file"), "%s", log);
    free(log);
    out_dir(data, sizeof data, "data");
    mkdir(data, 0755);
    static const char *const names[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    for (int i = 0; i < 4; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s", data, names[i]);
        cr_assert_eq(mkfifo(p, 0600), 0);
    }
    snprintf(cmd, sizeof cmd, "%s data check %s", tu_bin(), data);
    cr_assert_neq(tu_run(cmd, &log), 0, "%s", log);
    cr_assert(strstr(log, "not a regular file"), "%s", log);
    free(log);
}

/* --data DIR replaces the scenario's [data] path (here one that does not exist) and gives
 * the results of a scenario naming DIR itself; a relative path that does not exist is
 * reported with the absolute path tried. */
Test(run, data_option_overrides_the_scenario_path)
{
    char sc[512], ref[512], out[512], bad[512], cmd[2048], *log;
    su_scenario(sc, sizeof sc, dir, "d", "");
    out_dir(ref, sizeof ref, "ref");
    cr_assert_eq(su_run(NULL, sc, ref, "--workers 1", &log), 0, "%s", log);
    free(log);
    /* The same scenario with a path that exists nowhere. */
    char *text = tu_read_file(sc, NULL), *at = strstr(text, "path = "), *eol = strchr(at, '\n');
    snprintf(bad, sizeof bad, "%s/elsewhere.ini", dir);
    FILE *f = fopen(bad, "w");
    cr_assert(f);
    fprintf(f, "%.*spath = no-such-data-folder%s", (int)(at - text), text, eol);
    fclose(f);
    free(text);

    out_dir(out, sizeof out, "missing");
    snprintf(cmd, sizeof cmd, "cd %s && %s run %s --out %s --quiet", dir, tu_bin(), bad, out);
    cr_assert_eq(tu_run(cmd, &log), 1, "%s", log);
    char tried[600];
    snprintf(tried, sizeof tried, "tried %s/no-such-data-folder", dir);
    cr_assert(strstr(log, tried) && strstr(log, "--data DIR"), "%s", log);
    free(log);

    char args[1024];
    snprintf(args, sizeof args, "--workers 1 --data %s", tu_data());
    out_dir(out, sizeof out, "with-data");
    cr_assert_eq(su_run(NULL, bad, out, args, &log), 0, "%s", log);
    free(log);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
    char p[700];
    snprintf(p, sizeof p, "%s/scenario.ini", out);
    char *written = tu_read_file(p, NULL);
    cr_assert(written && strstr(written, tu_data()), "the run records the folder it used");
    free(written);
}
