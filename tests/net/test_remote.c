/* Remote workers over TCP (issue 7): results equal a local run; workers may join, leave
 * and be started before the orchestrator; tokens are required beyond loopback and
 * checked by HMAC challenge-response; hostile peers (no token, wrong token, garbage, an
 * oversized length claim, silence, a half message, a flood of connections) are rejected
 * and logged without changing the results. Network namespaces (a veth pair between an
 * orchestrator namespace and a worker namespace), mpirun launches and srun launches from
 * a private single-node Slurm run where permitted and are skipped with the reason
 * otherwise. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include "proto/frame.h"
#include "proto/wire.h"
#include "tests/simutil.h"

static char dir[256];
/* Every process a test starts, killed at teardown even if the test fails or times out. */
static pid_t spawned[64];
static int nspawned;
/* The folder the next processes started by start_orchestrator/start_worker run in (NULL:
 * the test's own). */
static const char *child_cwd;

static pid_t track(pid_t pid)
{
    if (pid > 0 && nspawned < 64)
        spawned[nspawned++] = pid;
    return pid;
}

/* The SLURM_CONF of the private Slurm a test started ("" when none), and the processes
 * that carry it in their environment, killed at teardown (below, slurm_stop). */
static char slurm_conf[700];
static void slurm_stop(void);

static void setup(void)
{
    if (!tu_data())
        cr_skip_test("no data/mnist (run `make data`)");
    tu_tmpdir(dir, sizeof dir);
}

static void teardown(void)
{
    for (int i = 0; i < nspawned; i++) {
        kill(-spawned[i], SIGKILL); /* its process group, when it has one */
        kill(spawned[i], SIGKILL);
    }
    slurm_stop();
    tu_rmrf(dir);
}

TestSuite(remote, .init = setup, .fini = teardown, .timeout = 120);

/* Start `quinesim run SC --out OUT --quiet <args>` in the background; wait until it
 * logs its listening port. */
static pid_t start_orchestrator(const char *sc, const char *out, const char *args, int *port)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec %s run %s --out %s --quiet %s > %s.out 2>&1", tu_bin(), sc, out,
             args, out);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (child_cwd && chdir(child_cwd) != 0)
            _exit(126);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    track(pid);
    char log[700];
    snprintf(log, sizeof log, "%s/run.log", out);
    *port = 0;
    for (int i = 0; i < 500 && !*port; i++) {
        char *t = tu_read_file(log, NULL);
        const char *at = t ? strstr(t, "listening for remote workers on ") : NULL;
        if (at) {
            const char *colon = strchr(at + 32, ':');
            *port = colon ? atoi(colon + 1) : 0;
        }
        free(t);
        if (!*port)
            usleep(10000);
    }
    cr_assert_gt(*port, 0, "the orchestrator did not start listening");
    return pid;
}

/* `quinesim worker --connect HOST:PORT [--token-file F] ARGS > LOG 2>&1` in the background. */
static pid_t start_worker_args(const char *host, int port, const char *token_file, const char *args,
                               const char *log)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec %s worker --connect %s:%d %s%s %s > %s 2>&1", tu_bin(), host,
             port, token_file ? "--token-file " : "", token_file ? token_file : "", args, log);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (child_cwd && chdir(child_cwd) != 0)
            _exit(126);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return track(pid);
}

static pid_t start_worker(const char *host, int port, const char *token_file, const char *log)
{
    return start_worker_args(host, port, token_file, "--retry-for 20", log);
}

static int wait_status(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void make_token(const char *path, const char *text)
{
    tu_write_file(path, text, strlen(text));
    chmod(path, 0600);
}

static void reference(const char *sc, char *ref, size_t cap)
{
    char *log;
    snprintf(ref, cap, "%s/reference", dir);
    cr_assert_eq(su_run(NULL, sc, ref, "--workers 2", &log), 0, "%s", log);
    free(log);
}

/* A TCP socket bound to 127.0.0.1 on a free port (*port). */
static int bound_socket(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t alen = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &alen);
    *port = ntohs(a.sin_port);
    return fd;
}

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

Test(remote, remote_workers_match_a_local_run)
{
    char sc[512], ref[512], out[512], wlog[600];
    su_scenario(sc, sizeof sc, dir, "r", "");
    reference(sc, ref, sizeof ref);
    snprintf(out, sizeof out, "%s/remote", dir);
    int port;
    pid_t orch = start_orchestrator(sc, out, "--workers 0 --listen 127.0.0.1:0", &port);
    pid_t w[3];
    /* Slow tasks: the run lasts until all three have joined, even on a loaded machine. */
    setenv("QS_FAULT", "slow:100", 1);
    for (int i = 0; i < 3; i++) {
        snprintf(wlog, sizeof wlog, "%s/w%d.log", dir, i);
        w[i] = start_worker("127.0.0.1", port, NULL, wlog);
    }
    unsetenv("QS_FAULT");
    cr_assert_eq(wait_status(orch), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(wait_status(w[i]), 0, "a remote worker ends cleanly on shutdown");
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
    char p[700];
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "remote worker 3"), "all three joined");
}

/* A worker that does not have the data (the scenario's relative [data] path does not exist
 * where it runs) asks for it and receives it; the tasks dispatched to it meanwhile wait
 * for the data, and the results are those of a local run. */
