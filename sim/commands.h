/* commands: the subcommands of the quinesim program, one file each (sim/cmd_*.c,
 * analysis/cmd_analyze.c). Each takes the arguments after its own name (argv[0] is the
 * subcommand) and returns the process exit status. */
#ifndef QS_COMMANDS_H
#define QS_COMMANDS_H

int cmd_data(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_repair(int argc, char **argv);
int cmd_fertility(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_analyze(int argc, char **argv);

#endif
