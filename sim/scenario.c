/* scenario: the key table, INI parsing with libinih, overrides, validation, output. */
#include "sim/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_U32, K_U64, K_F64, K_STR, K_ENUM, K_AUTO } key_type_t;

/* Enum names: core's tables (one list of names for a run's files, the wire and the
 * commands), and the two enums that only scenarios have. */
static const char *const selection_table[] = {"tournament", "roulette", "truncation"};
static const char *const alloc_table[] = {"equal", "fitness"};
static const qs_names_t selection_names = QS_NAMES(selection_table);
static const qs_names_t alloc_names = QS_NAMES(alloc_table);
static const char *const topology_table[] = {"ring", "full", "random"};
static const char *const emigrate_table[] = {"best", "random", "tournament"};
static const char *const replace_table[] = {"worst", "random"};
static const char *const share_table[] = {"split", "each"};
static const char *const hosting_table[] = {"orchestrator", "workers"};
static const qs_names_t topology_names = QS_NAMES(topology_table);
static const qs_names_t emigrate_names = QS_NAMES(emigrate_table);
static const qs_names_t replace_names = QS_NAMES(replace_table);
static const qs_names_t share_names = QS_NAMES(share_table);
static const qs_names_t hosting_names = QS_NAMES(hosting_table);

/* The global sections, in the order scenario.ini writes them. */
static const char *const global_sections[] = {"run",       "data",   "life",    "replication",
                                              "selection", "budget", "workers", "islands"};

typedef struct {
    const char *section; /* "species" for the keys of every [species.NAME] */
    const char *key;
    key_type_t type;
    size_t offset, size;
    const char *def;
    double min, max;
    const qs_names_t *names; /* K_ENUM: the first max names (max 0: all) */
    const char *help;
} key_def_t;

#define G(field)             offsetof(qs_scenario_t, field), sizeof(((qs_scenario_t *)0)->field)
#define S(field)             offsetof(qs_scn_species_t, field), sizeof(((qs_scn_species_t *)0)->field)
#define NUM(lo, hi)          lo, hi, NULL
#define ENUM(names)          0, 0, &names
#define ENUM_FIRST(names, n) 0, n, &names

