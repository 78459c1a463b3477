/* summary: computing a run's summary and printing it as text, JSON or a comparison. */
#include "analysis/summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/export.h"
#include "analysis/tree.h"

/* ---- computing -------------------------------------------------------------------------- */

static void trend_add(qs_trend_t *t, double v, uint32_t g, int lower_is_better)
{
    if (!isfinite(v))
        return;
    if (!t->present) {
        t->present = 1;
        t->first = t->best = v;
        t->first_gen = t->best_gen = g;
    } else if (lower_is_better ? v < t->best : v > t->best) {
        t->best = v;
        t->best_gen = g;
    }
    t->last = v;
    t->last_gen = g;
}

static double mean_of(double sum, uint32_t n)
{
    return n ? sum / n : NAN;
}

static const char *base_name(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    const char *p = path + n;
    while (p > path && p[-1] != '/')
        p--;
    return p;
}

void qs_summary_compute(qs_summary_t *s, const qs_history_t *h, const char *path,
                        const qs_logread_stats_t *read)
{
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    if (read)
        s->read = *read;
    s->has_header = h->has_header;
    snprintf(s->run_name, sizeof s->run_name, "%s", h->has_header ? h->run_name : "");
    if (h->has_header && h->run_name[0]) {
        snprintf(s->label, sizeof s->label, "%s", h->run_name);
    } else {
        const char *b = base_name(path);
        size_t n = strcspn(b, "/");
        snprintf(s->label, sizeof s->label, "%.*s", (int)QS_MIN(n, sizeof s->label - 1), b);
    }
    s->seed = h->seed;
    s->complete = h->has_end;
    snprintf(s->end_reason, sizeof s->end_reason, "%s", h->has_end ? h->end_reason : "");
    s->generations = h->ngens;
    s->planned_generations = h->planned_generations;
    s->fitness = qs_fitness_name(h->fitness);

    /* Organisms and species. */
    s->organisms = h->norgs;
    s->founders = h->founders;
    s->births = h->norgs - h->founders;
    uint32_t nsp = h->nspecies;
    for (uint32_t i = 0; i < h->norgs; i++)
        nsp = QS_MAX(nsp, (uint32_t)h->orgs[i].species + 1);
    s->nspecies = nsp;
    char sbuf[32];
    for (uint32_t k = 0; k < nsp; k++) {
        qs_species_out_t *sp = &s->species[k];
        snprintf(sp->name, sizeof sp->name, "%s", qs_history_species(h, k, sbuf, sizeof sbuf));
        sp->params = k < h->nspecies ? h->species_params[k] : 0;
        sp->best_accuracy = h->species_best_accuracy[k];
        for (uint32_t g = 0; g < h->ngens; g++)
            if (h->gens[g].species_count[k] > sp->peak) {
                sp->peak = h->gens[g].species_count[k];
                sp->peak_gen = g;
            }
    }
    for (uint32_t i = 0; i < h->norgs; i++) {
        const qs_horg_t *o = &h->orgs[i];
        qs_species_out_t *sp = &s->species[o->species];
        sp->births++;
        sp->founders += o->parent_id == 0;
        s->deaths_by_cause[o->cause]++;
        if (qs_history_survivor(h, i)) {
            s->alive_at_end++;
            sp->alive_at_end++;
        } else if (!sp->extinct || o->died > sp->extinct_gen) {
            sp->extinct = 1; /* provisional: cleared below when any is alive */
            sp->extinct_gen = o->died;
        }
    }
    for (uint32_t k = 0; k < nsp; k++)
        if (s->species[k].alive_at_end > 0 || s->species[k].births == 0)
            s->species[k].extinct = 0;
    s->deaths = s->deaths_by_cause[QS_DEATH_SELECTION] + s->deaths_by_cause[QS_DEATH_CAPACITY] +
                s->deaths_by_cause[QS_DEATH_BUDGET];

    /* The best organism and its line. */
    s->has_best = h->has_best;
    if (h->has_best) {
        s->best_id = h->best_id;
        s->best_generation = h->best_generation;
        s->best_fitness = h->best_fitness;
        s->best_accuracy = h->best_accuracy;
        s->best_r2 = h->best_r2;
        uint32_t i = qs_history_find(h, h->best_id);
        if (i != QS_NONE) {
            s->best_species = h->orgs[i].species;
            s->best_born = h->orgs[i].born;
            uint32_t v = i, depth = 0;
            while (h->orgs[v].parent != QS_NONE) {
                v = h->orgs[v].parent;
                depth++;
            }
            s->best_depth = depth;
            s->best_founder = h->orgs[v].id;
        }
    }

    /* Trends. */
    for (uint32_t g = 0; g < h->ngens; g++) {
        const qs_hgen_t *gg = &h->gens[g];
        trend_add(&s->best_accuracy_trend, gg->st.best_accuracy, g, 0);
        trend_add(&s->mean_accuracy_trend, mean_of(gg->st.accuracy.sum, gg->st.accuracy.n), g, 0);
        trend_add(&s->mean_r2_trend, mean_of(gg->st.r2.sum, gg->st.r2.n), g, 0);
        trend_add(&s->mean_rel_err_trend, mean_of(gg->st.rel_err.sum, gg->st.rel_err.n), g, 1);
        trend_add(&s->mean_link_r2_trend, mean_of(gg->st.link_r2.sum, gg->st.link_r2.n), g, 0);
    }
    s->flops = h->flops;
    s->wall_seconds = h->wall_seconds;
    s->max_workers = h->max_workers;

    /* The survivors' most recent common ancestor. */
    if (h->norgs > 0) {
        uint32_t *parent, nsurv;
        qs_export_tree_arrays(h, &parent, NULL, NULL);
        uint8_t *surv = qs_export_survivors(h, &nsurv);
        uint32_t m = qs_tree_mrca(h->norgs, parent, surv, &s->mrca_roots);
        if (m != QS_TREE_NONE) {
            s->has_mrca = 1;
            s->mrca_id = h->orgs[m].id;
            s->mrca_born = h->orgs[m].born;
            s->mrca_species = h->orgs[m].species;
            uint32_t last = qs_history_last_generation(h);
            s->mrca_back = last != QS_NONE && last >= s->mrca_born ? last - s->mrca_born : 0;
        }
        free(parent);
        free(surv);
    }
    s->anomalies = h->anomalies;
    s->lost_parents = h->lost_parents;
    s->summary_mismatch = h->summary_mismatch;
    snprintf(s->first_anomaly, sizeof s->first_anomaly, "%s", h->first_anomaly);
}

