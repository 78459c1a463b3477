/* cmd_repair: `quinesim repair`, self-repair by regeneration.
 *
 *   quinesim repair GENOME --damage FRACTION [--mode zero|noise] [--cycles K] [--json]
 *                          [--only-damaged] [--data DIR] [--test-count N] [--seed S]
 *                          [--precision fp32|bf16]
 *
 * Loads a genome, damages round(FRACTION * N) of its weights, chosen uniformly without
 * replacement by the rng (seed S, stream QS_STREAM_DAMAGE id 0): `zero` sets them to 0,
 * `noise` replaces each by a draw from N(0, rms^2), rms the genome's RMS weight (a damage
 * of the right scale that carries no information). Then regenerates K times,
 * theta <- f_theta(C) (with --only-damaged only the damaged weights are rewritten, the
 * rest stay as they are), and reports before damage, after damage and after each cycle:
 * accuracy on the test split (aux), the fidelity of the network's self-prediction, and
 * how far the genome is from the original: dist = |theta - theta_0|^2 / |theta_0|^2 and
 * restored = 1 - |theta - theta_0|^2 / |theta_damaged - theta_0|^2 (1 = fully repaired,
 * 0 = no better than the damaged genome, negative = worse).
 *
 * A network repairs itself only if it is a genuine replicator: f_theta(C) close to
 * theta in the scale-free sense (R^2 near 1). The command says so plainly when R^2 of
 * the undamaged genome is below QS_REPAIR_MIN_R2. The protocol and its verdict are
 * core/repair.h's; this file parses and prints. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/fertility.h"
#include "core/fidelity.h"
#include "core/quine.h"
#include "core/repair.h"
#include "proto/genome.h"
#include "proto/inspect.h"
#include "sim/commands.h"
#include "sim/report.h"

#define DEFAULT_DATA "data/mnist"

static void usage(FILE *to)
{
    fprintf(to, "usage: quinesim repair GENOME --damage FRACTION [options]\n"
                "\n"
                "Damage a fraction of a genome's weights, let the network regenerate itself\n"
                "(theta <- f_theta(C)) K times, and report accuracy, replication fidelity and the\n"
                "distance to the original genome before damage, after damage and after each "
                "cycle.\n"
                "\n"
                "  --damage F        fraction of the weights to damage, 0..1 (required)\n"
                "  --mode M          zero (default): set them to 0 | noise: replace them by\n"
                "                    N(0, rms^2) draws, rms the genome's RMS weight\n"
                "  --cycles K        regenerations (default 3)\n"
                "  --only-damaged    rewrite only the damaged weights with their prediction\n"
                "  --data DIR        MNIST-format folder for an aux genome's accuracy\n"
                "                    (default " DEFAULT_DATA ")\n"
                "  --test-count N    use the first N test images (default all)\n"
                "  --seed S          which weights are damaged, and the noise (default 1)\n"
                "  --threads N       BLAS threads (default 1)\n"
                "  --precision P     fp32 (default) | bf16: regeneration and accuracy with bf16\n"
                "                    products (oneDNN), where the CPU has native bf16\n"
                "  --json            one JSON object per stage (stage, cycle, l_sr, margin, srq,\n"
                "                    rel_err, r2, rms, zero_quine, dist, restored, acc), then one\n"
                "                    with the verdict\n"
                "\n"
                "Exit status: 0 done (whatever the verdict), 1 failure (file, data), 2 bad "
                "arguments.\n");
}

enum {
    OPT_DAMAGE = 256,
    OPT_MODE,
    OPT_CYCLES,
    OPT_ONLY,
    OPT_DATA,
    OPT_TEST,
    OPT_SEED,
    OPT_THREADS,
    OPT_PRECISION,
    OPT_JSON,
    OPT_HELP
};

static const struct option long_opts[] = {
    {"damage", required_argument, NULL, OPT_DAMAGE},
    {"mode", required_argument, NULL, OPT_MODE},
    {"cycles", required_argument, NULL, OPT_CYCLES},
    {"only-damaged", no_argument, NULL, OPT_ONLY},
    {"data", required_argument, NULL, OPT_DATA},
    {"test-count", required_argument, NULL, OPT_TEST},
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
    int damage_set, noise, only_damaged, json;
    int has_test; /* set after loading: an aux genome has test images */
    uint64_t cycles, test_count, seed, threads;
    qs_precision_t precision;
} opts_t;

static int parse_args(int argc, char **argv, opts_t *o, qs_error_t *err)
{
    memset(o, 0, sizeof *o);
    o->cycles = 3;
    o->seed = 1;
    o->threads = 1;
    o->data = DEFAULT_DATA;
    optind = 1;
    opterr = 0;
    int c, rc = 0;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_DAMAGE:
            rc = qs_parse_double("--damage", optarg, 0, 1, &o->damage, err);
            o->damage_set = 1;
            break;
        case OPT_MODE:
            if (!strcmp(optarg, "noise"))
                o->noise = 1;
            else if (strcmp(optarg, "zero"))
                return qs_error_set(err, QS_ERR(INVAL), "--mode: '%s' is not zero or noise",
                                    optarg);
            break;
        case OPT_CYCLES:
            rc = qs_parse_u64("--cycles", optarg, 0, 100000, &o->cycles, err);
            break;
        case OPT_ONLY:
            o->only_damaged = 1;
            break;
        case OPT_DATA:
            o->data = optarg;
            break;
        case OPT_TEST:
            rc = qs_parse_u64("--test-count", optarg, 1, UINT32_MAX, &o->test_count, err);
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
        return qs_error_set(err, QS_ERR(INVAL), "which genome? (quinesim repair GENOME ...)");
    o->genome = argv[optind++];
    if (optind < argc)
        return qs_error_set(err, QS_ERR(INVAL), "unexpected argument '%s'", argv[optind]);
    if (!o->damage_set)
        return qs_error_set(err, QS_ERR(INVAL), "--damage FRACTION is required");
    return 0;
}

