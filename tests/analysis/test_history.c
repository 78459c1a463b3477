/* Tests for analysis/history, summary and export on records built in memory: a
 * hand-written three-generation story checked line by line (phylogeny and generations
 * CSV, summary, MRCA, extinction, ancestry line, JSON), then synthetic runs checked for
 * phylogeny consistency (every ancestor exists and comes first, origin <= destruction)
 * and against the generator's own tallies, the CSVs read back by Debian's pandas, and
 * the records that do not fit a story. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/export.h"
#include "analysis/history.h"
#include "analysis/summary.h"
#include "synth.h"
#include "tests/testutil.h"

/* ---- building records ----------------------------------------------------------------- */

static void header(qs_history_t *h)
{
    qs_record_t r;
    memset(&r, 0, sizeof r);
    r.type = QS_REC_HEADER;
    r.u.header.version = 1;
    snprintf(r.u.header.run_name, sizeof r.u.header.run_name, "story");
    r.u.header.seed = 7;
    r.u.header.nspecies = 2;
    snprintf(r.u.header.species[0], QS_NAME_MAX, "aux");
    snprintf(r.u.header.species[1], QS_NAME_MAX, "van");
    r.u.header.species_params[0] = 1234;
    r.u.header.species_params[1] = 567;
    r.u.header.scenario = "[run]\ngenerations = 3 ; a comment\n[data]\nfitness = 500\n"
                          "[selection]\nfitness = accuracy\n";
    qs_history_add(h, &r);
}

static void birth(qs_history_t *h, uint64_t id, uint64_t parent, uint32_t g, uint32_t sp,
                  double link_r2)
{
    qs_record_t r;
    memset(&r, 0, sizeof r);
    r.type = QS_REC_BIRTH;
    r.u.birth.id = id;
    r.u.birth.parent = parent;
    r.u.birth.generation = g;
    r.u.birth.species = sp;
    r.u.birth.has_link = parent != 0;
    r.u.birth.link_r2 = parent ? link_r2 : NAN;
    r.u.birth.link_rel_err = parent ? 1 - link_r2 : NAN;
    qs_history_add(h, &r);
}

static void eval(qs_history_t *h, uint64_t id, uint32_t g, double acc, double r2)
{
    qs_record_t r;
    memset(&r, 0, sizeof r);
    r.type = QS_REC_EVAL;
    r.u.eval.id = id;
    r.u.eval.generation = g;
    r.u.eval.accuracy = acc;
    r.u.eval.r2 = r2;
    r.u.eval.rel_err = 0.25;
    r.u.eval.flops = 100;
    qs_history_add(h, &r);
}

static void death(qs_history_t *h, uint64_t id, uint32_t g, qs_death_cause_t cause)
{
    qs_record_t r;
    memset(&r, 0, sizeof r);
    r.type = QS_REC_DEATH;
    r.u.death.id = id;
    r.u.death.generation = g;
    r.u.death.cause = cause;
    qs_history_add(h, &r);
}

static void summary_rec(qs_history_t *h, uint32_t g, uint32_t pop, uint32_t births, uint32_t deaths,
                        uint32_t n_aux, uint32_t n_van)
{
    qs_record_t r;
    memset(&r, 0, sizeof r);
    r.type = QS_REC_GENERATION;
    r.u.generation.generation = g;
    r.u.generation.population = pop;
    r.u.generation.births = births;
    r.u.generation.deaths = deaths;
    r.u.generation.nspecies = 2;
    r.u.generation.species_count[0] = n_aux;
    r.u.generation.species_count[1] = n_van;
    r.u.generation.flops = 100ull * pop;
    r.u.generation.params_alive = 1000ull * pop;
    r.u.generation.wall_seconds = 1.5;
    r.u.generation.workers = 2;
    qs_history_add(h, &r);
}

/* Three generations: species "van" dies out in generation 0; organism 1 is an elite
 * that lives through the whole run; 6 is the best, two links below founder 1. */