/* ---- text ------------------------------------------------------------------------------- */

static const char *num(char *buf, size_t cap, double v, int prec)
{
    if (!isfinite(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.*f", prec, v);
    return buf;
}

static void print_trend(FILE *out, const char *name, const qs_trend_t *t)
{
    if (!t->present) {
        fprintf(out, "  %-30s -\n", name);
        return;
    }
    fprintf(out, "  %-30s %9.4f at g%-5u %9.4f at g%-5u %9.4f at g%u\n", name, t->first,
            t->first_gen, t->last, t->last_gen, t->best, t->best_gen);
}

static void print_status(const qs_summary_t *s, FILE *out)
{
    if (s->complete)
        fprintf(out, "  status:      %s after %u generation%s", s->end_reason, s->generations,
                s->generations == 1 ? "" : "s");
    else
        fprintf(out, "  status:      incomplete (no end record): the log stops in generation %u",
                s->generations ? s->generations - 1 : 0);
    if (s->planned_generations)
        fprintf(out, " (%u planned)", s->planned_generations);
    fputc('\n', out);
}

static void print_read(const qs_summary_t *s, FILE *out)
{
    const qs_logread_stats_t *r = &s->read;
    fprintf(out, "  read:        %llu records, %llu bytes", (unsigned long long)r->records,
            (unsigned long long)r->good_bytes);
    if (r->skipped_bytes == 0) {
        fputs(" (the whole file)\n", out);
        return;
    }
    fprintf(out, "; skipped %llu bytes in %u region%s:\n", (unsigned long long)r->skipped_bytes,
            r->nskips_total, r->nskips_total == 1 ? "" : "s");
    for (uint32_t k = 0; k < r->nskips; k++)
        fprintf(out, "               %s: bytes %llu..%llu (%llu bytes): %s\n",
                qs_skip_kind_name(r->skips[k].kind), (unsigned long long)r->skips[k].offset,
                (unsigned long long)(r->skips[k].offset + r->skips[k].length),
                (unsigned long long)r->skips[k].length, r->skips[k].why);
    if (r->nskips_total > r->nskips)
        fprintf(out, "               ... and %u more\n", r->nskips_total - r->nskips);
}

void qs_summary_print(const qs_summary_t *s, FILE *out)
{
    char a[32], b[32], c[32];
    fprintf(out, "run %s", s->label);
    if (s->has_header)
        fprintf(out, " (seed %llu)", (unsigned long long)s->seed);
    fprintf(out, ": %s\n", s->path);
    print_read(s, out);
    print_status(s, out);
    fprintf(out, "  selection:   by %s\n", s->fitness);

    fprintf(out, "organisms: %llu (%llu founders, %llu births)\n", (unsigned long long)s->organisms,
            (unsigned long long)s->founders, (unsigned long long)s->births);
    fprintf(out, "  deaths:      %llu (selection %llu, capacity %llu, budget %llu)\n",
            (unsigned long long)s->deaths,
            (unsigned long long)s->deaths_by_cause[QS_DEATH_SELECTION],
            (unsigned long long)s->deaths_by_cause[QS_DEATH_CAPACITY],
            (unsigned long long)s->deaths_by_cause[QS_DEATH_BUDGET]);
    if (s->complete)
        fprintf(out, "  alive at the end: %llu\n", (unsigned long long)s->alive_at_end);
    else /* a generation's births are logged with it: the next one's are not there yet */
        fprintf(out, "  alive when the log stops: %llu (without a death record)\n",
                (unsigned long long)s->alive_at_end);

    fputs("species:\n", out);
    for (uint32_t k = 0; k < s->nspecies; k++) {
        const qs_species_out_t *sp = &s->species[k];
        fprintf(out,
                "  %-12s %8llu params  founders %llu  births %llu  peak %u (g%u)  best acc %s  ",
                sp->name, (unsigned long long)sp->params, (unsigned long long)sp->founders,
                (unsigned long long)(sp->births - sp->founders), sp->peak, sp->peak_gen,
                num(a, sizeof a, sp->best_accuracy, 4));
        if (sp->extinct)
            fprintf(out, "extinct in generation %u\n", sp->extinct_gen);
        else if (sp->births == 0)
            fputs("never present\n", out);
        else
            fprintf(out, "%u alive at the end\n", sp->alive_at_end);
    }
    fputs("extinctions: ", out);
    int any = 0;
    for (uint32_t k = 0; k < s->nspecies; k++)
        if (s->species[k].extinct) {
            fprintf(out, "%s%s in generation %u", any ? ", " : "", s->species[k].name,
                    s->species[k].extinct_gen);
            any = 1;
        }
    fputs(any ? "\n" : "none\n", out);

    if (s->has_best) {
        fprintf(out,
                "best organism: %llu (%s), fitness %s (%s) in generation %u; accuracy %s, "
                "self-prediction R2 %s\n",
                (unsigned long long)s->best_id, s->species[s->best_species].name,
                num(a, sizeof a, s->best_fitness, 4), s->fitness, s->best_generation,
                num(b, sizeof b, s->best_accuracy, 4), num(c, sizeof c, s->best_r2, 4));
        fprintf(out, "  ancestry:    born in generation %u, %u link%s from founder %llu\n",
                s->best_born, s->best_depth, s->best_depth == 1 ? "" : "s",
                (unsigned long long)s->best_founder);
    } else {
        fputs("best organism: none evaluated\n", out);
    }

    fprintf(out, "trends (per generation)          %-18s %-18s %s\n", "first", "last", "best");
    print_trend(out, "best accuracy", &s->best_accuracy_trend);
    print_trend(out, "mean accuracy", &s->mean_accuracy_trend);
    print_trend(out, "mean self-prediction R2", &s->mean_r2_trend);
    print_trend(out, "mean self-prediction rel.err", &s->mean_rel_err_trend);
    print_trend(out, "mean replication R2 (births)", &s->mean_link_r2_trend);

    fprintf(out, "spent: %.4g FLOPs", (double)s->flops);
    if (s->wall_seconds > 0)
        fprintf(out, ", %.1f s of wall time (up to %u worker%s)", s->wall_seconds, s->max_workers,
                s->max_workers == 1 ? "" : "s");
    fputc('\n', out);

    if (s->has_mrca)
        fprintf(out,
                "survivors' MRCA: organism %llu (%s), born in generation %u, %u generation%s "
                "before the last (%llu survivors)\n",
                (unsigned long long)s->mrca_id, s->species[s->mrca_species].name, s->mrca_born,
                s->mrca_back, s->mrca_back == 1 ? "" : "s", (unsigned long long)s->alive_at_end);
    else if (s->alive_at_end == 0)
        fputs("survivors' MRCA: none (no organism alive at the end)\n", out);
    else
        fprintf(out, "survivors' MRCA: none: the %llu survivors descend from %u different roots\n",
                (unsigned long long)s->alive_at_end, s->mrca_roots);

    if (s->anomalies || s->lost_parents)
        fprintf(out,
                "notes: %llu record%s did not fit (first: %s); %llu organism%s whose parent "
                "was not in the log (treated as roots)\n",
                (unsigned long long)s->anomalies, s->anomalies == 1 ? "" : "s",
                s->anomalies ? s->first_anomaly : "-", (unsigned long long)s->lost_parents,
                s->lost_parents == 1 ? "" : "s");
}

/* ---- JSON ------------------------------------------------------------------------------- */

static void json_trend(qs_jw_t *w, const char *key, const qs_trend_t *t)
{
    if (!t->present) {
        qs_jw_kv_null(w, key);
        return;
    }
    qs_jw_key(w, key);
    qs_jw_begin_object(w);
    qs_jw_kv_f64(w, "first", t->first);
    qs_jw_kv_u64(w, "first_generation", t->first_gen);
    qs_jw_kv_f64(w, "last", t->last);
    qs_jw_kv_u64(w, "last_generation", t->last_gen);
    qs_jw_kv_f64(w, "best", t->best);
    qs_jw_kv_u64(w, "best_generation", t->best_gen);
    qs_jw_end(w);
}

/* "read": how much of the log was read, and each stretch skipped. */
static void json_read(qs_jw_t *w, const qs_summary_t *s)
{
    qs_jw_key(w, "read");
    qs_jw_begin_object(w);
    qs_jw_kv_u64(w, "records", s->read.records);
    qs_jw_kv_u64(w, "bytes", s->read.good_bytes);
    qs_jw_kv_u64(w, "file_bytes", s->read.size);
    qs_jw_kv_u64(w, "skipped_bytes", s->read.skipped_bytes);
    qs_jw_key(w, "skipped");
    qs_jw_begin_array(w);
    for (uint32_t k = 0; k < s->read.nskips; k++) {
        qs_jw_begin_object(w);
        qs_jw_kv_u64(w, "offset", s->read.skips[k].offset);
        qs_jw_kv_u64(w, "bytes", s->read.skips[k].length);
        qs_jw_kv_str(w, "kind", qs_skip_kind_name(s->read.skips[k].kind));
        qs_jw_kv_str(w, "why", s->read.skips[k].why);
        qs_jw_end(w);
    }
    qs_jw_end(w);
    qs_jw_end(w);
}

/* "species": one object per species, then "extinctions". */
static void json_species(qs_jw_t *w, const qs_summary_t *s)
{
    qs_jw_key(w, "species");
    qs_jw_begin_array(w);
    for (uint32_t k = 0; k < s->nspecies; k++) {
        const qs_species_out_t *sp = &s->species[k];
        qs_jw_begin_object(w);
        qs_jw_kv_str(w, "name", sp->name);
        qs_jw_kv_u64(w, "params", sp->params);
        qs_jw_kv_u64(w, "founders", sp->founders);
        qs_jw_kv_u64(w, "births", sp->births - sp->founders);
        qs_jw_kv_u64(w, "peak", sp->peak);
        qs_jw_kv_u64(w, "peak_generation", sp->peak_gen);
        qs_jw_kv_u64(w, "alive_at_end", sp->alive_at_end);
        qs_jw_kv_f64(w, "best_accuracy", sp->best_accuracy);
        qs_jw_kv_str(w, "outcome", sp->extinct ? "extinct" : sp->births ? "survived" : "absent");
        if (sp->extinct)
            qs_jw_kv_u64(w, "extinct_generation", sp->extinct_gen);
        else
            qs_jw_kv_null(w, "extinct_generation");
        qs_jw_end(w);
    }
    qs_jw_end(w);
    qs_jw_key(w, "extinctions");
    qs_jw_begin_array(w);
    for (uint32_t k = 0; k < s->nspecies; k++)
        if (s->species[k].extinct) {
            qs_jw_begin_object(w);
            qs_jw_kv_str(w, "species", s->species[k].name);
            qs_jw_kv_u64(w, "generation", s->species[k].extinct_gen);
            qs_jw_end(w);
        }
    qs_jw_end(w);
}

/* "best": the best organism, or null. */
static void json_best(qs_jw_t *w, const qs_summary_t *s)
{
    if (!s->has_best) {
        qs_jw_kv_null(w, "best");
        return;
    }
    qs_jw_key(w, "best");
    qs_jw_begin_object(w);
    qs_jw_kv_u64(w, "id", s->best_id);
    qs_jw_kv_str(w, "species", s->species[s->best_species].name);
    qs_jw_kv_u64(w, "generation", s->best_generation);
    qs_jw_kv_f64(w, "fitness", s->best_fitness);
    qs_jw_kv_f64(w, "accuracy", s->best_accuracy);
    qs_jw_kv_f64(w, "r2", s->best_r2);
    qs_jw_kv_u64(w, "born", s->best_born);
    qs_jw_kv_u64(w, "ancestry_depth", s->best_depth);
    qs_jw_kv_u64(w, "founder", s->best_founder);
    qs_jw_end(w);
}

/* "mrca": the survivors' most recent common ancestor, or null. */
static void json_mrca(qs_jw_t *w, const qs_summary_t *s)
{
    if (!s->has_mrca) {
        qs_jw_kv_null(w, "mrca");
        return;
    }
    qs_jw_key(w, "mrca");
    qs_jw_begin_object(w);
    qs_jw_kv_u64(w, "id", s->mrca_id);
    qs_jw_kv_str(w, "species", s->species[s->mrca_species].name);
    qs_jw_kv_u64(w, "generation", s->mrca_born);
    qs_jw_kv_u64(w, "generations_back", s->mrca_back);
    qs_jw_kv_u64(w, "survivors", s->alive_at_end);
    qs_jw_end(w);
}

void qs_summary_json(const qs_summary_t *s, FILE *out, void (*extra)(qs_jw_t *w, void *ctx),
                     void *ctx)
{
    qs_jw_t w;
    qs_jw_init(&w, out, 0);
    qs_jw_set_digits(&w, 15, 17); /* the summary's numbers: %.15g, more digits if needed */
    qs_jw_begin_object(&w);
    qs_jw_kv_str(&w, "path", s->path);
    qs_jw_kv_str(&w, "run", s->label);
    if (s->has_header)
        qs_jw_kv_u64(&w, "seed", s->seed);
    else
        qs_jw_kv_null(&w, "seed");
    json_read(&w, s);

    qs_jw_kv_bool(&w, "complete", s->complete);
    if (s->complete)
        qs_jw_kv_str(&w, "end_reason", s->end_reason);
    else
        qs_jw_kv_null(&w, "end_reason");
    qs_jw_kv_u64(&w, "generations", s->generations);
    if (s->planned_generations)
        qs_jw_kv_u64(&w, "planned_generations", s->planned_generations);
    else
        qs_jw_kv_null(&w, "planned_generations");
    qs_jw_kv_str(&w, "fitness", s->fitness);

    qs_jw_kv_u64(&w, "organisms", s->organisms);
    qs_jw_kv_u64(&w, "founders", s->founders);
    qs_jw_kv_u64(&w, "births", s->births);
    qs_jw_kv_u64(&w, "deaths", s->deaths);
    qs_jw_key(&w, "deaths_by_cause");
    qs_jw_begin_object(&w);
    qs_jw_kv_u64(&w, "selection", s->deaths_by_cause[QS_DEATH_SELECTION]);
    qs_jw_kv_u64(&w, "capacity", s->deaths_by_cause[QS_DEATH_CAPACITY]);
    qs_jw_kv_u64(&w, "budget", s->deaths_by_cause[QS_DEATH_BUDGET]);
    qs_jw_end(&w);
    qs_jw_kv_u64(&w, "alive_at_end", s->alive_at_end);

    json_species(&w, s);
    json_best(&w, s);

    qs_jw_key(&w, "trends");
    qs_jw_begin_object(&w);
    json_trend(&w, "best_accuracy", &s->best_accuracy_trend);
    json_trend(&w, "mean_accuracy", &s->mean_accuracy_trend);
    json_trend(&w, "mean_r2", &s->mean_r2_trend);
    json_trend(&w, "mean_rel_err", &s->mean_rel_err_trend);
    json_trend(&w, "mean_link_r2", &s->mean_link_r2_trend);
    qs_jw_end(&w);

    qs_jw_kv_u64(&w, "flops", s->flops);
    qs_jw_kv_f64(&w, "wall_seconds", s->wall_seconds);
    qs_jw_kv_u64(&w, "max_workers", s->max_workers);

    json_mrca(&w, s);
    qs_jw_kv_u64(&w, "survivor_roots", s->mrca_roots);

    qs_jw_kv_u64(&w, "anomalies", s->anomalies);
    if (s->anomalies)
        qs_jw_kv_str(&w, "first_anomaly", s->first_anomaly);
    else
        qs_jw_kv_null(&w, "first_anomaly");
    qs_jw_kv_u64(&w, "lost_parents", s->lost_parents);
    qs_jw_kv_u64(&w, "summary_mismatches", s->summary_mismatch);
    if (extra)
        extra(&w, ctx);
    qs_jw_end(&w);
    qs_jw_newline(&w);
}

/* ---- comparison ------------------------------------------------------------------------- */

#define CMP_COL 16

typedef void (*cell_fn)(const qs_summary_t *s, char *buf, size_t cap);

static void c_status(const qs_summary_t *s, char *b, size_t n)
{
    snprintf(b, n, "%s", s->complete ? s->end_reason : "incomplete");
}
static void c_gens(const qs_summary_t *s, char *b, size_t n)
{
    snprintf(b, n, "%u", s->generations);
}
static void c_orgs(const qs_summary_t *s, char *b, size_t n)
{
    snprintf(b, n, "%llu", (unsigned long long)s->organisms);
}
static void c_births(const qs_summary_t *s, char *b, size_t n)
{
    snprintf(b, n, "%llu", (unsigned long long)s->births);
}
static void c_deaths(const qs_summary_t *s, char *b, size_t n)
{
    snprintf(b, n, "%llu", (unsigned long long)s->deaths);
}
static void c_alive(const qs_summary_t *s, char *b, size_t n)
{
    snprintf(b, n, "%llu", (unsigned long long)s->alive_at_end);
}
static void c_extinct(const qs_summary_t *s, char *b, size_t n)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->nspecies; i++)
        k += s->species[i].extinct != 0;
    snprintf(b, n, "%u of %u", k, s->nspecies);
}
static void c_best(const qs_summary_t *s, char *b, size_t n)
{
    if (s->has_best)
        snprintf(b, n, "%llu", (unsigned long long)s->best_id);
    else
        snprintf(b, n, "-");
}
static void c_best_fit(const qs_summary_t *s, char *b, size_t n)
{
    num(b, n, s->has_best ? s->best_fitness : NAN, 4);
}
static void c_best_acc(const qs_summary_t *s, char *b, size_t n)
{
    num(b, n, s->has_best ? s->best_accuracy : NAN, 4);
}
static void c_depth(const qs_summary_t *s, char *b, size_t n)
{
    if (s->has_best)
        snprintf(b, n, "%u", s->best_depth);
    else
        snprintf(b, n, "-");
}
static void c_acc_last(const qs_summary_t *s, char *b, size_t n)
{
    num(b, n, s->mean_accuracy_trend.present ? s->mean_accuracy_trend.last : NAN, 4);
}
static void c_r2_last(const qs_summary_t *s, char *b, size_t n)
{
    num(b, n, s->mean_r2_trend.present ? s->mean_r2_trend.last : NAN, 4);
}
static void c_link_last(const qs_summary_t *s, char *b, size_t n)
{
    num(b, n, s->mean_link_r2_trend.present ? s->mean_link_r2_trend.last : NAN, 4);
}
static void c_flops(const qs_summary_t *s, char *b, size_t n)
{
    snprintf(b, n, "%.4g", (double)s->flops);
}
static void c_wall(const qs_summary_t *s, char *b, size_t n)
{
    snprintf(b, n, "%.1f", s->wall_seconds);
}
static void c_mrca(const qs_summary_t *s, char *b, size_t n)
{
    if (s->has_mrca)
        snprintf(b, n, "%llu (g%u)", (unsigned long long)s->mrca_id, s->mrca_born);
    else
        snprintf(b, n, "-");
}
static void c_skipped(const qs_summary_t *s, char *b, size_t n)
{
    snprintf(b, n, "%llu", (unsigned long long)s->read.skipped_bytes);
}

