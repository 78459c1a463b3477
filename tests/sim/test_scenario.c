/* Tests for sim/scenario: parsing, every class of invalid input (with file:line and a
 * suggestion where one exists), --set overrides, and the resolved output round trip. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "sim/scenario.h"
#include "tests/testutil.h"

static const char *valid = "; a small arena\n"
                           "[run]\n"
                           "name = arena\n"
                           "seed = 42\n"
                           "generations = 7\n"
                           "[data]\n"
                           "path = /tmp/mnist\n"
                           "fitness = 500\n"
                           "[life]\n"
                           "optimizer = adam\n"
                           "lr = 0.001\n"
                           "steps = 1e3\n"
                           "[selection]\n"
                           "method = truncation\n"
                           "size = 4\n"
                           "[budget]\n"
                           "max_params = 1000000\n"
                           "[workers]\n"
                           "count = auto\n"
                           "[species.small]\n"
                           "kind = aux\n"
                           "hidden = 20\n"
                           "count = 5\n"
                           "[species.big]\n"
                           "hidden = 100\n"
                           "count = 3\n"
                           "lambda = 0.5\n";

Test(scenario, parses_values_and_defaults)
{
    qs_scenario_t sc;
    qs_error_t err = {0};
    qs_scenario_defaults(&sc);
    cr_assert_eq(qs_scenario_parse_string(&sc, valid, "t.ini", &err), 0, "%s", err.msg);
    cr_assert_eq(qs_scenario_validate(&sc, &err), 0, "%s", err.msg);
    cr_assert_str_eq(sc.name, "arena");
    cr_assert_eq(sc.seed, 42);
    cr_assert_eq(sc.generations, 7);
    cr_assert_eq(sc.fitness, 500);
    cr_assert_eq(sc.optimizer, QS_OPT_ADAM);
    cr_assert_float_eq(sc.lr, 0.001, 1e-12);
    cr_assert_eq(sc.steps, 1000, "1e3 is accepted for an integer");
    cr_assert_eq(sc.method, QS_SEL_TRUNCATION);
    cr_assert_eq(sc.workers, 0, "auto");
    cr_assert_eq(sc.nspecies, 2);
    cr_assert_str_eq(sc.species[0].name, "small");
    cr_assert_eq(sc.species[0].hidden, 20);
    cr_assert_eq(sc.species[1].count, 3);
    cr_assert_float_eq(sc.species[1].lambda, 0.5, 1e-12);
    /* defaults */
    cr_assert_eq(sc.batch, 10);
    cr_assert_eq(sc.species[1].depth, 2);
    cr_assert_eq(sc.species[0].kind, QS_KIND_AUX);
    cr_assert_eq(sc.mode, QS_REPLICATE_SELF);
    cr_assert_eq(sc.precision, QS_PREC_FP32);
    cr_assert_eq(sc.population, 8, "population defaults to the founders");
    cr_assert_eq(sc.recipe, QS_LIFE_RECIPE_PAPER);
    cr_assert_eq(sc.measure_child, 0);
    cr_assert_eq(sc.regen, QS_REGEN_PLAIN);
}

Test(scenario, fertile_life)
{
    qs_scenario_t sc;
    qs_error_t err = {0};
    qs_scenario_defaults(&sc);
    const char *text = "[life]\nrecipe = fertile\nfertile_steps = 4\nmeasure_child = 1\n"
                       "[replication]\nregen = standardize\n[species.a]\nkind = vanilla\n";
    cr_assert_eq(qs_scenario_parse_string(&sc, text, "t.ini", &err), 0, "%s", err.msg);
    cr_assert_eq(qs_scenario_validate(&sc, &err), 0, "%s", err.msg);
    cr_assert_eq(sc.recipe, QS_LIFE_RECIPE_FERTILE);
    cr_assert_eq(sc.fertile_steps, 4);
    cr_assert_eq(sc.fertile_cg, 30);
    cr_assert_eq(sc.measure_child, 1);
    cr_assert_eq(sc.regen, QS_REGEN_STANDARDIZE);
    cr_assert_eq(qs_scenario_parse_string(&sc, "[replication]\nprecision = bf16\n", "u.ini", &err),
                 0, "%s", err.msg);
    cr_assert_eq(sc.precision, QS_PREC_BF16);
}

