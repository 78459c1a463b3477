/* cmd_train: `quinesim train`, the paper's single-network experiments.
 *
 * Builds one quine (vanilla or aux), trains it with the trainer of core/train.h and
 * reports, after every epoch (or every --report-every steps), the replication fidelity
 * of the whole genome (L_SR of theta against f_theta(C), margin, SRQ, relative error,
 * R^2, zero-quine flag) and, for aux, the accuracy on the test split. Optionally
 * regenerates every K epochs and saves the final genome. The schedule (periods of
 * gradient, regeneration, Newton and fertile steps, and their reports) is
 * core/schedule.h's; this file parses, sets up and prints.
 *
 * Seeds: --seed S keys the initial weights (stream QS_STREAM_INIT, id 0) and the life
 * (QS_STREAM_LIFE, id 0); the projections use --proj-seed (default S). Same command,
 * same machine, same OPENBLAS_CORETYPE: the same numbers, bit for bit. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/blas.h"
#include "core/fertile.h"
#include "core/fidelity.h"
#include "core/life.h"
#include "core/newton.h"
#include "core/quine.h"
#include "core/schedule.h"
#include "core/train.h"
#include "proto/genome.h"
#include "proto/inspect.h"
#include "sim/commands.h"
#include "sim/report.h"

#define DEFAULT_DATA "data/mnist"
/* --recipe fertile (scenarios/experiments/results.md, section 7, attempt P: second-order steps that
 * keep the copy while lowering the spectral radius): steps per report and the terms. */
#define QS_RECIPE_FERTILE_STEPS 2
/* --recipe lineage (section 7, attempt Y): the same objective, the genome replaced by its
 * standardized child every epoch, and more steps per epoch. */
#define QS_RECIPE_LINEAGE_STEPS 4
/* --recipe paper60k (scenarios/experiments/results-core.md, "The paper on its own split"): the
 * settings the paper leaves open, as found on MNIST 60,000 / 10,000. */
#define QS_RECIPE_PAPER60K_TEMP 0.1

