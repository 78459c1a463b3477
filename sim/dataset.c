/* dataset: loading, cutting and hashing the run's image sets. */
#include "sim/dataset.h"

#include <stdlib.h>
#include <string.h>

/* A copy of examples [from, from + n) of src. */
static void slice(qs_dataset_t *dst, const qs_dataset_t *src, uint32_t from, uint32_t n)
{
    size_t img = (size_t)src->rows * src->cols;
    dst->count = n;
    dst->rows = src->rows;
    dst->cols = src->cols;
    dst->pixels = xmalloc(n * img + 1);
    dst->labels = xmalloc((size_t)n + 1);
    memcpy(dst->pixels, src->pixels + from * img, n * img);
    memcpy(dst->labels, src->labels + from, n);
}

int qs_data_load(qs_data_t *d, const char *dir, uint32_t train, uint32_t fitness, uint32_t test,
                 qs_error_t *err)
{
    qs_dataset_t tr = {0}, te = {0};
    /* Only what the run uses is read: a prefix of the 60,000 training digits is cheap. */
    int rc = qs_dataset_load_first(&tr, dir, QS_SPLIT_TRAIN, train, err);
    if (rc < 0)
        return rc;
    rc = qs_dataset_load_first(&te, dir, QS_SPLIT_TEST, test ? fitness + test : 0, err);
    if (rc < 0)
        goto out;
    if (train > tr.count) {
        rc = qs_error_set(err, QS_ERR(RANGE),
                          "%s: [data] train = %u, but the training split has %u images", dir, train,
                          tr.count);
        goto out;
    }
    if (fitness >= te.count) {
        rc = qs_error_set(err, QS_ERR(RANGE),
                          "%s: [data] fitness = %u leaves no held-out test images (the test split "
                          "has %u)",
                          dir, fitness, te.count);
        goto out;
    }
    if (test > te.count - fitness) {
        rc = qs_error_set(
            err, QS_ERR(RANGE),
            "%s: [data] fitness = %u plus test = %u exceeds the test split's %u images", dir,
            fitness, test, te.count);
        goto out;
    }
    memset(d, 0, sizeof *d);
    slice(&d->train, &tr, 0, train ? train : tr.count);
    slice(&d->fitness, &te, 0, fitness);
    slice(&d->test, &te, fitness, test ? test : te.count - fitness);
    d->hash = qs_data_hash(&d->train, &d->fitness);
out:
    qs_dataset_destroy(&tr);
    qs_dataset_destroy(&te);
    return rc;
}

uint32_t qs_data_hash(const qs_dataset_t *train, const qs_dataset_t *fitness)
{
    uint32_t h[2] = {qs_dataset_hash(train), qs_dataset_hash(fitness)};
    unsigned char b[8];
    qs_store_le32(b, h[0]);
    qs_store_le32(b + 4, h[1]);
    return qs_crc32(b, sizeof b);
}

int qs_data_load_for_config(qs_data_t *d, const qs_msg_config_t *cfg, qs_error_t *err)
{
    memset(d, 0, sizeof *d);
    if (cfg->train_count == 0 && cfg->fitness_count == 0)
        return 0;
    qs_dataset_t tr = {0}, te = {0};
    int rc = qs_dataset_load_first(&tr, cfg->data_path, QS_SPLIT_TRAIN, cfg->train_count, err);
    if (rc < 0)
        return rc;
    rc = qs_dataset_load_first(&te, cfg->data_path, QS_SPLIT_TEST, cfg->fitness_count, err);
    if (rc < 0)
        goto out;
    if (cfg->train_count > tr.count || cfg->fitness_count > te.count) {
        rc = qs_error_set(err, QS_ERR(MISMATCH), "%s: fewer images than the run uses",
                          cfg->data_path);
        goto out;
    }
    slice(&d->train, &tr, 0, cfg->train_count);
    slice(&d->fitness, &te, 0, cfg->fitness_count);
    d->hash = qs_data_hash(&d->train, &d->fitness);
    if (d->hash != cfg->data_hash) {
        rc = qs_error_set(err, QS_ERR(MISMATCH),
                          "%s: content hash %08x differs from the orchestrator's %08x",
                          cfg->data_path, d->hash, cfg->data_hash);
        qs_data_destroy(d);
    }
out:
    qs_dataset_destroy(&tr);
    qs_dataset_destroy(&te);
    return rc;
}

int qs_data_adopt(qs_data_t *d, const qs_msg_config_t *cfg, qs_msg_data_t *msg, qs_error_t *err)
{
    uint32_t h = qs_data_hash(&msg->train, &msg->fitness);
    if (h != cfg->data_hash || msg->train.count != cfg->train_count ||
        msg->fitness.count != cfg->fitness_count)
        return qs_error_set(err, QS_ERR(MISMATCH),
                            "data received (%u + %u images, hash %08x) is not what the config "
                            "describes (%u + %u, hash %08x)",
                            msg->train.count, msg->fitness.count, h, cfg->train_count,
                            cfg->fitness_count, cfg->data_hash);
    qs_data_destroy(d);
    d->train = msg->train;
    d->fitness = msg->fitness;
    d->hash = h;
    memset(&msg->train, 0, sizeof msg->train);
    memset(&msg->fitness, 0, sizeof msg->fitness);
    return 0;
}

void qs_data_destroy(qs_data_t *d)
{
    qs_dataset_destroy(&d->train);
    qs_dataset_destroy(&d->fitness);
    qs_dataset_destroy(&d->test);
    d->hash = 0;
}
