/* cmd_run: `quinesim run`, the main job: a scenario file in, a run directory out. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"
#include "proto/checkpoint.h"
#include "sim/archiver.h"
#include "sim/commands.h"
#include "sim/orchestrator.h"
#include "sim/population.h"
#include "sim/resources.h"
#include "sim/runset.h"
#include "sim/scenario.h"

static void run_usage(FILE *to)
{
    fprintf(to,
            "usage: quinesim run SCENARIO.ini [options]\n"
            "       quinesim run SCENARIO.ini --seeds 1-5 [--sweep S.K=V1,V2,...] [options]\n"
            "       quinesim run --resume RUN_DIR [SCENARIO.ini] [options]\n\n"
            "Evolve the population a scenario describes; write a run directory.\n\n"
            "  --out DIR            run directory (default: runs/<run name>)\n"
            "  --force              replace the run already in --out\n"
            "  --workers N|auto     worker processes (default: [workers] count)\n"
            "  --data DIR           MNIST-format data folder: the same as --set\n"
            "                       data.path=DIR (a relative path is read from the\n"
            "                       current folder, like the scenario's [data] path)\n"
            "  --set SEC.KEY=VALUE  override a scenario key (repeatable; species:\n"
            "                       species.NAME.key=value)\n"
            "  --dry-run            print the fully resolved scenario, its costs and the memory\n"
            "                       it needs, check that memory, and exit\n"
            "  --keys               print every scenario key (default, range, meaning)\n"
            "  --quiet              no progress output\n"
            "  --progress lines     one line per generation even on a terminal\n"
            "  --listen HOST:PORT   accept remote workers (`quinesim worker --connect`);\n"
            "                       beyond loopback a --token-file is required\n"
            "  --token-file F       shared secret for remote workers' authentication\n"
            "  --resume RUN_DIR     continue a stopped run from its last checkpoint\n"
            "  --allow-changes K,.. accept these changed keys on --resume (e.g.\n"
            "                       run.generations); seed, data sizes, replication input\n"
            "                       and species can never change\n"
            "  --seeds LIST         replicates: one run per seed (1-5, 1,3,7), under --out\n"
            "  --sweep S.K=V1,V2,.. one run per value (repeatable: a grid of every\n"
            "                       combination); with --seeds, per value and seed. The\n"
            "                       runs share one pool of workers; a subfolder per run\n"
            "                       (seed-3, life.steps=100,seed-2) under --out; a table\n"
            "                       at the end; --resume OUT continues them all\n"
            "  --help               this text\n\n"
            "On a terminal a status line shows generation, births/s, busy workers and ETA;\n"
            "otherwise one line per generation. Ctrl-C stops cleanly (twice: at once).\n");
}

static int resume_run(qs_run_opts_t *ro, const char *scenario_path, const char **sets, int nsets,
                      const char *allow, int dry)
{
    if (!scenario_path && qs_runset_is_parent(ro->resume)) /* a set's parent folder */
        return qs_runset_resume(ro->resume, sets, nsets, allow, ro, dry);
    qs_checkpoint_t ck;
    qs_scenario_t *sc = xcalloc(1, sizeof *sc);
    char *text = NULL;
    int status =
        qs_runset_load_resume(ro->resume, scenario_path, sets, nsets, allow, sc, &text, &ck);
    if (status != -1) {
        free(sc);
        return status;
    }
    if (dry)
        fputs(text, stdout);
    const qs_scenario_t *one = sc;
    if ((status = qs_runset_check_resources(&one, 1, ro, dry)) == 0 && !dry) {
        ro->out_dir = ro->resume;
        status = qs_orchestrator_run(sc, text, ro, &ck);
    }
    qs_checkpoint_destroy(&ck);
    free(text);
    free(sc);
    return status;
}