typedef struct {
    int kind_set;
    qs_quine_spec_t spec;
    qs_train_cfg_t cfg;
    qs_init_t init;
    uint64_t epochs, steps, report_every, regen_every;
    int epoch_images; /* --epoch-unit images */
    const char *data;
    uint64_t train_count, test_count;
    uint64_t seed, proj_seed;
    int proj_seed_set, lr_set;
    double lr;
    const char *save, *from;
    qs_genome_t start; /* --from: the genome to continue from */
    int json;
    uint64_t threads;
    qs_precision_t precision;
    uint64_t newton, newton_cg; /* Levenberg-Marquardt replication steps per report */
    int newton_only;            /* no gradient steps at all */
    int binary;                 /* --binary: a binary genome (core/train.h) */
    uint64_t newton_keep;       /* aux: images whose logits Newton steps keep */
    double newton_keep_weight;
    uint64_t fertile;      /* steps of the fertility objective per report */
    int fertile_only;      /* no ordinary gradient steps */
    qs_fertile_cfg_t fcfg; /* its terms */
    double fertile_lr;     /* its Adam learning rate */
    uint64_t fertile_images;
    const char *recipe;
    uint64_t fertile_newton; /* Levenberg-Marquardt steps on copy + contraction per report */
    double fertile_newton_c;
    double fertile_newton_child; /* w1: weight of the child's own copy error */
} opts_t;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: quinesim train --model vanilla|aux [options]\n"
            "\n"
            "Train one neural network quine (Chang & Lipson 2018) and report its replication\n"
            "fidelity (and, for aux, its test accuracy) after every epoch.\n"
            "\n"
            "model\n"
            "  --model KIND        vanilla | aux (required)\n"
            "  --hidden H          hidden width (default 100)\n"
            "  --depth D           number of H x H hidden layers (default 2)\n"
            "  --init I            uniform (U(-0.1,0.1), default) | he\n"
            "  --rest R            aux: image input while replicating: zero (default) | mean\n"
            "  --coord-scale S     std of the coordinate projection's entries (default 1)\n"
            "training\n"
            "  --epochs E          epochs to train (default 30)\n"
            "  --steps S           train S steps instead, reporting every --report-every steps\n"
            "  --report-every R    steps between reports with --steps (default: one epoch)\n"
            "  --epoch-unit U      aux: an epoch is a pass over the coords (default) or images\n"
            "  --optimizer O       sgd | momentum | adam | adamax (default) | adagrad | rmsprop\n"
            "  --lr X              learning rate (default: the optimizer's PyTorch default)\n"
            "  --batch B           coordinates per step (default 10; 0 = all N: full batch)\n"
            "  --full-batch        the same as --batch 0\n"
            "  --images I          aux, separate pairing: images per step (default: the batch,\n"
            "                      or 100 with full batch)\n"
            "  --regen-every K     regenerate (theta <- f_theta(C)) after every K epochs;\n"
            "                      with --fertile or --fertile-newton the child is the one of\n"
            "                      --fertile-regen (training follows the lineage)\n"
            "  --binary            a binary genome (every weight of a layer +-a, a its mean\n"
            "                      |weight| at the start), trained through real-valued latent\n"
            "                      weights; its offspring come from `--regen sign`\n"
            "                      (core/regen.h, core/train.h)\n"
            "  --newton S          after every epoch (report), S Levenberg-Marquardt steps on\n"
            "                      the scale-free replication residual (core/newton.h; beyond\n"
            "                      the paper: replication only, the task is left to the\n"
            "                      gradient steps)\n"
            "  --newton-cg N       conjugate-gradient iterations per Newton solve (default 30)\n"
            "  --newton-only       no gradient steps: each epoch (report) is --newton steps\n"
            "  --newton-keep K     aux: Newton steps keep the logits of the first K training\n"
            "                      images to first order (default 256, at most 512; 0 = off)\n"
            "  --newton-keep-weight W  weight of that trust region (default 1)\n"
            "  --fertile S         after every epoch (report), S Adam steps on the fertility\n"
            "                      objective (core/fertile.h; beyond the paper): the drift of\n"
            "                      K unrolled offspring from the genome and their task, a sink\n"
            "                      loss and a contraction penalty on the regeneration map\n"
            "  --fertile-only      no ordinary gradient steps: each epoch is --fertile steps\n"
            "  --fertile-gens K    unrolled offspring, weighted 1, 1/2, 1/4, ... (default 3)\n"
            "  --fertile-lambda L  aux: weight of each generation's task loss (default 1)\n"
            "  --fertile-sink W    weight of the sink loss (default 1; 0 = off)\n"
            "  --fertile-noise S   sink noise, fraction of each layer's spread (default 0.02)\n"
            "  --fertile-repair W  weight of the repair term: zero a random fraction of the\n"
            "                      weights, predict them from the damaged network, penalise\n"
            "                      their error and (aux) the repaired genome's task loss\n"
            "                      (default 0 = off)\n"
            "  --fertile-repair-frac P  fraction zeroed in the repair term (default 0.3)\n"
            "  --fertile-contraction C  weight of the contraction penalty (default 1; 0 = off)\n"
            "  --fertile-rho R     spectral radius the penalty starts above (default 0.5)\n"
            "  --fertile-stretch W  weight of the stretch |J r|^2 / |r|^2 of the copy's own\n"
            "                      error r (r detached; default 0 = off), in the fertile\n"
            "                      objective and as a residual block of --fertile-newton\n"
            "  --fertile-lr X      Adam learning rate of the fertile steps (default 1e-4)\n"
            "  --fertile-images I  aux: task images per fertile step (default 100)\n"
            "  --fertile-newton S  after every epoch (report), S Levenberg-Marquardt steps on\n"
            "                      the copy and the contraction together (5 power steps\n"
            "                      first; qs_fertile_lm_step, --newton-cg iterations)\n"
            "  --fertile-newton-c C  weight of the contraction in those steps (default 0.01)\n"
            "  --fertile-newton-child W  weight of the child's own copy error (default 0)\n"
            "  --fertile-newton-depth M  descendants whose own copy error those steps add:\n"
            "                      the child (1, default), the grandchild (2), ..., weighted\n"
            "                      W, W/2, W/4, ...; raises --fertile-gens to M + 1 when it\n"
            "                      is not given\n"
            "  --fertile-newton-scale-free  the copy errors in those steps divided by the\n"
            "                      variance sum of the genome each is measured at, not of the\n"
            "                      step's start: shrinking the weights then lowers nothing\n"
            "  --fertile-regen R   offspring in the objective: plain f_theta(C) (default) |\n"
            "                      standardize (each layer rescaled to the parent's mean and\n"
            "                      spread, core/regen.h)\n"
            "  --recipe R          paper (the defaults above) | paper60k (aux: --epoch-unit\n"
            "                      images --temperature 0.1 --init he, the paper's open\n"
            "                      settings as found on MNIST 60k/10k, "
            "scenarios/experiments/results-core.md)\n"
            "                      | fertile: --fertile-only\n"
            "                      --fertile-newton 2 --fertile-newton-c 0.03\n"
            "                      --fertile-newton-child 1 --fertile-regen standardize\n"
            "                      (attempt P of scenarios/experiments/results.md section 7)\n"
            "                      | lineage: --fertile-only\n"
            "                      --fertile-newton 4 --fertile-newton-c 0.03\n"
            "                      --fertile-newton-child 1 --fertile-regen standardize\n"
            "                      --regen-every 1 (the genome follows its lineage: the longest\n"
            "                      fertile lineages so far, attempt Y; neither is a fertile\n"
            "                      replicator yet); options given with a recipe still apply\n"
            "  --loss L            replication loss: sse (default) | relative | r2 | none |\n"
            "                      hinge (the signs, for --binary)\n"
            "  --lambda L          weight of the task loss (default 0.01)\n"
            "  --temperature T     softmax temperature of the task loss (default 0.01)\n"
            "  --reduce R          task loss over a batch's images: mean (default) | sum\n"
            "  --pairing P         aux: paired (default: row = coordinate + image) | separate\n"
            "  --refresh R         targets frozen per epoch (default) | per step\n"
            "data and output\n"
            "  --data DIR          MNIST-format folder for aux (default " DEFAULT_DATA ")\n"
            "  --train-count N     use the first N training images (default all)\n"
            "  --test-count N      use the first N test images (default all)\n"
            "  --seed S            seed of the weights and of training (default 1)\n"
            "  --proj-seed S       seed of the fixed projections (default: --seed)\n"
            "  --threads N         BLAS threads (default 1: deterministic)\n"
            "  --precision P       fp32 (default) | bf16: regenerations and the reports'\n"
            "                      self-prediction and accuracy with bf16 products (oneDNN),\n"
            "                      where the CPU has native bf16; training stays fp32\n"
            "  --save FILE         write the final genome (a .genome file)\n"
            "  --from FILE         start from a saved genome instead of fresh weights (its\n"
            "                      spec replaces --model, --hidden, --depth, --rest,\n"
            "                      --coord-scale and --proj-seed; the optimizer starts afresh)\n"
            "  --json              one JSON object per report on stdout (epoch 0 = before\n"
            "                      training; with --steps, epoch counts completed passes\n"
            "                      over the coordinates): epoch, steps, l_sr, margin, srq,\n"
            "                      rel_err, r2,\n"
            "                      rms, zero_quine, seconds, loss, l_sr_run, flops, regen,\n"
            "                      and acc, train_acc for aux; with --fertile also\n"
            "                      fertile_loss, drift1, drift_last, sink, rho_hat, rho_power,\n"
            "                      stretch_hat (0 without --fertile-stretch)\n"
            "                      (flops counts no fertile step)\n"
            "\n"
            "Exit status: 0 done, 1 failure (data, file), 2 bad arguments.\n");
}

