/* Fault-injection tests (issue 6): the orchestrator survives killed, stopped, hung,
 * babbling and memory-hungry workers and a worker that never starts; a run killed with
 * SIGKILL at random moments (and mid-write) resumes to exactly the results of a run left
 * alone; a full disk gives a clear error and resumes once space is back; corrupted
 * checkpoints are named. Each fault leaves its trace in run.log. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/mount.h>
#include <time.h>

#include "core/rng.h"
#include "proto/checkpoint.h"
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

TestSuite(fault, .init = setup, .fini = teardown, .timeout = 180);

/* The reference: the same scenario, no fault. */
static void reference(const char *sc, char *ref, size_t cap, const char *args)
{
    char *log;
    snprintf(ref, cap, "%s/reference", dir);
    cr_assert_eq(su_run(NULL, sc, ref, args, &log), 0, "%s", log);
    free(log);
}

/* Run with a worker fault that fires once; results must equal the reference and run.log
 * must name the event. */
static void check_worker_fault(const char *fault, const char *extra, const char *logged)
{
    char sc[512], ref[512], out[512], env[900], p[700], *log;
    su_scenario(sc, sizeof sc, dir, "f", extra);
    reference(sc, ref, sizeof ref, "--workers 2");
    snprintf(out, sizeof out, "%s/faulty", dir);
    snprintf(env, sizeof env, "QS_FAULT=%s QS_FAULT_ONCE=%s/fired", fault, dir);
    cr_assert_eq(su_run(env, sc, out, "--workers 2", &log), 0, "%s", log);
    free(log);
    snprintf(p, sizeof p, "%s/fired", dir);
    cr_assert_eq(access(p, F_OK), 0, "the fault %s fired", fault);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s: %s", fault, why);
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, logged), "run.log lacks '%s'", logged);
}

Test(fault, worker_killed_mid_task)
{
    check_worker_fault("kill-on-task:4", NULL, "killed by signal 9");
}

Test(fault, worker_stopped_misses_heartbeats)
{
    check_worker_fault("stop-on-task:3", NULL, "heartbeats missed: hung or stopped");
}

Test(fault, worker_writes_garbage)
{
    check_worker_fault("garbage-on-task:2", NULL, "sent malformed data");
}

/* Issue 16, case 6: a result whose genome holds a NaN under the figures of the true one,
 * or whose accuracy is no count of right answers (199.5 of 200), is refused; the worker is dropped
 * and the task redone elsewhere, so the results are those of the run left alone. */
Test(fault, worker_sends_a_nan_under_finite_figures)
{
    check_worker_fault("nan-weight-on-task:3", NULL, "(weight 0 is nan)");
}

Test(fault, worker_sends_an_impossible_accuracy)
{
    check_worker_fault("bad-accuracy-on-task:3", NULL,
                       "accuracy 0.99750000000000005 is not a count of right answers out of 200");
}

/* Issue 16, case 5: a worker that hangs while its heartbeats say idle, though it holds a
 * task, is dropped after a few heartbeats, not after task_timeout_s (600 s here; the
 * suite's timeout is 180 s). */
Test(fault, worker_heartbeating_idle_while_holding_a_task)
{
    check_worker_fault("idle-on-task:2", "[budget]\ntask_timeout_s = 600\n",
                       "heartbeats say idle while it holds");
}

/* The other side of the idle check: a worker that takes 2 s over each task heartbeats its
 * id all along, and is not taken for one that lies idle (it was, when the slow and
 * out-of-memory faults ran before the heartbeats named the task: on a loaded machine the
 * memory-limit test's worker was dropped as idle before it reached its limit). */
Test(fault, a_slow_worker_is_not_taken_for_an_idle_one)
{
    char sc[512], out[512], p[700], *log;
    su_scenario(sc, sizeof sc, dir, "slow", "");
    snprintf(out, sizeof out, "%s/slow", dir);
    int rc = su_run("QS_FAULT=slow:2000", sc, out,
                    "--workers 1 --set run.generations=1 --set selection.population=2 "
                    "--set species.a.count=1 --set species.b.count=1",
                    &log);
    cr_assert_eq(rc, 0, "%s", log);
    free(log);
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert_not(su_file_contains(p, "heartbeats say idle"), "%s", tu_read_file(p, NULL));
}

