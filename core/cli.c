/* cli: option values, getopt errors and the usage-error line (see cli.h). */
#include "core/cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int qs_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out,
                 qs_error_t *err)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+')
        goto bad;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        goto bad;
    *out = v;
    return 0;
bad:
    return qs_error_set(err, QS_ERR(INVAL), "%s: '%s' is not an integer in %llu..%llu", opt,
                        s ? s : "", (unsigned long long)min, (unsigned long long)max);
}

int qs_parse_double(const char *opt, const char *s, double min, double max, double *out,
                    qs_error_t *err)
{
    char *end;
    errno = 0;
    if (!s || !*s)
        goto bad;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < min || v > max)
        goto bad;
    *out = v;
    return 0;
bad:
    return qs_error_set(err, QS_ERR(INVAL), "%s: '%s' is not a number in [%g, %g]", opt, s ? s : "",
                        min, max);
}

int qs_cli_parse_precision(const char *s, qs_precision_t *out, qs_error_t *err)
{
    if (qs_precision_parse(s, out) < 0)
        return qs_error_set(err, QS_ERR(INVAL), "--precision: '%s' is not fp32 or bf16", s);
    return 0;
}

qs_precision_t qs_cli_precision(const char *cmd, qs_precision_t p)
{
    char why[160];
    qs_precision_t used = qs_mm_effective(p, why, sizeof why);
    if (used != p)
        fprintf(stderr, "quinesim %s: --precision %s asked, but %s: running at %s\n", cmd,
                qs_precision_name(p), why, qs_precision_name(used));
    return used;
}

int qs_cli_opt_error(int c, int argc, char *const *argv, qs_error_t *err)
{
    /* The word getopt stopped at: the option itself, unless it was a short one in a
     * bundle ("-wz"), which optopt names. */
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    const int is_long = !strncmp(arg, "--", 2);
    if (c == ':')
        return qs_error_set(err, QS_ERR(INVAL), "%s needs a value", arg);
    if (!is_long && optopt > 0 && optopt < 128 && isprint(optopt))
        return qs_error_set(err, QS_ERR(INVAL), "unknown option '-%c'", optopt);
    const char *eq = strchr(arg, '=');
    if (is_long && eq && optopt != 0)
        return qs_error_set(err, QS_ERR(INVAL), "%.*s takes no value", (int)(eq - arg), arg);
    return qs_error_set(err, QS_ERR(INVAL), "unknown option '%.*s'",
                        (int)(eq ? eq - arg : (ptrdiff_t)strlen(arg)), arg);
}

int qs_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "quinesim %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see quinesim %s --help)\n", cmd);
    va_end(ap);
    return QS_CLI_USAGE;
}