enum {
    OPT_MODEL = 256,
    OPT_HIDDEN,
    OPT_DEPTH,
    OPT_INIT,
    OPT_REST,
    OPT_COORD_SCALE,
    OPT_EPOCHS,
    OPT_STEPS,
    OPT_REPORT,
    OPT_EPOCH_UNIT,
    OPT_OPTIMIZER,
    OPT_LR,
    OPT_BATCH,
    OPT_FULL,
    OPT_IMAGES,
    OPT_REGEN,
    OPT_LOSS,
    OPT_LAMBDA,
    OPT_TEMP,
    OPT_REDUCE,
    OPT_PAIRING,
    OPT_REFRESH,
    OPT_DATA,
    OPT_TRAIN_COUNT,
    OPT_TEST_COUNT,
    OPT_SEED,
    OPT_PROJ_SEED,
    OPT_THREADS,
    OPT_PRECISION,
    OPT_SAVE,
    OPT_FROM,
    OPT_NEWTON,
    OPT_NEWTON_CG,
    OPT_NEWTON_ONLY,
    OPT_BINARY,
    OPT_NEWTON_KEEP,
    OPT_NEWTON_KEEP_WEIGHT,
    OPT_FERTILE,
    OPT_FERTILE_ONLY,
    OPT_FERTILE_GENS,
    OPT_FERTILE_LAMBDA,
    OPT_FERTILE_SINK,
    OPT_FERTILE_REPAIR,
    OPT_FERTILE_REPAIR_FRAC,
    OPT_FERTILE_NOISE,
    OPT_FERTILE_CONTRACTION,
    OPT_FERTILE_STRETCH,
    OPT_FERTILE_RHO,
    OPT_FERTILE_LR,
    OPT_FERTILE_IMAGES,
    OPT_FERTILE_REGEN,
    OPT_FERTILE_NEWTON,
    OPT_FERTILE_NEWTON_C,
    OPT_FERTILE_NEWTON_CHILD,
    OPT_FERTILE_NEWTON_DEPTH,
    OPT_FERTILE_NEWTON_SCALE_FREE,
    OPT_RECIPE,
    OPT_JSON,
    OPT_HELP
};

static const struct option long_opts[] = {
    {"model", required_argument, NULL, OPT_MODEL},
    {"hidden", required_argument, NULL, OPT_HIDDEN},
    {"depth", required_argument, NULL, OPT_DEPTH},
    {"init", required_argument, NULL, OPT_INIT},
    {"rest", required_argument, NULL, OPT_REST},
    {"coord-scale", required_argument, NULL, OPT_COORD_SCALE},
    {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"steps", required_argument, NULL, OPT_STEPS},
    {"report-every", required_argument, NULL, OPT_REPORT},
    {"epoch-unit", required_argument, NULL, OPT_EPOCH_UNIT},
    {"optimizer", required_argument, NULL, OPT_OPTIMIZER},
    {"lr", required_argument, NULL, OPT_LR},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"full-batch", no_argument, NULL, OPT_FULL},
    {"images", required_argument, NULL, OPT_IMAGES},
    {"regen-every", required_argument, NULL, OPT_REGEN},
    {"loss", required_argument, NULL, OPT_LOSS},
    {"lambda", required_argument, NULL, OPT_LAMBDA},
    {"temperature", required_argument, NULL, OPT_TEMP},
    {"reduce", required_argument, NULL, OPT_REDUCE},
    {"pairing", required_argument, NULL, OPT_PAIRING},
    {"refresh", required_argument, NULL, OPT_REFRESH},
    {"data", required_argument, NULL, OPT_DATA},
    {"train-count", required_argument, NULL, OPT_TRAIN_COUNT},
    {"test-count", required_argument, NULL, OPT_TEST_COUNT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"proj-seed", required_argument, NULL, OPT_PROJ_SEED},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"precision", required_argument, NULL, OPT_PRECISION},
    {"save", required_argument, NULL, OPT_SAVE},
    {"from", required_argument, NULL, OPT_FROM},
    {"newton", required_argument, NULL, OPT_NEWTON},
    {"newton-cg", required_argument, NULL, OPT_NEWTON_CG},
    {"newton-only", no_argument, NULL, OPT_NEWTON_ONLY},
    {"binary", no_argument, NULL, OPT_BINARY},
    {"newton-keep", required_argument, NULL, OPT_NEWTON_KEEP},
    {"newton-keep-weight", required_argument, NULL, OPT_NEWTON_KEEP_WEIGHT},
    {"fertile", required_argument, NULL, OPT_FERTILE},
    {"fertile-only", no_argument, NULL, OPT_FERTILE_ONLY},
    {"fertile-gens", required_argument, NULL, OPT_FERTILE_GENS},
    {"fertile-lambda", required_argument, NULL, OPT_FERTILE_LAMBDA},
    {"fertile-sink", required_argument, NULL, OPT_FERTILE_SINK},
    {"fertile-repair", required_argument, NULL, OPT_FERTILE_REPAIR},
    {"fertile-repair-frac", required_argument, NULL, OPT_FERTILE_REPAIR_FRAC},
    {"fertile-noise", required_argument, NULL, OPT_FERTILE_NOISE},
    {"fertile-contraction", required_argument, NULL, OPT_FERTILE_CONTRACTION},
    {"fertile-stretch", required_argument, NULL, OPT_FERTILE_STRETCH},
    {"fertile-rho", required_argument, NULL, OPT_FERTILE_RHO},
    {"fertile-lr", required_argument, NULL, OPT_FERTILE_LR},
    {"fertile-images", required_argument, NULL, OPT_FERTILE_IMAGES},
    {"fertile-regen", required_argument, NULL, OPT_FERTILE_REGEN},
    {"fertile-newton", required_argument, NULL, OPT_FERTILE_NEWTON},
    {"fertile-newton-c", required_argument, NULL, OPT_FERTILE_NEWTON_C},
    {"fertile-newton-child", required_argument, NULL, OPT_FERTILE_NEWTON_CHILD},
    {"fertile-newton-depth", required_argument, NULL, OPT_FERTILE_NEWTON_DEPTH},
    {"fertile-newton-scale-free", no_argument, NULL, OPT_FERTILE_NEWTON_SCALE_FREE},
    {"recipe", required_argument, NULL, OPT_RECIPE},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Does a genome of this spec survive the file format unchanged? (The format may not
 * record every spec field; coord_scale came later.) An in-memory round trip says. */