Test(scenario, empty_species_section_counts)
{
    qs_scenario_t sc;
    qs_error_t err = {0};
    qs_scenario_defaults(&sc);
    cr_assert_eq(
        qs_scenario_parse_string(&sc, "[species.a]\n[species.b]\ncount = 2\n", "t.ini", &err), 0,
        "%s", err.msg);
    cr_assert_eq(sc.nspecies, 2);
    cr_assert_eq(sc.species[0].count, 10);
}

/* Strings are arrays: Criterion runs each case in a fresh process. */
typedef struct {
    char text[160];
    char phrase[160]; /* must appear in the error */
} bad_t;

static bad_t bad[] = {
    {"[run]\nseeed = 3\n[species.a]\n",
     "t.ini:2: unknown key 'seeed' in [run] (did you mean 'seed'?)"},
    {"[lfie]\nsteps = 3\n[species.a]\n", "t.ini:1: unknown section [lfie] (did you mean [life]?)"},
    {"[run]\ngenerations = ten\n[species.a]\n",
     "t.ini:2: [run] generations = 'ten' is not a non-negative integer"},
    {"[run]\ngenerations = -3\n[species.a]\n", "is not a non-negative integer"},
    {"[run]\ngenerations = 0\n[species.a]\n", "t.ini:2: [run] generations = 0 is outside 1.."},
    {"[life]\noptimizer = adamw\n[species.a]\n",
     "is not one of: sgd, momentum, adam, adamax, adagrad, rmsprop (did you mean 'adam'?)"},
    {"[life]\nlr = fast\n[species.a]\n", "[life] lr = 'fast' is not a number"},
    {"[replication]\nprecision = fp16\n[species.a]\n",
     "t.ini:2: [replication] precision = 'fp16' is not one of: fp32, bf16 (did you mean 'fp32'?)"},
    {"[life]\nlr = nan\n[species.a]\n", "is not a number"},
    {"[run]\nseed = 1\nseed = 2\n[species.a]\n",
     "t.ini:3: [run] seed is set twice (first on line 2)"},
    {"seed = 1\n[species.a]\n", "t.ini:1: key 'seed' is outside any [section]"},
    {"[species.b@d]\n", "t.ini:1: species name 'b@d'"},
    {"[species.a]\n[species.a]\n", "t.ini:2: [species.a] appears twice"},
    {"[run]\nseed\n[species.a]\n", "t.ini:2: not an INI line"},
    {"[run]\nname = x\n", "no species"},
    {"[species.a]\ncount = 0\n", "there are no founders"},
    {"[species.a]\nkind = vanila\n", "(did you mean 'vanilla'?)"},
    {"[species.a]\nhidden = 1\n", "t.ini:2: [species] hidden = 1 is outside 2..4096"},
    {"[species.a]\ncount = 2\n[selection]\npopulation = 1\n",
     "t.ini:4: [selection] population = 1 is smaller than the 2 founders"},
    {"[species.a]\ncount = 2\n[selection]\nelitism = 3\n", "elitism = 3 exceeds population = 2"},
    {"[species.a]\n[selection]\nsize = 1\n", "a tournament needs at least 2 entrants"},
    {"[species.a]\ncount = 2\n[budget]\nmax_params = 30000\n",
     "t.ini:4: [budget] max_params = 30000 is less than the founders' 42200 parameters"},
    {"[species.a]\npairing = paired\n[life]\nimages = 5\n",
     "pairing = paired needs [life] images = batch"},
    {"[run\n", "t.ini:1: malformed section header"},
    {"[run]\nname = ../../../tmp/escape\n[species.a]\n",
     "t.ini:2: [run] name = '../../../tmp/escape': a run name is one folder name"},
    {"[run]\nname = ..\n[species.a]\n", "a run name is one folder name (no '/'"},
    {"[islands]\ncount = 0\n[species.a]\n", "t.ini:2: [islands] count = 0 is outside 1..100000"},
    {"[islands]\ncount = 11\n[species.a]\n",
     "t.ini:2: [islands] count = 11 exceeds the 10 founders: every island needs at least one"},
    {"[islands]\ntopology = torus\n[species.a]\n",
     "[islands] topology = 'torus' is not one of: ring, full, random"},
    {"[islands]\nemigrants = worst\n[species.a]\n",
     "[islands] emigrants = 'worst' is not one of: best, random, tournament"},
    {"[islands]\nreplace = best\n[species.a]\n",
     "[islands] replace = 'best' is not one of: worst, random"},
    {"[islands]\nbudget = half\n[species.a]\n",
     "[islands] budget = 'half' is not one of: split, each"},
    {"[islands]\ncount = 4\ntopology = random\ndegree = 4\n[species.a]\n",
     "t.ini:4: [islands] degree = 4: with count = 4 an island has at most 3 other islands"},
    {"[islands]\ncount = 5\n[selection]\nelitism = 3\n[species.a]\n",
     "t.ini:4: [selection] elitism = 3 exceeds the 2 places of the smallest of 5 islands"},
    {"[islands]\ncount = 3\ntopology = full\nmigrants = 1\n[species.a]\ncount = 7\n",
     "t.ini:4: [islands] migrants = 1: an island would receive 2 immigrants (2 sources each, "
     "topology full), more than the 1 newborns"},
    {"[islands]\ncount = 2\nmigrants = 0\n[budget]\nmax_params = 70000\n[species.a]\ncount = 3\n",
     "[islands] capacity = split: island 0 gets 35000 of [budget] max_params = 70000, less "
     "than its founders' 42200 parameters"},
    {"[islands]\ncount = 2\ntournament = 1\n[species.a]\n",
     "t.ini:3: [islands] tournament = 1 is outside 2..1000000"},
    {"[life]\nrecipe = fertil\n[species.a]\n",
     "[life] recipe = 'fertil' is not one of: paper, fertile"},
    {"[life]\nsteps = 5\nfertile_steps = 3\n[species.a]\n",
     "t.ini:3: [life] fertile_steps applies only with recipe = fertile (recipe is paper)"},
    {"[life]\nfertile_cg = 3\n[species.a]\n",
     "t.ini:2: [life] fertile_cg applies only with recipe = fertile"},
    {"[life]\nrecipe = fertile\nfertile_steps = 0\n[species.a]\n",
     "t.ini:3: [life] fertile_steps = 0 is outside 1..1000"},
    {"[life]\nrecipe = fertile\n[budget]\nflops_per_generation = 1e9\n[species.a]\n",
     "t.ini:2: [life] recipe = fertile cannot run under [budget] flops_per_generation = "
     "1000000000"},
    {"[life]\nmeasure_child = 2\n[species.a]\n",
     "t.ini:2: [life] measure_child = 2 is outside 0..1"},
    {"[replication]\nregen = scaled\n[species.a]\n",
     "[replication] regen = 'scaled' is not one of: plain, standardize, sign"},
    {"[life]\nrecipe = fertile\n[replication]\nregen = sign\n[species.a]\n",
     "t.ini:2: [life] recipe = fertile differentiates the offspring, and [replication] regen = "
     "sign has no gradient"},
};

