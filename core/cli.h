/* cli: the conventions every quinesim command follows on its command line. Options are
 * parsed with getopt_long (opterr = 0 and a leading ':' in the short options, so that
 * the command words the error itself); option values are checked whole and in range; a
 * usage error is reported as "quinesim CMD: what is wrong" followed by one line
 * pointing at `quinesim CMD --help`, never the whole help, and exits with status 2. */
#ifndef QS_CLI_H
#define QS_CLI_H

#include <stdint.h>

#include "core/mm.h"
#include "core/util.h"

/* Exit status of a usage error (a bad option or argument). */
#define QS_CLI_USAGE 2

/* Option values: the whole string must be a number in range; 0 or QS_ERR(INVAL) with
 * a message naming the option. */
int qs_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out,
                 qs_error_t *err);
int qs_parse_double(const char *opt, const char *s, double min, double max, double *out,
                    qs_error_t *err);

/* getopt_long returned c, ':' (a value is missing) or '?' (an unknown or ambiguous
 * option, or a value given to an option that takes none): QS_ERR(INVAL), with err
 * naming the option as the user wrote it. Reads optind and optopt. */
int qs_cli_opt_error(int c, int argc, char *const *argv, qs_error_t *err);

/* --precision P: fp32 or bf16 (core/mm.h); 0 or QS_ERR(INVAL) naming the option. */
int qs_cli_parse_precision(const char *s, qs_precision_t *out, qs_error_t *err);
/* The precision the command runs at: p, or fp32 where the CPU has no native bf16, said
 * in one line on stderr: "quinesim CMD: --precision bf16 asked, but this CPU has no
 * native bf16 products (oneDNN ISA avx2; ...): running at fp32". */
qs_precision_t qs_cli_precision(const char *cmd, qs_precision_t p);

/* Print "quinesim CMD: MESSAGE" and "(see quinesim CMD --help)" on stderr; returns
 * QS_CLI_USAGE. cmd is the command's name ("run"). */
int qs_cli_usage_error(const char *cmd, const char *fmt, ...) QS_PRINTF(2, 3);

#endif