/* What each species costs, for designing budgets (comments: the output stays valid INI). */
static void print_costs(const qs_scenario_t *sc)
{
    qs_species_cost_t cost[QS_MAX_SPECIES];
    qs_population_costs(sc, cost);
    printf("\n; costs per organism (FLOPs, core/quine.c's convention):\n");
    for (uint32_t s = 0; s < sc->nspecies; s++)
        printf(";   %-12s N = %llu, training step %.4g, %u steps %.4g, replication %.4g, "
               "evaluation %.4g\n",
               sc->species[s].name, (unsigned long long)cost[s].nparams, (double)cost[s].step_flops,
               sc->steps, (double)cost[s].step_flops * sc->steps, (double)cost[s].replication_flops,
               (double)cost[s].eval_flops);
    if (sc->islands > 1) { /* the largest island's shares come first, the smallest last */
        uint32_t n = sc->islands;
        uint64_t founders = 0;
        for (uint32_t s = 0; s < sc->nspecies; s++)
            founders += sc->species[s].count;
        static const char *const topo[] = {"ring", "full", "random"};
        printf("; islands: %u, %s (each sends %u to each of %u, every %u generations); per "
               "island: places %llu..%llu, founders %llu..%llu",
               n, topo[sc->topology], sc->migrants, qs_scenario_in_degree(sc), sc->interval,
               (unsigned long long)qs_scenario_share(sc, n - 1, sc->population),
               (unsigned long long)qs_scenario_share(sc, 0, sc->population),
               (unsigned long long)qs_scenario_share(sc, n - 1, founders),
               (unsigned long long)qs_scenario_share(sc, 0, founders));
        int split = sc->budget_share == QS_SHARE_SPLIT;
        if (sc->flops_per_generation)
            printf(", FLOPs per generation %.4g (%s)",
                   (double)(split ? qs_scenario_share(sc, 0, sc->flops_per_generation)
                                  : sc->flops_per_generation),
                   split ? "split" : "each");
        split = sc->capacity_share == QS_SHARE_SPLIT;
        if (sc->max_params)
            printf(", capacity %llu parameters (%s)",
                   (unsigned long long)(split ? qs_scenario_share(sc, 0, sc->max_params)
                                              : sc->max_params),
                   split ? "split" : "each");
        printf("\n");
    }
    qs_archiver_estimate_t est;
    qs_archiver_estimate(sc, &est);
    if (sc->archive == QS_ARCHIVE_NONE) {
        printf("; archive: none (set [run] archive = best | survivors | all to keep genomes)\n");
        return;
    }
    printf("; archive (" QS_ARCHIVE_FILE "): %s of %u of %u generations: at most %llu genomes, "
           "%llu bytes (%.1f MB; %llu bytes per genome)\n",
           qs_archive_mode_name(sc->archive), est.generations, sc->generations,
           (unsigned long long)est.entries, (unsigned long long)est.bytes, (double)est.bytes / 1e6,
           (unsigned long long)est.entry_bytes);
}

/* What `run` was asked. */
typedef struct {
    qs_run_opts_t ro;
    const char *sets[256]; /* --set and --data, in order */
    int nsets, dry;
    const char *seeds;      /* --seeds (NULL: none) */
    const char *sweeps[16]; /* --sweep, in order */
    int nsweeps;
    const char *allow;
    char out[QS_PATH_MAX], data_set[QS_PATH_MAX + 16];
    const char *scenario; /* NULL: none given (--resume reads the run's own) */
} run_args_t;

/* Parse the options into a: -1 to go on, else the exit status (--help, --keys, a usage
 * error). */