static int genome_keeps_spec(const qs_quine_spec_t *spec)
{
    qs_genome_t g, back;
    qs_bytes_t buf;
    qs_bytes_init(&buf);
    qs_genome_init(&g, spec);
    qs_genome_encode(&g, &buf);
    int ok = qs_genome_decode(&back, buf.data, buf.len, NULL) == 0;
    if (ok) {
        ok = !memcmp(&back.spec.coord_scale, &spec->coord_scale, sizeof spec->coord_scale) ||
             (spec->coord_scale == 1.0f && back.spec.coord_scale == 0.0f);
        ok = ok && back.spec.kind == spec->kind && back.spec.hidden == spec->hidden &&
             back.spec.depth == spec->depth && back.spec.proj_seed == spec->proj_seed &&
             back.spec.rest == spec->rest;
        qs_genome_destroy(&back);
    }
    qs_genome_destroy(&g);
    qs_bytes_destroy(&buf);
    return ok;
}

/* Parse the options into o; 0, 1 (--help printed) or QS_ERR(INVAL) with err set. Long
 * (300 lines) for a reason: one flat switch case per option of train's 50, each a line
 * or two, then the checks between them; split, a reader would look for an option in
 * several places. */
static int parse_args(int argc, char **argv, opts_t *o, qs_error_t *err)
{
    qs_kind_t kind = QS_KIND_VANILLA;
    uint64_t hidden = 100, depth = 2, batch = 10, images = 0;
    double lambda = 0.01, temp = 0.01, coord_scale = 1;
    const char *model = NULL, *opt_name = "adamax", *loss = "sse", *reduce = "mean",
               *pairing = NULL, *refresh = "epoch", *init = "uniform", *rest = "zero",
               *unit = "coords";
    int rc = 0;
    memset(o, 0, sizeof *o);
    o->epochs = 30;
    o->newton_keep = 256;
    o->newton_keep_weight = 1;
    o->fcfg = qs_fertile_defaults();
    o->fertile_lr = 1e-4;
    o->fertile_images = 100;
    o->fertile_newton_c = 0.01;
    o->seed = 1;
    o->threads = 1;
    o->data = DEFAULT_DATA;
    /* --recipe first, so that the options given with it override what it sets. */
    optind = 1;
    opterr = 0;
    int c, gens_set = 0;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        if (c != OPT_RECIPE)
            continue;
        o->recipe = optarg;
        if (!strcmp(optarg, "fertile")) {
            o->fertile_only = 1;
            o->fertile_newton = QS_RECIPE_FERTILE_STEPS;
            o->fertile_newton_c = 0.03;
            o->fertile_newton_child = 1;
            o->fcfg.regen = QS_REGEN_STANDARDIZE;
        } else if (!strcmp(optarg, "lineage")) {
            o->fertile_only = 1;
            o->fertile_newton = QS_RECIPE_LINEAGE_STEPS;
            o->fertile_newton_c = 0.03;
            o->fertile_newton_child = 1;
            o->fcfg.regen = QS_REGEN_STANDARDIZE;
            o->regen_every = 1;
        } else if (!strcmp(optarg, "paper60k")) {
            unit = "images";
            temp = QS_RECIPE_PAPER60K_TEMP;
            init = "he";
        } else if (strcmp(optarg, "paper")) {
            return qs_error_set(err, QS_ERR(INVAL),
                                "--recipe: '%s' is not paper, paper60k, fertile or lineage",
                                optarg);
        }
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_RECIPE:
            break;
        case OPT_FERTILE:
            rc = qs_parse_u64("--fertile", optarg, 0, 1000000, &o->fertile, err);
            break;
        case OPT_FERTILE_ONLY:
            o->fertile_only = 1;
            break;
        case OPT_FERTILE_GENS: {
            uint64_t k;
            rc = qs_parse_u64("--fertile-gens", optarg, 1, QS_FERTILE_MAX_GENS, &k, err);
            o->fcfg.generations = (uint32_t)k;
            gens_set = 1;
            break;
        }
        case OPT_FERTILE_LAMBDA:
            rc = qs_parse_double("--fertile-lambda", optarg, 0, 1e6, &o->fcfg.lambda, err);
            break;
        case OPT_FERTILE_SINK:
            rc = qs_parse_double("--fertile-sink", optarg, 0, 1e9, &o->fcfg.sink, err);
            break;
        case OPT_FERTILE_REPAIR:
            rc = qs_parse_double("--fertile-repair", optarg, 0, 1e9, &o->fcfg.repair, err);
            break;
        case OPT_FERTILE_REPAIR_FRAC:
            rc = qs_parse_double("--fertile-repair-frac", optarg, 0, 1, &o->fcfg.repair_frac, err);
            break;
        case OPT_FERTILE_NOISE:
            rc = qs_parse_double("--fertile-noise", optarg, 0, 10, &o->fcfg.sink_noise, err);
            break;
        case OPT_FERTILE_CONTRACTION:
            rc =
                qs_parse_double("--fertile-contraction", optarg, 0, 1e9, &o->fcfg.contraction, err);
            break;
        case OPT_FERTILE_STRETCH:
            rc = qs_parse_double("--fertile-stretch", optarg, 0, 1e9, &o->fcfg.stretch, err);
            break;
        case OPT_FERTILE_RHO:
            rc = qs_parse_double("--fertile-rho", optarg, 0, 100, &o->fcfg.rho_target, err);
            break;
        case OPT_FERTILE_LR:
            rc = qs_parse_double("--fertile-lr", optarg, 1e-12, 1e3, &o->fertile_lr, err);
            break;
        case OPT_FERTILE_NEWTON:
            rc = qs_parse_u64("--fertile-newton", optarg, 0, 1000000, &o->fertile_newton, err);
            break;
        case OPT_FERTILE_NEWTON_C:
            rc = qs_parse_double("--fertile-newton-c", optarg, 0, 1e9, &o->fertile_newton_c, err);
            break;
        case OPT_FERTILE_NEWTON_CHILD:
            rc = qs_parse_double("--fertile-newton-child", optarg, 0, 1e9, &o->fertile_newton_child,
                                 err);
            break;
        case OPT_FERTILE_NEWTON_DEPTH: {
            uint64_t m;
            rc =
                qs_parse_u64("--fertile-newton-depth", optarg, 1, QS_FERTILE_MAX_GENS - 1, &m, err);
            o->fcfg.lm_descendants = (uint32_t)m;
            break;
        }
        case OPT_FERTILE_NEWTON_SCALE_FREE:
            o->fcfg.lm_scale_free = 1;
            break;
        case OPT_FERTILE_REGEN:
            if (qs_regen_parse(optarg, &o->fcfg.regen) < 0 || o->fcfg.regen == QS_REGEN_SIGN)
                return qs_error_set(err, QS_ERR(INVAL),
                                    "--fertile-regen: '%s' is not plain or standardize (the "
                                    "objectives differentiate the offspring; sign offspring "
                                    "have no gradient)",
                                    optarg);
            break;
        case OPT_FERTILE_IMAGES:
            rc =
                qs_parse_u64("--fertile-images", optarg, 1, QS_CHUNK_ROWS, &o->fertile_images, err);
            break;
        case OPT_MODEL:
            model = optarg;
            break;
        case OPT_HIDDEN:
            rc = qs_parse_u64("--hidden", optarg, 2, 4096, &hidden, err);
            break;
        case OPT_DEPTH:
            rc = qs_parse_u64("--depth", optarg, 1, 16, &depth, err);
            break;
        case OPT_INIT:
            init = optarg;
            break;
        case OPT_REST:
            rest = optarg;
            break;
        case OPT_COORD_SCALE:
            rc = qs_parse_double("--coord-scale", optarg, 1e-6, 1000, &coord_scale, err);
            break;
        case OPT_EPOCHS:
            rc = qs_parse_u64("--epochs", optarg, 0, 1000000, &o->epochs, err);
            break;
        case OPT_STEPS:
            rc = qs_parse_u64("--steps", optarg, 1, UINT64_C(1) << 40, &o->steps, err);
            break;
        case OPT_REPORT:
            rc =
                qs_parse_u64("--report-every", optarg, 1, UINT64_C(1) << 40, &o->report_every, err);
            break;
        case OPT_EPOCH_UNIT:
            unit = optarg;
            break;
        case OPT_OPTIMIZER:
            opt_name = optarg;
            break;
        case OPT_LR:
            rc = qs_parse_double("--lr", optarg, 1e-12, 1e6, &o->lr, err);
            o->lr_set = 1;
            break;
        case OPT_BATCH:
            rc = qs_parse_u64("--batch", optarg, 0, UINT32_MAX, &batch, err);
            break;
        case OPT_FULL:
            batch = 0;
            break;
        case OPT_IMAGES:
            rc = qs_parse_u64("--images", optarg, 1, 1000000, &images, err);
            break;
        case OPT_REGEN:
            rc = qs_parse_u64("--regen-every", optarg, 0, 1000000, &o->regen_every, err);
            break;
        case OPT_LOSS:
            loss = optarg;
            break;
        case OPT_LAMBDA:
            rc = qs_parse_double("--lambda", optarg, 0, 1e6, &lambda, err);
            break;
        case OPT_TEMP:
            rc = qs_parse_double("--temperature", optarg, 1e-6, 1e6, &temp, err);
            break;
        case OPT_REDUCE:
            reduce = optarg;
            break;
        case OPT_PAIRING:
            pairing = optarg;
            break;
        case OPT_REFRESH:
            refresh = optarg;
            break;
        case OPT_DATA:
            o->data = optarg;
            break;
        case OPT_TRAIN_COUNT:
            rc = qs_parse_u64("--train-count", optarg, 1, UINT32_MAX, &o->train_count, err);
            break;
        case OPT_TEST_COUNT:
            rc = qs_parse_u64("--test-count", optarg, 1, UINT32_MAX, &o->test_count, err);
            break;
        case OPT_SEED:
            rc = qs_parse_u64("--seed", optarg, 0, UINT64_MAX, &o->seed, err);
            break;
        case OPT_PROJ_SEED:
            rc = qs_parse_u64("--proj-seed", optarg, 0, UINT64_MAX, &o->proj_seed, err);
            o->proj_seed_set = 1;
            break;
        case OPT_THREADS:
            rc = qs_parse_u64("--threads", optarg, 1, 256, &o->threads, err);
            break;
        case OPT_PRECISION:
            rc = qs_cli_parse_precision(optarg, &o->precision, err);
            break;
        case OPT_SAVE:
            o->save = optarg;
            break;
        case OPT_NEWTON:
            rc = qs_parse_u64("--newton", optarg, 0, 1000000, &o->newton, err);
            break;
        case OPT_NEWTON_CG:
            rc = qs_parse_u64("--newton-cg", optarg, 1, 100000, &o->newton_cg, err);
            break;
        case OPT_NEWTON_KEEP:
            rc = qs_parse_u64("--newton-keep", optarg, 0, QS_CHUNK_ROWS, &o->newton_keep, err);
            break;
        case OPT_NEWTON_KEEP_WEIGHT:
            rc = qs_parse_double("--newton-keep-weight", optarg, 0, 1e9, &o->newton_keep_weight,
                                 err);
            break;
        case OPT_NEWTON_ONLY:
            o->newton_only = 1;
            break;
        case OPT_BINARY:
            o->binary = 1;
            break;
        case OPT_FROM:
            o->from = optarg;
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
    if (optind < argc)
        return qs_error_set(err, QS_ERR(INVAL), "unexpected argument '%s'", argv[optind]);
    /* the LM step's descendants need K >= M + 1 linearisations */
    if (o->fcfg.generations < o->fcfg.lm_descendants + 1) {
        if (gens_set)
            return qs_error_set(err, QS_ERR(INVAL),
                                "--fertile-newton-depth %u needs --fertile-gens %u or more "
                                "(given %u)",
                                o->fcfg.lm_descendants, o->fcfg.lm_descendants + 1,
                                o->fcfg.generations);
        o->fcfg.generations = o->fcfg.lm_descendants + 1;
    }
    if (!model && !o->from)
        return qs_error_set(err, QS_ERR(INVAL), "--model vanilla|aux is required");
    if (model && qs_kind_parse(model, &kind) < 0)
        return qs_error_set(err, QS_ERR(INVAL), "--model: '%s' is not vanilla or aux", model);
    o->kind_set = 1;
    if (!o->proj_seed_set)
        o->proj_seed = o->seed;
    o->spec = qs_quine_spec_default(kind, o->proj_seed);
    o->spec.hidden = (uint32_t)hidden;
    o->spec.depth = (uint32_t)depth;
    o->spec.coord_scale = (float)coord_scale;
    if (qs_rest_parse(rest, &o->spec.rest) < 0)
        return qs_error_set(err, QS_ERR(INVAL), "--rest: '%s' is not zero or mean", rest);
    if (qs_init_parse(init, &o->init) < 0)
        return qs_error_set(err, QS_ERR(INVAL), "--init: '%s' is not uniform or he", init);
    if (qs_quine_spec_validate(&o->spec, err) < 0)
        return QS_ERR(INVAL);
    if (o->from) {
        /* The model is the genome's: its spec replaces --hidden, --depth, --rest,
         * --coord-scale and --proj-seed. */
        if (qs_genome_load(&o->start, o->from, err) < 0)
            return QS_ERR(IO);
        if (model && o->start.spec.kind != kind) {
            qs_genome_destroy(&o->start);
            return qs_error_set(err, QS_ERR(INVAL), "--model %s, but %s holds a %s quine", model,
                                o->from, qs_kind_name(o->start.spec.kind));
        }
        kind = o->start.spec.kind;
        o->spec = o->start.spec;
        o->proj_seed = o->spec.proj_seed;
    }

    o->cfg = qs_train_cfg_paper(kind);
    o->cfg.binary = o->binary;
    qs_opt_kind_t ok;
    if (qs_opt_parse(opt_name, &ok) < 0)
        return qs_error_set(err, QS_ERR(INVAL),
                            "--optimizer: '%s' is not one of sgd, momentum, adam, adamax, "
                            "adagrad, rmsprop",
                            opt_name);
    o->cfg.opt = qs_opt_defaults(ok);
    if (o->lr_set)
        o->cfg.opt.lr = (float)o->lr;
    if (qs_sr_loss_parse(loss, &o->cfg.obj.sr_loss) < 0)
        return qs_error_set(err, QS_ERR(INVAL),
                            "--loss: '%s' is not sse, relative, r2, none or hinge", loss);
    if (kind == QS_KIND_VANILLA && o->cfg.obj.sr_loss == QS_SR_NONE)
        return qs_error_set(err, QS_ERR(INVAL),
                            "--loss none leaves a vanilla quine nothing to learn");
    if (qs_reduce_parse(reduce, &o->cfg.obj.reduce) < 0)
        return qs_error_set(err, QS_ERR(INVAL), "--reduce: '%s' is not mean or sum", reduce);
    if (pairing && qs_pairing_parse(pairing, &o->cfg.obj.pairing) < 0)
        return qs_error_set(err, QS_ERR(INVAL), "--pairing: '%s' is not paired or separate",
                            pairing);
    if (qs_refresh_parse(refresh, &o->cfg.refresh) < 0)
        return qs_error_set(err, QS_ERR(INVAL), "--refresh: '%s' is not epoch or step", refresh);
    if (!strcmp(unit, "images"))
        o->epoch_images = 1;
    else if (strcmp(unit, "coords"))
        return qs_error_set(err, QS_ERR(INVAL), "--epoch-unit: '%s' is not coords or images", unit);
    if (o->epoch_images && kind != QS_KIND_AUX)
        return qs_error_set(err, QS_ERR(INVAL), "--epoch-unit images needs --model aux");
    if (images && o->cfg.obj.pairing == QS_PAIR_PAIRED && kind == QS_KIND_AUX)
        return qs_error_set(err, QS_ERR(INVAL),
                            "--images applies to --pairing separate (paired rows take one "
                            "image per coordinate)");
    o->cfg.obj.lambda = (float)lambda;
    o->cfg.obj.temperature = (float)temp;
    o->cfg.batch = (uint32_t)batch;
    o->cfg.images = (uint32_t)images;
    if (o->fertile_only && !o->fertile && !o->fertile_newton)
        return qs_error_set(err, QS_ERR(INVAL), "--fertile-only needs --fertile S (S > 0)");
    if (o->fertile_only && o->newton_only)
        return qs_error_set(err, QS_ERR(INVAL),
                            "--fertile-only and --newton-only exclude each other");
    if (o->newton_only && !o->newton)
        return qs_error_set(err, QS_ERR(INVAL), "--newton-only needs --newton S (S > 0)");
    if (o->steps == 0 && o->report_every)
        return qs_error_set(err, QS_ERR(INVAL), "--report-every goes with --steps");
    if (o->save && !genome_keeps_spec(&o->spec))
        return qs_error_set(err, QS_ERR(INVAL),
                            "--save: the genome format does not record this spec exactly "
                            "(coord_scale %g?); the saved genome would regenerate other "
                            "projections",
                            (double)o->spec.coord_scale);
    return 0;
}

