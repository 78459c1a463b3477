/* train: the training loop of one quine (see train.h for the contract).
 *
 * State that carries over between qs_trainer_run() calls: theta, the optimizer moments,
 * the frozen targets, the rng, and two epoch cursors (coordinates and images). A new
 * permutation is drawn lazily, at the start of the step that needs it, so a run split
 * into any number of calls makes exactly the same draws in the same order as one call.
 *
 * Rows per step: nc = batch coordinates (the last step of an epoch takes what is left
 * when batch does not divide N; full batch takes all N in index order, no shuffle);
 * aux, paired: ni = nc images on the same rows; aux, separate: ni = images (default:
 * batch, or 100 with full batch) on rows of their own. Images come from their own
 * permutations of the training set, refilled (reshuffled) whenever one is used up, even
 * in the middle of a step. With QS_SR_NONE and separate pairing no coordinate rows are
 * formed (they would carry no loss).
 *
 * Regeneration keeps the optimizer state and the epoch cursors. */
#include "core/train.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define FULL_BATCH_IMAGES 100
#define MAX_GROUPS        24

static const char *const refresh_names[] = {"epoch", "step"};

QS_NAME_FNS(qs_refresh_name, qs_refresh_parse, qs_refresh_t, refresh_names)
const qs_names_t qs_refresh_names = QS_NAMES(refresh_names);

qs_train_cfg_t qs_train_cfg_paper(qs_kind_t kind)
{
    qs_train_cfg_t c;
    memset(&c, 0, sizeof c);
    c.obj.sr_loss = QS_SR_SSE;
    c.obj.lambda = 0.01f;
    c.obj.temperature = 0.01f;
    c.obj.reduce = QS_REDUCE_MEAN;
    c.obj.pairing = kind == QS_KIND_AUX ? QS_PAIR_PAIRED : QS_PAIR_SEPARATE;
    c.opt = qs_opt_defaults(QS_OPT_ADAMAX);
    c.batch = 10;
    c.images = 0;
    c.refresh = QS_REFRESH_EPOCH;
    return c;
}

struct qs_trainer {
    const qs_phys_t *phys;
    const qs_features_t *train;
    qs_train_cfg_t cfg;
    size_t n;
    int aux, paired, full;
    size_t batch;      /* coordinates per step (n when full) */
    size_t images;     /* images per step in separate mode */
    size_t coord_rows; /* 0 when no coordinate rows are formed */
    float *theta;      /* borrowed */
    float *targets;    /* (N) frozen copy */
    float *grad;       /* (N) */
    qs_opt_t opt;
    qs_work_t *work;
    qs_rng_t rng;
    uint32_t *perm; /* (N) coordinate order of the current epoch */
    size_t cursor;  /* next position in perm; n = epoch finished */
    uint32_t *img_perm;
    size_t img_cursor;
    uint32_t *img_batch; /* the current step's images */
    float *latent;       /* (N) binary genomes: the real-valued weights w */
    qs_param_group_t groups[MAX_GROUPS];
    size_t ngroups;
    float scale[MAX_GROUPS]; /* a_l */
    int started;
    qs_train_stats_t stats;
};

qs_trainer_t *qs_trainer_new(const qs_phys_t *phys, const qs_train_cfg_t *cfg,
                             const qs_features_t *train)
{
    const qs_quine_spec_t *spec = qs_phys_spec(phys);
    qs_trainer_t *tr = xcalloc(1, sizeof *tr);
    tr->phys = phys;
    tr->train = train;
    tr->cfg = *cfg;
    tr->n = qs_phys_nparams(phys);
    tr->aux = spec->kind == QS_KIND_AUX;
    if (tr->aux && (!train || train->count == 0))
        qs_die("qs_trainer_new: an aux quine needs training images");
    tr->paired = tr->aux && cfg->obj.pairing == QS_PAIR_PAIRED;
    tr->full = cfg->batch == 0 || cfg->batch >= tr->n;
    tr->batch = tr->full ? tr->n : cfg->batch;
    tr->images = cfg->images ? cfg->images : (tr->full ? FULL_BATCH_IMAGES : cfg->batch);
    if (!tr->aux)
        tr->images = 0;
    tr->coord_rows = (cfg->obj.sr_loss == QS_SR_NONE && tr->aux && !tr->paired) ? 0 : tr->batch;
    tr->targets = xaligned(tr->n * sizeof(float));
    tr->grad = xaligned(tr->n * sizeof(float));
    qs_opt_init(&tr->opt, &cfg->opt, tr->n);
    size_t rows = tr->paired ? tr->batch : tr->coord_rows + tr->images;
    tr->work = qs_work_new(spec, rows);
    tr->perm = xmalloc(tr->n * sizeof(uint32_t));
    if (cfg->binary) {
        tr->latent = xaligned(tr->n * sizeof(float));
        tr->ngroups = qs_quine_param_groups(spec, tr->groups, MAX_GROUPS);
    }
    if (tr->aux) {
        tr->img_perm = xmalloc(train->count * sizeof(uint32_t));
        tr->img_batch = xmalloc(QS_MAX(tr->batch, tr->images) * sizeof(uint32_t));
    }
    return tr;
}

