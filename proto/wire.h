/* wire: the messages between the orchestrator and its workers (pipes or TCP).
 *
 * Each message is one frame (proto/frame.h) whose payload is a MessagePack map with a
 * "type" string and a "v" protocol major version, then the type's fields (string keys;
 * unknown keys are ignored for forward compatibility). A conversation:
 *
 *   worker -> hello        (pipes; over TCP first:  orchestrator -> challenge,
 *                           worker -> hello with its nonce and MAC,
 *                           orchestrator -> welcome with its own MAC)
 *   orch.  -> config       what every task needs: species, training, replication, data
 *                          (several runs on one pool: configs 0..count-1 in order, and
 *                          each task names its config; a single run sends one, index 0)
 *   worker -> data_request only if it cannot find the data set with the config's hash;
 *   orch.  -> data            then the data set itself (once per distinct data set)
 *   orch.  -> task ...     several in flight; worker -> result per task, in order
 *   worker -> heartbeat    every config.heartbeat_s while busy or idle
 *   either -> error        something was wrong; the sender closes after it
 *   orch.  -> shutdown     finish and exit
 *
 * [islands] hosting = workers (sim/hosting.h): each island lives on one worker, its host:
 *
 *   orch.  -> island (host)        the island's scenario and state; no answer
 *   orch.  -> island (run)         live generation G; worker -> island_records, or at a
 *                                  migration epoch island_genomes (its emigrants), then
 *   orch.  -> island (immigrants)  the immigrants from the other islands; -> island_records
 *   orch.  -> island (state)       worker -> island_genomes (the island's state: checkpoints)
 *   orch.  -> island (drop)        forget the island: it moved to another host; no answer
 *
 * island_records carries one island's generation without genomes; with hosting =
 * orchestrator the orchestrator passes each island's records through its bytes too, and
 * counts them. Genomes travel in island and island_genomes as checkpoint frames
 * (proto/checkpoint.h): the state of one island, or its emigrants/immigrants as orgs.
 *
 * Every decoder validates types, ranges and sizes and returns an error naming the field;
 * it never keeps a MessagePack object tree alive. */
#ifndef QS_WIRE_H
#define QS_WIRE_H

#include <stdint.h>

#include "core/fidelity.h"
#include "core/idx.h"
#include "core/life.h"
#include "core/optim.h"
#include "core/quine.h"
#include "core/train.h"
#include "core/util.h"
#include "proto/frame.h"
#include "proto/genome.h"

#define QS_PROTOCOL_VERSION 1
#define QS_NONCE_LEN        32
#define QS_MAC_LEN          32
/* Largest genome a task or result may carry (the decoder cannot know the species' spec:
 * sim checks the count against config.species[species]). 64M floats = 256 MiB. */
#define QS_WIRE_MAX_WEIGHTS ((uint32_t)64 << 20)
/* Most configs one connection carries (a sweep's runs, sim/runset.h). */
#define QS_WIRE_MAX_CONFIGS 1024
/* Largest image side in a data message (MNIST is 28 x 28). */
#define QS_WIRE_MAX_IMAGE_SIDE 4096

typedef enum {
    QS_MSG_HELLO = 1,
    QS_MSG_CHALLENGE,
    QS_MSG_WELCOME,
    QS_MSG_CONFIG,
    QS_MSG_DATA_REQUEST,
    QS_MSG_DATA,
    QS_MSG_TASK,
    QS_MSG_RESULT,
    QS_MSG_HEARTBEAT,
    QS_MSG_ERROR,
    QS_MSG_SHUTDOWN,
    QS_MSG_ISLAND_RECORDS,
    QS_MSG_ISLAND,
    QS_MSG_ISLAND_GENOMES
} qs_msg_type_t;
const char *qs_msg_type_name(qs_msg_type_t t); /* "hello", "challenge", ...; NULL if unknown */

typedef struct {
    char role[16]; /* "worker" */
    int64_t pid;
    char host[64];
    int has_auth;                /* the two fields below are present */
    uint8_t nonce[QS_NONCE_LEN]; /* the worker's nonce */
    uint8_t mac[QS_MAC_LEN];     /* HMAC-SHA256(token, "hello" | server nonce | nonce) */
    char blas[32];               /* its OpenBLAS kernel family (optional; "" if unknown) */
    char isa[32];                /* the ISA oneDNN dispatches to (optional; "" if unknown) */
} qs_msg_hello_t;

typedef struct {
    uint8_t nonce[QS_NONCE_LEN]; /* the orchestrator's nonce */
} qs_msg_challenge_t;

typedef struct {
    uint8_t mac[QS_MAC_LEN]; /* HMAC-SHA256(token, "welcome" | worker nonce | server nonce) */
} qs_msg_welcome_t;

typedef struct {
    /* config index of count (optional on the wire: 0 of 1); tasks name it (task.config) */
    uint32_t index, count;
    uint64_t seed;
    uint32_t nspecies;
    qs_species_cfg_t species[QS_MAX_SPECIES];
    /* life */
    qs_opt_cfg_t opt;
    uint32_t batch, images;
    qs_refresh_t refresh;
    qs_life_fertility_t fertility; /* the life's recipe; its regen is also the births' */
    /* replication */
    qs_replicate_mode_t mode;
    uint32_t regenerations;
    float mutation_sigma, mutation_rate;
    qs_precision_t precision; /* of regeneration and evaluation (optional, default fp32) */
    /* data: the first train_count training images and the first fitness_count test
     * images of the folder data_path; data_hash covers exactly those (see sim). */
    char data_path[QS_PATH_MAX];
    uint32_t train_count, fitness_count;
    uint32_t data_hash;
    /* limits */
    uint64_t max_message;
    double heartbeat_s;
    uint32_t memory_mb; /* 0 = unlimited */
} qs_msg_config_t;