typedef struct {
    qs_dataset_t train_ds, test_ds;
    int have_data;
} data_t;

/* aux: the two splits (vanilla needs no data). */
static int load_data(const opts_t *o, data_t *d, qs_error_t *err)
{
    memset(d, 0, sizeof *d);
    if (o->spec.kind != QS_KIND_AUX)
        return 0;
    int rc = qs_load_split(&d->train_ds, o->data, QS_SPLIT_TRAIN, (uint32_t)o->train_count, err);
    if (rc < 0)
        return rc;
    rc = qs_load_split(&d->test_ds, o->data, QS_SPLIT_TEST, (uint32_t)o->test_count, err);
    if (rc < 0) {
        qs_dataset_destroy(&d->train_ds);
        return rc;
    }
    d->have_data = 1;
    return 0;
}

static void free_data(data_t *d)
{
    if (!d->have_data)
        return;
    qs_dataset_destroy(&d->train_ds);
    qs_dataset_destroy(&d->test_ds);
}

static void print_header(const opts_t *o, size_t n, const data_t *d)
{
    const qs_train_cfg_t *c = &o->cfg;
    printf("# quinesim train: %s quine, H=%u, depth %u, N=%zu parameters, init %s, "
           "coordinate projection scale %g\n",
           qs_kind_name(o->spec.kind), o->spec.hidden, o->spec.depth, n,
           o->from ? "from the genome" : qs_init_name(o->init),
           o->spec.coord_scale > 0 ? (double)o->spec.coord_scale : 1.0);
    printf("# %s lr %g, batch %u%s, loss %s, targets per %s, seed %llu, proj-seed %llu%s\n",
           qs_opt_name(c->opt.kind), (double)c->opt.lr, c->batch ? c->batch : (unsigned)n,
           c->batch ? "" : " (full)", qs_sr_loss_name(c->obj.sr_loss), qs_refresh_name(c->refresh),
           (unsigned long long)o->seed, (unsigned long long)o->proj_seed,
           o->precision == QS_PREC_BF16 ? "; regeneration and evaluation in bf16" : "");
    if (o->spec.kind == QS_KIND_AUX)
        printf("# aux: lambda %g, T %g, %s task loss, %s rows, rest input %s; data %s "
               "(%u train / %u test)\n",
               (double)c->obj.lambda, (double)c->obj.temperature, qs_reduce_name(c->obj.reduce),
               qs_pairing_name(c->obj.pairing), qs_rest_name(o->spec.rest), o->data,
               d->train_ds.count, d->test_ds.count);
    printf("%6s %10s %12s %10s %8s %9s %9s %9s %s%10s %8s\n", "epoch", "steps", "L_SR", "margin",
           "SRQ", "rel_err", "R^2", "rms", o->spec.kind == QS_KIND_AUX ? "   acc  " : "", "loss",
           "seconds");
}

