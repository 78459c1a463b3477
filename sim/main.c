/* main: the quinesim program. Dispatches to a subcommand, git style. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"

#include "sim/commands.h"

#define QS_VERSION "0.1.0"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command_t;

static const command_t commands[] = {
    {"run", cmd_run, "evolve a population described by a scenario file"},
    {"worker", cmd_worker, "serve tasks for a run (started by `run`)"},
    {"data", cmd_data, "import and check MNIST-format data sets"},
    {"train", cmd_train, "train one quine: the paper's single-network experiments"},
    {"repair", cmd_repair, "damage a genome and let it regenerate itself"},
    {"fertility", cmd_fertility, "follow a genome's lineage under pure regeneration"},
    {"inspect", cmd_inspect, "print a genome, lineage log, checkpoint or archive as JSON"},
    {"extract", cmd_extract, "write an organism of a run's genome archive as a genome file"},
    {"analyze", cmd_analyze, "offline analysis of runs: summary, phylogeny, Newick, plots"},
};

static void usage(FILE *to)
{
    fprintf(to, "usage: quinesim <command> [options]   (quinesim <command> --help for more)\n\n"
                "An evolutionary simulator for populations of self-replicating neural networks\n"
                "(neural network quines, Chang & Lipson 2018).\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %-9s %s\n", commands[i].name, commands[i].summary);
}

/* OpenBLAS reads its settings when the library loads, before main() runs. So, once,
 * quinesim sets them and executes itself again: OPENBLAS_NUM_THREADS=1 (parallelism comes
 * from worker processes; results must not depend on thread scheduling) and, when this
 * OpenBLAS does not know the CPU and fell back to generic kernels although the CPU has
 * AVX2 or AVX-512, the matching OPENBLAS_CORETYPE (5x faster small products). Whatever
 * the user set is left alone. */
static void blas_environment(char **argv)
{
    if (getenv("QS_BLAS_ENV_SET"))
        return;
    int change = 0;
    if (!getenv("OPENBLAS_NUM_THREADS")) {
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        change = 1;
    }
    const char *better = qs_blas_suggest_coretype();
    if (better && !getenv("OPENBLAS_CORETYPE")) {
        setenv("OPENBLAS_CORETYPE", better, 1);
        change = 1;
    }
    setenv("QS_BLAS_ENV_SET", "1", 1);
    if (!change)
        return;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    execv(exe, argv); /* on failure, carry on with the library as it is */
}

int main(int argc, char **argv)
{
    blas_environment(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("quinesim %s\n", QS_VERSION);
        return 0;
    }
    char *help_argv[] = {argv[argc > 2 ? 2 : 1], "--help", NULL};
    if (!strcmp(argv[1], "help") && argc > 2) { /* quinesim help CMD = quinesim CMD --help */
        argv = help_argv;
        argc = 2;
    } else if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    } else {
        argv++;
        argc--;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[0], commands[i].name))
            return commands[i].run(argc, argv);
    fprintf(stderr, "quinesim: unknown command '%s'\n(see quinesim --help)\n", argv[0]);
    return 2;
}
