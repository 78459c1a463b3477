/* genstats: one generation's means and best accuracy, finite values only (see genstats.h). */
#include "core/genstats.h"

#include <math.h>
#include <string.h>

void qs_genstats_init(qs_genstats_t *s)
{
    memset(s, 0, sizeof *s);
    s->best_accuracy = NAN;
}

void qs_genstats_mean_add(qs_genstats_mean_t *m, double v)
{
    if (isfinite(v)) {
        m->sum += v;
        m->n++;
    } else {
        m->nonfinite++;
    }
}

double qs_genstats_mean(const qs_genstats_mean_t *m)
{
    return m->n ? m->sum / m->n : NAN;
}

void qs_genstats_eval(qs_genstats_t *s, uint64_t id, double accuracy, double rel_err, double r2)
{
    qs_genstats_mean_add(&s->accuracy, accuracy);
    qs_genstats_mean_add(&s->rel_err, rel_err);
    qs_genstats_mean_add(&s->r2, r2);
    if (isfinite(accuracy) && !(s->best_accuracy >= accuracy)) {
        s->best_accuracy = accuracy;
        s->best_id = id;
    }
}

void qs_genstats_link(qs_genstats_t *s, double link_r2, double link_rel_err)
{
    qs_genstats_mean_add(&s->link_r2, link_r2);
    qs_genstats_mean_add(&s->link_rel_err, link_rel_err);
}
