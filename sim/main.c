/* main: the quinesim program. Dispatches to a subcommand, git style. */
#include <stdio.h>
#include <string.h>

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

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("quinesim %s\n", QS_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "quinesim: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
