/* progress: the status line, events, the per-generation line and the final summary. */
#include "sim/progress.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void qs_progress_init(qs_progress_out_t *p, qs_progress_t mode)
{
    p->mode = mode;
    p->tty = mode == QS_PROGRESS_AUTO && isatty(STDERR_FILENO);
    p->status_len = 0;
    p->rd = NULL;
    p->tag = NULL;
    p->screen = NULL;
}

/* "[tag] " or "". */
static const char *tag_open(const qs_progress_out_t *p)
{
    return p->tag ? "[" : "";
}
static const char *tag_name(const qs_progress_out_t *p)
{
    return p->tag ? p->tag : "";
}
static const char *tag_close(const qs_progress_out_t *p)
{
    return p->tag ? "] " : "";
}
#define TAG(p) tag_open(p), tag_name(p), tag_close(p)

void qs_progress_clear(qs_progress_out_t *p)
{
    qs_progress_out_t *s = p->screen ? p->screen : p;
    if (s->tty && s->status_len) {
        fprintf(stderr, "\r\033[K");
        s->status_len = 0;
    }
}

void qs_progress_event(qs_progress_out_t *p, int loud, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->rd)
        qs_rundir_log(p->rd, "%s", msg);
    if (loud && p->mode != QS_PROGRESS_QUIET) {
        qs_progress_clear(p);
        fprintf(stderr, "quinesim: %s%s%s%s\n", TAG(p), msg);
    }
}

void qs_progress_fatal(qs_progress_out_t *p, const char *msg)
{
    if (p->rd)
        qs_rundir_log(p->rd, "fatal: %s", msg);
    qs_progress_clear(p);
    fprintf(stderr, "quinesim run: %s%s%s%s\n", TAG(p), msg);
}

static void format_duration(char *buf, size_t cap, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, cap, "?");
    else if (s < 60)
        snprintf(buf, cap, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else
        snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

void qs_progress_status(qs_progress_out_t *p, const qs_progress_status_t *s)
{
    if (!p->tty)
        return;
    char eta_s[32];
    format_duration(eta_s, sizeof eta_s, s->eta);
    char line[256], runs[48] = "";
    if (s->runs > 1)
        snprintf(runs, sizeof runs, "runs %u/%u  ", s->running, s->runs);
    int n = snprintf(line, sizeof line,
                     "%sgen %u (0..%u)  %u/%u tasks  births %" PRIu64 " (%.1f/s)  workers %u/%u "
                     "busy  ETA %s",
                     runs, s->generation, s->generations - 1, s->done, s->tasks, s->births,
                     s->elapsed > 0 ? s->births / s->elapsed : 0.0, s->busy, s->ready, eta_s);
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    p->status_len = (size_t)n;
}

void qs_progress_start(qs_progress_out_t *p, const char *name, uint32_t generations,
                       uint32_t population, uint32_t workers, const char *out_dir)
{
    if (p->mode == QS_PROGRESS_QUIET)
        return;
    printf("%s%s%srun %s: %u generations of up to %u organisms on %u workers -> %s\n", TAG(p), name,
           generations, population, workers, out_dir);
}

void qs_progress_generation(qs_progress_out_t *p, const qs_rec_generation_t *s,
                            uint32_t generations, double wall)
{
    if (p->mode == QS_PROGRESS_QUIET)
        return;
    qs_progress_clear(p);
    char acc[64] = "", link[48] = "";
    if (isfinite(s->best_accuracy))
        snprintf(acc, sizeof acc, "  acc best %.4f mean %.4f", s->best_accuracy, s->mean_accuracy);
    if (isfinite(s->mean_link_r2))
        snprintf(link, sizeof link, "  link R2 %.3f", s->mean_link_r2);
    /* Generations are numbered from 0 everywhere (CSVs, run.log, analyze, genome files);
     * "(0..G-1)" says how far the run goes. */
    printf("%s%s%sgen %u (0..%u)%s  self R2 %.3f rel_err %.3f%s  pop %u  %s %u  deaths %u  %.1fs\n",
           TAG(p), s->generation, generations - 1, acc, s->mean_r2, s->mean_rel_err, link,
           s->population, s->generation ? "births" : "founders", s->births, s->deaths, wall);
    fflush(stdout);
}

void qs_progress_final(qs_progress_out_t *p, const char *reason, uint32_t generations,
                       uint64_t founders, uint64_t births, double wall, const qs_population_t *pop,
                       const char *species, const char *held)
{
    if (p->mode == QS_PROGRESS_QUIET)
        return;
    qs_progress_clear(p);
    printf("%s%s%s%s: %u generations, %" PRIu64 " founders and %" PRIu64
           " births in %.1fs (%.2f births/s)\n",
           TAG(p), reason, generations, founders, births, wall, wall > 0 ? births / wall : 0.0);
    if (pop) {
        const qs_org_t *b = &pop->best;
        printf("%s%s%sbest: organism %" PRIu64 " (%s, born in generation %u), in generation %u: "
               "fitness %.4f, accuracy %.4f, self-prediction R2 %.4f%s\n",
               TAG(p), b->id, species, b->born, pop->best_generation, b->fitness, b->accuracy,
               b->fidelity.r2, held);
        qs_progress_event(p, 0, "best organism %" PRIu64 ": fitness %.4f%s", b->id, b->fitness,
                          held);
    }
    if (p->rd)
        printf("%s%s%srun directory: %s\n", TAG(p), p->rd->dir);
    fflush(stdout);
}