/* The orchestrator's loop held 1.5 s after a checkpoint, as by a slow disk (heartbeats
 * every 0.2 s, so five missed take 1 s): the heartbeats that came meanwhile are read
 * before any worker is judged silent, and none is killed. */
Test(fault, a_slow_checkpoint_does_not_make_workers_silent)
{
    char sc[512], ref[512], out[512], p[700], *log;
    su_scenario(sc, sizeof sc, dir, "disk", "");
    reference(sc, ref, sizeof ref, "--workers 2");
    snprintf(out, sizeof out, "%s/slowdisk", dir);
    cr_assert_eq(su_run("QS_TEST_SLOW_CHECKPOINT=1:1500", sc, out, "--workers 2", &log), 0, "%s",
                 log);
    free(log);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert_not(su_file_contains(p, "heartbeats missed"), "%s", tu_read_file(p, NULL));
}

Test(fault, worker_hangs_past_task_timeout)
{
    check_worker_fault("hang-on-task:2", "[budget]\ntask_timeout_s = 1\n",
                       "ran past task_timeout_s");
}

Test(fault, worker_exceeds_its_memory_limit)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer builds run workers without an address-space limit");
#endif
    check_worker_fault("oom-on-task:2", "[budget]\nworker_memory_mb = 1024\n",
                       "out of memory (fault injection)");
}

Test(fault, worker_that_never_starts_ends_the_run_clearly)
{
    char sc[512], out[512], p[700], *log;
    su_scenario(sc, sizeof sc, dir, "f", "[workers]\nmax_restarts = 2\n");
    snprintf(out, sizeof out, "%s/dead", dir);
    time_t t0 = time(NULL);
    int rc = su_run("QS_FAULT=exit-at-start", sc, out, "--workers 1", &log);
    cr_assert_eq(rc, 1, "%s", log);
    cr_assert(strstr(log, "failed to start 3 times in a row"), "%s", log);
    free(log);
    cr_assert_lt(time(NULL) - t0, 30, "bounded retries, not a spin");
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "exiting at start-up"), "the worker's stderr is in run.log");
}

/* Issue 16, case 10: a worker that says hello and then dies setting up (here it aborts
 * as an allocation that fails would) counts as one that cannot start, and the run's
 * error says what it said. */
Test(fault, worker_dying_while_setting_up_says_why)
{
    char sc[512], out[512], *log;
    su_scenario(sc, sizeof sc, dir, "f", "[workers]\nmax_restarts = 2\n");
    snprintf(out, sizeof out, "%s/setup", dir);
    int rc = su_run("QS_FAULT=abort-in-setup", sc, out, "--workers 1", &log);
    cr_assert_eq(rc, 1, "%s", log);
    cr_assert(strstr(log, "failed to start 3 times in a row (last: killed by signal 6 (Aborted) "
                          "while setting up: worker: cannot allocate the species"),
              "%s", log);
    free(log);
}

static pid_t spawn_resume(const char *out, const char *env)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (env)
            putenv((char *)env);
        char log[600];
        snprintf(log, sizeof log, "%s.resume.log", out); /* the last resume's output */
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(tu_bin(), tu_bin(), "run", "--resume", out, "--quiet", (char *)NULL);
        _exit(127);
    }
    return su_track(pid);
}

/* Kill the orchestrator (and its workers) with SIGKILL at several random moments,
 * resuming each time: the finished run equals the reference. Then a torn write (half a
 * generation's lineage bytes, then SIGKILL) is cut back and redone. */
