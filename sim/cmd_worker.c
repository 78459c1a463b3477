/* cmd_worker: `quinesim worker`, the compute server the orchestrator talks to. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/commands.h"
#include "sim/worker.h"

static void worker_usage(FILE *to)
{
    fprintf(to, "usage: quinesim worker --stdio [--memory-mb N]\n\n"
                "Serve tasks on stdin/stdout (started by `quinesim run`; not for direct use).\n"
                "  --memory-mb N   limit the address space to N MiB (0: no limit)\n");
}

int cmd_worker(int argc, char **argv)
{
    static const struct option opts[] = {{"stdio", no_argument, 0, 's'},
                                         {"memory-mb", required_argument, 0, 'm'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    qs_worker_opts_t wo = {.in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO};
    int stdio = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            stdio = 1;
            break;
        case 'm':
            wo.memory_mb = strtoull(optarg, NULL, 10);
            break;
        case 'q':
            wo.quiet = 1;
            break;
        case 'h':
            worker_usage(stdout);
            return 0;
        default:
            worker_usage(stderr);
            return 2;
        }
    }
    if (!stdio || optind != argc) {
        worker_usage(stderr);
        return 2;
    }
    if (isatty(STDOUT_FILENO)) {
        fprintf(stderr, "quinesim worker: stdout is a terminal; workers are started by "
                        "`quinesim run`\n");
        return 2;
    }
    return qs_worker_serve(&wo);
}