static void story(qs_history_t *h, int with_end)
{
    qs_history_init(h);
    header(h);
    birth(h, 1, 0, 0, 0, 0);
    birth(h, 2, 0, 0, 0, 0);
    birth(h, 3, 0, 0, 1, 0);
    eval(h, 1, 0, 0.50, 0.5);
    eval(h, 2, 0, 0.40, 0.5);
    eval(h, 3, 0, NAN, 0.3);
    death(h, 2, 0, QS_DEATH_SELECTION);
    death(h, 3, 0, QS_DEATH_CAPACITY);
    summary_rec(h, 0, 3, 3, 2, 2, 1);
    birth(h, 4, 1, 1, 0, 0.9);
    birth(h, 5, 1, 1, 0, 0.8);
    eval(h, 1, 1, 0.55, 0.5);
    eval(h, 4, 1, 0.45, 0.5);
    eval(h, 5, 1, 0.60, 0.5);
    death(h, 4, 1, QS_DEATH_BUDGET);
    summary_rec(h, 1, 3, 2, 1, 3, 0);
    birth(h, 6, 5, 2, 0, 0.95);
    birth(h, 7, 5, 2, 0, 0.7);
    eval(h, 1, 2, 0.56, 0.5);
    eval(h, 5, 2, 0.58, 0.5);
    eval(h, 6, 2, 0.70, 0.5);
    eval(h, 7, 2, 0.65, 0.5);
    if (!with_end)
        return;
    death(h, 1, 2, QS_DEATH_END);
    death(h, 5, 2, QS_DEATH_END);
    death(h, 6, 2, QS_DEATH_END);
    death(h, 7, 2, QS_DEATH_END);
    summary_rec(h, 2, 4, 2, 4, 4, 0);
    qs_record_t r;
    memset(&r, 0, sizeof r);
    r.type = QS_REC_END;
    r.u.end.generations = 3;
    snprintf(r.u.end.reason, sizeof r.u.end.reason, "completed");
    qs_history_add(h, &r);
}

static char tmp[256];

static void setup(void)
{
    tu_tmpdir(tmp, sizeof tmp);
}

static void teardown(void)
{
    tu_rmrf(tmp);
}

TestSuite(history, .init = setup, .fini = teardown);