Test(fault, sigkill_at_random_moments_then_resume)
{
    char sc[512], ref[512], out[512], p[700], cmd[1400], *log;
    su_scenario(sc, sizeof sc, dir, "k", "");
    reference(sc, ref, sizeof ref, "--set run.generations=10");
    snprintf(out, sizeof out, "%s/killed", dir);
    snprintf(p, sizeof p, "%s/checkpoint.msgpack", out);
    qs_rng_t rng;
    qs_rng_init(&rng, 2024, qs_rng_stream(QS_STREAM_TEST, 6));
    pid_t pid = su_spawn("QS_FAULT=slow:50", sc, out, "--set", "run.generations=10");
    int kills = 0, st;
    for (;;) {
        usleep(150000 + qs_rng_below(&rng, 400000));
        if (waitpid(pid, &st, WNOHANG) == pid) {
            char rlog[600];
            snprintf(rlog, sizeof rlog, "%s.resume.log", out);
            char *said = tu_read_file(rlog, NULL);
            cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d after %d kills: %s", st,
                      kills, said ? said : "");
            free(said);
            break;
        }
        killpg(pid, SIGKILL);
        waitpid(pid, &st, 0);
        kills++;
        cr_assert_eq(access(p, F_OK), 0, "a checkpoint exists from the first moments");
        pid = spawn_resume(out, "QS_FAULT=slow:50");
    }
    cr_assert_geq(kills, 2, "killed %d times", kills);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "after %d kills: %s", kills, why);

    /* A torn write of generation 3's lineage records. */
    char torn[512];
    snprintf(torn, sizeof torn, "%s/torn", dir);
    cr_assert_neq(su_run("QS_TEST_TORN_WRITE=3", sc, torn, "--set run.generations=10", &log), 0);
    free(log);
    snprintf(cmd, sizeof cmd, "%s run --resume %s --quiet", tu_bin(), torn);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    free(log);
    why = su_same_results(ref, torn);
    cr_assert_null(why, "torn write: %s", why);
}

Test(fault, resume_refuses_changed_scenario)
{
    char sc[512], out[512], cmd[1400], p[700], *log;
    su_scenario(sc, sizeof sc, dir, "c", "");
    snprintf(out, sizeof out, "%s/c", dir);
    cr_assert_neq(su_run("QS_TEST_TORN_WRITE=1", sc, out, NULL, &log), 0);
    free(log);
    snprintf(cmd, sizeof cmd, "%s run --resume %s --quiet --set life.steps=21", tu_bin(), out);
    cr_assert_eq(tu_run(cmd, &log), 2);
    cr_assert(strstr(log, "life.steps changed (20 -> 21); add it to --allow-changes"), "%s", log);
    free(log);
    snprintf(cmd, sizeof cmd, "%s run --resume %s --quiet --set run.seed=8", tu_bin(), out);
    cr_assert_eq(tu_run(cmd, &log), 2);
    cr_assert(strstr(log, "run.seed changed (7 -> 8); it can never change"), "%s", log);
    free(log);
    snprintf(cmd, sizeof cmd,
             "%s run --resume %s --quiet --set run.generations=5 --allow-changes run.generations",
             tu_bin(), out);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    free(log);
    snprintf(p, sizeof p, "%s/generations.csv", out);
    cr_assert_eq(su_count_lines(p), 6, "extended to 5 generations");
}

Test(fault, corrupted_checkpoint_is_named)
{
    char sc[512], out[512], p[700], cmd[1400], *log;
    su_scenario(sc, sizeof sc, dir, "x", "");
    snprintf(out, sizeof out, "%s/x", dir);
    cr_assert_neq(su_run("QS_TEST_TORN_WRITE=2", sc, out, NULL, &log), 0);
    free(log);
    snprintf(p, sizeof p, "%s/checkpoint.msgpack", out);
    size_t len;
    char *ck = tu_read_file(p, &len);
    cr_assert(ck && len > 100);
    ck[len / 2] ^= 0x40;
    tu_write_file(p, ck, len);
    snprintf(cmd, sizeof cmd, "%s run --resume %s --quiet", tu_bin(), out);
    cr_assert_eq(tu_run(cmd, &log), 1);
    cr_assert(strstr(log, "checkpoint.msgpack") && strstr(log, "checksum"), "%s", log);
    free(log);
    ck[len / 2] ^= 0x40;
    tu_write_file(p, ck, len / 3);
    cr_assert_eq(tu_run(cmd, &log), 1);
    cr_assert(strstr(log, "checkpoint.msgpack") && strstr(log, "truncated"), "%s", log);
    free(log);
    free(ck);
}

/* A small tmpfs as the output folder: the run fills it, fails with a clear error, the
 * checkpoint stays intact, and once the tmpfs is enlarged the run resumes to the
 * reference results. Needs mount(2) (root): skipped with the reason otherwise. */