static const key_def_t keys[] = {
    {"run", "name", K_STR, G(name), "", NUM(0, 0), "run name (default: the file name)"},
    {"run", "seed", K_U64, G(seed), "1", NUM(0, 1.8e19), "seed of every random stream"},
    {"run", "generations", K_U32, G(generations), "20", NUM(1, 1e9), "generations to run"},
    {"run", "checkpoint_every", K_U32, G(checkpoint_every), "1", NUM(0, 1e9),
     "write a checkpoint every K generations (0: only at the end and on signals)"},
    {"run", "archive", K_ENUM, G(archive), "none", ENUM(qs_archive_mode_names),
     "genomes kept in archive.msgpack: best (the fittest of each archived generation), "
     "survivors (every organism alive in it) or all (every organism once, after its first life)"},
    {"run", "archive_every", K_U32, G(archive_every), "10", NUM(1, 1e9),
     "archived generations: 0, K, 2K, ... and the last (best, survivors; all ignores it)"},

    {"data", "path", K_STR, G(data_path), "data/mnist", NUM(0, 0),
     "folder with the four MNIST-format IDX files (plain or .gz)"},
    {"data", "train", K_U32, G(train), "0", NUM(0, 1e8),
     "training images used, the first N of the training split (0: all)"},
    {"data", "fitness", K_U32, G(fitness), "1000", NUM(1, 1e8),
     "fitness set: the first N images of the test split, on which accuracy is measured"},
    {"data", "test", K_U32, G(test), "0", NUM(0, 1e8),
     "held-out images after the fitness set, for the final test of best.genome (0: the rest)"},

    {"life", "optimizer", K_ENUM, G(optimizer), "adamax", ENUM(qs_opt_names),
     "optimizer of an organism's life (PyTorch defaults)"},
    {"life", "lr", K_F64, G(lr), "0", NUM(0, 10), "learning rate (0: the optimizer's default)"},
    {"life", "batch", K_U32, G(batch), "10", NUM(0, 1e7),
     "coordinates per training step (0: all N, full batch)"},
    {"life", "images", K_U32, G(images), "0", NUM(0, 1e6),
     "images per training step (0: same as batch, or 100 with a full batch)"},
    {"life", "steps", K_U32, G(steps), "100", NUM(0, 1e9),
     "training steps per generation, at most (the budget may allow fewer)"},
    {"life", "refresh", K_ENUM, G(refresh), "epoch", ENUM(qs_refresh_names),
     "replication targets frozen per epoch (paper) or per step"},
    {"life", "recipe", K_ENUM, G(recipe), "paper", ENUM(qs_life_recipe_names),
     "paper: the steps above only; fertile: then fertile_steps second-order steps of quinesim "
     "train --recipe fertile (copy, contraction, the child's copy; offspring by [replication] "
     "regen)"},
    {"life", "fertile_steps", K_U32, G(fertile_steps), "2", NUM(1, 1000),
     "recipe = fertile: Levenberg-Marquardt steps per life (about 12 x cg regenerations each)"},
    {"life", "fertile_cg", K_U32, G(fertile_cg), "30", NUM(1, 1000),
     "recipe = fertile: conjugate-gradient iterations per step"},
    {"life", "measure_child", K_U32, G(measure_child), "0", NUM(0, 1),
     "1: each evaluation regenerates once more and records the child's own copy R^2 and the "
     "grandchild's drift R^2 (eval records' child_r2, drift2_r2)"},

    {"replication", "mode", K_ENUM, G(mode), "self", ENUM(qs_replicate_mode_names),
     "self: child = f_theta(C) + mutation; copy (control): child = exact clone + mutation"},
    {"replication", "regenerations", K_U32, G(regenerations), "1", NUM(1, 1000),
     "times the self-prediction is applied to make a child (self mode)"},
    {"replication", "regen", K_ENUM, G(regen), "plain", ENUM(qs_regen_names),
     "plain: child = f_theta(C); standardize: each layer rescaled to the parent's mean and "
     "spread; sign: each weight +-a_l, the prediction's sign times the layer's mean absolute "
     "weight "
     "(core/regen.h)"},
    {"replication", "mutation_sigma", K_F64, G(mutation_sigma), "0.01", NUM(0, 100),
     "standard deviation of the Gaussian added to a mutated weight"},
    {"replication", "mutation_rate", K_F64, G(mutation_rate), "0.01", NUM(0, 1),
     "probability that a weight is mutated"},
    {"replication", "input", K_ENUM, G(input), "zero", ENUM(qs_rest_names),
     "image half of the input when replicating (aux): zero image or mean training image"},
    {"replication", "precision", K_ENUM, G(precision), "fp32", ENUM(qs_precision_names),
     "regeneration and evaluation (self-prediction, accuracy) in fp32 (OpenBLAS) or bf16 "
     "(oneDNN; a worker without native bf16 runs fp32 and says so); training stays fp32"},

    {"selection", "method", K_ENUM, G(method), "tournament", ENUM(selection_names),
     "how parents are chosen"},
    {"selection", "size", K_U32, G(size), "3", NUM(1, 1e6),
     "tournament: entrants per draw; truncation: the top N are eligible parents"},
    {"selection", "elitism", K_U32, G(elitism), "1", NUM(0, 1e6),
     "best organisms that survive unchanged into the next generation"},
    {"selection", "population", K_U32, G(population), "0", NUM(0, 1e7),
     "organisms per generation, at most (0: the sum of the species' counts)"},
    {"selection", "fitness", K_ENUM, G(fitness_measure), "accuracy", ENUM(qs_fitness_names),
     "what selection maximises: accuracy, fidelity (R^2 of self-prediction), or product"},

    {"budget", "flops_per_generation", K_U64, G(flops_per_generation), "0", NUM(0, 1.8e19),
     "FLOPs shared by the population each generation (0: unlimited)"},
    {"budget", "allocation", K_ENUM, G(allocation), "equal", ENUM(alloc_names),
     "how the budget is shared: equally, or in proportion to last fitness"},
    {"budget", "max_params", K_U64, G(max_params), "0", NUM(0, 1.8e19),
     "capacity: parameters alive at once, at most (0: unlimited)"},
    {"budget", "task_timeout_s", K_F64, G(task_timeout_s), "600", NUM(0.1, 1e7),
     "a task running longer is abandoned, its worker killed and the task requeued"},
    {"budget", "worker_memory_mb", K_U32, G(worker_memory_mb), "4096", NUM(0, 1e7),
     "address-space limit of each worker process in MiB (0: unlimited)"},

    {"workers", "count", K_AUTO, G(workers), "auto", NUM(1, 1024),
     "worker processes: a number, or auto (one per core)"},
    {"workers", "heartbeat", K_F64, G(heartbeat_s), "2", NUM(0.05, 3600),
     "seconds between worker heartbeats; silence for 5 of them counts as a hang"},
    {"workers", "in_flight", K_U32, G(in_flight), "2", NUM(1, 64),
     "tasks queued on each worker at once"},
    {"workers", "max_restarts", K_U32, G(max_restarts), "5", NUM(0, 1000),
     "consecutive failed starts of a worker before the run gives up"},
    {"workers", "auth_timeout", K_F64, G(auth_timeout_s), "5", NUM(0.05, 600),
     "seconds a remote peer has to authenticate before it is disconnected"},

    {"islands", "count", K_U32, G(islands), "1", NUM(1, QS_MAX_ISLANDS),
     "populations that evolve apart and exchange migrants (1: one population, as without "
     "[islands])"},
    {"islands", "topology", K_ENUM, G(topology), "ring", ENUM(topology_names),
     "where migrants go: ring (island k to k+1), full (to every other island) or random "
     "(to degree islands, each island receiving from as many)"},
    {"islands", "degree", K_U32, G(degree), "2", NUM(1, QS_MAX_ISLANDS),
     "random topology: destinations of each island"},
    {"islands", "topology_seed", K_U64, G(topology_seed), "0", NUM(0, 1.8e19),
     "random topology: seed of the graph (0: the run seed)"},
    {"islands", "interval", K_U32, G(interval), "5", NUM(1, 1e9),
     "generations between migrations: after generations K-1, 2K-1, ..."},
    {"islands", "migrants", K_U32, G(migrants), "1", NUM(0, 1e7),
     "organisms each island sends to each destination per migration (0: none)"},
    {"islands", "emigrants", K_ENUM, G(emigrants), "best", ENUM(emigrate_names),
     "who emigrates: the fittest, drawn at random, or tournament winners"},
    {"islands", "tournament", K_U32, G(tournament), "2", NUM(2, 1e6),
     "emigrants = tournament: entrants per draw"},
    {"islands", "replace", K_ENUM, G(replace), "worst", ENUM(replace_names),
     "which of an island's newborns the immigrants replace: those of the least fit parents, "
     "or drawn at random"},
    {"islands", "budget", K_ENUM, G(budget_share), "split", ENUM(share_names),
     "[budget] flops_per_generation: split between the islands, or each island's own"},
    {"islands", "capacity", K_ENUM, G(capacity_share), "split", ENUM(share_names),
     "[budget] max_params: split between the islands, or each island's own"},
    {"islands", "hosting", K_ENUM, G(hosting), "orchestrator", ENUM(hosting_names),
     "who keeps the islands' genomes and computes their generations: the orchestrator "
     "(tasks for stateless workers) or the workers (each island on one worker)"},

    {"species", "kind", K_ENUM, S(kind), "aux", ENUM(qs_kind_names),
     "vanilla (replication only) or aux (also classifies digits)"},
    {"species", "hidden", K_U32, S(hidden), "100", NUM(2, 4096), "hidden width H"},
    {"species", "depth", K_U32, S(depth), "2", NUM(1, 16), "number of H x H hidden layers"},
    {"species", "lambda", K_F64, S(lambda), "0.01", NUM(0, 1e6),
     "weight of the task loss: L = L_SR + lambda * L_task"},
    {"species", "temperature", K_F64, S(temperature), "0.01", NUM(1e-6, 1e6),
     "softmax temperature of the task loss"},
    /* not "none": a scenario species always has a replication loss */
    {"species", "loss", K_ENUM, S(loss), "sse", ENUM_FIRST(qs_sr_loss_names, 3),
     "replication loss: sse (paper), relative or r2 (scale-free)"},
    {"species", "reduce", K_ENUM, S(reduce), "sum", ENUM(qs_reduce_names),
     "task loss summed or averaged over a step's images"},
    {"species", "pairing", K_ENUM, S(pairing), "separate", ENUM(qs_pairing_names),
     "separate rows for replication and task, or paired (c_k, x_k) rows as in the paper"},
    {"species", "init", K_ENUM, S(init), "uniform", ENUM(qs_init_names),
     "founders' weights: uniform(-0.1, 0.1) (paper) or he"},
    {"species", "projection_seed", K_U64, S(projection_seed), "1", NUM(0, 1.8e19),
     "seed of the fixed random projections (the species' physics)"},
    {"species", "count", K_U32, S(count), "10", NUM(0, 1e7), "founders of this species"},
};

