/* dataset: the images a run uses, as the orchestrator and every worker must agree on.
 *
 *   train    the first [data] train images of the training split (0: all)
 *   fitness  the first [data] fitness images of the test split: accuracy for selection
 *   test     the next [data] test images of the test split (0: the rest), held out for
 *            the final evaluation of the best organism; never seen during the run
 *
 * A worker either finds the same files (same content hash) or is sent the images. */
#ifndef QS_SIM_DATASET_H
#define QS_SIM_DATASET_H

#include <stdint.h>

#include "core/idx.h"
#include "core/util.h"
#include "proto/wire.h"

typedef struct {
    qs_dataset_t train, fitness, test; /* owned */
    uint32_t hash;                     /* of train and fitness (what workers use) */
} qs_data_t;

/* Load and cut the three sets; errors name the folder/file and the shortfall. */
int qs_data_load(qs_data_t *d, const char *dir, uint32_t train, uint32_t fitness, uint32_t test,
                 qs_error_t *err);
/* The content hash of train + fitness. */
uint32_t qs_data_hash(const qs_dataset_t *train, const qs_dataset_t *fitness);
/* Worker side: load what cfg describes from cfg->data_path and check the hash. Returns
 * 0, or an error (missing, different) after which the worker asks for the data. A config
 * without data (vanilla-only runs: train_count == 0) loads nothing. */
int qs_data_load_for_config(qs_data_t *d, const qs_msg_config_t *cfg, qs_error_t *err);
/* Worker side: take the sets out of a data message (msg is left empty) after checking
 * their hash and sizes against cfg. */
int qs_data_adopt(qs_data_t *d, const qs_msg_config_t *cfg, qs_msg_data_t *msg, qs_error_t *err);
void qs_data_destroy(qs_data_t *d);

#endif
