/* cmd_fertility: `quinesim fertility`, a genome's lineage under pure regeneration.
 *
 *   quinesim fertility GENOME [--generations K] [--damage F [--mode zero|noise]]
 *                             [--data DIR] [--test-count N] [--power-iters I] [--seed S]
 *                             [--precision fp32|bf16] [--json]
 *
 * Prints, for theta_0 = the genome and theta_{k+1} = f_theta_k(C) (no training, no
 * mutation), each generation's link R^2, drift R^2 from theta_0, RMS weight and (aux)
 * test accuracy, then the spectral radius of the regeneration Jacobian at theta_0. With
 * --damage the lineage of the damaged genome follows, its drift measured against the
 * undamaged one: self-repair over generations. The computation is core/fertility.h's;
 * this file parses and prints. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/fertility.h"
#include "core/quine.h"
#include "proto/genome.h"
#include "sim/commands.h"
#include "sim/report.h"

#define DEFAULT_DATA  "data/mnist"
#define DEFAULT_GENS  20
#define DEFAULT_POWER 40
#define GAIN_PROBES   8 /* random directions of the rms singular value */
/* The link R^2 the summary line counts generations above. */
#define QS_FERTILE_R2 0.99

static void usage(FILE *to)
{
    fprintf(to,
            "usage: quinesim fertility GENOME [options]\n"
            "\n"
            "Follow a genome's lineage under pure regeneration, theta_0 = GENOME,\n"
            "theta_k+1 = f_theta_k(C) (no training, no mutation), and report for each\n"
            "generation k: link R^2 (theta_k+1 against theta_k), drift R^2 (theta_k against\n"
            "theta_0), RMS weight and, for aux genomes, test accuracy. Then the spectral radius\n"
            "of the regeneration Jacobian dT/dtheta at theta_0 (T(theta) = f_theta(C); below 1\n"
            "copying errors shrink from generation to generation), by power iteration with\n"
            "Jacobian-vector products.\n"
            "\n"
            "  --generations K   regenerations to follow (default %d)\n"
            "  --damage F        also follow the lineage of the genome with a fraction F of its\n"
            "                    weights damaged (as `quinesim repair` does), drift measured\n"
            "                    against the undamaged genome: self-repair over generations\n"
            "  --mode M          zero (default) | noise: how --damage damages\n"
            "  --regen R         plain (default): theta_k+1 = f_theta_k(C) | standardize:\n"
            "                    each layer of the prediction rescaled to the parent layer's\n"
            "                    mean and standard deviation | sign: each weight the sign of\n"
            "                    its prediction times the layer's mean |weight| (a binary\n"
            "                    genome, core/regen.h)\n"
            "  --data DIR        MNIST-format folder for an aux genome's test accuracy\n"
            "                    (default " DEFAULT_DATA ")\n"
            "  --test-count N    use the first N test images (default all)\n"
            "  --power-iters I   Jacobian-vector products of the power iteration (default %d;\n"
            "                    0 skips the estimate)\n"
            "  --seed S          the damage and the power iteration's start (default 1)\n"
            "  --threads N       BLAS threads (default 1)\n"
            "  --precision P     fp32 (default) | bf16: the regenerations and accuracies with\n"
            "                    bf16 products (oneDNN), where the CPU has native bf16 (the\n"
            "                    spectral radius stays fp32)\n"
            "  --json            one JSON object per generation (lineage \"intact\" or\n"
            "                    \"damaged\", generation, link_r2, link_rel_err, drift_r2, rms,\n"
            "                    zero_quine and, for aux, acc), then one with the spectral radius\n"
            "                    (spectral_radius, method, power_iters, last_growth, spread,\n"
            "                    stretch = |J r| / |r|, r = T(theta_0) - theta_0, gain = the\n"
            "                    rms singular value ||J||_F / sqrt(N), 8 random directions)\n"
            "\n"
            "Exit status: 0 done, 1 failure (file, data), 2 bad arguments.\n",
            DEFAULT_GENS, DEFAULT_POWER);
}

enum {
    OPT_GENS = 256,
    OPT_DAMAGE,
    OPT_MODE,
    OPT_REGEN,
    OPT_DATA,
    OPT_TEST,
    OPT_POWER,
    OPT_SEED,
    OPT_THREADS,
    OPT_PRECISION,
    OPT_JSON,
    OPT_HELP
};

static const struct option long_opts[] = {
    {"generations", required_argument, NULL, OPT_GENS},
    {"damage", required_argument, NULL, OPT_DAMAGE},
    {"mode", required_argument, NULL, OPT_MODE},
    {"regen", required_argument, NULL, OPT_REGEN},
    {"data", required_argument, NULL, OPT_DATA},
    {"test-count", required_argument, NULL, OPT_TEST},
    {"power-iters", required_argument, NULL, OPT_POWER},
    {"seed", required_argument, NULL, OPT_SEED},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"precision", required_argument, NULL, OPT_PRECISION},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct {
    const char *genome, *data;
    double damage;
    int damage_set, json;
    qs_damage_mode_t mode;
    qs_regen_t regen;
    uint64_t generations, test_count, power, seed, threads;
    qs_precision_t precision;
} opts_t;

