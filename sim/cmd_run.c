/* cmd_run: `quinesim run`, the main job: a scenario file in, a run directory out. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/commands.h"
#include "sim/orchestrator.h"
#include "sim/scenario.h"

static void run_usage(FILE *to)
{
    fprintf(to, "usage: quinesim run SCENARIO.ini [options]\n\n"
                "Evolve the population a scenario describes; write a run directory.\n\n"
                "  --out DIR            run directory (default: runs/<run name>)\n"
                "  --force              replace the run already in --out\n"
                "  --workers N|auto     worker processes (default: [workers] count)\n"
                "  --set SEC.KEY=VALUE  override a scenario key (repeatable; species:\n"
                "                       species.NAME.key=value)\n"
                "  --dry-run            print the fully resolved scenario and exit\n"
                "  --keys               print every scenario key (default, range, meaning)\n"
                "  --quiet              no progress output\n"
                "  --progress lines     one line per generation even on a terminal\n"
                "  --listen HOST:PORT   accept remote workers (`quinesim worker --connect`);\n"
                "                       beyond loopback a --token-file is required\n"
                "  --token-file F       shared secret for remote workers' authentication\n"
                "  --help               this text\n\n"
                "On a terminal a status line shows generation, births/s, busy workers and ETA;\n"
                "otherwise one line per generation. Ctrl-C stops cleanly (twice: at once).\n");
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"force", no_argument, 0, 'f'},
                                         {"workers", required_argument, 0, 'w'},
                                         {"set", required_argument, 0, 's'},
                                         {"dry-run", no_argument, 0, 'n'},
                                         {"keys", no_argument, 0, 'k'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"progress", required_argument, 0, 'p'},
                                         {"worker-exe", required_argument, 0, 'x'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"token-file", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    qs_run_opts_t ro = {0};
    const char *sets[256];
    int nsets = 0, dry = 0, c;
    char out[QS_PATH_MAX] = "";
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:w:s:nqh", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            snprintf(out, sizeof out, "%s", optarg);
            break;
        case 'f':
            ro.force = 1;
            break;
        case 'w':
            if (!strcmp(optarg, "auto")) {
                ro.workers = 0;
            } else {
                char *end;
                long n = strtol(optarg, &end, 10);
                if (*end || n < 0 || n > 1024) {
                    fprintf(stderr, "quinesim run: --workers wants 0..1024 or auto, got '%s'\n",
                            optarg);
                    return 2;
                }
                ro.workers = (uint32_t)n;
                ro.workers_set = 1;
            }
            break;
        case 's':
            if (nsets == (int)QS_ARRAY_LEN(sets)) {
                fprintf(stderr, "quinesim run: too many --set options\n");
                return 2;
            }
            sets[nsets++] = optarg;
            break;
        case 'n':
            dry = 1;
            break;
        case 'k':
            qs_scenario_print_keys(stdout);
            return 0;
        case 'q':
            ro.progress = QS_PROGRESS_QUIET;
            break;
        case 'p':
            if (strcmp(optarg, "lines") != 0) {
                fprintf(stderr, "quinesim run: --progress takes 'lines'\n");
                return 2;
            }
            ro.progress = QS_PROGRESS_LINES;
            break;
        case 'x':
            ro.worker_exe = optarg;
            break;
        case 'h':
            run_usage(stdout);
            return 0;
        default:
            run_usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        run_usage(stderr);
        return 2;
    }
    if (ro.workers_set && ro.workers == 0 && !ro.listen) {
        fprintf(stderr, "quinesim run: --workers 0 (remote workers only) needs --listen\n");
        return 2;
    }
    if (ro.token_file && !ro.listen) {
        fprintf(stderr, "quinesim run: --token-file is for --listen\n");
        return 2;
    }
    qs_scenario_t *sc = xcalloc(1, sizeof *sc);
    qs_error_t err = {0};
    int status = 2;
    char *text = NULL;
    if (qs_scenario_load(sc, argv[optind], &err) < 0)
        goto fail;
    for (int i = 0; i < nsets; i++)
        if (qs_scenario_set(sc, sets[i], &err) < 0)
            goto fail;
    if (qs_scenario_validate(sc, &err) < 0)
        goto fail;
    text = qs_scenario_to_string(sc);
    if (dry) {
        fputs(text, stdout);
        status = 0;
        goto done;
    }
    if (!out[0])
        snprintf(out, sizeof out, "runs/%s", sc->name);
    ro.out_dir = out;
    status = qs_orchestrator_run(sc, text, &ro);
    goto done;
fail:
    fprintf(stderr, "quinesim run: %s\n", err.msg);
done:
    free(text);
    free(sc);
    return status;
}