#define NKEYS (sizeof keys / sizeof keys[0])

static int is_species_key(const key_def_t *k)
{
    return !strcmp(k->section, "species");
}

/* ---- did you mean ---------------------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 64;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            row[j] = QS_MIN(QS_MIN(row[j] + 1, row[j - 1] + 1), diag + cost);
            diag = up;
        }
    }
    return row[lb];
}

/* The closest candidate within a small distance, or NULL. */
static const char *closest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, cands[i]);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    size_t len = strlen(word);
    return best && best_d <= QS_MAX((size_t)2, len / 3) ? best : NULL;
}

static const char *closest_key(const char *section, const char *key)
{
    const char *cands[NKEYS];
    size_t n = 0;
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].section, section))
            cands[n++] = keys[i].key;
    return closest(key, cands, n);
}

static const char *closest_section(const char *section)
{
    const char *sections[QS_ARRAY_LEN(global_sections) + 1];
    for (size_t i = 0; i < QS_ARRAY_LEN(global_sections); i++)
        sections[i] = global_sections[i];
    sections[QS_ARRAY_LEN(global_sections)] = "species.NAME";
    return closest(section, sections, QS_ARRAY_LEN(sections));
}

/* ---- values ------------------------------------------------------------------------------ */

static int parse_u64(const char *s, uint64_t *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '-' || *s == '\0')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == 0 && *end == '\0') {
        *out = v;
        return 0;
    }
    /* 1e9, 2.5e12: accepted when integral and exactly representable. */
    errno = 0;
    double d = strtod(s, &end);
    if (errno != 0 || *end != '\0' || d < 0 || d > 9007199254740992.0 || d != floor(d))
        return -1;
    *out = (uint64_t)d;
    return 0;
}

static int parse_f64(const char *s, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

static size_t enum_count(const key_def_t *k)
{
    return k->max > 0 ? (size_t)k->max : k->names->n;
}

static void names_list(char *buf, size_t cap, const key_def_t *k)
{
    buf[0] = '\0';
    for (size_t i = 0; i < enum_count(k); i++)
        if (qs_list_append(buf, cap, k->names->names[i]) < 0)
            break;
}

/* Store text into the field described by k at base; where names the place for errors. */
static int set_value(const key_def_t *k, void *base, const char *value, const char *where,
                     qs_error_t *err)
{
    char *field = (char *)base + k->offset;
    const char *sect = is_species_key(k) ? "species" : k->section;
    if (k->type == K_AUTO && !strcmp(value, "auto")) {
        uint32_t zero = 0; /* auto */
        memcpy(field, &zero, sizeof zero);
        return 0;
    }
    switch (k->type) {
    case K_STR:
        if (strlen(value) >= k->size)
            return qs_error_set(err, QS_ERR(RANGE), "%s: [%s] %s is longer than %zu characters",
                                where, sect, k->key, k->size - 1);
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case K_ENUM:
        for (int i = 0; i < (int)enum_count(k); i++) {
            if (!strcmp(value, k->names->names[i])) {
                memcpy(field, &i, sizeof i);
                return 0;
            }
        }
        {
            char list[256];
            names_list(list, sizeof list, k);
            const char *hint = closest(value, k->names->names, enum_count(k));
            return qs_error_set(err, QS_ERR(INVAL), "%s: [%s] %s = '%s' is not one of: %s%s%s%s",
                                where, sect, k->key, value, list, hint ? " (did you mean '" : "",
                                hint ? hint : "", hint ? "'?)" : "");
        }
    case K_AUTO:
    case K_U32:
    case K_U64: {
        uint64_t v;
        if (parse_u64(value, &v) < 0)
            return qs_error_set(err, QS_ERR(INVAL),
                                "%s: [%s] %s = '%s' is not a non-negative integer%s", where, sect,
                                k->key, value, k->type == K_AUTO ? " or 'auto'" : "");
        if ((double)v < k->min || (double)v > k->max)
            return qs_error_set(err, QS_ERR(RANGE), "%s: [%s] %s = %s is outside %.15g..%.15g",
                                where, sect, k->key, value, k->min, k->max);
        if (k->type == K_U64) {
            memcpy(field, &v, sizeof v);
        } else {
            uint32_t v32 = (uint32_t)v;
            memcpy(field, &v32, sizeof v32);
        }
        return 0;
    }
    case K_F64: {
        double d;
        if (parse_f64(value, &d) < 0)
            return qs_error_set(err, QS_ERR(INVAL), "%s: [%s] %s = '%s' is not a number", where,
                                sect, k->key, value);
        if (d < k->min || d > k->max)
            return qs_error_set(err, QS_ERR(RANGE), "%s: [%s] %s = %s is outside %g..%g", where,
                                sect, k->key, value, k->min, k->max);
        memcpy(field, &d, sizeof d);
        return 0;
    }
    }
    return qs_error_set(err, QS_ERR(INVAL), "%s: bad key type", where);
}

static void format_value(const key_def_t *k, const void *base, char *buf, size_t cap)
{
    const char *field = (const char *)base + k->offset;
    switch (k->type) {
    case K_STR:
        snprintf(buf, cap, "%s", field);
        break;
    case K_ENUM: {
        int i;
        memcpy(&i, field, sizeof i);
        snprintf(buf, cap, "%s", k->names->names[i]);
        break;
    }
    case K_AUTO:
    case K_U32: {
        uint32_t v;
        memcpy(&v, field, sizeof v);
        if (k->type == K_AUTO && v == 0)
            snprintf(buf, cap, "auto");
        else
            snprintf(buf, cap, "%u", v);
        break;
    }
    case K_U64: {
        uint64_t v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, cap, "%llu", (unsigned long long)v);
        break;
    }
    case K_F64: {
        double d;
        memcpy(&d, field, sizeof d);
        qs_fmt_roundtrip(buf, cap, d, 1, 17, 0); /* the shortest form that reads back */
        break;
    }
    }
}

