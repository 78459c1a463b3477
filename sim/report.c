/* report: JSON lines, option numbers, progress bar, data splits (see report.h). */
#include "sim/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void qs_report_line_begin(qs_jw_t *j, FILE *f)
{
    qs_jw_init(j, f, 0);
    qs_jw_set_digits(j, 9, 9);
    qs_jw_begin_object(j);
}

void qs_report_line_end(qs_jw_t *j)
{
    qs_jw_end(j);
    qs_jw_newline(j);
    fflush(j->f);
}

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

void qs_progress_init(qs_progress_t *p)
{
    p->tty = isatty(STDERR_FILENO);
    p->last = 0;
    p->drawn = 0;
}

void qs_progress_draw(qs_progress_t *p, uint64_t done, uint64_t total, const char *label)
{
    if (!p->tty || total == 0)
        return;
    double now = qs_now();
    if (p->drawn && now - p->last < 0.1 && done < total)
        return;
    p->last = now;
    p->drawn = 1;
    const int width = 30;
    int fill = (int)((double)done / (double)total * width);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r%s [%s] %3d%%", label, bar, (int)(100.0 * done / total));
    fflush(stderr);
}

void qs_progress_clear(qs_progress_t *p)
{
    if (p->tty && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->drawn = 0;
    }
}

int qs_load_split(qs_dataset_t *ds, const char *dir, qs_split_t split, uint32_t limit,
                  qs_error_t *err)
{
    int rc = qs_dataset_load(ds, dir, split, err);
    if (rc < 0)
        return rc;
    if (limit && limit < ds->count)
        qs_dataset_truncate(ds, limit);
    return 0;
}