typedef struct {
    const opts_t *o;
    qs_bar_t *prog;
} print_ctx_t;

static void draw_progress(void *ctx, uint64_t done, uint64_t total, const char *label)
{
    print_ctx_t *pc = ctx;
    if (label)
        qs_bar_draw(pc->prog, done, total, label);
    else
        qs_bar_clear(pc->prog);
}

/* One report: a JSON object or a row of the table. */
static void print_row(void *ctx, const qs_schedule_report_t *r)
{
    const opts_t *o = ((const print_ctx_t *)ctx)->o;
    const qs_fidelity_t *f = &r->fidelity;
    const int aux = o->spec.kind == QS_KIND_AUX;
    if (o->json) {
        qs_jw_t j;
        qs_report_line_begin(&j, stdout);
        qs_jw_kv_u64(&j, "epoch", r->epoch);
        qs_jw_kv_u64(&j, "steps", r->steps);
        qs_fidelity_write_json_fields(&j, f);
        qs_jw_kv_f64(&j, "seconds", r->seconds);
        qs_jw_kv_f64(&j, "loss", r->loss);
        qs_jw_kv_f64(&j, "l_sr_run", r->l_sr_run);
        qs_jw_kv_u64(&j, "flops", r->flops);
        qs_jw_kv_bool(&j, "regen", r->regen);
        if (o->newton)
            qs_jw_kv_u64(&j, "newton", r->newton);
        if (o->fertile || o->fertile_newton) {
            const qs_fertile_stats_t *fs = &r->fert.last;
            qs_jw_kv_f64(&j, "fertile_loss", r->fert.steps ? r->fert.loss_sum / r->fert.steps : 0);
            qs_jw_kv_f64(&j, "drift1", fs->drift[1]);
            qs_jw_kv_f64(&j, "drift_last", fs->drift[o->fcfg.generations]);
            qs_jw_kv_f64(&j, "sink", fs->sink);
            qs_jw_kv_f64(&j, "rho_hat", fs->rho_hat);
            qs_jw_kv_f64(&j, "rho_power", r->fert.rho_power);
            qs_jw_kv_f64(&j, "stretch_hat", fs->stretch_hat);
            if (o->fcfg.repair > 0) {
                qs_jw_kv_f64(&j, "repair", fs->repair);
                if (aux)
                    qs_jw_kv_f64(&j, "repair_task", fs->repair_task);
            }
        }
        if (aux) {
            qs_jw_kv_f64(&j, "acc", r->acc);
            qs_jw_kv_f64(&j, "train_acc", r->train_acc);
        }
        qs_report_line_end(&j);
        return;
    }
    char b1[32], b2[32], acc[32] = "";
    if (aux)
        snprintf(acc, sizeof acc, "%7.2f%% ", 100 * r->acc);
    char fert[160] = "";
    if (o->fertile && r->fert.steps) {
        const qs_fertile_stats_t *fs = &r->fert.last;
        int at =
            snprintf(fert, sizeof fert, "  fertile: drift %.3g/%.3g sink %.3g rho %.3g",
                     fs->drift[1], fs->drift[o->fcfg.generations], fs->sink, r->fert.rho_power);
        if (o->fcfg.repair > 0)
            snprintf(fert + at, sizeof fert - (size_t)at, " repair %.3g (CE %.3g)", fs->repair,
                     fs->repair_task);
    }
    printf("%6llu %10llu %12.6g %10.4g %8s %9.4g %9s %9.4g %s%10.4g %8.2f%s%s%s\n",
           (unsigned long long)r->epoch, (unsigned long long)r->steps, f->l_sr, f->margin,
           qs_fmt_num(b1, sizeof b1, f->srq, 4), f->rel_err, qs_fmt_num(b2, sizeof b2, f->r2, 4),
           f->rms, acc, r->loss, r->seconds, r->regen ? "  regen" : "",
           f->zero_quine ? "  ZERO QUINE" : "", fert);
    fflush(stdout);
}