/* ---- defaults ------------------------------------------------------------------------------ */

static void species_defaults(qs_scn_species_t *sp, const char *name)
{
    memset(sp, 0, sizeof *sp);
    for (size_t i = 0; i < NKEYS; i++)
        if (is_species_key(&keys[i]))
            set_value(&keys[i], sp, keys[i].def, "defaults", NULL);
    snprintf(sp->name, sizeof sp->name, "%s", name);
}

void qs_scenario_defaults(qs_scenario_t *sc)
{
    memset(sc, 0, sizeof *sc);
    for (size_t i = 0; i < NKEYS; i++)
        if (!is_species_key(&keys[i]))
            set_value(&keys[i], sc, keys[i].def, "defaults", NULL);
}

/* ---- parsing -------------------------------------------------------------------------------- */

static int valid_species_name(const char *name)
{
    if (!*name || strlen(name) >= QS_NAME_MAX)
        return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return 0;
    return 1;
}

static int find_species(qs_scenario_t *sc, const char *name, int create)
{
    for (uint32_t i = 0; i < sc->nspecies; i++)
        if (!strcmp(sc->species[i].name, name))
            return (int)i;
    if (!create || sc->nspecies >= QS_MAX_SPECIES)
        return -1;
    species_defaults(&sc->species[sc->nspecies], name);
    return (int)sc->nspecies++;
}

/* Set section/key = value; line is recorded for later messages (0 for --set). */
static int assign(qs_scenario_t *sc, const char *section, const char *key, const char *value,
                  const char *where, uint32_t line, qs_error_t *err)
{
    const char *sect = section;
    void *base = sc;
    uint32_t *lines = sc->line;
    if (!strncmp(section, "species.", 8)) {
        const char *name = section + 8;
        if (!valid_species_name(name))
            return qs_error_set(err, QS_ERR(INVAL),
                                "%s: species name '%s' must be 1-%d letters, digits, '_' or '-'",
                                where, name, QS_NAME_MAX - 1);
        int s = find_species(sc, name, 1);
        if (s < 0)
            return qs_error_set(err, QS_ERR(RANGE), "%s: more than %d species", where,
                                QS_MAX_SPECIES);
        sect = "species";
        base = &sc->species[s];
        lines = sc->species[s].line;
    }
    int section_known = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].section, sect) != 0)
            continue;
        section_known = 1;
        if (strcmp(keys[i].key, key) != 0)
            continue;
        if (line && lines[i])
            return qs_error_set(err, QS_ERR(INVAL), "%s: [%s] %s is set twice (first on line %u)",
                                where, section, key, lines[i]);
        int rc = set_value(&keys[i], base, value, where, err);
        if (rc == 0)
            lines[i] = line ? line : UINT32_MAX;
        return rc;
    }
    if (!section_known) {
        const char *hint = closest_section(section);
        return qs_error_set(err, QS_ERR(INVAL), "%s: unknown section [%s]%s%s%s", where, section,
                            hint ? " (did you mean [" : "", hint ? hint : "", hint ? "]?)" : "");
    }
    const char *hint = closest_key(sect, key);
    return qs_error_set(err, QS_ERR(INVAL), "%s: unknown key '%s' in [%s]%s%s%s", where, key,
                        section, hint ? " (did you mean '" : "", hint ? hint : "",
                        hint ? "'?)" : "");
}

typedef struct {
    qs_scenario_t *sc;
    const char *origin;
    const char *text; /* remaining input */
    uint32_t lineno;
    int too_long;
    qs_error_t *err;
    int failed;
} parse_ctx_t;

