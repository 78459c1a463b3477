/* cmd_repair: placeholder until the genome format lands (see proto/genome.h). */
#include <stdio.h>

#include "sim/commands.h"

int cmd_repair(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "quinesim repair: not available yet\n");
    return 2;
}