Test(remote, worker_without_the_data_receives_it)
{
    char sc[512], ref[512], out[512], wlog[600], odir[300], link[400], p[700];
    su_scenario(sc, sizeof sc, dir, "r", "");
    reference(sc, ref, sizeof ref);
    /* The same scenario with path = mnist, a link that exists only in the orchestrator's
     * folder. */
    snprintf(odir, sizeof odir, "%s/orch", dir);
    cr_assert_eq(mkdir(odir, 0755), 0);
    char data[PATH_MAX];
    cr_assert(realpath(tu_data(), data));
    snprintf(link, sizeof link, "%s/mnist", odir);
    cr_assert_eq(symlink(data, link), 0);
    char *text = tu_read_file(sc, NULL), *at = strstr(text, "path = "), *eol = strchr(at, '\n');
    FILE *f = fopen(sc, "w");
    fprintf(f, "%.*spath = mnist%s", (int)(at - text), text, eol);
    fclose(f);
    free(text);
    snprintf(out, sizeof out, "%s/received", dir);
    int port;
    child_cwd = odir;
    pid_t orch = start_orchestrator(sc, out, "--workers 0 --listen 127.0.0.1:0", &port);
    child_cwd = dir;
    snprintf(wlog, sizeof wlog, "%s/w.log", dir);
    pid_t w = start_worker("127.0.0.1", port, NULL, wlog);
    child_cwd = NULL;
    cr_assert_eq(wait_status(orch), 0);
    cr_assert_eq(wait_status(w), 0, "the worker ends cleanly on shutdown");
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "asked for the data set; sending 400 + 200 images"));
    cr_assert(!su_file_contains(p, "disconnecting"), "the worker was never dropped");
    cr_assert(su_file_contains(wlog, "asking the orchestrator for the data"));
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
}

Test(remote, workers_join_and_leave_mid_run)
{
    char sc[512], ref[512], out[512], wlog[600], p[700];
    su_scenario(sc, sizeof sc, dir, "r", "");
    reference(sc, ref, sizeof ref);
    snprintf(out, sizeof out, "%s/mixed", dir);
    int port;
    setenv("QS_FAULT", "slow:60", 1); /* every task takes a while: there is a middle */
    pid_t orch = start_orchestrator(sc, out, "--workers 1 --listen 127.0.0.1:0", &port);
    snprintf(wlog, sizeof wlog, "%s/leaver.log", dir);
    pid_t leaver = start_worker("127.0.0.1", port, NULL, wlog);
    usleep(500000);
    kill(leaver, SIGKILL); /* leaves mid-task: its tasks go back to the queue */
    wait_status(leaver);
    snprintf(wlog, sizeof wlog, "%s/joiner.log", dir);
    pid_t joiner = start_worker("127.0.0.1", port, NULL, wlog);
    unsetenv("QS_FAULT");
    cr_assert_eq(wait_status(orch), 0);
    wait_status(joiner);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "remote worker 1"));
    cr_assert(su_file_contains(p, "remote worker 2"));
}

Test(remote, worker_started_before_the_orchestrator_retries)
{
    char sc[512], ref[512], out[512], wlog[600], args[128];
    su_scenario(sc, sizeof sc, dir, "r", "");
    reference(sc, ref, sizeof ref);
    /* A free port: bind to 0, read it, release it. */
    int port, fd = bound_socket(&port);
    close(fd);
    snprintf(wlog, sizeof wlog, "%s/early.log", dir);
    pid_t w = start_worker("127.0.0.1", port, NULL, wlog);
    usleep(800000);
    snprintf(out, sizeof out, "%s/late", dir);
    snprintf(args, sizeof args, "--workers 0 --listen 127.0.0.1:%d", port);
    int got;
    pid_t orch = start_orchestrator(sc, out, args, &got);
    cr_assert_eq(got, port);
    cr_assert_eq(wait_status(orch), 0);
    cr_assert_eq(wait_status(w), 0);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
}

Test(remote, tokens_are_checked_and_wrong_ones_rejected)
{
    char sc[512], ref[512], out[512], good[600], bad[600], args[800], wlog[600], p[700];
    su_scenario(sc, sizeof sc, dir, "r", "");
    reference(sc, ref, sizeof ref);
    snprintf(good, sizeof good, "%s/token", dir);
    snprintf(bad, sizeof bad, "%s/wrong", dir);
    make_token(good, "correct horse battery staple 42\n");
    make_token(bad, "correct horse battery staple 43\n");
    snprintf(out, sizeof out, "%s/auth", dir);
    snprintf(args, sizeof args, "--workers 0 --listen 127.0.0.1:0 --token-file %s", good);
    int port;
    setenv("QS_FAULT", "slow:30", 1);
    pid_t orch = start_orchestrator(sc, out, args, &port);
    unsetenv("QS_FAULT");
    snprintf(wlog, sizeof wlog, "%s/wrong.log", dir);
    pid_t wrong = start_worker("127.0.0.1", port, bad, wlog);
    cr_assert_eq(wait_status(wrong), 1, "a wrong token is refused, not retried");
    cr_assert(su_file_contains(wlog, "refused us: authentication failed"));
    snprintf(wlog, sizeof wlog, "%s/none.log", dir);
    pid_t none = start_worker("127.0.0.1", port, NULL, wlog);
    cr_assert_eq(wait_status(none), 1);
    cr_assert(su_file_contains(wlog, "requires a token"));
    snprintf(wlog, sizeof wlog, "%s/good.log", dir);
    pid_t ok = start_worker("127.0.0.1", port, good, wlog);
    cr_assert_eq(wait_status(orch), 0);
    cr_assert_eq(wait_status(ok), 0);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "failed authentication (wrong token)"));
    cr_assert(su_file_contains(p, "sent no authentication"));
    /* The token never crosses the wire: it is nowhere in the logs either. */
    cr_assert_not(su_file_contains(p, "correct horse"));
}