/* inih reader over a string that also counts lines and catches over-long ones. */
static char *reader(char *str, int num, void *stream)
{
    parse_ctx_t *ctx = stream;
    if (!*ctx->text)
        return NULL;
    const char *nl = strchr(ctx->text, '\n');
    size_t len = nl ? (size_t)(nl - ctx->text) + 1 : strlen(ctx->text);
    ctx->lineno++;
    if (len >= (size_t)num) {
        ctx->too_long = 1;
        len = (size_t)num - 1;
    }
    memcpy(str, ctx->text, len);
    str[len] = '\0';
    ctx->text += nl ? (size_t)(nl - ctx->text) + 1 : strlen(ctx->text);
    return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx_t *ctx = user;
    if (ctx->failed)
        return 0;
    char where[QS_PATH_MAX + 32];
    snprintf(where, sizeof where, "%s:%u", ctx->origin, ctx->lineno);
    if (ctx->too_long) {
        qs_error_set(ctx->err, QS_ERR(INVAL), "%s: line longer than %d characters", where,
                     ini_max_line - 2);
        ctx->failed = 1;
        return 0;
    }
    if (!*section) {
        qs_error_set(ctx->err, QS_ERR(INVAL), "%s: key '%s' is outside any [section]", where, name);
        ctx->failed = 1;
        return 0;
    }
    if (assign(ctx->sc, section, name, value, where, ctx->lineno, ctx->err) < 0) {
        ctx->failed = 1;
        return 0;
    }
    return 1;
}

/* Sections are checked (and species created, even with no keys) in a first pass: inih
 * only reports sections through their keys. */
static int scan_sections(qs_scenario_t *sc, const char *text, const char *origin, qs_error_t *err)
{
    char seen[QS_MAX_SPECIES][QS_NAME_MAX];
    uint32_t lineno = 0, nseen = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        const char *a = p, *b = p + len;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (a < b && *a == '[') {
            const char *close = memchr(a, ']', (size_t)(b - a));
            char name[QS_NAME_MAX + 16];
            if (!close || (size_t)(close - a - 1) >= sizeof name)
                return qs_error_set(err, QS_ERR(FORMAT), "%s:%u: malformed section header", origin,
                                    lineno);
            memcpy(name, a + 1, (size_t)(close - a - 1));
            name[close - a - 1] = '\0';
            char where[QS_PATH_MAX + 32];
            snprintf(where, sizeof where, "%s:%u", origin, lineno);
            int ok = 0;
            for (size_t i = 0; i < QS_ARRAY_LEN(global_sections); i++)
                ok |= !strcmp(name, global_sections[i]);
            if (!strncmp(name, "species.", 8)) {
                if (!valid_species_name(name + 8))
                    return qs_error_set(
                        err, QS_ERR(INVAL),
                        "%s: species name '%s' must be 1-%d letters, digits, '_' or '-'", where,
                        name + 8, QS_NAME_MAX - 1);
                for (uint32_t s = 0; s < nseen; s++)
                    if (!strcmp(seen[s], name + 8))
                        return qs_error_set(err, QS_ERR(INVAL), "%s: [%s] appears twice", where,
                                            name);
                if (nseen < QS_MAX_SPECIES)
                    memcpy(seen[nseen++], name + 8, strlen(name + 8) + 1);
                int s = find_species(sc, name + 8, 1);
                if (s < 0)
                    return qs_error_set(err, QS_ERR(RANGE), "%s: more than %d species", where,
                                        QS_MAX_SPECIES);
                ok = 1;
            }
            if (!ok) {
                const char *hint = closest_section(name);
                return qs_error_set(err, QS_ERR(INVAL), "%s: unknown section [%s]%s%s%s", where,
                                    name, hint ? " (did you mean [" : "", hint ? hint : "",
                                    hint ? "]?)" : "");
            }
        }
        p += nl ? len + 1 : len;
    }
    return 0;
}

int qs_scenario_parse_string(qs_scenario_t *sc, const char *text, const char *origin,
                             qs_error_t *err)
{
    int rc = scan_sections(sc, text, origin, err);
    if (rc < 0)
        return rc;
    parse_ctx_t ctx = {.sc = sc, .origin = origin, .text = text, .err = err};
    ini_allow_multiline = false;
    ini_stop_on_first_error = true;
    rc = ini_parse_stream(reader, &ctx, handler, &ctx);
    if (ctx.failed)
        return err ? err->code : QS_ERR(INVAL);
    if (rc > 0)
        return qs_error_set(err, QS_ERR(FORMAT),
                            "%s:%d: not an INI line (expected [section], key = value, or a "
                            "comment starting with ; or #)",
                            origin, rc);
    if (rc < 0)
        return qs_error_set(err, QS_ERR(IO), "%s: cannot parse", origin);
    return 0;
}