void qs_summary_compare(const qs_summary_t *s, uint32_t n, FILE *out)
{
    static const struct {
        const char *name;
        cell_fn fn;
    } rows[] = {
        {"status", c_status},
        {"generations", c_gens},
        {"organisms", c_orgs},
        {"births", c_births},
        {"deaths", c_deaths},
        {"alive at the end", c_alive},
        {"species extinct", c_extinct},
        {"best organism", c_best},
        {"best fitness", c_best_fit},
        {"best accuracy", c_best_acc},
        {"best's ancestry depth", c_depth},
        {"mean accuracy (last)", c_acc_last},
        {"mean self R2 (last)", c_r2_last},
        {"mean link R2 (last)", c_link_last},
        {"FLOPs", c_flops},
        {"wall seconds", c_wall},
        {"survivors' MRCA", c_mrca},
        {"bytes skipped", c_skipped},
    };
    fprintf(out, "%-24s", "run");
    for (uint32_t k = 0; k < n; k++)
        fprintf(out, " %*.*s", CMP_COL, CMP_COL, s[k].label);
    fputc('\n', out);
    for (size_t r = 0; r < QS_ARRAY_LEN(rows); r++) {
        fprintf(out, "%-24s", rows[r].name);
        for (uint32_t k = 0; k < n; k++) {
            char cell[64];
            rows[r].fn(&s[k], cell, sizeof cell);
            fprintf(out, " %*s", CMP_COL, cell);
        }
        fputc('\n', out);
    }
}
