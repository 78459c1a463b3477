/* Tests for proto/runcsv, the one writer of phylogeny.csv and generations.csv rows:
 * exact rows for a root and a child, alive and dead, missing and infinite values, a
 * species name that needs quoting, a generation without its summary record, and the
 * extended rows of `analyze` that start with the run's row. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/runcsv.h"

/* The text f received (malloc'ed). */
static char *text_of(char *buf, size_t len)
{
    char *t = malloc(len + 1);
    memcpy(t, buf, len);
    t[len] = '\0';
    return t;
}

Test(runcsv, phylogeny_rows)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    qs_runcsv_org_t root = {.id = 1,
                            .origin_time = 0,
                            .alive = 1,
                            .species = "a",
                            .accuracy = 0.5,
                            .rel_err = INFINITY,
                            .r2 = -INFINITY,
                            .flops = 300,
                            .link_r2 = NAN,
                            .link_rel_err = NAN,
                            .death_cause = "end"};
    qs_runcsv_org_t child = {.id = 12,
                             .parent_id = 1,
                             .origin_time = 2,
                             .destruction_time = 4,
                             .species = "b,\"c\"",
                             .accuracy = NAN,
                             .rel_err = 0.25,
                             .r2 = 1.0 / 3,
                             .flops = 18446744073709551615ULL,
                             .link_r2 = 0.9,
                             .link_rel_err = 0.1,
                             .death_cause = "selection"};
    qs_runcsv_phylogeny_header(f, 0, 0);
    qs_runcsv_phylogeny_row(f, &root, 0);
    qs_runcsv_phylogeny_row(f, &child, 0);
    qs_runcsv_phylogeny_header(f, 0, 1);
    qs_runcsv_phylogeny_row(f, &root, 1);
    qs_runcsv_phylogeny_row(f, &child, 1);
    fclose(f);
    char *t = text_of(buf, len);
    cr_assert_str_eq(t, "id,ancestor_list,origin_time,destruction_time,species,accuracy,rel_err,"
                        "r2,flops\n"
                        "1,['none'],0,none,a,0.5,inf,-inf,300\n"
                        "12,[1],2,4,\"b,\"\"c\"\"\",,0.25,0.333333333,18446744073709551615\n"
                        "id,ancestor_list,origin_time,destruction_time,species,accuracy,rel_err,"
                        "r2,flops,link_r2,link_rel_err,death_cause\n"
                        "1,['none'],0,none,a,0.5,inf,-inf,300,,,end\n"
                        "12,[1],2,4,\"b,\"\"c\"\"\",,0.25,0.333333333,18446744073709551615,0.9,"
                        "0.1,selection\n");
    free(t);
    free(buf);
}