int cmd_train(int argc, char **argv)
{
    opts_t o;
    qs_error_t err = {0};
    int rc = parse_args(argc, argv, &o, &err);
    if (rc == 1)
        return 0;
    if (rc == QS_ERR(IO)) {
        fprintf(stderr, "quinesim train: %s\n", err.msg);
        return 1;
    }
    if (rc < 0)
        return qs_cli_usage_error("train", "%s", err.msg);
    qs_blas_init((int)o.threads);
    qs_mm_init((int)o.threads);
    o.precision = qs_cli_precision("train", o.precision);
    const char *better = qs_blas_suggest_coretype();
    if (better && !getenv("OPENBLAS_CORETYPE"))
        fprintf(stderr,
                "quinesim train: note: OpenBLAS uses its generic '%s' kernels on this CPU; "
                "OPENBLAS_CORETYPE=%s makes training several times faster\n",
                qs_blas_core(), better);

    data_t d;
    qs_life_species_t sp;
    int have_sp = 0;
    if (load_data(&o, &d, &err) == 0) {
        const int with_data = o.spec.kind == QS_KIND_AUX;
        qs_life_setup_t setup = {.train = with_data ? &d.train_ds : NULL,
                                 .fitness = with_data ? &d.test_ds : NULL,
                                 .train_cfg = &o.cfg,
                                 .work_rows = 1,
                                 .precision = o.precision};
        have_sp = qs_life_species_init(&sp, &o.spec, &setup, &err) == 0;
        if (!have_sp) {
            char why[sizeof err.msg];
            snprintf(why, sizeof why, "%s", err.msg);
            qs_error_set(&err, err.code, "%s: %s", o.data, why);
            free_data(&d);
        }
    }
    if (!have_sp) {
        fprintf(stderr, "quinesim train: %s\n", err.msg);
        if (o.from)
            qs_genome_destroy(&o.start);
        return 1;
    }
    const int aux = o.spec.kind == QS_KIND_AUX;
    size_t n = sp.n;
    float *theta = xaligned(n * sizeof *theta);
    qs_rng_t rng;
    qs_rng_init(&rng, o.seed, qs_rng_stream(QS_STREAM_INIT, 0));
    if (o.from) {
        memcpy(theta, o.start.weights, n * sizeof *theta);
        qs_genome_destroy(&o.start);
    } else {
        qs_quine_init_weights(&o.spec, o.init, &rng, theta);
    }
    qs_trainer_t *tr = sp.trainer;
    qs_rng_init(&rng, o.seed, qs_rng_stream(QS_STREAM_LIFE, 0));
    qs_trainer_begin(tr, theta, &rng);

    qs_schedule_cfg_t sc = {.regen_every = o.regen_every,
                            .no_gradient = o.newton_only || o.fertile_only,
                            .newton = o.newton,
                            .newton_cg = (uint32_t)o.newton_cg,
                            .newton_keep = o.newton_keep,
                            .newton_keep_weight = o.newton_keep_weight,
                            .fertile = o.fertile,
                            .fcfg = o.fcfg,
                            .fertile_lr = o.fertile_lr,
                            .fertile_images = (uint32_t)o.fertile_images,
                            .fertile_newton = o.fertile_newton,
                            .fertile_newton_c = o.fertile_newton_c,
                            .fertile_newton_child = o.fertile_newton_child,
                            .seed = o.seed};
    qs_schedule_plan(&sc, &sp, &o.cfg, o.epochs, o.epoch_images, o.steps, o.report_every);
    if (!o.json)
        print_header(&o, n, &d);
    qs_bar_t prog;
    qs_bar_init(&prog);
    print_ctx_t pc = {&o, &prog};
    const qs_schedule_hooks_t hooks = {print_row, draw_progress, &pc};
    qs_schedule_report_t row;
    double total_seconds;
    qs_schedule_run(&sp, theta, &sc, &hooks, &row, &total_seconds);
    const qs_fidelity_t f = row.fidelity;
    const uint64_t total_steps = qs_trainer_stats(tr)->steps;
    if (!o.json)
        printf("# %llu steps in %.2f s (%.2f us/step), %.3g FLOPs\n",
               (unsigned long long)total_steps, total_seconds,
               total_steps ? total_seconds * 1e6 / total_steps : 0.0, (double)row.flops);
    int status = 0;
    if (o.save) {
        qs_genome_t g;
        qs_genome_init(&g, &o.spec);
        memcpy(g.weights, theta, n * sizeof *theta);
        snprintf(g.species, sizeof g.species, "train");
        g.metrics.present = 1;
        g.metrics.accuracy = aux ? row.acc : NAN;
        g.metrics.l_sr = f.l_sr;
        g.metrics.rel_err = f.rel_err;
        g.metrics.r2 = f.r2;
        if (qs_genome_save(&g, o.save, &err) < 0) {
            fprintf(stderr, "quinesim train: %s\n", err.msg);
            status = 1;
        } else if (!o.json) {
            printf("# saved %s\n", o.save);
        }
        qs_genome_destroy(&g);
    }
    qs_life_species_destroy(&sp);
    free(theta);
    free_data(&d);
    return status;
}