Test(fault, full_disk_then_resume)
{
    char sc[512], ref[512], mnt[512], out[600], cmd[1400], *log;
    snprintf(mnt, sizeof mnt, "%s/small", dir);
    mkdir(mnt, 0755);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=40k") != 0)
        cr_skip_test("cannot mount a tmpfs here (%s): needs root/CAP_SYS_ADMIN", strerror(errno));
    su_scenario(sc, sizeof sc, dir, "disk", "");
    reference(sc, ref, sizeof ref, "--set run.generations=12");
    snprintf(out, sizeof out, "%s/run", mnt);
    int rc = su_run(NULL, sc, out, "--set run.generations=12", &log);
    if (rc == 0) {
        umount2(mnt, MNT_DETACH);
        free(log);
        cr_assert_fail("the run fitted in the small tmpfs; the test needs a bigger run");
    }
    cr_assert(strstr(log, "No space left on device"), "%s", log);
    cr_assert(strstr(log, "previous checkpoint is intact") || strstr(log, "lineage") ||
                  strstr(log, ".csv"),
              "%s", log);
    free(log);
    cr_assert_eq(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, "size=64m"), 0, "%s", strerror(errno));
    snprintf(cmd, sizeof cmd, "%s run --resume %s --quiet", tu_bin(), out);
    rc = tu_run(cmd, &log);
    const char *why = rc == 0 ? su_same_results(ref, out) : "resume failed";
    umount2(mnt, MNT_DETACH);
    cr_assert_eq(rc, 0, "%s", log);
    free(log);
    cr_assert_null(why, "%s", why);
}

/* ---- run identity and the folder's lock (issue 16) ------------------------------------------ */

/* A run stopped by a torn write in generation `torn` (so its checkpoint is of an earlier
 * boundary), in dir/name. */
static void stopped_run(const char *name, const char *seed, int torn, char *out, size_t cap)
{
    char sc[512], env[64], args[64], *log;
    su_scenario(sc, sizeof sc, dir, name, "");
    snprintf(out, cap, "%s/%s", dir, name);
    snprintf(env, sizeof env, "QS_TEST_TORN_WRITE=%d", torn);
    snprintf(args, sizeof args, "--set run.seed=%s --set run.generations=8", seed);
    cr_assert_neq(su_run(env, sc, out, args, &log), 0, "%s", log);
    free(log);
}

/* The run folder's appendable files, concatenated (to show that nothing was cut). */
static char *folder_bytes(const char *run)
{
    static const char *const files[] = {"lineage.msgpack", "phylogeny.csv", "generations.csv",
                                        "scenario.ini"};
    size_t cap = 1, len = 0;
    char *all = malloc(cap);
    for (size_t i = 0; i < 4; i++) {
        char p[700];
        size_t n = 0;
        snprintf(p, sizeof p, "%s/%s", run, files[i]);
        char *t = tu_read_file(p, &n);
        cr_assert(t, "%s", p);
        all = realloc(all, cap += n + 1);
        memcpy(all + len, t, n);
        len += n;
        all[len++] = '|';
        free(t);
    }
    all[len] = '\0';
    return all;
}

/* `run --resume RUN` must fail with status want_rc, say `says`, and leave the folder's files
 * exactly as they were. */
static void resume_refused(const char *run, int want_rc, const char *says)
{
    char cmd[1400], *log;
    char *before = folder_bytes(run);
    snprintf(cmd, sizeof cmd, "%s run --resume %s --quiet", tu_bin(), run);
    int rc = tu_run(cmd, &log);
    cr_assert_eq(rc, want_rc, "status %d: %s", rc, log);
    cr_assert(strstr(log, says), "wanted '%s' in: %s", says, log);
    free(log);
    char *after = folder_bytes(run);
    cr_assert(!strcmp(before, after), "the refused resume changed the run's files");
    free(before);
    free(after);
}

/* Load RUN's checkpoint, let edit change it, save it back. */
static void edit_checkpoint(const char *run, void (*edit)(qs_checkpoint_t *))
{
    char p[700];
    qs_checkpoint_t c;
    qs_error_t err = {0};
    snprintf(p, sizeof p, "%s/checkpoint.msgpack", run);
    cr_assert_eq(qs_checkpoint_load(&c, p, &err), 0, "%s", err.msg);
    edit(&c);
    cr_assert_eq(qs_checkpoint_save(&c, p, &err), 0, "%s", err.msg);
    qs_checkpoint_destroy(&c);
}