Test(remote, hostile_peers_are_rejected_and_change_nothing)
{
    char sc[512], ref[512], out[512], p[700];
    su_scenario(sc, sizeof sc, dir, "r", "[workers]\nauth_timeout = 0.5\n");
    reference(sc, ref, sizeof ref);
    snprintf(out, sizeof out, "%s/hostile", dir);
    int port;
    setenv("QS_FAULT", "slow:40", 1);
    pid_t orch = start_orchestrator(sc, out, "--workers 1 --listen 127.0.0.1:0", &port);
    unsetenv("QS_FAULT");

    /* garbage bytes */
    int g = raw_connect(port);
    cr_assert_geq(g, 0);
    const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(write(g, junk, sizeof junk - 1), (ssize_t)(sizeof junk - 1));
    /* an oversized length claim: a valid magic, then 4 GiB */
    int big = raw_connect(port);
    uint8_t head[QS_FRAME_HEADER] = {'q', 's', 'm', '1', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    cr_assert_eq(write(big, head, sizeof head), (ssize_t)sizeof head);
    /* silence */
    int quiet = raw_connect(port);
    /* half a message, then gone */
    int half = raw_connect(port);
    uint8_t partial[QS_FRAME_HEADER] = {'q', 's', 'm', '1', 100, 0, 0, 0, 1, 2, 3, 4};
    cr_assert_eq(write(half, partial, sizeof partial), (ssize_t)sizeof partial);
    cr_assert_eq(write(half, "abc", 3), 3);
    close(half);
    /* many connections at once */
    int many[100], nmany = 0;
    for (int i = 0; i < 100; i++)
        if ((many[nmany] = raw_connect(port)) >= 0)
            nmany++;
    cr_assert_gt(nmany, 0);
    usleep(1500000); /* past the 0.5 s authentication timeout */
    char buf[64];
    int closed = 0;
    for (int i = 0; i < nmany; i++) {
        /* Drain the challenge; then the orchestrator must have closed it (EOF). */
        ssize_t n;
        while ((n = read(many[i], buf, sizeof buf)) > 0)
            ;
        closed += n == 0;
        close(many[i]);
    }
    cr_assert_eq(closed, nmany, "every idle peer was closed after the timeout");
    close(g);
    close(big);
    close(quiet);
    cr_assert_eq(wait_status(orch), 0);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "bad magic") || su_file_contains(p, "malformed data"));
    cr_assert(su_file_contains(p, "limit"), "the oversized claim is named");
    cr_assert(su_file_contains(p, "did not authenticate within 0.5s"));
}

/* The exit status of pid, or -1 if it is still running after 60 s (then killed). */
static int wait_status_bounded(pid_t pid)
{
    for (int i = 0; i < 6000; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    wait_status(pid);
    return -1;
}

/* Issue 16, case 7: the worker side of the handshake is bounded like the orchestrator's.
 * A "server" that accepts and stays silent is given up after --handshake-timeout (each
 * attempt counts against --retry-for, so the worker ends instead of waiting for ever),
 * and one that sends a frame claiming 250 MiB before authenticating is refused at its
 * header (4 KiB at most), not buffered. */
Test(remote, worker_bounds_an_unauthenticated_orchestrator)
{
    char wlog[600];
    int port, ls = bound_socket(&port);
    cr_assert_eq(listen(ls, 16), 0); /* the kernel accepts; nobody ever speaks */
    snprintf(wlog, sizeof wlog, "%s/silent.log", dir);
    pid_t w =
        start_worker_args("127.0.0.1", port, NULL, "--retry-for 1 --handshake-timeout 0.3", wlog);
    cr_assert_eq(wait_status_bounded(w), 1, "a silent peer is given up");
    cr_assert(su_file_contains(wlog, "cannot connect to 127.0.0.1:"));
    cr_assert(su_file_contains(wlog, "no challenge from the orchestrator: nothing within 0.3s"));
    close(ls);

    ls = bound_socket(&port);
    cr_assert_eq(listen(ls, 16), 0);
    snprintf(wlog, sizeof wlog, "%s/big.log", dir);
    w = start_worker_args("127.0.0.1", port, NULL, "--retry-for 0 --handshake-timeout 600", wlog);
    int c = accept(ls, NULL, NULL);
    cr_assert_geq(c, 0);
    /* a valid magic and a length of 250 MiB (0x0fa00000, little-endian) */
    uint8_t head[QS_FRAME_HEADER] = {'q', 's', 'm', '1', 0, 0, 0xa0, 0x0f, 0, 0, 0, 0};
    cr_assert_eq(write(c, head, sizeof head), (ssize_t)sizeof head);
    cr_assert_eq(wait_status_bounded(w), 1, "the oversized claim ends the handshake");
    cr_assert(su_file_contains(wlog, "exceeds the limit of 4096"));
    char buf[16];
    cr_assert_eq(read(c, buf, sizeof buf), 0, "the worker closed the connection unanswered");
    close(c);
    close(ls);
}

/* A peer speaking the protocol by hand over a blocking socket. */
typedef struct {
    int fd;
    qs_frame_reader_t reader;
    uint8_t buf[65536];
    size_t len, off;
    uint64_t received; /* bytes read so far */
} peer_t;

static int peer_send(peer_t *pe, const qs_msg_t *m)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_msg_encode(m, &b);
    ssize_t n = write(pe->fd, b.data, b.len);
    int ok = n == (ssize_t)b.len;
    qs_bytes_destroy(&b);
    return ok ? 0 : -1;
}

/* The next message: 1, or 0 when the connection ends (or breaks). */
static int peer_recv(peer_t *pe, qs_msg_t *m)
{
    for (;;) {
        if (pe->off < pe->len) {
            size_t used = 0, plen = 0;
            const uint8_t *payload = NULL;
            qs_error_t err = {0};
            int rc = qs_frame_reader_feed(&pe->reader, pe->buf + pe->off, pe->len - pe->off, &used,
                                          &payload, &plen, &err);
            pe->off += used;
            cr_assert_geq(rc, 0, "%s", err.msg);
            if (rc == 1) {
                cr_assert_eq(qs_msg_decode(m, payload, plen, &err), 0, "%s", err.msg);
                return 1;
            }
            continue;
        }
        ssize_t got = read(pe->fd, pe->buf, sizeof pe->buf);
        if (got <= 0)
            return 0;
        pe->received += (uint64_t)got;
        pe->len = (size_t)got;
        pe->off = 0;
    }
}

/* Issue 16, case 4: an authenticated peer that asks for the data set again and again
 * (each copy is the whole training set) gets it at most once, then is dropped; the run's results
 * are those of a run without it. */