static int parse_args(int argc, char **argv, opts_t *o, qs_error_t *err)
{
    memset(o, 0, sizeof *o);
    o->generations = DEFAULT_GENS;
    o->power = DEFAULT_POWER;
    o->seed = 1;
    o->threads = 1;
    o->data = DEFAULT_DATA;
    o->mode = QS_DAMAGE_ZERO;
    optind = 1;
    opterr = 0;
    int c, rc = 0;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_GENS:
            rc = qs_parse_u64("--generations", optarg, 0, 100000, &o->generations, err);
            break;
        case OPT_DAMAGE:
            rc = qs_parse_double("--damage", optarg, 0, 1, &o->damage, err);
            o->damage_set = 1;
            break;
        case OPT_MODE:
            if (!strcmp(optarg, "noise"))
                o->mode = QS_DAMAGE_NOISE;
            else if (strcmp(optarg, "zero"))
                return qs_error_set(err, QS_ERR(INVAL), "--mode: '%s' is not zero or noise",
                                    optarg);
            break;
        case OPT_REGEN:
            if (qs_regen_parse(optarg, &o->regen) < 0)
                return qs_error_set(err, QS_ERR(INVAL),
                                    "--regen: '%s' is not plain, standardize or sign", optarg);
            break;
        case OPT_DATA:
            o->data = optarg;
            break;
        case OPT_TEST:
            rc = qs_parse_u64("--test-count", optarg, 1, UINT32_MAX, &o->test_count, err);
            break;
        case OPT_POWER:
            rc = qs_parse_u64("--power-iters", optarg, 0, 100000, &o->power, err);
            break;
        case OPT_SEED:
            rc = qs_parse_u64("--seed", optarg, 0, UINT64_MAX, &o->seed, err);
            break;
        case OPT_THREADS:
            rc = qs_parse_u64("--threads", optarg, 1, 256, &o->threads, err);
            break;
        case OPT_PRECISION:
            rc = qs_cli_parse_precision(optarg, &o->precision, err);
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case 'h':
        case OPT_HELP:
            usage(stdout);
            return 1;
        default: /* ':' or '?' */
            return qs_cli_opt_error(c, argc, argv, err);
        }
        if (rc < 0)
            return rc;
    }
    if (optind >= argc)
        return qs_error_set(err, QS_ERR(INVAL), "which genome? (quinesim fertility GENOME ...)");
    o->genome = argv[optind++];
    if (optind < argc)
        return qs_error_set(err, QS_ERR(INVAL), "unexpected argument '%s'", argv[optind]);
    return 0;
}

static void print_lineage(const opts_t *o, const char *lineage, const qs_fertility_gen_t *rows,
                          uint32_t count, int aux)
{
    if (!o->json)
        printf("%-8s %5s %12s %12s %10s %8s\n", lineage, "gen", "link R^2", "drift R^2", "rms",
               aux ? "acc" : "");
    uint32_t worst = 0, fertile = 0;
    while (fertile < count && rows[fertile].link_r2 >= QS_FERTILE_R2 && !rows[fertile].zero_quine)
        fertile++;
    for (uint32_t k = 0; k < count; k++) {
        const qs_fertility_gen_t *g = &rows[k];
        if (!(g->link_r2 >= rows[worst].link_r2))
            worst = k;
        if (o->json) {
            qs_jw_t j;
            qs_report_line_begin(&j, stdout);
            qs_jw_kv_str(&j, "lineage", lineage);
            qs_jw_kv_u64(&j, "generation", g->generation);
            qs_jw_kv_f64(&j, "link_r2", g->link_r2);
            qs_jw_kv_f64(&j, "link_rel_err", g->link_rel_err);
            qs_jw_kv_f64(&j, "drift_r2", g->drift_r2);
            qs_jw_kv_f64(&j, "rms", g->rms);
            qs_jw_kv_bool(&j, "zero_quine", g->zero_quine);
            if (aux)
                qs_jw_kv_f64(&j, "acc", g->acc);
            qs_report_line_end(&j);
            continue;
        }
        char b1[32], b2[32], accs[32] = "";
        if (aux)
            snprintf(accs, sizeof accs, "%7.2f%%", 100 * g->acc);
        printf("%-8s %5u %12s %12s %10.4g %8s%s\n", "", g->generation,
               qs_fmt_num(b1, sizeof b1, g->link_r2, 6), qs_fmt_num(b2, sizeof b2, g->drift_r2, 6),
               g->rms, accs,
               !isfinite(g->rms) ? "  (weights not finite)"
               : g->zero_quine   ? "  (near-zero quine)"
                                 : "");
    }
    if (!o->json) {
        char b[32];
        printf("%-8s lowest link R^2 %s at generation %u; link R^2 >= %g (not a near-zero quine) "
               "in the first %u of %u generations\n",
               "", qs_fmt_num(b, sizeof b, rows[worst].link_r2, 6), rows[worst].generation,
               QS_FERTILE_R2, fertile, count);
    }
    fflush(stdout);
}