/* A checkpoint copied from another run (another seed, further along) is refused, and the
 * folder it was copied into is left intact and still resumes. */
Test(fault, resume_refuses_a_foreign_checkpoint)
{
    char a[512], b[512], src[700], dst[700], cmd[1400], *log;
    stopped_run("mine", "1", 3, a, sizeof a);
    stopped_run("theirs", "2", 6, b, sizeof b);
    snprintf(src, sizeof src, "%s/checkpoint.msgpack", a);
    snprintf(dst, sizeof dst, "%s/checkpoint.mine", dir);
    size_t n = 0, m = 0;
    char *mine = tu_read_file(src, &n);
    tu_write_file(dst, mine, n);
    snprintf(src, sizeof src, "%s/checkpoint.msgpack", b);
    char *theirs = tu_read_file(src, &m);
    snprintf(src, sizeof src, "%s/checkpoint.msgpack", a);
    tu_write_file(src, theirs, m);
    resume_refused(a, 1, "the checkpoint belongs to run ");
    tu_write_file(src, mine, n);
    snprintf(cmd, sizeof cmd, "%s run --resume %s --quiet", tu_bin(), a);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    free(log);
    free(mine);
    free(theirs);
}

static void seed_differs(qs_checkpoint_t *c)
{
    c->seed += 1;
}
static void offset_zero(qs_checkpoint_t *c)
{
    c->off_lineage = 0;
}
static void offset_inside_record(qs_checkpoint_t *c)
{
    c->off_lineage -= 7;
}
static void offset_past_the_end(qs_checkpoint_t *c)
{
    c->off_lineage += 1 << 20;
}
static void phylogeny_mid_row(qs_checkpoint_t *c)
{
    c->off_phylogeny -= 3;
}
static void generations_row_missing(qs_checkpoint_t *c)
{
    c->generation += 1;
}
static void empty_plan(qs_checkpoint_t *c)
{
    for (uint32_t i = 0; i < c->norgs; i++)
        free(c->orgs[i].weights);
    c->norgs = 0;
}
static void no_run_id(qs_checkpoint_t *c)
{
    c->run_id[0] = '\0';
}
static void digest_differs(qs_checkpoint_t *c)
{
    c->run_scenario_crc32 ^= 1;
}
/* Seed 2 in both its seed field and its scenario: consistent, but not the run's seed 1. */
static void seed_of_another_run(qs_checkpoint_t *c)
{
    char *at = strstr(c->scenario, "\nseed ");
    cr_assert(at, "%s", c->scenario);
    at = strchr(at, '=');
    cr_assert(at && !strncmp(at, "= 1\n", 4), "%s", at);
    at[2] = '2';
    c->seed = 2;
}

/* Crafted checkpoints: each is refused before anything in the folder is cut. */
Test(fault, resume_checks_a_crafted_checkpoint_before_cutting)
{
    static const struct {
        void (*edit)(qs_checkpoint_t *);
        int rc;
        const char *says;
    } cases[] = {
        {seed_differs, 2, "its scenario says seed 1, its seed field 2"},
        {offset_zero, 1, "is not where generation 2 starts"},
        {offset_inside_record, 1, "falls inside the record"},
        {offset_past_the_end, 1, "before the checkpoint's offset"},
        {phylogeny_mid_row, 1, "phylogeny.csv: the checkpoint's offset"},
        {generations_row_missing, 1, "is not where generation 3 starts"},
        {empty_plan, 2, "the plan of generation 2 is empty"},
        {no_run_id, 1, "the checkpoint belongs to run (no id)"},
        {digest_differs, 1, "the checkpoint's run scenario digest"},
        {seed_of_another_run, 1, "the checkpoint has seed 2, but the run in"},
    };
    char run[512], p[700];
    stopped_run("crafted", "1", 2, run, sizeof run);
    snprintf(p, sizeof p, "%s/checkpoint.msgpack", run);
    size_t n = 0;
    char *good = tu_read_file(p, &n);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_write_file(p, good, n);
        edit_checkpoint(run, cases[i].edit);
        resume_refused(run, cases[i].rc, cases[i].says);
    }
    free(good);
}

