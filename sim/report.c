/* report: JSON lines, progress bar, data splits (see report.h). */
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

void qs_bar_init(qs_bar_t *p)
{
    p->tty = isatty(STDERR_FILENO);
    p->last = 0;
    p->drawn = 0;
}

void qs_bar_draw(qs_bar_t *p, uint64_t done, uint64_t total, const char *label)
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

void qs_bar_clear(qs_bar_t *p)
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
    return qs_dataset_load_first(ds, dir, split, limit, err);
}

int qs_genome_env_init(qs_genome_env_t *e, const qs_quine_spec_t *spec, const char *dir,
                       uint32_t test_count, qs_error_t *err)
{
    memset(e, 0, sizeof *e);
    const int aux = spec->kind == QS_KIND_AUX;
    qs_dataset_t train = {0};
    int have_train = 0;
    if (aux) {
        int rc = qs_load_split(&e->test_ds, dir, QS_SPLIT_TEST, test_count, err);
        if (rc < 0)
            return rc;
        if (spec->rest == QS_REST_MEAN) {
            qs_error_t ignored = {0};
            have_train = qs_dataset_load(&train, dir, QS_SPLIT_TRAIN, &ignored) == 0;
        }
    }
    qs_life_setup_t setup = {.train = !aux || spec->rest != QS_REST_MEAN ? NULL
                                      : have_train                       ? &train
                                                                         : &e->test_ds,
                             .fitness = aux ? &e->test_ds : NULL};
    int rc = qs_life_species_init(&e->life, spec, &setup, err);
    if (have_train)
        qs_dataset_destroy(&train); /* only its mean image was needed */
    if (rc < 0) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        qs_error_set(err, QS_ERR(INVAL), "%s: %s", dir, why);
        if (aux)
            qs_dataset_destroy(&e->test_ds);
        return QS_ERR(INVAL);
    }
    e->phys = e->life.phys;
    e->has_test = e->life.has_fitness;
    e->test = e->has_test ? &e->life.fitness : NULL;
    return 0;
}

void qs_genome_env_destroy(qs_genome_env_t *e)
{
    qs_life_species_destroy(&e->life);
    if (e->has_test)
        qs_dataset_destroy(&e->test_ds);
    memset(e, 0, sizeof *e);
}