int qs_scenario_load(qs_scenario_t *sc, const char *path, qs_error_t *err)
{
    FILE *f = qs_fopen_regular(path, NULL, err);
    if (!f)
        return err ? err->code : QS_ERR(IO);
    size_t cap = 4096, n = 0, got;
    char *text = xmalloc(cap);
    while ((got = fread(text + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            if (cap >= ((size_t)1 << 24)) {
                fclose(f);
                free(text);
                return qs_error_set(err, QS_ERR(TOOBIG), "%s: larger than 16 MiB", path);
            }
            text = xrealloc(text, cap *= 2);
        }
    }
    fclose(f);
    text[n] = '\0';
    if (strlen(text) != n) {
        free(text);
        return qs_error_set(err, QS_ERR(FORMAT), "%s: contains a NUL byte (not a text file)", path);
    }
    qs_scenario_defaults(sc);
    snprintf(sc->path, sizeof sc->path, "%s", path);
    int rc = qs_scenario_parse_string(sc, text, path, err);
    free(text);
    if (rc < 0)
        return rc;
    if (!sc->name[0]) { /* default name: the file name without folder and extension */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        snprintf(sc->name, sizeof sc->name, "%.*s", (int)strcspn(base, "."), base);
    }
    return qs_scenario_validate(sc, err);
}

int qs_scenario_set(qs_scenario_t *sc, const char *assignment, qs_error_t *err)
{
    const char *eq = strchr(assignment, '=');
    const char *dot = eq ? memchr(assignment, '.', (size_t)(eq - assignment)) : NULL;
    if (!eq || !dot)
        return qs_error_set(err, QS_ERR(INVAL),
                            "--set %s: expected section.key=value (species: "
                            "species.NAME.key=value)",
                            assignment);
    char section[160], key[96], where[300];
    size_t lhs = (size_t)(eq - assignment);
    const char *last_dot = dot;
    for (const char *p = dot; p < eq; p++)
        if (*p == '.')
            last_dot = p;
    size_t slen = (size_t)(last_dot - assignment), klen = lhs - slen - 1;
    if (slen >= sizeof section || klen >= sizeof key || klen == 0 || slen == 0)
        return qs_error_set(err, QS_ERR(INVAL), "--set %s: bad section or key", assignment);
    memcpy(section, assignment, slen);
    section[slen] = '\0';
    memcpy(key, last_dot + 1, klen);
    key[klen] = '\0';
    snprintf(where, sizeof where, "--set %.*s", (int)lhs, assignment);
    return assign(sc, section, key, eq + 1, where, 0, err);
}

/* "file:line: " or "file: " for a key, for cross-key messages. */
static void key_where(const qs_scenario_t *sc, const uint32_t *lines, const char *key,
                      const char *section, char *buf, size_t cap)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].key, key) != 0 || strcmp(keys[i].section, section) != 0)
            continue;
        if (lines[i] == UINT32_MAX)
            snprintf(buf, cap, "--set");
        else if (lines[i])
            snprintf(buf, cap, "%s:%u", sc->path[0] ? sc->path : "scenario", lines[i]);
        else
            snprintf(buf, cap, "%s", sc->path[0] ? sc->path : "scenario");
        return;
    }
    snprintf(buf, cap, "%s", sc->path[0] ? sc->path : "scenario");
}

uint64_t qs_scenario_share(const qs_scenario_t *sc, uint32_t k, uint64_t total)
{
    uint32_t n = sc->islands ? sc->islands : 1;
    return total / n + (k < total % n);
}

uint32_t qs_scenario_island_founders(const qs_scenario_t *sc, uint32_t k, uint32_t species)
{
    uint64_t start = 0;
    for (uint32_t s = 0; s < species; s++)
        start += sc->species[s].count;
    uint64_t end = start + sc->species[species].count;
    return (uint32_t)(qs_scenario_share(sc, k, end) - qs_scenario_share(sc, k, start));
}

uint32_t qs_scenario_in_degree(const qs_scenario_t *sc)
{
    if (sc->islands <= 1)
        return 0;
    switch (sc->topology) {
    case QS_TOPO_RING:
        return 1;
    case QS_TOPO_FULL:
        return sc->islands - 1;
    case QS_TOPO_RANDOM:
        return sc->degree;
    }
    return 0;
}

/* [islands] against the rest: every island gets founders, room for its elites and
 * immigrants, and capacity for its founders. The last island has the smallest shares. */
static int validate_islands(const qs_scenario_t *sc, uint64_t founders, qs_error_t *err)
{
    char w[QS_PATH_MAX + 32];
    uint32_t n = sc->islands;
    if (n <= 1)
        return 0;
    if (founders < n) {
        key_where(sc, sc->line, "count", "islands", w, sizeof w);
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: [islands] count = %u exceeds the %llu founders: every island "
                            "needs at least one",
                            w, n, (unsigned long long)founders);
    }
    if (sc->topology == QS_TOPO_RANDOM && sc->degree > n - 1) {
        key_where(sc, sc->line, "degree", "islands", w, sizeof w);
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: [islands] degree = %u: with count = %u an island has at most %u "
                            "other islands to send to",
                            w, sc->degree, n, n - 1);
    }
    uint32_t places = (uint32_t)qs_scenario_share(sc, n - 1, sc->population);
    if (sc->elitism > places) {
        key_where(sc, sc->line, "elitism", "selection", w, sizeof w);
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: [selection] elitism = %u exceeds the %u places of the smallest of "
                            "%u islands ([selection] population = %u is split between them)",
                            w, sc->elitism, places, n, sc->population);
    }
    uint64_t immigrants = (uint64_t)sc->migrants * qs_scenario_in_degree(sc);
    if (immigrants > places - sc->elitism) {
        key_where(sc, sc->line, "migrants", "islands", w, sizeof w);
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: [islands] migrants = %u: an island would receive %llu immigrants "
                            "(%u sources each, topology %s), more than the %u newborns of the "
                            "smallest island (%u places, %u elites)",
                            w, sc->migrants, (unsigned long long)immigrants,
                            qs_scenario_in_degree(sc), topology_table[sc->topology],
                            places - sc->elitism, places, sc->elitism);
    }
    if (sc->max_params && sc->capacity_share == QS_SHARE_SPLIT) {
        for (uint32_t k = 0; k < n; k++) {
            uint64_t params = 0, cap = qs_scenario_share(sc, k, sc->max_params);
            for (uint32_t s = 0; s < sc->nspecies; s++) {
                qs_quine_spec_t spec = qs_scenario_spec(sc, s);
                params += (uint64_t)qs_scenario_island_founders(sc, k, s) * qs_quine_nparams(&spec);
            }
            if (params > cap) {
                key_where(sc, sc->line, "capacity", "islands", w, sizeof w);
                return qs_error_set(
                    err, QS_ERR(RANGE),
                    "%s: [islands] capacity = split: island %u gets %llu of [budget] max_params = "
                    "%llu, less than its founders' %llu parameters (use capacity = each, or raise "
                    "max_params)",
                    w, k, (unsigned long long)cap, (unsigned long long)sc->max_params,
                    (unsigned long long)params);
            }
        }
    }
    return 0;
}

