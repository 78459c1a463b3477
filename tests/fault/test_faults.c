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

static pid_t spawn_resume(const char *out, const char *env)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (env)
            putenv((char *)env);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
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
            cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
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