Test(runcsv, generations_rows)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const char *const names[] = {"a", "b"};
    const uint32_t counts[] = {4, 2};
    qs_runcsv_gen_t g = {.generation = 3,
                         .population = 6,
                         .births = 5,
                         .deaths = 5,
                         .best_accuracy = 0.36,
                         .mean_accuracy = 0.14,
                         .mean_rel_err = 2.5,
                         .mean_r2 = NAN,
                         .mean_link_r2 = -0.5,
                         .best_id = 7,
                         .flops = 1000,
                         .species_count = counts,
                         .has_summary = 1,
                         .params_alive = 4128,
                         .wall_seconds = 0.0125,
                         .workers = 2,
                         .deaths_selection = 4,
                         .deaths_capacity = 1,
                         .mean_link_rel_err = 0.5,
                         .cumulative_flops = 5000,
                         .nonfinite_rel_err = 1,
                         .nonfinite_r2 = 6};
    qs_runcsv_generations_header(f, names, 2, 0, 0);
    qs_runcsv_generations_row(f, &g, 2, 0);
    qs_runcsv_generations_header(f, names, 2, 0, 1);
    qs_runcsv_generations_row(f, &g, 2, 1);
    g.has_summary = 0;
    qs_runcsv_generations_row(f, &g, 2, 0);
    fclose(f);
    char *t = text_of(buf, len);
    cr_assert_str_eq(t, "generation,population,births,deaths,best_accuracy,mean_accuracy,"
                        "mean_rel_err,mean_r2,mean_link_r2,best_id,flops,params_alive,n_a,n_b,"
                        "wall_seconds,workers\n"
                        "3,6,5,5,0.36,0.14,2.5,,-0.5,7,1000,4128,4,2,0.013,2\n"
                        "generation,population,births,deaths,best_accuracy,mean_accuracy,"
                        "mean_rel_err,mean_r2,mean_link_r2,best_id,flops,params_alive,n_a,n_b,"
                        "wall_seconds,workers,deaths_selection,deaths_capacity,deaths_budget,"
                        "mean_link_rel_err,cumulative_flops,nonfinite_rel_err,nonfinite_r2\n"
                        "3,6,5,5,0.36,0.14,2.5,,-0.5,7,1000,4128,4,2,0.013,2,4,1,0,0.5,5000,1,6\n"
                        "3,6,5,5,0.36,0.14,2.5,,-0.5,7,1000,,4,2,,\n");
    free(t);
    free(buf);
}

/* [islands]: phylogeny.csv gains island and origin_island (set for a migrant only),
 * generations.csv an island column after generation: a number, or "all" for the whole
 * (whose row alone carries wall_seconds and workers). */
Test(runcsv, island_columns)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    qs_runcsv_org_t o = {.id = 8,
                         .parent_id = 4,
                         .origin_time = 3,
                         .alive = 1,
                         .species = "a",
                         .accuracy = 0.5,
                         .rel_err = 0.25,
                         .r2 = 0.75,
                         .flops = 10,
                         .islands = 1,
                         .island = 1,
                         .migrant = 1,
                         .origin_island = 0,
                         .link_r2 = NAN,
                         .link_rel_err = NAN,
                         .death_cause = ""};
    qs_runcsv_phylogeny_header(f, 1, 0);
    qs_runcsv_phylogeny_row(f, &o, 0);
    o.migrant = 0;
    qs_runcsv_phylogeny_row(f, &o, 1);
    const char *const names[] = {"a"};
    const uint32_t counts[] = {3};
    qs_runcsv_gen_t g = {.generation = 2,
                         .islands = 1,
                         .island = 1,
                         .population = 3,
                         .best_accuracy = NAN,
                         .mean_accuracy = NAN,
                         .mean_rel_err = NAN,
                         .mean_r2 = NAN,
                         .mean_link_r2 = NAN,
                         .species_count = counts,
                         .has_summary = 1,
                         .params_alive = 99,
                         .wall_seconds = 1.5,
                         .workers = 2};
    qs_runcsv_generations_header(f, names, 1, 1, 0);
    qs_runcsv_generations_row(f, &g, 1, 0);
    g.island = -1;
    qs_runcsv_generations_row(f, &g, 1, 0);
    fclose(f);
    char *t = text_of(buf, len);
    cr_assert_str_eq(t, "id,ancestor_list,origin_time,destruction_time,species,accuracy,rel_err,"
                        "r2,flops,island,origin_island\n"
                        "8,[4],3,none,a,0.5,0.25,0.75,10,1,0\n"
                        "8,[4],3,none,a,0.5,0.25,0.75,10,1,,,,\n"
                        "generation,island,population,births,deaths,best_accuracy,mean_accuracy,"
                        "mean_rel_err,mean_r2,mean_link_r2,best_id,flops,params_alive,n_a,"
                        "wall_seconds,workers\n"
                        "2,1,3,0,0,,,,,,0,0,99,3,,\n"
                        "2,all,3,0,0,,,,,,0,0,99,3,1.500,2\n");
    free(t);
    free(buf);
}