/* Whether a global u32 key holds other than its default. */
static int key_changed(const qs_scenario_t *sc, const char *section, const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].key, key) && !strcmp(keys[i].section, section)) {
            uint32_t v;
            memcpy(&v, (const char *)sc + keys[i].offset, sizeof v);
            return v != (uint32_t)strtoul(keys[i].def, NULL, 10);
        }
    return 0;
}

/* [life] recipe against the keys that go with it. */
static int validate_life(const qs_scenario_t *sc, qs_error_t *err)
{
    char w[QS_PATH_MAX + 32];
    static const char *const fertile_keys[] = {"fertile_steps", "fertile_cg"};
    for (size_t i = 0; i < QS_ARRAY_LEN(fertile_keys); i++) {
        if (sc->recipe == QS_LIFE_RECIPE_FERTILE || !key_changed(sc, "life", fertile_keys[i]))
            continue;
        key_where(sc, sc->line, fertile_keys[i], "life", w, sizeof w);
        return qs_error_set(err, QS_ERR(INVAL),
                            "%s: [life] %s applies only with recipe = fertile (recipe is %s)", w,
                            fertile_keys[i], qs_life_recipe_name(sc->recipe));
    }
    if (sc->recipe == QS_LIFE_RECIPE_FERTILE && sc->regen == QS_REGEN_SIGN) {
        key_where(sc, sc->line, "recipe", "life", w, sizeof w);
        return qs_error_set(err, QS_ERR(INVAL),
                            "%s: [life] recipe = fertile differentiates the offspring, and "
                            "[replication] regen = sign has no gradient (use plain or "
                            "standardize)",
                            w);
    }
    if (sc->recipe == QS_LIFE_RECIPE_FERTILE && sc->flops_per_generation) {
        key_where(sc, sc->line, "recipe", "life", w, sizeof w);
        return qs_error_set(err, QS_ERR(INVAL),
                            "%s: [life] recipe = fertile cannot run under [budget] "
                            "flops_per_generation = %llu: the budget does not price its steps "
                            "(set flops_per_generation = 0)",
                            w, (unsigned long long)sc->flops_per_generation);
    }
    return 0;
}

int qs_scenario_validate(qs_scenario_t *sc, qs_error_t *err)
{
    char w[QS_PATH_MAX + 32];
    const char *origin = sc->path[0] ? sc->path : "scenario";
    if (sc->nspecies == 0)
        return qs_error_set(err, QS_ERR(INVAL),
                            "%s: no species: add at least one [species.NAME] section", origin);
    /* The default run folder is runs/<name>: one path component, so it stays there. */
    if (strchr(sc->name, '/') || !strcmp(sc->name, ".") || !strcmp(sc->name, "..")) {
        key_where(sc, sc->line, "name", "run", w, sizeof w);
        return qs_error_set(err, QS_ERR(INVAL),
                            "%s: [run] name = '%s': a run name is one folder name (no '/', not "
                            "'.' or '..'); choose where the run goes with --out",
                            w, sc->name);
    }
    uint64_t founders = 0, params = 0;
    for (uint32_t s = 0; s < sc->nspecies; s++) {
        qs_scn_species_t *sp = &sc->species[s];
        qs_quine_spec_t spec = qs_scenario_spec(sc, s);
        qs_error_t e2 = {0};
        if (qs_quine_spec_validate(&spec, &e2) < 0) {
            key_where(sc, sp->line, "hidden", "species", w, sizeof w);
            return qs_error_set(err, QS_ERR(RANGE), "%s: [species.%s] %s", w, sp->name, e2.msg);
        }
        if (sp->pairing == QS_PAIR_PAIRED && sp->kind == QS_KIND_AUX && sc->images != 0 &&
            sc->images != sc->batch) {
            key_where(sc, sp->line, "pairing", "species", w, sizeof w);
            return qs_error_set(err, QS_ERR(INVAL),
                                "%s: [species.%s] pairing = paired needs [life] images = batch "
                                "(or 0), got images = %u, batch = %u",
                                w, sp->name, sc->images, sc->batch);
        }
        founders += sp->count;
        params += (uint64_t)sp->count * qs_quine_nparams(&spec);
    }
    if (founders == 0)
        return qs_error_set(err, QS_ERR(INVAL),
                            "%s: every species has count = 0: there are no founders", origin);
    if (sc->population == 0)
        sc->population = (uint32_t)QS_MIN(founders, (uint64_t)UINT32_MAX);
    if (founders > sc->population) {
        key_where(sc, sc->line, "population", "selection", w, sizeof w);
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: [selection] population = %u is smaller than the %llu founders", w,
                            sc->population, (unsigned long long)founders);
    }
    if (sc->elitism > sc->population) {
        key_where(sc, sc->line, "elitism", "selection", w, sizeof w);
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: [selection] elitism = %u exceeds population = %u", w, sc->elitism,
                            sc->population);
    }
    if (sc->method == QS_SEL_TOURNAMENT && sc->size < 2) {
        key_where(sc, sc->line, "size", "selection", w, sizeof w);
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: [selection] size = %u: a tournament needs at least 2 entrants", w,
                            sc->size);
    }
    if (sc->max_params && params > sc->max_params) {
        key_where(sc, sc->line, "max_params", "budget", w, sizeof w);
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: [budget] max_params = %llu is less than the founders' %llu "
                            "parameters",
                            w, (unsigned long long)sc->max_params, (unsigned long long)params);
    }
    if (validate_life(sc, err) < 0)
        return QS_ERR(INVAL);
    if (!sc->data_path[0]) {
        key_where(sc, sc->line, "path", "data", w, sizeof w);
        return qs_error_set(err, QS_ERR(INVAL), "%s: [data] path is empty", w);
    }
    if (sc->hosting == QS_HOSTING_WORKERS && sc->archive != QS_ARCHIVE_NONE) {
        key_where(sc, sc->line, "hosting", "islands", w, sizeof w);
        return qs_error_set(err, QS_ERR(INVAL),
                            "%s: [islands] hosting = workers keeps the genomes on the workers: "
                            "[run] archive = %s needs them in the orchestrator (use archive = "
                            "none, or hosting = orchestrator)",
                            w, qs_archive_mode_names.names[sc->archive]);
    }
    return validate_islands(sc, founders, err);
}