Test(remote, the_data_set_is_sent_once_per_peer)
{
    char sc[512], ref[512], out[512], p[700];
    su_scenario(sc, sizeof sc, dir, "r", "");
    reference(sc, ref, sizeof ref);
    snprintf(out, sizeof out, "%s/greedy", dir);
    int port;
    setenv("QS_FAULT", "slow:40", 1);
    pid_t orch = start_orchestrator(sc, out, "--workers 1 --listen 127.0.0.1:0", &port);
    unsetenv("QS_FAULT");
    peer_t *pe = calloc(1, sizeof *pe);
    qs_frame_reader_init(&pe->reader, QS_MAX_MESSAGE_DEFAULT);
    pe->fd = raw_connect(port);
    cr_assert_geq(pe->fd, 0);
    qs_msg_t m;
    cr_assert_eq(peer_recv(pe, &m), 1);
    cr_assert_eq(m.type, QS_MSG_CHALLENGE);
    qs_msg_destroy(&m);
    qs_msg_t hello = {.type = QS_MSG_HELLO};
    snprintf(hello.u.hello.role, sizeof hello.u.hello.role, "worker");
    hello.u.hello.pid = 1;
    snprintf(hello.u.hello.host, sizeof hello.u.hello.host, "greedy");
    cr_assert_eq(peer_send(pe, &hello), 0);
    uint32_t hash = 0;
    while (peer_recv(pe, &m) == 1) {
        int config = m.type == QS_MSG_CONFIG;
        if (config)
            hash = m.u.config.data_hash;
        qs_msg_destroy(&m);
        if (config)
            break;
    }
    cr_assert_neq(hash, 0, "the config came");
    qs_msg_t req = {.type = QS_MSG_DATA_REQUEST};
    req.u.data_request.data_hash = hash;
    for (int i = 0; i < 300; i++)
        if (peer_send(pe, &req) < 0)
            break; /* dropped already */
    uint64_t at_config = pe->received;
    int data_messages = 0;
    while (peer_recv(pe, &m) == 1) {
        data_messages += m.type == QS_MSG_DATA;
        qs_msg_destroy(&m);
    }
    /* At most one copy: the copy is queued when the first request is read and cancelled
     * with the connection if the second one is read before the kernel took it all (a
     * busy machine), so the peer may see it cut short. */
    cr_assert_leq(data_messages, 1, "%d copies of the data set before the connection closed",
                  data_messages);
    /* 400 + 200 images of 785 bytes, and the few tasks it was given. */
    cr_assert_lt(pe->received - at_config, 4u << 20, "%llu bytes after the config",
                 (unsigned long long)(pe->received - at_config));
    close(pe->fd);
    qs_frame_reader_destroy(&pe->reader);
    free(pe);
    cr_assert_eq(wait_status(orch), 0);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "asked for the data set a second time"));
}

/* Lines of path that contain needle. */
static int lines_with(const char *path, const char *needle)
{
    char *t = tu_read_file(path, NULL);
    int n = 0;
    for (const char *at = t; at && (at = strstr(at, needle)); at += strlen(needle))
        n++;
    free(t);
    return n;
}

/* Issue 16, case 8: a flood of connections that close at once (2,000 here) logs the first
 * peers of each 10 s window and a count of the rest, not two lines each. */
Test(remote, a_flood_of_unauthenticated_peers_is_summarised_in_the_log)
{
    char sc[512], ref[512], out[512], p[700];
    su_scenario(sc, sizeof sc, dir, "r", "");
    reference(sc, ref, sizeof ref);
    snprintf(out, sizeof out, "%s/flood", dir);
    int port;
    setenv("QS_FAULT", "slow:100", 1); /* a run of a few seconds */
    pid_t orch = start_orchestrator(sc, out, "--workers 1 --listen 127.0.0.1:0", &port);
    unsetenv("QS_FAULT");
    int made = 0;
    for (int i = 0; i < 2000; i++) {
        int fd = raw_connect(port);
        if (fd < 0)
            break; /* the run is over */
        close(fd);
        made++;
    }
    cr_assert_gt(made, 200, "only %d connections before the run ended", made);
    cr_assert_eq(wait_status(orch), 0);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
    snprintf(p, sizeof p, "%s/run.log", out);
    int logged = lines_with(p, " connected\n");
    cr_assert_leq(logged, 20 * 3, "%d of %d connections logged one by one", logged, made);
    cr_log_info("%d of %d connections logged one by one", logged, made);
    cr_assert(su_file_contains(p, "were not logged one by one"));
}

Test(remote, public_listen_needs_a_token)
{
    char sc[512], out[512], *log;
    su_scenario(sc, sizeof sc, dir, "r", "");
    snprintf(out, sizeof out, "%s/public", dir);
    int rc = su_run(NULL, sc, out, "--workers 0 --listen 0.0.0.0:0", &log);
    cr_assert_eq(rc, 2, "%s", log);
    cr_assert(strstr(log, "needs --token-file"), "%s", log);
    free(log);
}

/* Issue 16, case 9: a token file that group or others can read is refused by both sides,
 * with the chmod to run; a FIFO in its place is refused at once, not waited on. */
Test(remote, token_files_others_can_read_are_refused)
{
    char sc[512], out[512], tok[512], args[1200], cmd[1400], *log;
    su_scenario(sc, sizeof sc, dir, "r", "");
    snprintf(tok, sizeof tok, "%s/token", dir);
    make_token(tok, "correct horse battery staple 42\n");
    static const mode_t modes[] = {0644, 0640, 0606};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        chmod(tok, modes[i]);
        snprintf(out, sizeof out, "%s/open%zu", dir, i);
        snprintf(args, sizeof args, "--workers 0 --listen 127.0.0.1:0 --token-file %s", tok);
        cr_assert_neq(su_run(NULL, sc, out, args, &log), 0, "%s", log);
        cr_assert(strstr(log, "lets others read or change it; run `chmod 600 "), "%s", log);
        free(log);
        snprintf(cmd, sizeof cmd, "%s worker --connect 127.0.0.1:9 --token-file %s", tu_bin(), tok);
        cr_assert_neq(tu_run(cmd, &log), 0, "%s", log);
        cr_assert(strstr(log, "chmod 600"), "%s", log);
        free(log);
    }
    unlink(tok);
    cr_assert_eq(mkfifo(tok, 0600), 0);
    snprintf(cmd, sizeof cmd, "%s worker --connect 127.0.0.1:9 --token-file %s", tu_bin(), tok);
    cr_assert_neq(tu_run(cmd, &log), 0, "%s", log);
    cr_assert(strstr(log, "not a regular file"), "%s", log);
    free(log);
}