int cmd_fertility(int argc, char **argv)
{
    opts_t o;
    qs_error_t err = {0};
    int rc = parse_args(argc, argv, &o, &err);
    if (rc == 1)
        return 0;
    if (rc < 0)
        return qs_cli_usage_error("fertility", "%s", err.msg);
    qs_blas_init((int)o.threads);
    qs_mm_init((int)o.threads);
    o.precision = qs_cli_precision("fertility", o.precision);
    qs_genome_t g;
    if (qs_genome_load(&g, o.genome, &err) < 0) {
        fprintf(stderr, "quinesim fertility: %s\n", err.msg);
        return 1;
    }
    const qs_quine_spec_t *spec = &g.spec;
    qs_genome_env_t env;
    if (qs_genome_env_init(&env, spec, o.data, (uint32_t)o.test_count, &err) < 0) {
        fprintf(stderr, "quinesim fertility: %s\n", err.msg);
        qs_genome_destroy(&g);
        return 1;
    }
    const int aux = env.has_test;
    const size_t n = qs_phys_nparams(env.phys);
    const uint32_t gens = (uint32_t)o.generations;
    qs_work_t *work = qs_work_new(spec, 1);
    qs_work_set_precision(work, o.precision);
    qs_fertility_gen_t *rows = xcalloc((size_t)gens + 1, sizeof *rows);

    if (!o.json)
        printf("# fertility %s: %s quine, H=%u, depth %u, N=%zu; %u generations of pure "
               "regeneration (%s%s)\n",
               o.genome, qs_kind_name(spec->kind), spec->hidden, spec->depth, n, gens,
               qs_regen_name(o.regen), o.precision == QS_PREC_BF16 ? ", bf16" : "");
    qs_fertility_lineage(env.phys, o.regen, g.weights, NULL, gens, env.test, work, rows, NULL);
    print_lineage(&o, "intact", rows, gens + 1, aux);

    if (o.damage_set) {
        float *damaged = xaligned(n * sizeof *damaged);
        memcpy(damaged, g.weights, n * sizeof *damaged);
        size_t k = qs_damage_apply(damaged, n, o.damage, o.mode, o.seed, NULL);
        if (!o.json)
            printf("# damaged: %zu of %zu weights (%g) %s, seed %llu; drift against the "
                   "undamaged genome\n",
                   k, n, o.damage, o.mode == QS_DAMAGE_NOISE ? "replaced by N(0, rms^2)" : "zeroed",
                   (unsigned long long)o.seed);
        qs_fertility_lineage(env.phys, o.regen, damaged, g.weights, gens, env.test, work, rows,
                             NULL);
        print_lineage(&o, "damaged", rows, gens + 1, aux);
        free(damaged);
    }

    if (o.power > 0) {
        qs_spectral_t sp;
        qs_fertility_spectral(env.phys, o.regen, g.weights, (uint32_t)o.power, o.seed, &sp);
        const double stretch = qs_fertility_stretch(env.phys, o.regen, g.weights);
        const double gain = qs_fertility_gain(env.phys, o.regen, g.weights, GAIN_PROBES, o.seed);
        const int sign = o.regen == QS_REGEN_SIGN;
        char method[160];
        snprintf(method, sizeof method,
                 "power iteration, %u Jacobian-vector products, geometric mean of the last %u "
                 "growth factors",
                 sp.iters, sp.iters - sp.iters / 2);
        if (o.json) {
            qs_jw_t j;
            qs_report_line_begin(&j, stdout);
            qs_jw_kv_f64(&j, "spectral_radius", sp.radius);
            qs_jw_kv_str(&j, "method", method);
            qs_jw_kv_u64(&j, "power_iters", sp.iters);
            qs_jw_kv_f64(&j, "last_growth", sp.last);
            qs_jw_kv_f64(&j, "spread", sp.spread);
            qs_jw_kv_f64(&j, "stretch", stretch);
            qs_jw_kv_f64(&j, "gain", gain);
            qs_report_line_end(&j);
        } else {
            printf("spectral radius of dT/dtheta at theta_0: %.4g (%s; quarters differ by "
                   "%.2g%%, last growth %.4g)%s\n",
                   sp.radius, method, 100 * sp.spread, sp.last,
                   sign            ? ": the sign map is piecewise constant, its Jacobian 0 almost "
                                     "everywhere; an error is corrected exactly while it keeps "
                                     "the predictions' signs"
                   : sp.radius < 1 ? ": below 1, copying errors shrink"
                                   : ": above 1, copying errors grow");
            printf("stretch of the copy error |J r| / |r| at theta_0 (r = T(theta_0) - theta_0, "
                   "one Jacobian-vector product): %.4g\n",
                   stretch);
            printf("rms singular value of dT/dtheta at theta_0 (||J||_F / sqrt(N), %d random "
                   "directions: the typical growth of a random error): %.4g\n",
                   GAIN_PROBES, gain);
        }
    }

    free(rows);
    qs_work_free(work);
    qs_genome_env_destroy(&env);
    qs_genome_destroy(&g);
    return 0;
}