qs_quine_spec_t qs_scenario_spec(const qs_scenario_t *sc, uint32_t species)
{
    const qs_scn_species_t *sp = &sc->species[species];
    qs_quine_spec_t spec = qs_quine_spec_default(sp->kind, sp->projection_seed);
    spec.hidden = sp->hidden;
    spec.depth = sp->depth;
    spec.rest = sc->input;
    return spec;
}

/* ---- output ------------------------------------------------------------------------------- */

static void write_section(FILE *out, const char *section, const char *header, const void *base)
{
    fprintf(out, "\n[%s]\n", header);
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].section, section) != 0)
            continue;
        char val[QS_PATH_MAX + 8];
        format_value(&keys[i], base, val, sizeof val);
        fprintf(out, "%-20s = %s\n", keys[i].key, val);
    }
}

void qs_scenario_write(const qs_scenario_t *sc, FILE *out)
{
    fprintf(out, "; quinesim scenario, fully resolved (every key written out)\n");
    for (size_t s = 0; s < QS_ARRAY_LEN(global_sections); s++)
        write_section(out, global_sections[s], global_sections[s], sc);
    for (uint32_t s = 0; s < sc->nspecies; s++) {
        char header[QS_NAME_MAX + 16];
        snprintf(header, sizeof header, "species.%s", sc->species[s].name);
        write_section(out, "species", header, &sc->species[s]);
    }
}

char *qs_scenario_to_string(const qs_scenario_t *sc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        qs_die("out of memory writing the scenario");
    qs_scenario_write(sc, f);
    fclose(f);
    return buf;
}

void qs_scenario_print_keys(FILE *out)
{
    fprintf(out, "| section | key | default | range | meaning |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def_t *k = &keys[i];
        char range[256];
        if (k->type == K_ENUM)
            names_list(range, sizeof range, k);
        else if (k->type == K_STR)
            snprintf(range, sizeof range, "text");
        else if (k->type == K_AUTO)
            snprintf(range, sizeof range, "auto, %.15g..%.15g", k->min, k->max);
        else if (k->max >= 1.8e19)
            snprintf(range, sizeof range, "%.15g..2^64-1", k->min);
        else
            snprintf(range, sizeof range, "%.15g..%.15g", k->min, k->max);
        fprintf(out, "| %s | %s | %s | %s | %s |\n",
                is_species_key(k) ? "species.NAME" : k->section, k->key, k->def[0] ? k->def : "",
                range, k->help);
    }
}

static size_t diff_section(const char *section, const char *label, const void *a, const void *b,
                           qs_scenario_change_t *out, size_t cap, size_t n)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].section, section) != 0)
            continue;
        char va[QS_PATH_MAX + 8], vb[QS_PATH_MAX + 8];
        format_value(&keys[i], a, va, sizeof va);
        format_value(&keys[i], b, vb, sizeof vb);
        if (!strcmp(va, vb))
            continue;
        if (n < cap) {
            snprintf(out[n].key, sizeof out[n].key, "%s.%s", label, keys[i].key);
            snprintf(out[n].old_value, sizeof out[n].old_value, "%.95s", va);
            snprintf(out[n].new_value, sizeof out[n].new_value, "%.95s", vb);
        }
        n++;
    }
    return n;
}

size_t qs_scenario_diff(const qs_scenario_t *a, const qs_scenario_t *b, qs_scenario_change_t *out,
                        size_t cap)
{
    size_t n = 0;
    for (size_t s = 0; s < QS_ARRAY_LEN(global_sections); s++)
        n = diff_section(global_sections[s], global_sections[s], a, b, out, cap, n);
    for (uint32_t i = 0; i < a->nspecies; i++) {
        char label[QS_NAME_MAX + 16];
        snprintf(label, sizeof label, "species.%s", a->species[i].name);
        int found = -1;
        for (uint32_t j = 0; j < b->nspecies; j++)
            if (!strcmp(a->species[i].name, b->species[j].name))
                found = (int)j;
        if (found == (int)i) {
            n = diff_section("species", label, &a->species[i], &b->species[found], out, cap, n);
            continue;
        }
        if (n < cap) {
            snprintf(out[n].key, sizeof out[n].key, "%s", label);
            snprintf(out[n].old_value, sizeof out[n].old_value, "species %u", i);
            if (found < 0)
                snprintf(out[n].new_value, sizeof out[n].new_value, "(absent)");
            else
                snprintf(out[n].new_value, sizeof out[n].new_value, "species %d", found);
        }
        n++;
    }
    for (uint32_t j = a->nspecies; j < b->nspecies; j++) {
        if (n < cap) {
            snprintf(out[n].key, sizeof out[n].key, "species.%s", b->species[j].name);
            snprintf(out[n].old_value, sizeof out[n].old_value, "(absent)");
            snprintf(out[n].new_value, sizeof out[n].new_value, "species %u", j);
        }
        n++;
    }
    return n;
}

const char *qs_selection_name(qs_selection_t s)
{
    return qs_name_of(selection_table, QS_ARRAY_LEN(selection_table), (unsigned)s);
}