/* Orchestrator in one network namespace, workers in another, joined by a veth pair. */
Test(remote, across_network_namespaces)
{
    if (geteuid() != 0)
        cr_skip_test("network namespaces need root");
    if (system("ip netns add qs-test-probe 2>/dev/null && ip netns del qs-test-probe") != 0)
        cr_skip_test("`ip netns` is not permitted here");
    char sc[512], ref[512], out[512], tok[600], cmd[8192], wlog[600];
    su_scenario(sc, sizeof sc, dir, "r", "");
    reference(sc, ref, sizeof ref);
    snprintf(tok, sizeof tok, "%s/token", dir);
    make_token(tok, "a token shared by the two namespaces");
    char ns_a[32], ns_b[32];
    snprintf(ns_a, sizeof ns_a, "qsA%d", getpid() % 100000);
    snprintf(ns_b, sizeof ns_b, "qsB%d", getpid() % 100000);
    snprintf(cmd, sizeof cmd,
             "set -e; ip netns add %s; ip netns add %s; "
             "ip link add %sa type veth peer name %sb; "
             "ip link set %sa netns %s; ip link set %sb netns %s; "
             "ip -n %s addr add 10.77.0.1/24 dev %sa; ip -n %s addr add 10.77.0.2/24 dev %sb; "
             "ip -n %s link set %sa up; ip -n %s link set %sb up; "
             "ip -n %s link set lo up; ip -n %s link set lo up",
             ns_a, ns_b, ns_a, ns_b, ns_a, ns_a, ns_b, ns_b, ns_a, ns_a, ns_b, ns_b, ns_a, ns_a,
             ns_b, ns_b, ns_a, ns_b);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "ip netns del %s; ip netns del %s", ns_a, ns_b);
        system(cmd);
        cr_skip_test("could not build the veth pair between namespaces");
    }
    snprintf(out, sizeof out, "%s/netns", dir);
    snprintf(cmd, sizeof cmd,
             "ip netns exec %s %s run %s --out %s --quiet --workers 0 --listen 10.77.0.1:7777 "
             "--token-file %s > %s.out 2>&1 & "
             "ip netns exec %s %s worker --connect 10.77.0.1:7777 --token-file %s --retry-for 30 "
             "> %s/nsw1.log 2>&1 & "
             "ip netns exec %s %s worker --connect 10.77.0.1:7777 --token-file %s --retry-for 30 "
             "> %s/nsw2.log 2>&1 & wait",
             ns_a, tu_bin(), sc, out, tok, out, ns_b, tu_bin(), tok, dir, ns_b, tu_bin(), tok, dir);
    int rc = system(cmd);
    snprintf(wlog, sizeof wlog, "%s/nsw1.log", dir);
    snprintf(cmd, sizeof cmd, "ip netns del %s; ip netns del %s", ns_a, ns_b);
    system(cmd);
    cr_assert_eq(rc, 0);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
    char p[700];
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "remote worker 1 (10.77.0.2:"), "the worker came from ns B");
}

/* Many workers with a standard launcher: Open MPI's mpirun starts them; the workers
 * need no MPI themselves. Tasks are slowed down (QS_FAULT=slow) so that the run lasts
 * until the last of them has joined, even when start-up is slow (sanitizer builds). */
Test(remote, launched_with_mpirun)
{
    if (system("command -v mpirun > /dev/null 2>&1") != 0)
        cr_skip_test("mpirun (Debian's openmpi-bin) is not installed");
    char sc[512], ref[512], out[512], cmd[2048];
    su_scenario(sc, sizeof sc, dir, "r", "");
    reference(sc, ref, sizeof ref);
    snprintf(out, sizeof out, "%s/mpi", dir);
    int port;
    pid_t orch = start_orchestrator(sc, out, "--workers 0 --listen 127.0.0.1:0", &port);
    snprintf(cmd, sizeof cmd,
             "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 QS_FAULT=slow:50 mpirun "
             "--oversubscribe -x QS_FAULT -np 3 %s worker --connect 127.0.0.1:%d --quiet "
             "> %s/mpirun.log 2>&1",
             tu_bin(), port, dir);
    int rc = system(cmd);
    cr_assert_eq(wait_status(orch), 0);
    char p[700];
    snprintf(p, sizeof p, "%s/mpirun.log", dir);
    cr_assert_eq(rc, 0, "mpirun failed: see %s", p);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "remote worker 3"), "three workers joined");
}

/* ---- srun from a private single-node Slurm (Debian's slurm-wlm and munge) ------------------- */

/* Kill every process whose environment holds SLURM_CONF=slurm_conf: the daemons, and what
 * slurmd started (slurmstepd and its tasks run in sessions of their own, out of reach of
 * process groups, but they inherit the variable). Passes repeated for forks in flight. */
static void slurm_stop(void)
{
    if (!*slurm_conf)
        return;
    static char env[1 << 16];
    char tag[720];
    snprintf(tag, sizeof tag, "SLURM_CONF=%s", slurm_conf);
    for (int pass = 0; pass < 3; pass++) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            pid_t pid = (pid_t)atoi(e->d_name);
            char p[64];
            snprintf(p, sizeof p, "/proc/%d/environ", (int)pid);
            int fd = pid > 0 && pid != getpid() ? open(p, O_RDONLY) : -1;
            if (fd < 0)
                continue;
            size_t n = 0;
            ssize_t got;
            while (n < sizeof env - 1 && (got = read(fd, env + n, sizeof env - 1 - n)) > 0)
                n += (size_t)got;
            close(fd);
            env[n] = '\0';
            for (const char *v = env; v < env + n; v += strlen(v) + 1)
                if (!strcmp(v, tag)) {
                    kill(pid, SIGKILL);
                    break;
                }
        }
        if (d)
            closedir(d);
        usleep(20000);
    }
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    unsetenv("SLURM_CONF");
    *slurm_conf = '\0';
}

/* The last line of a file into last, its last line with "error:" or "fatal:" into err
 * ("" when none). */
static void log_lines(const char *path, char *last, char *err, size_t cap)
{
    char *t = tu_read_file(path, NULL);
    *last = *err = '\0';
    for (char *l = t; l && *l;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        if (*l)
            snprintf(last, cap, "%s", l);
        if (strstr(l, "error:") || strstr(l, "fatal:"))
            snprintf(err, cap, "%s", l);
        l = nl ? nl + 1 : NULL;
    }
    free(t);
}