ParameterizedTestParameters(scenario, rejects)
{
    return cr_make_param_array(bad_t, bad, sizeof bad / sizeof bad[0]);
}

ParameterizedTest(bad_t *c, scenario, rejects)
{
    qs_scenario_t sc;
    qs_error_t err = {0};
    qs_scenario_defaults(&sc);
    snprintf(sc.path, sizeof sc.path, "t.ini");
    int rc = qs_scenario_parse_string(&sc, c->text, "t.ini", &err);
    if (rc == 0)
        rc = qs_scenario_validate(&sc, &err);
    cr_assert_lt(rc, 0, "accepted: %s", c->text);
    cr_assert(strstr(err.msg, c->phrase), "error '%s' lacks '%s'", err.msg, c->phrase);
}

Test(scenario, long_line_is_an_error)
{
    char text[600];
    snprintf(text, sizeof text, "[run]\nname = %0300d\n[species.a]\n", 7);
    qs_scenario_t sc;
    qs_error_t err = {0};
    qs_scenario_defaults(&sc);
    cr_assert_lt(qs_scenario_parse_string(&sc, text, "t.ini", &err), 0);
    cr_assert(strstr(err.msg, "t.ini:2: line longer than"), "%s", err.msg);
}

Test(scenario, too_many_species)
{
    char text[2048] = "";
    for (int i = 0; i < QS_MAX_SPECIES + 1; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "[species.s%d]\n", i);
    qs_scenario_t sc;
    qs_error_t err = {0};
    qs_scenario_defaults(&sc);
    cr_assert_lt(qs_scenario_parse_string(&sc, text, "t.ini", &err), 0);
    cr_assert(strstr(err.msg, "more than 16 species"), "%s", err.msg);
}

