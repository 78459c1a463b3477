/* cmd_worker: `quinesim worker`, the compute server the orchestrator talks to.
 *
 *   quinesim worker --stdio                      local: started by `quinesim run`
 *   quinesim worker --connect HOST:PORT [--token-file F] [--retry-for S]
 *                   [--handshake-timeout S]
 *
 * A remote worker retries its connection with exponential backoff (0.2 s doubling to
 * 5 s) for --retry-for seconds, so it may be started before the orchestrator (mpirun,
 * srun); when a connection drops without a shutdown it reconnects the same way. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/cli.h"
#include "sim/auth.h"
#include "sim/commands.h"
#include "sim/worker.h"

static void worker_usage(FILE *to)
{
    fprintf(to, "usage: quinesim worker --stdio [--memory-mb N]\n"
                "       quinesim worker --connect HOST:PORT [--token-file F] [--retry-for S]\n"
                "                       [--handshake-timeout S] [--memory-mb N]\n\n"
                "Serve tasks for a run. --stdio: on stdin/stdout, as `quinesim run` starts it.\n"
                "--connect: join a run started with `quinesim run --listen HOST:PORT`.\n"
                "  --token-file F   shared secret (required when the run listens beyond loopback)\n"
                "  --retry-for S    keep trying to connect for S seconds (default 60)\n"
                "  --handshake-timeout S\n"
                "                   give up a connection whose handshake has not ended within\n"
                "                   S seconds (default 5; until then a message may hold at\n"
                "                   most 4 KiB); the attempt counts against --retry-for\n"
                "  --memory-mb N    limit the address space to N MiB (0: no limit)\n");
}

static int connect_once(const char *host, int port, char *why, size_t cap)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(why, cap, "%s", gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        snprintf(why, cap, "%s", strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

/* Connect, serve, reconnect. A connection whose handshake fails (silence past
 * --handshake-timeout, garbage, an oversized message) counts as a failed attempt: the
 * backoff continues, and --retry-for bounds the attempts; a connection that served the
 * run and was lost starts a new --retry-for period. */
static int serve_remote(const char *target, const qs_token_t *token, double retry_for,
                        qs_worker_opts_t *wo)
{
    qs_error_t err = {0};
    char host[256], why[sizeof err.msg] = "";
    int port;
    if (qs_parse_hostport(target, host, sizeof host, &port, &err) < 0) {
        fprintf(stderr, "quinesim worker: --connect %s\n", err.msg);
        return 2;
    }
    double deadline = qs_now() + retry_for, delay = 0.2;
    for (;;) {
        int fd = connect_once(host, port, why, sizeof why);
        if (fd >= 0) {
            if (!wo->quiet)
                fprintf(stderr, "quinesim worker: connected to %s:%d\n", host, port);
            wo->in_fd = wo->out_fd = fd;
            wo->tcp = 1;
            wo->token = token;
            qs_worker_end_t end = qs_worker_serve(wo, &err);
            close(fd);
            if (end == QS_WORKER_SHUTDOWN)
                return 0;
            if (end == QS_WORKER_REJECTED)
                return 1;
            if (end != QS_WORKER_NO_HANDSHAKE) {
                if (!wo->quiet)
                    fprintf(stderr, "quinesim worker: connection to %s:%d lost; reconnecting\n",
                            host, port);
                deadline = qs_now() + retry_for;
                delay = 0.2;
                continue;
            }
            snprintf(why, sizeof why, "%s", err.msg);
        }
        if (qs_now() + delay > deadline) {
            fprintf(stderr, "quinesim worker: cannot connect to %s:%d for %.0fs: %s\n", host, port,
                    retry_for, why);
            return 1;
        }
        struct timespec ts = {(time_t)delay, (long)((delay - (time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        delay = delay * 2 > 5 ? 5 : delay * 2;
    }
}

int cmd_worker(int argc, char **argv)
{
    static const struct option opts[] = {{"stdio", no_argument, 0, 's'},
                                         {"connect", required_argument, 0, 'c'},
                                         {"token-file", required_argument, 0, 't'},
                                         {"retry-for", required_argument, 0, 'r'},
                                         {"memory-mb", required_argument, 0, 'm'},
                                         {"handshake-timeout", required_argument, 0, 'H'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    qs_worker_opts_t wo = {.in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .handshake_s = 5};
    int stdio = 0, c;
    const char *connect_to = NULL, *token_file = NULL;
    double retry_for = 60;
    qs_error_t err = {0};
    int rc = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            stdio = 1;
            break;
        case 'c':
            connect_to = optarg;
            break;
        case 't':
            token_file = optarg;
            break;
        case 'r':
            rc = qs_parse_double("--retry-for", optarg, 0, 1e9, &retry_for, &err);
            break;
        case 'H':
            rc = qs_parse_double("--handshake-timeout", optarg, 0.05, 600, &wo.handshake_s, &err);
            break;
        case 'm':
            rc = qs_parse_u64("--memory-mb", optarg, 0, UINT64_C(1) << 40, &wo.memory_mb, &err);
            break;
        case 'q':
            wo.quiet = 1;
            break;
        case 'h':
            worker_usage(stdout);
            return 0;
        default: /* ':' or '?' */
            rc = qs_cli_opt_error(c, argc, argv, &err);
        }
        if (rc < 0)
            return qs_cli_usage_error("worker", "%s", err.msg);
    }
    if (optind != argc)
        return qs_cli_usage_error("worker", "unexpected argument '%s'", argv[optind]);
    if (stdio == !!connect_to)
        return qs_cli_usage_error("worker", "either --stdio or --connect HOST:PORT");
    if (connect_to) {
        qs_token_t *token = NULL;
        if (token_file) {
            token = xmalloc(sizeof *token);
            if (qs_token_load(token, token_file, &err) < 0) {
                fprintf(stderr, "quinesim worker: %s\n", err.msg);
                free(token);
                return 2;
            }
        }
        rc = serve_remote(connect_to, token, retry_for, &wo);
        free(token);
        return rc;
    }
    if (isatty(STDOUT_FILENO)) {
        fprintf(stderr, "quinesim worker: stdout is a terminal; workers are started by "
                        "`quinesim run`\n");
        return 2;
    }
    return qs_worker_serve(&wo, NULL) == QS_WORKER_ERROR ? 1 : 0;
}