/* The last line of a file, or "(empty)" (static storage). */
static const char *last_line(const char *path)
{
    static char last[400];
    char err[400];
    log_lines(path, last, err, sizeof last);
    return *last ? last : "(empty)";
}

/* A daemon's log (NAME.log, from slurm.conf), or, if that is empty (it stopped before
 * opening it), its output (NAME.out): "FILE: LAST LINE (last error: LINE)" (static
 * storage, two at a time). */
static const char *slurm_log(const char *sd, const char *name)
{
    static char said[2][1300];
    static int k;
    char p[400], last[400], err[400];
    snprintf(p, sizeof p, "%s/%s.log", sd, name);
    log_lines(p, last, err, sizeof last);
    if (!*last) {
        snprintf(p, sizeof p, "%s/%s.out", sd, name);
        log_lines(p, last, err, sizeof last);
    }
    int both = *err && strcmp(err, last);
    k ^= 1;
    snprintf(said[k], sizeof said[k], "%s: %s%s%s%s", p, *last ? last : "(empty)",
             both ? " (last error: " : "", both ? err : "", both ? ")" : "");
    return said[k];
}

/* argv in the background, its output in out, killed when the test process dies (a
 * timeout skips the teardown). */
static pid_t slurm_spawn(char *const argv[], const char *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    return track(pid);
}

/* A port free on every address, other than `other`, below Linux's ephemeral range (32768
 * and up), where the orchestrators of tests running alongside (--listen 127.0.0.1:0) take
 * theirs. */
static int slurm_free_port(int other)
{
    for (int i = 0; i < 200; i++) {
        int port = 20000 + (int)((unsigned)(getpid() * 7919 + i * 104729) % 12000);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        int ok = port != other && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok)
            return port;
    }
    cr_assert_fail("no free port in 20000-31999");
    return -1;
}

/* Whether pid has exited; its status in *status. */
static int slurm_exited(pid_t pid, int *status)
{
    int st;
    if (waitpid(pid, &st, WNOHANG) != pid)
        return 0;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 1;
}

/* Whether the idle node runs a task (slurmstepd may still refuse, e.g. a proctrack or task
 * plugin that needs cgroups the container lacks; srun then says "task 0 launch failed" and
 * exits 0): NULL if `srun echo` prints, else why not (static storage). */
static const char *slurm_probe(const char *sd)
{
    static char why[2000];
    char cmd[700], p[400];
    snprintf(p, sizeof p, "%s/probe.log", sd);
    snprintf(cmd, sizeof cmd,
             "timeout 20 srun --nodes=1 --ntasks=1 --immediate=10 echo qs-slurm-probe > %s 2>&1",
             p);
    int rc = system(cmd);
    if (rc == 0 && su_file_contains(p, "qs-slurm-probe\n"))
        return NULL;
    snprintf(why, sizeof why, "srun cannot start a task on the node (status %d; %s: %s); %s", rc, p,
             last_line(p), slurm_log(sd, "slurmd"));
    return why;
}

/* Start a one-node Slurm in dir/slurm: munged on its own socket and key, slurmctld -D and
 * slurmd -D on free ports, the node being this host (hostname -s); SLURM_CONF is set for
 * this process and its children. NULL once sinfo shows the node idle, else why not
 * (static storage). */