/* Wait (up to 20 s) until path holds some text; returns it (malloc'ed). */
static char *wait_for_text(const char *path)
{
    for (int i = 0; i < 400; i++) {
        char *t = tu_read_file(path, NULL);
        if (t && *t)
            return t;
        free(t);
        usleep(50000);
    }
    cr_assert_fail("%s stayed empty", path);
    return NULL;
}

/* While a run writes its folder, a second `run --force` and a `run --resume` on that
 * folder are refused, naming the holder; once it is gone, the folder resumes. */
Test(fault, a_second_orchestrator_is_refused)
{
    char sc[512], out[512], p[700], cmd[1400], *log;
    su_scenario(sc, sizeof sc, dir, "lock", "");
    snprintf(out, sizeof out, "%s/lock", dir);
    pid_t pid = su_spawn("QS_FAULT=slow:300", sc, out, "--set", "run.generations=20");
    snprintf(p, sizeof p, "%s/run.lock", out);
    char *holder = wait_for_text(p), want[64];
    snprintf(want, sizeof want, "pid %d on ", (int)pid);
    cr_assert(!strncmp(holder, want, strlen(want)), "run.lock says '%s'", holder);
    free(holder);
    snprintf(cmd, sizeof cmd, "%s run %s --out %s --force --quiet", tu_bin(), sc, out);
    cr_assert_eq(tu_run(cmd, &log), 1, "%s", log);
    cr_assert(strstr(log, "another quinesim is writing this run folder") && strstr(log, want), "%s",
              log);
    free(log);
    snprintf(cmd, sizeof cmd, "%s run --resume %s --quiet", tu_bin(), out);
    cr_assert_eq(tu_run(cmd, &log), 1, "%s", log);
    cr_assert(strstr(log, "another quinesim is writing this run folder") && strstr(log, want), "%s",
              log);
    free(log);
    killpg(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    snprintf(cmd, sizeof cmd, "%s run --resume %s --quiet", tu_bin(), out);
    cr_assert_eq(tu_run(cmd, &log), 0, "the lock died with its holder: %s", log);
    free(log);
}

/* Messages (issue 16, case 13): SIGTERM in generation 0 says that no generation is held
 * yet; a run without a checkpoint is not offered to --resume, and --resume says why. */
Test(fault, stopping_before_the_first_generation_says_so)
{
    char sc[512], out[512], p[700], cmd[1400], *log;
    su_scenario(sc, sizeof sc, dir, "early", "");
    snprintf(out, sizeof out, "%s/early", dir);
    pid_t pid = su_spawn("QS_FAULT=slow:1000", sc, out, NULL, NULL);
    snprintf(p, sizeof p, "%s/checkpoint.msgpack", out);
    for (int i = 0; i < 400 && access(p, F_OK) != 0; i++)
        usleep(25000);
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM, "status %d", st);
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "generation 0 is abandoned, the run directory holds no "
                                  "generation yet"),
              "run.log: %s", tu_read_file(p, NULL));
    snprintf(p, sizeof p, "%s/checkpoint.msgpack", out);
    unlink(p); /* as if killed before it was written */
    cr_assert_eq(su_run(NULL, sc, out, NULL, &log), 1);
    cr_assert(strstr(log, "it stopped before its first checkpoint, so it cannot be resumed") &&
                  !strstr(log, "--resume"),
              "%s", log);
    free(log);
    snprintf(cmd, sizeof cmd, "%s run --resume %s --quiet", tu_bin(), out);
    cr_assert_eq(tu_run(cmd, &log), 1);
    cr_assert(strstr(log, "has no checkpoint: the run stopped before its first one"), "%s", log);
    free(log);
}

/* Issue 16, case 10: memory a run cannot have is refused before anything starts, with the
 * numbers: a species whose coordinate table would take hundreds of GiB per worker (dry run
 * and run alike), a worker_memory_mb no worker fits in, more local workers than the
 * machine holds (a fake /proc/meminfo), and a warning for more workers than cores. The
 * estimate is not too low: workers limited to exactly it complete the run. */