Test(scenario, set_overrides)
{
    qs_scenario_t sc;
    qs_error_t err = {0};
    qs_scenario_defaults(&sc);
    cr_assert_eq(qs_scenario_parse_string(&sc, valid, "t.ini", &err), 0, "%s", err.msg);
    cr_assert_eq(qs_scenario_set(&sc, "run.generations=3", &err), 0, "%s", err.msg);
    cr_assert_eq(sc.generations, 3);
    cr_assert_eq(qs_scenario_set(&sc, "species.big.hidden=50", &err), 0, "%s", err.msg);
    cr_assert_eq(sc.species[1].hidden, 50);
    cr_assert_eq(qs_scenario_set(&sc, "species.new.count=1", &err), 0, "%s", err.msg);
    cr_assert_eq(sc.nspecies, 3, "--set can add a species");
    cr_assert_eq(qs_scenario_set(&sc, "replication.mode=copy", &err), 0, "%s", err.msg);
    cr_assert_eq(sc.mode, QS_REPLICATE_COPY);

    cr_assert_lt(qs_scenario_set(&sc, "run.generatoins=3", &err), 0);
    cr_assert(strstr(err.msg, "--set run.generatoins: unknown key 'generatoins' in [run] (did "
                              "you mean 'generations'?)"),
              "%s", err.msg);
    cr_assert_lt(qs_scenario_set(&sc, "generations=3", &err), 0);
    cr_assert(strstr(err.msg, "expected section.key=value"), "%s", err.msg);
    cr_assert_lt(qs_scenario_set(&sc, "life.steps=-1", &err), 0);
    cr_assert(strstr(err.msg, "--set life.steps: [life] steps = '-1'"), "%s", err.msg);
}

Test(scenario, resolved_output_round_trips)
{
    qs_scenario_t a, b;
    qs_error_t err = {0};
    qs_scenario_defaults(&a);
    cr_assert_eq(qs_scenario_parse_string(&a, valid, "t.ini", &err), 0, "%s", err.msg);
    cr_assert_eq(qs_scenario_validate(&a, &err), 0, "%s", err.msg);
    char *text = qs_scenario_to_string(&a);
    cr_assert(strstr(text, "[species.big]") && strstr(text, "mutation_sigma"), "%s", text);
    cr_assert(strstr(text, "count                = auto"), "%s", text);
    qs_scenario_defaults(&b);
    cr_assert_eq(qs_scenario_parse_string(&b, text, "resolved", &err), 0, "%s\n%s", err.msg, text);
    cr_assert_eq(qs_scenario_validate(&b, &err), 0, "%s", err.msg);
    char *again = qs_scenario_to_string(&b);
    cr_assert_str_eq(text, again);
    cr_assert_eq(a.lr, b.lr, "doubles written exactly");
    free(text);
    free(again);
}