static int parse_args(int argc, char **argv, run_args_t *a)
{
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"force", no_argument, 0, 'f'},
                                         {"workers", required_argument, 0, 'w'},
                                         {"set", required_argument, 0, 's'},
                                         {"data", required_argument, 0, 'D'},
                                         {"dry-run", no_argument, 0, 'n'},
                                         {"keys", no_argument, 0, 'k'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"progress", required_argument, 0, 'p'},
                                         {"worker-exe", required_argument, 0, 'x'},
                                         {"echo-tasks", no_argument, 0, 'E'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"token-file", required_argument, 0, 't'},
                                         {"resume", required_argument, 0, 'R'},
                                         {"allow-changes", required_argument, 0, 'A'},
                                         {"seeds", required_argument, 0, 'S'},
                                         {"sweep", required_argument, 0, 'W'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    qs_error_t err = {0};
    int c;
    memset(a, 0, sizeof *a);
    a->allow = "";
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:w:s:nqh", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            snprintf(a->out, sizeof a->out, "%s", optarg);
            break;
        case 'f':
            a->ro.force = 1;
            break;
        case 'w':
            if (!strcmp(optarg, "auto")) {
                a->ro.workers = 0;
            } else {
                char *end;
                long n = strtol(optarg, &end, 10);
                if (!*optarg || *end || n < 0 || n > 1024)
                    return qs_cli_usage_error("run", "--workers wants 0..1024 or auto, got '%s'",
                                              optarg);
                a->ro.workers = (uint32_t)n;
                a->ro.workers_set = 1;
            }
            break;
        case 's':
            if (a->nsets == (int)QS_ARRAY_LEN(a->sets))
                return qs_cli_usage_error("run", "too many --set options");
            a->sets[a->nsets++] = optarg;
            break;
        case 'D': /* after the scenario's keys and before later --set options, in order */
            if (a->nsets == (int)QS_ARRAY_LEN(a->sets))
                return qs_cli_usage_error("run", "too many --set options");
            snprintf(a->data_set, sizeof a->data_set, "data.path=%s", optarg);
            a->sets[a->nsets++] = a->data_set;
            break;
        case 'n':
            a->dry = 1;
            break;
        case 'k':
            qs_scenario_print_keys(stdout);
            return 0;
        case 'q':
            a->ro.progress = QS_PROGRESS_QUIET;
            break;
        case 'p':
            if (strcmp(optarg, "lines") != 0)
                return qs_cli_usage_error("run", "--progress takes 'lines'");
            a->ro.progress = QS_PROGRESS_LINES;
            break;
        case 'x':
            a->ro.worker_exe = optarg;
            break;
        case 'l':
            a->ro.listen = optarg;
            break;
        case 't':
            a->ro.token_file = optarg;
            break;
        case 'E':
            a->ro.echo_tasks = 1;
            break;
        case 'R':
            a->ro.resume = optarg;
            break;
        case 'A':
            a->allow = optarg;
            break;
        case 'S':
            a->seeds = optarg;
            break;
        case 'W':
            if (a->nsweeps == (int)QS_ARRAY_LEN(a->sweeps))
                return qs_cli_usage_error("run", "at most %d --sweep options",
                                          (int)QS_ARRAY_LEN(a->sweeps));
            a->sweeps[a->nsweeps++] = optarg;
            break;
        case 'h':
            run_usage(stdout);
            return 0;
        default: /* ':' or '?' */
            qs_cli_opt_error(c, argc, argv, &err);
            return qs_cli_usage_error("run", "%s", err.msg);
        }
    }
    if (!a->ro.resume && optind == argc)
        return qs_cli_usage_error("run", "which scenario? (quinesim run SCENARIO.ini ...)");
    if (optind < argc - 1)
        return qs_cli_usage_error("run", "unexpected argument '%s'", argv[optind + 1]);
    if (a->ro.workers_set && a->ro.workers == 0 && !a->ro.listen)
        return qs_cli_usage_error("run", "--workers 0 (remote workers only) needs --listen");
    if (a->ro.token_file && !a->ro.listen)
        return qs_cli_usage_error("run", "--token-file is for --listen");
    if (a->ro.resume && (a->seeds || a->nsweeps))
        return qs_cli_usage_error("run", "--seeds and --sweep start new runs; --resume of their "
                                         "parent folder continues them");
    a->scenario = optind < argc ? argv[optind] : NULL;
    return -1;
}

int cmd_run(int argc, char **argv)
{
    run_args_t a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (a.ro.resume)
        return resume_run(&a.ro, a.scenario, a.sets, a.nsets, a.allow, a.dry);
    if (a.seeds || a.nsweeps) {
        qs_runset_args_t ra = {.scenario = a.scenario,
                               .sets = a.sets,
                               .nsets = a.nsets,
                               .seeds = a.seeds,
                               .sweeps = a.sweeps,
                               .nsweeps = a.nsweeps,
                               .out = a.out,
                               .dry = a.dry};
        return qs_runset_run(&ra, &a.ro);
    }
    qs_scenario_t *sc = xcalloc(1, sizeof *sc);
    qs_error_t err = {0};
    int status = 2;
    char *text = NULL;
    if (qs_scenario_load(sc, a.scenario, &err) < 0)
        goto fail;
    for (int i = 0; i < a.nsets; i++)
        if (qs_scenario_set(sc, a.sets[i], &err) < 0)
            goto fail;
    if (qs_scenario_validate(sc, &err) < 0)
        goto fail;
    if (!a.out[0] && !sc->name[0]) {
        /* runs/ itself would be the run folder (a scenario file named .ini, or --set
         * run.name=); the scenario's checks keep any other name to one folder name */
        qs_error_set(&err, QS_ERR(INVAL),
                     "%s: [run] name is empty, so the run has no folder in runs/: name it, or "
                     "choose where it goes with --out",
                     sc->path[0] ? sc->path : a.scenario);
        goto fail;
    }
    text = qs_scenario_to_string(sc);
    if (a.dry) {
        fputs(text, stdout);
        print_costs(sc);
    }
    const qs_scenario_t *one = sc;
    if ((status = qs_runset_check_resources(&one, 1, &a.ro, a.dry)) != 0 || a.dry)
        goto done;
    status = 2;
    if (!a.out[0])
        snprintf(a.out, sizeof a.out, "runs/%s", sc->name);
    a.ro.out_dir = a.out;
    status = qs_orchestrator_run(sc, text, &a.ro, NULL);
    goto done;
fail:
    fprintf(stderr, "quinesim run: %s\n", err.msg);
done:
    free(text);
    free(sc);
    return status;
}