static const char *slurm_start(void)
{
    static char why[2400];
    static const char *const tools[] = {"munged", "slurmctld", "slurmd", "srun", "sinfo"};
    if (geteuid() != 0)
        return "a private Slurm needs root (SlurmUser=root; slurmd starts the tasks)";
    for (size_t i = 0; i < sizeof tools / sizeof *tools; i++) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "command -v %s > /dev/null 2>&1", tools[i]);
        if (system(cmd) != 0) {
            snprintf(why, sizeof why,
                     "%s is not installed (Debian's slurm-wlm and munge; `make deps`)", tools[i]);
            return why;
        }
    }
    char sd[300], p[400], q[600], r[600], s[600], t[600], host[256] = "";
    snprintf(sd, sizeof sd, "%s/slurm", dir);
    /* munged wants every folder above its socket searchable by all, and its key owned by
     * its user (root) and readable by it alone. */
    chmod(dir, 0711);
    mkdir(sd, 0755);
    snprintf(p, sizeof p, "%s/state", sd);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/spool", sd);
    mkdir(p, 0700);
    unsigned char key[1024];
    FILE *rnd = fopen("/dev/urandom", "rb");
    cr_assert(rnd && fread(key, 1, sizeof key, rnd) == sizeof key, "no /dev/urandom");
    fclose(rnd);
    snprintf(p, sizeof p, "%s/munge.key", sd);
    tu_write_file(p, key, sizeof key);
    chmod(p, 0400);

    snprintf(q, sizeof q, "--socket=%s/munge.socket", sd);
    snprintf(r, sizeof r, "--key-file=%s", p);
    snprintf(s, sizeof s, "--pid-file=%s/munged.pid", sd);
    snprintf(t, sizeof t, "--seed-file=%s/munged.seed", sd);
    char log_file[400], out[400];
    snprintf(log_file, sizeof log_file, "--log-file=%s/munged.log", sd);
    snprintf(out, sizeof out, "%s/munged.log", sd); /* in the foreground it logs to stderr */
    gethostname(host, sizeof host - 1);
    host[strcspn(host, ".")] = '\0'; /* hostname -s: what slurmd calls itself */
    snprintf(slurm_conf, sizeof slurm_conf, "%s/slurm.conf", sd);
    setenv("SLURM_CONF", slurm_conf, 1); /* also marks the processes slurm_stop kills */
    pid_t munged = slurm_spawn((char *[]){"munged", "-F", q, r, s, log_file, t, NULL}, out);
    snprintf(p, sizeof p, "%s/munge.socket", sd);
    int st;
    for (int i = 0; i < 500 && access(p, F_OK) != 0; i++) {
        if (slurm_exited(munged, &st))
            break;
        usleep(10000);
    }
    if (access(p, F_OK) != 0) {
        snprintf(why, sizeof why, "munged did not start: %s: %s", out, last_line(out));
        return why;
    }

    int ctld_port = slurm_free_port(0), slurmd_port = slurm_free_port(ctld_port);
    char *conf = malloc(8192);
    snprintf(conf, 8192,
             "ClusterName=qstest\n"
             "SlurmctldHost=%s(127.0.0.1)\n"
             "SlurmctldPort=%d\n"
             "SlurmdPort=%d\n"
             "SlurmUser=root\n"
             "SlurmdUser=root\n"
             "AuthType=auth/munge\n"
             "CredType=cred/munge\n"
             "AuthInfo=socket=%s/munge.socket\n"
             "StateSaveLocation=%s/state\n"
             "SlurmdSpoolDir=%s/spool\n"
             "SlurmctldPidFile=%s/slurmctld.pid\n"
             "SlurmdPidFile=%s/slurmd.pid\n"
             "SlurmctldLogFile=%s/slurmctld.log\n"
             "SlurmdLogFile=%s/slurmd.log\n"
             "ProctrackType=proctrack/linuxproc\n"
             "TaskPlugin=task/none\n"
             "JobAcctGatherType=jobacct_gather/none\n"
             "AccountingStorageType=accounting_storage/none\n"
             "SelectType=select/cons_tres\n"
             "SelectTypeParameters=CR_Core\n"
             "MpiDefault=none\n"
             "MailProg=/bin/true\n"
             "ReturnToService=2\n"
             "NodeName=%s NodeAddr=127.0.0.1 CPUs=%ld RealMemory=100 State=UNKNOWN\n"
             "PartitionName=qs Nodes=%s Default=YES MaxTime=INFINITE State=UP\n",
             host, ctld_port, slurmd_port, sd, sd, sd, sd, sd, sd, sd, host,
             sysconf(_SC_NPROCESSORS_ONLN), host);
    tu_write_file(slurm_conf, conf, strlen(conf));
    free(conf);

    char ctld_out[400], slurmd_out[400];
    snprintf(ctld_out, sizeof ctld_out, "%s/slurmctld.out", sd);
    snprintf(slurmd_out, sizeof slurmd_out, "%s/slurmd.out", sd);
    pid_t ctld = slurm_spawn((char *[]){"slurmctld", "-D", NULL}, ctld_out);
    pid_t slurmd = slurm_spawn((char *[]){"slurmd", "-D", NULL}, slurmd_out);
    /* a few seconds here; up to 20 on a loaded machine */
    char *state = NULL;
    for (int i = 0; i < 200; i++) {
        const char *gone = slurm_exited(ctld, &st)     ? "slurmctld"
                           : slurm_exited(slurmd, &st) ? "slurmd"
                                                       : NULL;
        if (gone) {
            snprintf(why, sizeof why, "%s exited with status %d: %s", gone, st,
                     slurm_log(sd, gone));
            free(state);
            return why;
        }
        free(state);
        tu_run("sinfo --noheader --Node --format=%T", &state);
        if (state && !strncmp(state, "idle", 4)) {
            free(state);
            return slurm_probe(sd);
        }
        usleep(100000);
    }
    if (state)
        state[strcspn(state, "\n")] = '\0';
    snprintf(why, sizeof why, "the node did not become idle within 20 s (sinfo: %s); %s; %s",
             state ? state : "", slurm_log(sd, "slurmd"), slurm_log(sd, "slurmctld"));
    free(state);
    return why;
}

/* Slurm launches the workers of an islands run hosted by the workers (`hosting = workers`):
 * `srun -n3` on a private one-node Slurm (--overcommit: more tasks than the node's CPUs).
 * With --workers 0 the first worker to connect takes the three islands, and at a later
 * checkpoint one moves to each of the other two. Island messages are slowed down
 * (QS_FAULT=slow) so that the run lasts until the last worker has joined. The files are
 * those of a local run. */
Test(remote, launched_with_srun)
{
    const char *why = slurm_start();
    if (why)
        cr_skip_test("%s", why);
    char sc[512], ref[512], out[512], addr[64], p[700];
    su_scenario(sc, sizeof sc, dir, "rs",
                "[islands]\ncount = 3\ninterval = 1\nmigrants = 1\nhosting = workers\n");
    reference(sc, ref, sizeof ref);
    snprintf(out, sizeof out, "%s/srun", dir);
    int port;
    pid_t orch = start_orchestrator(sc, out, "--workers 0 --listen 127.0.0.1:0", &port);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    snprintf(p, sizeof p, "%s/srun.log", dir);
    setenv("QS_FAULT", "slow:100", 1); /* srun passes its environment to the tasks */
    pid_t srun =
        slurm_spawn((char *[]){"srun", "--nodes=1", "--ntasks=3", "--overcommit", (char *)tu_bin(),
                               "worker", "--connect", addr, "--quiet", "--retry-for", "20", NULL},
                    p);
    unsetenv("QS_FAULT");
    /* srun ends when its workers do, within 60 s; the orchestrator, which told them to,
     * moments later (if the workers did not start, it would wait for ever: 10 s). */
    int orc = -1, rc = -1;
    for (int i = 0; i < 6000 && rc < 0; i++) {
        if (!slurm_exited(srun, &rc))
            usleep(10000);
    }
    for (int i = 0; i < 1000 && orc < 0; i++) {
        if (!slurm_exited(orch, &orc))
            usleep(10000);
    }
    cr_assert_eq(rc, 0, "srun exited %d: %s: %s", rc, p, last_line(p));
    cr_assert_eq(orc, 0, "the orchestrator exited %d (see %s.out); %s: %s", orc, out, p,
                 last_line(p));
    why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "islands hosted by the workers"), "an islands run on its hosts");
    cr_assert(su_file_contains(p, "remote worker 3 ("), "three workers joined");
    cr_assert(!su_file_contains(p, "remote worker 4 ("), "no more than srun's three");
    cr_assert_eq(lines_with(p, " moves from remote worker "), 2, "an island on each worker");
}

