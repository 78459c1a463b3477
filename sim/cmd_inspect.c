/* cmd_inspect: `quinesim inspect FILE [--weights]`, any quinesim file as readable JSON.
 *
 * The file's type comes from its content (proto/inspect.h): a genome prints as one JSON
 * object with its weights summarised (every weight with --weights); a lineage log as
 * JSON Lines, one object per record (pandas: read_json(path, lines=True)). Exit status 0
 * when the whole file was printed, 1 for an unreadable, unknown or corrupt file (a
 * lineage log's readable records are still printed, its problems reported on stderr), 2
 * for a usage error. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/cli.h"
#include "proto/inspect.h"
#include "sim/commands.h"

static void inspect_usage(FILE *to)
{
    size_t n;
    const qs_inspect_format_t *f = qs_inspect_formats(&n);
    fprintf(to, "usage: quinesim inspect FILE [--weights]\n\n"
                "Print a quinesim file as JSON: a genome (one object, weights summarised as\n"
                "count, mean, std, min, max and checksum; --weights adds every value) or a\n"
                "lineage log or genome archive (one JSON object per record and per line).\n\nknown "
                "formats:");
    for (size_t i = 0; i < n; i++)
        fprintf(to, " %s", f[i].format);
    fputc('\n', to);
}

int cmd_inspect(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"weights", no_argument, 0, 'w'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    qs_inspect_opts_t opts = {0};
    qs_error_t err = {0, ""};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":wh", longopts, NULL)) != -1) {
        switch (c) {
        case 'w':
            opts.weights = 1;
            break;
        case 'h':
            inspect_usage(stdout);
            return 0;
        default: /* ':' or '?' */
            qs_cli_opt_error(c, argc, argv, &err);
            return qs_cli_usage_error("inspect", "%s", err.msg);
        }
    }
    if (optind == argc)
        return qs_cli_usage_error("inspect", "which file? (quinesim inspect FILE [--weights])");
    if (argc - optind > 1)
        return qs_cli_usage_error("inspect", "unexpected argument '%s'", argv[optind + 1]);
    int rc = qs_inspect_file(argv[optind], &opts, stdout, stderr, &err);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "quinesim inspect: cannot write the output\n");
        return 1;
    }
    if (rc < 0) {
        fprintf(stderr, "quinesim inspect: %s\n", err.msg);
        return 1;
    }
    return 0;
}