/* One stage's line: a JSON object, or a row of the table. */
static void print_stage(void *ctx, const qs_repair_stage_t *s)
{
    const opts_t *o = ctx;
    if (o->json) {
        qs_jw_t j;
        qs_report_line_begin(&j, stdout);
        qs_jw_kv_str(&j, "stage", s->stage);
        if (strcmp(s->stage, "offspring") != 0)
            qs_jw_kv_u64(&j, "cycle", s->cycle);
        qs_fidelity_write_json_fields(&j, &s->f);
        if (strcmp(s->stage, "offspring") != 0) {
            qs_jw_kv_f64(&j, "dist", s->dist);
            qs_jw_kv_f64(&j, "restored", s->restored);
            if (o->has_test)
                qs_jw_kv_f64(&j, "acc", s->acc);
        }
        qs_report_line_end(&j);
        return;
    }
    char label[32], b1[32], b2[32], accs[32] = "";
    if (!strcmp(s->stage, "offspring")) {
        printf("(offspring of the original, f(theta_0): its own R^2 is %s)\n",
               qs_fmt_num(b1, sizeof b1, s->f.r2, 4));
        return;
    }
    if (s->cycle)
        snprintf(label, sizeof label, "%s %llu", s->stage, (unsigned long long)s->cycle);
    else
        snprintf(label, sizeof label, "%s", s->stage);
    if (o->has_test)
        snprintf(accs, sizeof accs, "%7.2f%%", 100 * s->acc);
    printf("%-10s %8s %12.6g %10.4g %9s %9.4g %11.4g %9s\n", label, accs, s->f.l_sr, s->f.rel_err,
           qs_fmt_num(b1, sizeof b1, s->f.r2, 4), s->f.rms, s->dist,
           isnan(s->restored) ? "-" : qs_fmt_num(b2, sizeof b2, s->restored, 4));
    fflush(stdout);
}

int cmd_repair(int argc, char **argv)
{
    opts_t o;
    qs_error_t err = {0};
    int rc = parse_args(argc, argv, &o, &err);
    if (rc == 1)
        return 0;
    if (rc < 0)
        return qs_cli_usage_error("repair", "%s", err.msg);
    qs_blas_init((int)o.threads);
    qs_mm_init((int)o.threads);
    o.precision = qs_cli_precision("repair", o.precision);
    qs_genome_t g;
    if (qs_genome_load(&g, o.genome, &err) < 0) {
        fprintf(stderr, "quinesim repair: %s\n", err.msg);
        return 1;
    }
    const qs_quine_spec_t *spec = &g.spec;
    const int aux = spec->kind == QS_KIND_AUX;
    int status = 0;
    qs_genome_env_t env;
    if (qs_genome_env_init(&env, spec, o.data, (uint32_t)o.test_count, &err) < 0) {
        fprintf(stderr, "quinesim repair: %s\n", err.msg);
        qs_genome_destroy(&g);
        return 1;
    }
    const qs_phys_t *phys = env.phys;
    size_t n = qs_phys_nparams(phys);
    qs_work_t *work = qs_work_new(spec, 1);
    qs_work_set_precision(work, o.precision);
    size_t k = (size_t)llround(o.damage * (double)n); /* as qs_damage_apply counts */
    o.has_test = env.test != NULL;

    if (!o.json) {
        printf("# repair %s: %s quine, H=%u, depth %u, N=%zu; damage %g (%zu weights, %s), "
               "%llu cycles%s, seed %llu%s\n",
               o.genome, qs_kind_name(spec->kind), spec->hidden, spec->depth, n, o.damage, k,
               o.noise ? "noise N(0, rms^2)" : "set to zero", (unsigned long long)o.cycles,
               o.only_damaged ? " (damaged weights only)" : "", (unsigned long long)o.seed,
               o.precision == QS_PREC_BF16 ? "; bf16" : "");
        printf("%-10s %8s %12s %10s %9s %9s %11s %9s\n", "stage", aux ? "acc" : "", "L_SR",
               "rel_err", "R^2", "rms", "dist", "restored");
    }
    const qs_repair_cfg_t cfg = {.damage = o.damage,
                                 .mode = o.noise ? QS_DAMAGE_NOISE : QS_DAMAGE_ZERO,
                                 .cycles = o.cycles,
                                 .only_damaged = o.only_damaged,
                                 .seed = o.seed};
    qs_repair_result_t r;
    qs_repair_run(phys, env.test, g.weights, &cfg, work, print_stage, &o, &r);
    char verdict[768];
    qs_repair_verdict(&r, &cfg, verdict, sizeof verdict);
    if (o.json) {
        qs_jw_t j;
        qs_report_line_begin(&j, stdout);
        qs_jw_kv_str(&j, "stage", "verdict");
        qs_jw_kv_bool(&j, "good_replicator", r.good);
        qs_jw_kv_f64(&j, "r2", r.original.r2);
        qs_jw_kv_f64(&j, "offspring_r2", r.offspring.r2);
        qs_jw_kv_bool(&j, "repaired", r.repaired);
        qs_jw_kv_str(&j, "verdict", verdict);
        qs_report_line_end(&j);
    } else {
        printf("verdict: %s\n", verdict);
    }

    qs_work_free(work);
    qs_genome_env_destroy(&env);
    qs_genome_destroy(&g);
    return status;
}