size_t qs_trainer_bytes(const qs_quine_spec_t *spec, const qs_train_cfg_t *cfg, uint32_t ntrain)
{
    size_t n = qs_quine_nparams(spec);
    size_t bytes = sizeof(qs_trainer_t) + (cfg->binary ? 5 : 4) * n * sizeof(float) +
                   n * sizeof(uint32_t) + qs_work_bytes(spec);
    if (spec->kind == QS_KIND_AUX) {
        int full = cfg->batch == 0 || cfg->batch >= n;
        size_t batch = full ? n : cfg->batch;
        size_t images = cfg->images ? cfg->images : (full ? FULL_BATCH_IMAGES : cfg->batch);
        bytes += ((size_t)ntrain + QS_MAX(batch, images)) * sizeof(uint32_t);
    }
    return bytes;
}

void qs_trainer_free(qs_trainer_t *tr)
{
    if (!tr)
        return;
    free(tr->targets);
    free(tr->grad);
    qs_opt_destroy(&tr->opt);
    qs_work_free(tr->work);
    free(tr->perm);
    free(tr->img_perm);
    free(tr->img_batch);
    free(tr->latent);
    free(tr);
}

/* Binary genomes: clip the latent weights to [-a_l, a_l] and set theta to a_l sgn(w). */
static void binarize(qs_trainer_t *tr)
{
    for (size_t k = 0; k < tr->ngroups; k++) {
        const float a = tr->scale[k];
        float *w = tr->latent + tr->groups[k].offset, *t = tr->theta + tr->groups[k].offset;
        for (size_t i = 0; i < tr->groups[k].count; i++) {
            w[i] = QS_MIN(a, QS_MAX(-a, w[i]));
            t[i] = w[i] >= 0 ? a : -a;
        }
    }
}

void qs_trainer_begin(qs_trainer_t *tr, float *theta, const qs_rng_t *rng)
{
    tr->theta = theta;
    if (tr->cfg.binary) {
        for (size_t k = 0; k < tr->ngroups; k++)
            tr->scale[k] =
                (float)qs_regen_sign_scale(theta + tr->groups[k].offset, tr->groups[k].count);
        memcpy(tr->latent, theta, tr->n * sizeof(float));
        binarize(tr);
    }
    tr->rng = *rng;
    qs_opt_reset(&tr->opt);
    memset(&tr->stats, 0, sizeof tr->stats);
    tr->cursor = tr->n; /* the first step starts an epoch */
    tr->img_cursor = tr->aux ? tr->train->count : 0;
    memcpy(tr->targets, theta, tr->n * sizeof(float));
    tr->started = 1;
}

static void start_epoch(qs_trainer_t *tr)
{
    for (size_t i = 0; i < tr->n; i++)
        tr->perm[i] = (uint32_t)i;
    if (!tr->full)
        qs_rng_shuffle_u32(&tr->rng, tr->perm, tr->n);
    tr->cursor = 0;
    if (tr->cfg.refresh == QS_REFRESH_EPOCH)
        memcpy(tr->targets, tr->theta, tr->n * sizeof(float));
}