static char *export_text(const qs_history_t *h, int which)
{
    char path[512];
    snprintf(path, sizeof path, "%s/out.csv", tmp);
    qs_error_t err = {0};
    int rc = which == 0 ? qs_export_phylogeny(h, path, &err) : qs_export_generations(h, path, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    return tu_read_file(path, NULL);
}

/* ---- the story ------------------------------------------------------------------------- */

Test(history, story_phylogeny_csv)
{
    qs_history_t h;
    story(&h, 1);
    cr_assert_eq(h.anomalies, 0, "%s", h.first_anomaly);
    char *csv = export_text(&h, 0);
    cr_assert_str_eq(csv, "id,ancestor_list,origin_time,destruction_time,species,accuracy,"
                          "rel_err,r2,flops,link_r2,link_rel_err,death_cause\n"
                          "1,['none'],0,none,aux,0.56,0.25,0.5,300,,,end\n"
                          "2,['none'],0,1,aux,0.4,0.25,0.5,100,,,selection\n"
                          "3,['none'],0,1,van,,0.25,0.3,100,,,capacity\n"
                          "4,[1],1,2,aux,0.45,0.25,0.5,100,0.9,0.1,budget\n"
                          "5,[1],1,none,aux,0.58,0.25,0.5,200,0.8,0.2,end\n"
                          "6,[5],2,none,aux,0.7,0.25,0.5,100,0.95,0.05,end\n"
                          "7,[5],2,none,aux,0.65,0.25,0.5,100,0.7,0.3,end\n");
    free(csv);
    qs_history_destroy(&h);
}

Test(history, story_generations_csv)
{
    qs_history_t h;
    story(&h, 1);
    char *csv = export_text(&h, 1);
    cr_assert_str_eq(csv,
                     "generation,population,births,deaths,best_accuracy,mean_accuracy,"
                     "mean_rel_err,mean_r2,mean_link_r2,best_id,flops,params_alive,n_aux,n_van,"
                     "wall_seconds,workers,deaths_selection,deaths_capacity,deaths_budget,"
                     "mean_link_rel_err,cumulative_flops,nonfinite_rel_err,nonfinite_r2\n"
                     "0,3,3,2,0.5,0.45,0.25,0.433333333,,1,300,3000,2,1,1.500,2,1,1,0,,300,0,0\n"
                     "1,3,2,1,0.6,0.533333333,0.25,0.5,0.85,5,300,3000,3,0,1.500,2,0,0,1,0.15,600,"
                     "0,0\n"
                     "2,4,2,4,0.7,0.6225,0.25,0.5,0.825,6,400,4000,4,0,1.500,2,0,0,0,0.175,1000,0,"
                     "0\n");
    free(csv);
    qs_history_destroy(&h);
}

Test(history, csv_fields_quoted_and_infinities)
{
    qs_history_t h;
    story(&h, 1);
    snprintf(h.species[1], QS_NAME_MAX, "va,\"n");
    h.orgs[qs_history_find(&h, 2)].r2 = -INFINITY;
    h.orgs[qs_history_find(&h, 3)].rel_err = INFINITY;
    char *csv = export_text(&h, 0);
    cr_assert(strstr(csv, "\n2,['none'],0,1,aux,0.4,0.25,-inf,100,,,selection\n"
                          "3,['none'],0,1,\"va,\"\"n\",,inf,0.3,100,,,capacity\n"),
              "%s", csv);
    free(csv);
    csv = export_text(&h, 1);
    cr_assert(strstr(csv, ",n_aux,\"n_va,\"\"n\",wall_seconds,"), "%s", csv);
    free(csv);
    qs_history_destroy(&h);
}

Test(history, story_summary)
{
    qs_history_t h;
    story(&h, 1);
    qs_summary_t s;
    qs_summary_compute(&s, &h, "runs/story", NULL);
    cr_assert_str_eq(s.label, "story");
    cr_assert(s.complete);
    cr_assert_str_eq(s.end_reason, "completed");
    cr_assert_eq(s.generations, 3);
    cr_assert_eq(s.planned_generations, 3);
    cr_assert_str_eq(s.fitness, "accuracy");
    cr_assert_eq(s.organisms, 7);
    cr_assert_eq(s.founders, 3);
    cr_assert_eq(s.births, 4);
    cr_assert_eq(s.deaths, 3);
    cr_assert_eq(s.deaths_by_cause[QS_DEATH_SELECTION], 1);
    cr_assert_eq(s.deaths_by_cause[QS_DEATH_CAPACITY], 1);
    cr_assert_eq(s.deaths_by_cause[QS_DEATH_BUDGET], 1);
    cr_assert_eq(s.alive_at_end, 4);
    /* species outcomes */
    cr_assert_eq(s.nspecies, 2);
    cr_assert_not(s.species[0].extinct);
    cr_assert_eq(s.species[0].alive_at_end, 4);
    cr_assert_eq(s.species[0].peak, 4);
    cr_assert_eq(s.species[0].peak_gen, 2);
    cr_assert_float_eq(s.species[0].best_accuracy, 0.70, 1e-12);
    cr_assert(s.species[1].extinct);
    cr_assert_eq(s.species[1].extinct_gen, 0);
    cr_assert(isnan(s.species[1].best_accuracy));
    /* best and its ancestry */
    cr_assert(s.has_best);
    cr_assert_eq(s.best_id, 6);
    cr_assert_eq(s.best_generation, 2);
    cr_assert_eq(s.best_depth, 2);
    cr_assert_eq(s.best_founder, 1);
    /* trends */
    cr_assert_float_eq(s.best_accuracy_trend.first, 0.5, 1e-12);
    cr_assert_float_eq(s.best_accuracy_trend.last, 0.7, 1e-12);
    cr_assert_eq(s.best_accuracy_trend.best_gen, 2);
    cr_assert_float_eq(s.mean_link_r2_trend.first, 0.85, 1e-12);
    cr_assert_eq(s.mean_link_r2_trend.first_gen, 1);
    cr_assert_float_eq(s.mean_link_r2_trend.best, 0.85, 1e-12);
    cr_assert_float_eq(s.mean_r2_trend.first, 1.3 / 3, 1e-12);
    cr_assert_eq(s.flops, 1000);
    cr_assert_float_eq(s.wall_seconds, 4.5, 1e-12);
    cr_assert_eq(s.max_workers, 2);
    /* MRCA of the survivors 1, 5, 6, 7: the elite founder 1, two generations back */
    cr_assert(s.has_mrca);
    cr_assert_eq(s.mrca_id, 1);
    cr_assert_eq(s.mrca_born, 0);
    cr_assert_eq(s.mrca_back, 2);
    qs_history_destroy(&h);
}

Test(history, story_text_and_json)
{
    qs_history_t h;
    story(&h, 1);
    qs_summary_t s;
    qs_summary_compute(&s, &h, "runs/story", NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    qs_summary_print(&s, f);
    fclose(f);
    cr_assert(strstr(buf, "extinctions: van in generation 0\n"), "%s", buf);
    cr_assert(strstr(buf, "best organism: 6 (aux)"), "%s", buf);
    cr_assert(strstr(buf, "2 links from founder 1"), "%s", buf);
    cr_assert(strstr(buf, "survivors' MRCA: organism 1 (aux), born in generation 0, 2 "
                          "generations before the last"),
              "%s", buf);
    free(buf);
    f = open_memstream(&buf, &len);
    qs_summary_json(&s, f, NULL, NULL);
    fclose(f);
    cr_assert(strstr(buf, "\"extinctions\":[{\"species\":\"van\",\"generation\":0}]"), "%s", buf);
    cr_assert(strstr(buf, "\"mrca\":{\"id\":1,\"species\":\"aux\",\"generation\":0,"
                          "\"generations_back\":2,\"survivors\":4}"),
              "%s", buf);
    cr_assert(strstr(buf, "\"best\":{\"id\":6,"), "%s", buf);
    cr_assert_eq(buf[len - 1], '\n');
    cr_assert_eq(strchr(buf, '\n'), buf + len - 1, "one line");
    free(buf);
    qs_history_destroy(&h);
}

Test(history, story_lineage)
{
    qs_history_t h;
    story(&h, 1);
    uint32_t *line;
    uint32_t n = qs_export_line(&h, qs_history_find(&h, 7), &line);
    cr_assert_eq(n, 3);
    cr_assert_eq(h.orgs[line[0]].id, 7);
    cr_assert_eq(h.orgs[line[1]].id, 5);
    cr_assert_eq(h.orgs[line[2]].id, 1);
    free(line);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    qs_export_line_table(&h, qs_history_find(&h, 7), f);
    fclose(f);
    cr_assert(strstr(buf, "ancestry of organism 7: 2 links back to founder 1"), "%s", buf);
    free(buf);
    qs_history_destroy(&h);
}

Test(history, story_without_end_is_incomplete)
{
    qs_history_t h;
    story(&h, 0); /* cut after generation 2's evaluations */
    qs_summary_t s;
    qs_summary_compute(&s, &h, "x", NULL);
    cr_assert_not(s.complete);
    cr_assert_eq(s.generations, 3);
    cr_assert_eq(s.alive_at_end, 4); /* no death read: alive when the log stops */
    char *csv = export_text(&h, 0);
    cr_assert(strstr(csv, "\n6,[5],2,none,aux,0.7,0.25,0.5,100,0.95,0.05,\n"), "%s", csv);
    free(csv);
    qs_history_destroy(&h);
}

Test(history, newick_of_the_story)
{
    qs_history_t h;
    story(&h, 1);
    char path[512];
    snprintf(path, sizeof path, "%s/t.nwk", tmp);
    qs_error_t err = {0};
    uint32_t nodes;
    cr_assert_eq(qs_export_newick(&h, path, 0, &nodes, &err), 0, "%s", err.msg);
    cr_assert_eq(nodes, 4);
    char *t = tu_read_file(path, NULL);
    cr_assert_str_eq(t, "((org6:1,org7:1)org5:1)org1;\n");
    free(t);
    cr_assert_eq(qs_export_newick(&h, path, 1, &nodes, &err), 0, "%s", err.msg);
    cr_assert_eq(nodes, 7);
    t = tu_read_file(path, NULL);
    cr_assert_str_eq(t, "((org4:1,(org6:1,org7:1)org5:1)org1:0,org2:0,org3:0);\n");
    free(t);
    qs_history_destroy(&h);
}

/* ---- records that do not fit ---------------------------------------------------------- */

Test(history, anomalies_are_counted_not_fatal)
{
    qs_history_t h;
    qs_history_init(&h);
    header(&h);
    birth(&h, 1, 0, 0, 0, 0);
    birth(&h, 1, 0, 0, 0, 0);   /* a second birth of 1 */
    birth(&h, 9, 8, 1, 0, 0.5); /* parent 8 never born: a root */
    eval(&h, 42, 0, 0.5, 0.5);  /* never born */
    death(&h, 43, 0, QS_DEATH_SELECTION);
    death(&h, 1, 0, QS_DEATH_SELECTION);
    death(&h, 1, 0, QS_DEATH_SELECTION); /* twice */
    eval(&h, 1, 1, 0.5, 0.5);            /* after its death */
    cr_assert_eq(h.norgs, 2);
    cr_assert_eq(h.lost_parents, 1);
    cr_assert_eq(h.orgs[1].parent, QS_NONE);
    cr_assert_eq(h.anomalies, 5, "%llu", (unsigned long long)h.anomalies);
    cr_assert(strstr(h.first_anomaly, "second birth record for organism 1"), "%s", h.first_anomaly);
    char *csv = export_text(&h, 0);
    cr_assert(strstr(csv, "\n9,['none'],1,none,"), "%s", csv);
    free(csv);
    qs_history_destroy(&h);
}

Test(history, ids_out_of_sequence_use_a_map)
{
    qs_history_t h;
    qs_history_init(&h);
    birth(&h, 5, 0, 0, 0, 0);
    birth(&h, 6, 0, 0, 0, 0);
    cr_assert_not(h.sparse);
    birth(&h, 3, 5, 1, 0, 0.5); /* out of sequence: the map takes over */
    birth(&h, 100, 3, 2, 0, 0.5);
    cr_assert(h.sparse);
    cr_assert_eq(qs_history_find(&h, 5), 0);
    cr_assert_eq(qs_history_find(&h, 6), 1);
    cr_assert_eq(qs_history_find(&h, 3), 2);
    cr_assert_eq(qs_history_find(&h, 100), 3);
    cr_assert_eq(qs_history_find(&h, 4), QS_NONE);
    cr_assert_eq(h.orgs[3].parent, 2);
    cr_assert_eq(h.orgs[2].parent, 0);
    for (uint64_t id = 1000; id < 5000; id++) /* growing the map keeps every entry */
        birth(&h, id, 100, 3, 0, 0.5);
    for (uint64_t id = 1000; id < 5000; id++)
        cr_assert_eq(qs_history_find(&h, id), (uint32_t)(id - 1000 + 4));
    cr_assert_eq(qs_history_find(&h, 3), 2);
    cr_assert_eq(h.anomalies, 0, "%s", h.first_anomaly);
    qs_history_destroy(&h);
}

Test(history, generation_far_ahead_is_refused)
{
    qs_history_t h;
    qs_history_init(&h);
    birth(&h, 1, 0, 4000000000u, 0, 0);
    cr_assert_eq(h.norgs, 0);
    cr_assert_eq(h.ngens, 0);
    cr_assert_eq(h.anomalies, 1);
    qs_history_destroy(&h);
}

/* ---- synthetic runs --------------------------------------------------------------------- */

static void feed(const qs_record_t *r, void *ctx)
{
    qs_history_add(ctx, r);
}

typedef struct {
    uint32_t nspecies, f0, f1, generations, population, elitism;
    double handicap1;
    uint64_t seed;
    int vanilla;
} synth_case_t;

static synth_case_t synth_cases[] = {
    {1, 5, 0, 10, 8, 2, 0, 1, 0},
    {2, 4, 4, 20, 10, 1, 0.3, 2, 0}, /* species 1 handicapped: dies out */
    {2, 3, 3, 15, 12, 0, 0.0, 3, 0}, /* no elites */
    {1, 1, 0, 30, 4, 1, 0, 4, 0},    /* one founder */
    {2, 6, 2, 8, 9, 3, 0.2, 5, 1},   /* vanilla: fitness is R^2 */
    {3, 2, 2, 1, 6, 1, 0, 6, 0},     /* a single generation */
};

ParameterizedTestParameters(history, synthetic_runs)
{
    return cr_make_param_array(synth_case_t, synth_cases,
                               sizeof synth_cases / sizeof synth_cases[0]);
}

/* Read the phylogeny CSV back and check it as the ALife standard asks. */
static void check_phylogeny_file(const char *path, uint64_t expect_rows)
{
    FILE *f = fopen(path, "r");
    cr_assert(f);
    char line[1024];
    cr_assert(fgets(line, sizeof line, f));
    cr_assert(!strncmp(line, "id,ancestor_list,origin_time,destruction_time,", 46));
    uint64_t rows = 0, cap = 1024;
    uint64_t *ids = malloc(cap * sizeof *ids);
    double *origin = malloc(cap * sizeof *origin), *destr = malloc(cap * sizeof *destr);
    while (fgets(line, sizeof line, f)) {
        unsigned long long id, anc = 0;
        char list[64], ot[32], dt[32];
        cr_assert_eq(sscanf(line, "%llu,%63[^,],%31[^,],%31[^,],", &id, list, ot, dt), 4, "%s",
                     line);
        int has_anc = strcmp(list, QS_ALIFE_ROOT) != 0;
        if (has_anc)
            cr_assert_eq(sscanf(list, "[%llu]", &anc), 1, "bad ancestor_list %s", list);
        if (rows == cap) {
            cap *= 2;
            ids = realloc(ids, cap * sizeof *ids);
            origin = realloc(origin, cap * sizeof *origin);
            destr = realloc(destr, cap * sizeof *destr);
        }
        double o = strtod(ot, NULL), d = strcmp(dt, QS_ALIFE_ALIVE) ? strtod(dt, NULL) : INFINITY;
        cr_assert_leq(o, d, "organism %llu: origin %g > destruction %g", id, o, d);
        for (uint64_t k = 0; k < rows; k++)
            cr_assert_neq(ids[k], id, "id %llu twice", id);
        if (has_anc) {
            uint64_t k = 0;
            while (k < rows && ids[k] != anc)
                k++;
            cr_assert_lt(k, rows, "organism %llu: ancestor %llu is not listed before it", id, anc);
            cr_assert_geq(o, origin[k], "child %llu born before its parent", id);
            cr_assert_leq(o, destr[k], "child %llu born after its parent's end", id);
        }
        ids[rows] = id;
        origin[rows] = o;
        destr[rows] = d;
        rows++;
    }
    fclose(f);
    cr_assert_eq(rows, expect_rows);
    free(ids);
    free(origin);
    free(destr);
}

ParameterizedTest(synth_case_t *c, history, synthetic_runs)
{
    synth_params_t p = {0};
    p.nspecies = c->nspecies;
    p.founders[0] = c->f0;
    p.founders[1] = c->f1;
    p.founders[2] = c->f1;
    p.handicap[1] = c->handicap1;
    p.generations = c->generations;
    p.population = c->population;
    p.elitism = c->elitism;
    p.seed = c->seed;
    p.vanilla = c->vanilla;
    qs_history_t h;
    qs_history_init(&h);
    synth_truth_t t;
    synth_run(&p, feed, &h, &t);
    cr_assert_eq(h.anomalies, 0, "%s", h.first_anomaly);
    cr_assert_eq(h.summary_mismatch, 0);
    cr_assert_eq(h.norgs, t.births);
    cr_assert_eq(h.founders, t.founders);
    cr_assert_eq(h.ngens, c->generations);
    cr_assert_eq(h.flops, t.flops);
    cr_assert_eq(h.fitness, c->vanilla ? QS_FIT_FIDELITY : QS_FIT_ACCURACY);

    qs_summary_t s;
    qs_summary_compute(&s, &h, "synth", NULL);
    cr_assert_eq(s.deaths, t.deaths_selection);
    cr_assert_eq(s.alive_at_end, t.deaths_end);
    for (uint32_t sp = 0; sp < c->nspecies; sp++) {
        int extinct = t.alive_at_end[sp] == 0;
        cr_assert_eq(s.species[sp].extinct, extinct, "species %u", sp);
        if (extinct)
            cr_assert_eq(s.species[sp].extinct_gen, t.last_alive_gen[sp]);
        cr_assert_eq(s.species[sp].alive_at_end, t.alive_at_end[sp]);
    }
    /* The MRCA is an ancestor (or self) of every survivor. */
    if (s.has_mrca) {
        uint32_t m = qs_history_find(&h, s.mrca_id);
        for (uint32_t i = 0; i < h.norgs; i++) {
            if (!qs_history_survivor(&h, i))
                continue;
            uint32_t v = i;
            while (v != QS_NONE && v != m)
                v = h.orgs[v].parent;
            cr_assert_eq(v, m, "survivor %llu does not descend from the MRCA",
                         (unsigned long long)h.orgs[i].id);
        }
    }
    char path[512];
    snprintf(path, sizeof path, "%s/phylo.csv", tmp);
    qs_error_t err = {0};
    cr_assert_eq(qs_export_phylogeny(&h, path, &err), 0, "%s", err.msg);
    check_phylogeny_file(path, t.births);
    qs_history_destroy(&h);
}

/* ---- pandas ------------------------------------------------------------------------------ */

static const char pandas_check[] =
    "import ast, sys, pandas as pd\n"
    "p = pd.read_csv(sys.argv[1], na_values=['none'])  # alive: NaN (analysis/README.md)\n"
    "g = pd.read_csv(sys.argv[2])\n"
    "assert list(p.columns[:9]) == ['id','ancestor_list','origin_time','destruction_time',"
    "'species','accuracy','rel_err','r2','flops'], list(p.columns)\n"
    "assert p['id'].is_unique\n"
    "pos = {i: k for k, i in enumerate(p['id'])}\n"
    "for k, (i, a) in enumerate(zip(p['id'], p['ancestor_list'])):\n"
    "    anc = [x for x in ast.literal_eval(a) if x != 'none']\n"
    "    assert all(pos[x] < k for x in anc), (i, a)\n"
    "alive = p['destruction_time'].isna()\n"
    "assert alive.any() and (p['origin_time'] <= p['destruction_time'])[~alive].all()\n"
    "assert p['destruction_time'].dtype == float and p['accuracy'].dtype == float\n"
    "assert str(p['flops'].dtype).startswith('int')\n"
    "assert g['generation'].tolist() == list(range(len(g)))\n"
    "assert (g['population'] == g.filter(regex='^n_').sum(axis=1)).all()\n"
    "assert g['cumulative_flops'].iloc[-1] == p['flops'].sum()\n"
    "print('pandas', pd.__version__, 'rows', len(p), len(g))\n";

Test(history, csv_read_by_pandas, .timeout = 60)
{
    if (tu_run("/usr/bin/python3 -c 'import pandas'", NULL) != 0)
        cr_skip_test("Debian's python3-pandas is not installed (/usr/bin/python3 cannot import "
                     "pandas): the CSVs were not checked with pandas");
    synth_params_t p = {0};
    p.nspecies = 2;
    p.founders[0] = 5;
    p.founders[1] = 5;
    p.handicap[1] = 0.2;
    p.generations = 12;
    p.population = 10;
    p.elitism = 2;
    p.seed = 11;
    qs_history_t h;
    qs_history_init(&h);
    synth_truth_t t;
    synth_run(&p, feed, &h, &t);
    char phy[512], gen[512], py[512], cmd[2048];
    snprintf(phy, sizeof phy, "%s/phylo.csv", tmp);
    snprintf(gen, sizeof gen, "%s/gens.csv", tmp);
    snprintf(py, sizeof py, "%s/check.py", tmp);
    qs_error_t err = {0};
    cr_assert_eq(qs_export_phylogeny(&h, phy, &err), 0, "%s", err.msg);
    cr_assert_eq(qs_export_generations(&h, gen, &err), 0, "%s", err.msg);
    tu_write_file(py, pandas_check, strlen(pandas_check));
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s", py, phy, gen);
    char *out = NULL;
    int rc = tu_run(cmd, &out);
    cr_assert_eq(rc, 0, "pandas check failed: %s", out);
    char want[64];
    snprintf(want, sizeof want, "rows %llu 12", (unsigned long long)t.births);
    cr_assert(strstr(out, want), "%s", out);
    free(out);
    qs_history_destroy(&h);
}