/* Workers whose OpenBLAS uses other kernels round differently: the orchestrator says so. */
/* A run of scenario extra on one local worker and one remote worker started with
 * environment variable var = value; p receives the path of its run.log. */
static void run_with_odd_worker(const char *extra, const char *name, const char *var,
                                const char *value, char *p, size_t cap)
{
    char sc[512], out[512], wlog[600];
    su_scenario(sc, sizeof sc, dir, "r", extra);
    snprintf(out, sizeof out, "%s/%s", dir, name);
    int port;
    setenv("QS_FAULT", "slow:100", 1);
    pid_t orch = start_orchestrator(sc, out, "--workers 1 --listen 127.0.0.1:0", &port);
    setenv(var, value, 1);
    snprintf(wlog, sizeof wlog, "%s/%s.log", dir, name);
    pid_t w = start_worker("127.0.0.1", port, NULL, wlog);
    unsetenv(var);
    unsetenv("QS_FAULT");
    cr_assert_eq(wait_status(orch), 0);
    wait_status(w);
    snprintf(p, cap, "%s/run.log", out);
}

Test(remote, different_blas_kernels_are_reported)
{
    char p[700];
    /* Prescott: every x86-64 CPU runs these */
    run_with_odd_worker("", "mixed-blas", "OPENBLAS_CORETYPE", "Prescott", p, sizeof p);
    cr_assert(su_file_contains(p, "OpenBLAS Prescott"), "the worker's kernels are logged");
    if (su_file_contains(p, "ready (pid") && !su_file_contains(p, "OpenBLAS SkylakeX") &&
        !su_file_contains(p, "OpenBLAS Haswell"))
        cr_skip_test("this machine's OpenBLAS already uses Prescott kernels: nothing differs");
    /* Whichever worker said hello first sets the reference; the other is warned about. */
    cr_assert(su_file_contains(p, "uses OpenBLAS 'Prescott' kernels, earlier workers") ||
                  su_file_contains(p, "kernels, earlier workers 'Prescott'"),
              "the difference is warned");
}

/* At bf16 the oneDNN kernels matter: a worker whose ISA differs (here capped with oneDNN's
 * own variable) is warned about, and one without native bf16 is said to replicate in fp32. */
Test(remote, different_onednn_isas_are_reported_at_bf16)
{
    char p[700];
    run_with_odd_worker("[replication]\nprecision = bf16\n", "mixed-isa", "ONEDNN_MAX_CPU_ISA",
                        "AVX2", p, sizeof p);
    cr_assert(su_file_contains(p, "oneDNN avx2)"), "the worker's ISA is logged");
    cr_assert(su_file_contains(p, "has no native bf16 products (oneDNN ISA avx2): it replicates "
                                  "in fp32"),
              "the fallback is said");
    if (!su_file_contains(p, "oneDNN avx512"))
        cr_skip_test("this machine's oneDNN runs avx2 or less: nothing differs");
    cr_assert(su_file_contains(p, "runs oneDNN's 'avx2' kernels, earlier workers") ||
                  su_file_contains(p, "kernels, earlier workers 'avx2'"),
              "the difference is warned");
}

/* An islands run (3 islands, a migrant every generation) with `--workers 0 --listen` and
 * the options `opts`, on remote workers: two connect, one of them is killed after `ms`
 * milliseconds and a third joins (slow:60: tasks or island messages 60 ms longer, so that
 * there is a middle). Its files must be those of a local run; out receives the run
 * directory. */
static void islands_with_workers_joining_and_leaving(const char *name, const char *opts, int ms,
                                                     char *out, size_t cap)
{
    char sc[512], ref[512], wlog[600], all[256];
    su_scenario(sc, sizeof sc, dir, name, "[islands]\ncount = 3\ninterval = 1\nmigrants = 1\n");
    reference(sc, ref, sizeof ref);
    snprintf(out, cap, "%s/%s-run", dir, name);
    snprintf(all, sizeof all, "--workers 0 --listen 127.0.0.1:0%s%s", *opts ? " " : "", opts);
    int port;
    setenv("QS_FAULT", "slow:60", 1);
    pid_t orch = start_orchestrator(sc, out, all, &port);
    snprintf(wlog, sizeof wlog, "%s/%s-leaver.log", dir, name);
    pid_t leaver = start_worker("127.0.0.1", port, NULL, wlog);
    snprintf(wlog, sizeof wlog, "%s/%s-stayer.log", dir, name);
    pid_t stayer = start_worker("127.0.0.1", port, NULL, wlog);
    usleep((useconds_t)ms * 1000);
    kill(leaver, SIGKILL);
    wait_status(leaver);
    snprintf(wlog, sizeof wlog, "%s/%s-joiner.log", dir, name);
    pid_t joiner = start_worker("127.0.0.1", port, NULL, wlog);
    unsetenv("QS_FAULT");
    cr_assert_eq(wait_status(orch), 0);
    wait_status(stayer);
    wait_status(joiner);
    const char *why = su_same_results(ref, out);
    cr_assert_null(why, "%s", why);
}

/* [islands]: remote workers, one of them lost mid-task and another joining, compute the
 * islands' lives; the files are those of a local run. */
Test(remote, islands_on_remote_workers_match_a_local_run)
{
    char out[512], p[700];
    islands_with_workers_joining_and_leaving("ri", "", 500, out, sizeof out);
    snprintf(p, sizeof p, "%s/phylogeny.csv", out);
    cr_assert(su_file_contains(p, ",island,origin_island\n"), "an islands run");
}

/* [islands] hosting = workers on remote workers: the first to connect takes every island,
 * the others get islands at the next checkpoints; one leaves mid-run (its islands, if it
 * held some, restart on the others from the last checkpoint) and one joins later. The
 * files are those of the islands computed centrally by local workers. */
Test(remote, hosted_islands_on_remote_workers_that_join_and_leave)
{
    char out[512], p[700];
    islands_with_workers_joining_and_leaving("rh", "--set islands.hosting=workers", 700, out,
                                             sizeof out);
    snprintf(p, sizeof p, "%s/run.log", out);
    cr_assert(su_file_contains(p, "islands hosted by the workers"));
    cr_assert(su_file_contains(p, "moves from remote worker"), "a later worker got islands");
}