Test(fault, memory_a_run_cannot_hold_is_refused_before_it_starts)
{
    char sc[512], out[512], meminfo[512], env[700], *log;
    su_scenario(sc, sizeof sc, dir, "m", "");
    snprintf(out, sizeof out, "%s/mem", dir);
    int rc = su_run(NULL, sc, out, "--dry-run --set species.a.hidden=4096", &log);
    cr_assert_eq(rc, 2, "%s", log);
    cr_assert(strstr(log, "each worker needs about"), "%s", log);
    cr_assert(strstr(log, "but [budget] worker_memory_mb = 4096: raise it to at least"), "%s", log);
    free(log);
    rc = su_run(NULL, sc, out, "--set budget.worker_memory_mb=1", &log);
    cr_assert_eq(rc, 2, "%s", log);
    cr_assert(strstr(log, "worker_memory_mb = 1: raise it"), "%s", log);
    free(log);
    cr_assert_neq(access(out, F_OK), 0, "nothing was written");

    snprintf(meminfo, sizeof meminfo, "%s/meminfo", dir);
    const char *small = "MemTotal:        1048576 kB\nMemFree:          65536 kB\n"
                        "MemAvailable:     65536 kB\nCores: 2\n";
    tu_write_file(meminfo, small, strlen(small));
    snprintf(env, sizeof env, "QS_MEMINFO=%s", meminfo);
    rc = su_run(env, sc, out, "--workers 1024", &log);
    cr_assert_eq(rc, 2, "%s", log);
    cr_assert(strstr(log, "this machine has 1024 MiB of memory; 1024 local worker(s) of about"),
              "%s", log);
    cr_assert(strstr(log, "use at most "), "%s", log);
    free(log);
    cr_assert_neq(access(out, F_OK), 0, "nothing was written");
    rc = su_run(env, sc, out, "--workers 3 --dry-run", &log);
    cr_assert_eq(rc, 0, "%s", log);
    cr_assert(strstr(log, "warning: 3 local workers on 2 cores"), "%s", log);
    cr_assert(strstr(log, "; memory (estimated): each worker "), "%s", log);
    cr_assert(strstr(log, "this machine 1024 MiB, 64 MiB available, 2 cores"), "%s", log);
    free(log);

    /* The estimate as the limit: the run completes (ASan builds apply no limit). */
    rc = su_run(NULL, sc, out, "--workers 1 --dry-run", &log);
    cr_assert_eq(rc, 0, "%s", log);
    const char *at = strstr(log, " MiB resident, ");
    cr_assert(at, "%s", log);
    unsigned as_mib = (unsigned)strtoul(at + strlen(" MiB resident, "), NULL, 10);
    free(log);
    cr_assert_gt(as_mib, 0);
    char args[128];
    snprintf(args, sizeof args, "--workers 1 --set budget.worker_memory_mb=%u", as_mib);
    rc = su_run(NULL, sc, out, args, &log);
    cr_assert_eq(rc, 0, "workers limited to the estimate (%u MiB) complete the run: %s", as_mib,
                 log);
    free(log);
    snprintf(args, sizeof args, "--workers 1 --set budget.worker_memory_mb=%u --force", as_mib - 1);
    rc = su_run(NULL, sc, out, args, &log);
    cr_assert_eq(rc, 2, "one MiB less is refused: %s", log);
    free(log);
}

/* Issue 16, case 10: a worker whose species take longer to build than five heartbeats
 * (a coordinate table of 80,200 x 200 draws, heartbeats every 0.05 s) heartbeats while it
 * sets up, and is not killed as a silent one. */
Test(fault, a_worker_setting_up_big_species_keeps_heartbeating)
{
    char sc[512], out[512], *log;
    snprintf(sc, sizeof sc, "%s/big.ini", dir);
    const char *text = "[run]\nname = big\nseed = 1\ngenerations = 1\n[life]\nsteps = 1\n"
                       "[selection]\npopulation = 2\nelitism = 1\n[workers]\nheartbeat = 0.05\n"
                       "[species.v]\nkind = vanilla\nhidden = 200\ndepth = 2\ncount = 2\n";
    tu_write_file(sc, text, strlen(text));
    snprintf(out, sizeof out, "%s/big", dir);
    int rc = su_run(NULL, sc, out, "--workers 1", &log);
    cr_assert_eq(rc, 0, "%s", log);
    free(log);
    char p[700];
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert_not(su_file_contains(p, "heartbeats missed"));
}