Test(scenario, enum_names_match_core)
{
    /* The scenario's names must be core's names: a resolved file is readable by both. */
    for (int k = 0; k < 2; k++)
        cr_assert_str_eq(qs_kind_name((qs_kind_t)k), k ? "aux" : "vanilla");
    const char *opts[] = {"sgd", "momentum", "adam", "adamax", "adagrad", "rmsprop"};
    for (int k = 0; k < 6; k++)
        cr_assert_str_eq(qs_opt_name((qs_opt_kind_t)k), opts[k]);
    const char *losses[] = {"sse", "relative", "r2"};
    for (int k = 0; k < 3; k++)
        cr_assert_str_eq(qs_sr_loss_name((qs_sr_loss_t)k), losses[k]);
    cr_assert_str_eq(qs_pairing_name(QS_PAIR_PAIRED), "paired");
    cr_assert_str_eq(qs_init_name(QS_INIT_HE), "he");
    cr_assert_str_eq(qs_refresh_name(QS_REFRESH_STEP), "step");
    cr_assert_str_eq(qs_rest_name(QS_REST_MEAN), "mean");
}

Test(scenario, load_file_names_default_and_errors)
{
    char dir[256], path[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/my-run.ini", dir);
    tu_write_file(path, "[species.a]\n", 12);
    qs_scenario_t sc;
    qs_error_t err = {0};
    cr_assert_eq(qs_scenario_load(&sc, path, &err), 0, "%s", err.msg);
    cr_assert_str_eq(sc.name, "my-run");
    snprintf(path, sizeof path, "%s/missing.ini", dir);
    cr_assert_eq(qs_scenario_load(&sc, path, &err), QS_ERR(NOENT));
    cr_assert(strstr(err.msg, "missing.ini"));
    tu_rmrf(dir);
}

/* Islands deal the founders out in turn and split totals with the remainder first. */
Test(scenario, islands_share_founders_and_totals)
{
    qs_scenario_t sc;
    qs_error_t err = {0};
    qs_scenario_defaults(&sc);
    cr_assert_eq(qs_scenario_parse_string(&sc,
                                          "[islands]\ncount = 3\n[selection]\npopulation = 11\n"
                                          "[species.a]\ncount = 4\n[species.b]\ncount = 3\n",
                                          "t.ini", &err),
                 0, "%s", err.msg);
    cr_assert_eq(qs_scenario_validate(&sc, &err), 0, "%s", err.msg);
    cr_assert_eq(sc.islands, 3);
    cr_assert_eq(sc.topology, QS_TOPO_RING);
    cr_assert_eq(sc.interval, 5);
    cr_assert_eq(sc.migrants, 1);
    cr_assert_eq(sc.emigrants, QS_EMIGRATE_BEST);
    cr_assert_eq(sc.replace, QS_REPLACE_WORST);
    cr_assert_eq(sc.budget_share, QS_SHARE_SPLIT);
    /* founders 1..7: a a a a b b b, to islands 0 1 2 0 1 2 0 */
    const uint32_t want[3][2] = {{2, 1}, {1, 1}, {1, 1}};
    for (uint32_t k = 0; k < 3; k++)
        for (uint32_t s = 0; s < 2; s++)
            cr_assert_eq(qs_scenario_island_founders(&sc, k, s), want[k][s], "island %u species %u",
                         k, s);
    cr_assert_eq(qs_scenario_share(&sc, 0, 11), 4);
    cr_assert_eq(qs_scenario_share(&sc, 1, 11), 4);
    cr_assert_eq(qs_scenario_share(&sc, 2, 11), 3);
    cr_assert_eq(qs_scenario_in_degree(&sc), 1);
    sc.topology = QS_TOPO_FULL;
    cr_assert_eq(qs_scenario_in_degree(&sc), 2);
    /* the resolved scenario writes the section and reads back the same */
    char *text = qs_scenario_to_string(&sc);
    cr_assert(strstr(text, "\n[islands]\ncount                = 3\ntopology             = full\n"),
              "%s", text);
    qs_scenario_t back;
    qs_scenario_defaults(&back);
    cr_assert_eq(qs_scenario_parse_string(&back, text, "resolved", &err), 0, "%s", err.msg);
    cr_assert_eq(qs_scenario_diff(&sc, &back, NULL, 0), 0);
    free(text);
}