static void draw_images(qs_trainer_t *tr, size_t count)
{
    size_t total = tr->train->count;
    for (size_t k = 0; k < count; k++) {
        if (tr->img_cursor >= total) {
            for (size_t i = 0; i < total; i++)
                tr->img_perm[i] = (uint32_t)i;
            qs_rng_shuffle_u32(&tr->rng, tr->img_perm, total);
            tr->img_cursor = 0;
        }
        tr->img_batch[k] = tr->img_perm[tr->img_cursor++];
    }
}

static void step(qs_trainer_t *tr)
{
    if (tr->cursor >= tr->n)
        start_epoch(tr);
    size_t nc = QS_MIN(tr->batch, tr->n - tr->cursor);
    const uint32_t *coords = tr->perm + tr->cursor;
    size_t ni = 0;
    if (tr->aux) {
        ni = tr->paired ? nc : tr->images;
        draw_images(tr, ni);
    }
    size_t rows_c = tr->coord_rows ? nc : 0;
    /* Per-step targets are theta as it is now: read before the update, so pass it. */
    const float *targets = tr->cfg.refresh == QS_REFRESH_STEP ? tr->theta : tr->targets;
    qs_batch_stats_t bs;
    qs_quine_loss_grad(tr->phys, tr->theta, targets, coords, rows_c, tr->train, tr->img_batch, ni,
                       &tr->cfg.obj, tr->work, tr->grad, &bs);
    if (tr->cfg.binary) {
        qs_opt_step(&tr->opt, tr->latent, tr->grad);
        binarize(tr);
    } else {
        qs_opt_step(&tr->opt, tr->theta, tr->grad);
    }

    tr->cursor += nc;
    if (tr->cursor >= tr->n)
        tr->stats.epochs++;
    tr->stats.steps++;
    tr->stats.flops += qs_flops_step(qs_phys_spec(tr->phys), &tr->cfg.obj, rows_c, ni) +
                       qs_flops_opt(tr->opt.cfg.kind, tr->n);
    tr->stats.loss_sum += bs.loss;
    tr->stats.sse_sum += bs.sse;
    tr->stats.task_sum += bs.task;
    tr->stats.seen += ni;
    tr->stats.correct += bs.correct;
}

uint64_t qs_trainer_run(qs_trainer_t *tr, uint64_t steps)
{
    assert(tr->started);
    for (uint64_t s = 0; s < steps; s++)
        step(tr);
    return steps;
}

uint64_t qs_trainer_epoch_steps(const qs_trainer_t *tr)
{
    return (tr->n + tr->batch - 1) / tr->batch;
}

void qs_trainer_regenerate(qs_trainer_t *tr)
{
    qs_trainer_regenerate_as(tr, QS_REGEN_PLAIN);
}

void qs_trainer_regenerate_as(qs_trainer_t *tr, qs_regen_t mode)
{
    assert(tr->started);
    qs_quine_predict_all(tr->phys, tr->theta, tr->targets, tr->work);
    if (tr->cfg.binary) {
        memcpy(tr->latent, tr->targets, tr->n * sizeof(float));
        binarize(tr);
        memcpy(tr->targets, tr->theta, tr->n * sizeof(float));
    } else {
        qs_regen_apply(qs_phys_spec(tr->phys), mode, tr->theta, tr->targets);
        memcpy(tr->theta, tr->targets, tr->n * sizeof(float));
    }
    tr->stats.flops += qs_flops_regen(qs_phys_spec(tr->phys));
}

qs_precision_t qs_trainer_set_precision(qs_trainer_t *tr, qs_precision_t p)
{
    return qs_work_set_precision(tr->work, p);
}

const qs_train_stats_t *qs_trainer_stats(const qs_trainer_t *tr)
{
    return &tr->stats;
}

qs_rng_t qs_trainer_rng(const qs_trainer_t *tr)
{
    return tr->rng;
}

uint64_t qs_trainer_step_flops(const qs_trainer_t *tr)
{
    size_t ni = tr->aux ? (tr->paired ? tr->batch : tr->images) : 0;
    return qs_flops_step(qs_phys_spec(tr->phys), &tr->cfg.obj, tr->coord_rows ? tr->batch : 0, ni) +
           qs_flops_opt(tr->opt.cfg.kind, tr->n);
}