typedef struct {
    uint32_t data_hash;
} qs_msg_data_request_t;

typedef struct {
    uint32_t data_hash;
    qs_dataset_t train, fitness; /* owned */
} qs_msg_data_t;

/* A heartbeat's task_id while the worker sets up (config received: loading or receiving
 * the data, building the species), before it can compute anything. */
#define QS_HEARTBEAT_SETTING_UP UINT64_MAX

typedef struct {
    uint64_t seq;
    uint64_t task_id; /* the task being computed, 0 if idle, QS_HEARTBEAT_SETTING_UP */
} qs_msg_heartbeat_t;

typedef struct {
    uint64_t task_id; /* 0 if not about a task */
    int32_t code;     /* a QS_ERR code */
    char message[512];
} qs_msg_error_t;

typedef struct {
    char reason[128];
} qs_msg_shutdown_t;

/* [islands]: what one island's generation produced, as an island's host sends it to the
 * orchestrator (sim/islands.h): its lineage records, the phylogeny rows of its dead, and
 * what the whole needs (species alive next, immigrants placed and refused, the fitness
 * of its best). Genomes never travel in it. */
typedef struct {
    uint64_t id, parent, flops_total;
    uint32_t born, species;
    double accuracy, rel_err, r2; /* its last evaluation */
} qs_island_dead_t;

typedef struct {
    uint32_t island, generation;
    uint8_t *records; /* owned: lineage frames (proto/lineage.h): births, evals, deaths, summary */
    uint32_t records_len;
    qs_island_dead_t *dead; /* owned, in the order of the death records */
    uint32_t ndead;
    uint32_t nspecies;
    uint32_t alive[QS_MAX_SPECIES]; /* organisms of each species in the next plan */
    uint32_t immigrants, immigrants_lost;
    double best_fitness;
    uint64_t task_id; /* hosting = workers: the island message it answers (optional: 0) */
    /* hosting = workers: the island's best organism so far, when it became the run's best
     * (its id, 0: no news, and fitness; its genome comes with the island's state) */
    uint64_t run_best_id;
    double run_best_fitness;
} qs_msg_island_records_t;

/* What the orchestrator asks of an island's host (hosting = workers). */
typedef enum {
    QS_ISLAND_HOST = 0,   /* take the island: scenario, and its state in genomes (none:
                           * generation 0, the founders made from the scenario) */
    QS_ISLAND_RUN = 1,    /* live generation `generation`; then advance, or answer with the
                           * emigrants when `migrate` */
    QS_ISLAND_IMMIGRANTS, /* the immigrants (genomes: their orgs); advance */
    QS_ISLAND_STATE,      /* answer with the island's state (checkpoints) */
    QS_ISLAND_DROP        /* forget the island (it moved to another host); no answer */
} qs_island_op_t;
const char *qs_island_op_name(qs_island_op_t op); /* "host", "run", ...; NULL if unknown */

typedef struct {
    qs_island_op_t op;
    uint64_t task_id; /* what the answer names (host: 0, no answer) */
    uint32_t config, island, generation;
    int last;    /* run: the run's last generation */
    int migrate; /* run: a migration follows this generation */
    /* run, immigrants: the run's best organism so far (its id, 0: none, and fitness): the
     * host names its island's best only when it beats that one (optional) */
    uint64_t best_id;
    double best_fitness;
    char *scenario;   /* host: the run's resolved scenario (owned; NULL: the one the host
                       * got with an earlier island of this config) */
    uint8_t *genomes; /* owned: a checkpoint frame (host: state, optional; immigrants) */
    uint32_t genomes_len;
} qs_msg_island_t;

/* An island's genomes, from its host: its emigrants (as orgs), or its state. */
typedef struct {
    uint64_t task_id;
    uint32_t island, generation;
    int state;        /* 0: emigrants, 1: the island's state */
    uint8_t *genomes; /* owned: a checkpoint frame */
    uint32_t genomes_len;
} qs_msg_island_genomes_t;

typedef struct {
    qs_msg_type_t type;
    union {
        qs_msg_hello_t hello;
        qs_msg_challenge_t challenge;
        qs_msg_welcome_t welcome;
        qs_msg_config_t config;
        qs_msg_data_request_t data_request;
        qs_msg_data_t data;
        qs_life_task_t task;
        qs_life_result_t result;
        qs_msg_heartbeat_t heartbeat;
        qs_msg_error_t error;
        qs_msg_shutdown_t shutdown;
        qs_msg_island_records_t island_records;
        qs_msg_island_t island;
        qs_msg_island_genomes_t island_genomes;
    } u;
} qs_msg_t;

/* Append m as one complete frame to out. */
void qs_msg_encode(const qs_msg_t *m, qs_bytes_t *out);
/* Decode one frame payload into m. Rejects unknown types (QS_ERR(FORMAT)) and other
 * major versions (QS_ERR(VERSION)) with a message naming what was received and what is
 * supported. Array sizes are checked against the payload before anything is allocated.
 * What the decoder cannot know is left to the caller: a task's or result's weight count
 * against its species' spec (bounded here by QS_WIRE_MAX_WEIGHTS), a task's species index
 * against config.nspecies (bounded here by QS_MAX_SPECIES), and a data message's hash
 * against the config's. On error m holds nothing to free. */
int qs_msg_decode(qs_msg_t *m, const uint8_t *payload, size_t len, qs_error_t *err);
/* Free what m owns (weights, data sets); m can be reused. */
void qs_msg_destroy(qs_msg_t *m);

#endif
