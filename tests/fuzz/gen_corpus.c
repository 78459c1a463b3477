/* gen_corpus: writes the committed seed corpus of the fuzz targets, small valid inputs
 * of every kind (plus a few damaged ones), into tests/fuzz/corpus/fuzz_<target>/.
 * Not part of the build; run it from the repository root after `make`:
 *
 *   cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I. \
 *      $(pkg-config --cflags msgpack openblas) tests/fuzz/gen_corpus.c build/libqsproto.a \
 *      build/libqscore.a $(pkg-config --libs msgpack zlib openblas) -ldnnl -lgomp -lm \
 *      -o /tmp/gen_corpus \
 *      && /tmp/gen_corpus
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/rng.h"
#include "proto/archive.h"
#include "proto/checkpoint.h"
#include "proto/genome.h"
#include "proto/lineage.h"
#include "proto/wire.h"

static void put(const char *target, const char *name, const void *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fuzz/corpus/%s", target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "tests/fuzz/corpus/%s/%s", target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* The payload of the frame at the start of b. */
static const uint8_t *payload(const qs_bytes_t *b, size_t *len)
{
    const uint8_t *p;
    size_t flen;
    qs_error_t err;
    if (qs_frame_parse(b->data, b->len, QS_MAX_MESSAGE_DEFAULT, &p, len, &flen, &err) != 1)
        abort();
    return p;
}

static qs_quine_spec_t small_spec(qs_kind_t kind, uint32_t h, uint64_t seed)
{
    qs_quine_spec_t s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.hidden = h;
    s.depth = 1;
    s.classes = kind == QS_KIND_AUX ? 10 : 0;
    s.image_dim = kind == QS_KIND_AUX ? 784 : 0;
    s.proj_seed = seed;
    return s;
}

static void genomes(void)
{
    qs_rng_t r;
    qs_rng_init(&r, 1, qs_rng_stream(QS_STREAM_TEST, 1));
    for (int i = 0; i < 4; i++) {
        qs_quine_spec_t s =
            small_spec(i & 1 ? QS_KIND_AUX : QS_KIND_VANILLA, 2 + 3 * (uint32_t)i, (uint64_t)i);
        s.rest = i == 3 ? QS_REST_MEAN : QS_REST_ZERO;
        qs_genome_t g;
        qs_genome_init(&g, &s);
        for (uint32_t k = 0; k < g.nweights; k++)
            g.weights[k] = (float)(qs_rng_normal(&r) * 0.1);
        g.id = (uint64_t)i + 1;
        g.nparents = (uint32_t)i % 3;
        g.parents[0] = 1;
        g.parents[1] = 2;
        snprintf(g.species, sizeof g.species, i == 2 ? "b\xc3\xa9ta" : "s%d", i);
        g.metrics.present = i & 1;
        g.metrics.accuracy = 0.5;
        g.metrics.l_sr = 3;
        g.metrics.rel_err = NAN;
        g.metrics.r2 = -INFINITY;
        qs_bytes_t b;
        qs_bytes_init(&b);
        qs_genome_encode(&g, &b);
        char name[32];
        snprintf(name, sizeof name, "genome-%d", i);
        put("fuzz_genome", name, b.data, b.len);
        put("fuzz_mp", name, b.data, b.len);
        put("fuzz_inspect", name, b.data, b.len);
        qs_bytes_destroy(&b);
        qs_genome_destroy(&g);
    }
}

/* A small checkpoint frame (an island's state, or migrants, in the island messages). */
static void small_checkpoint(qs_bytes_t *out)
{
    qs_checkpoint_t c;
    memset(&c, 0, sizeof c);
    c.seed = 3;
    c.generation = 2;
    c.next_id = 9;
    float w[3] = {1, -2, 0.5f};
    qs_ckpt_org_t org;
    memset(&org, 0, sizeof org);
    org.id = 7;
    org.accuracy = 0.5;
    org.nweights = 3;
    org.weights = w;
    c.norgs = 1;
    c.orgs = &org;
    qs_checkpoint_encode(&c, out);
}

static void messages(void)
{
    qs_bytes_t stream, ck;
    qs_bytes_init(&stream);
    qs_bytes_init(&ck);
    small_checkpoint(&ck);
    uint8_t records[12] = {0x92, 1, 2, 0xa3, 'a', 'b', 'c', 0xc0, 0, 0, 0, 0};
    qs_island_dead_t dead[2] = {{11, 7, 5000, 1, 0, 0.25, 0.9, NAN},
                                {12, 0, 7000, 2, 1, NAN, INFINITY, -3}};
    for (int t = QS_MSG_HELLO; t <= QS_MSG_ISLAND_GENOMES; t++) {
        qs_msg_t m;
        memset(&m, 0, sizeof m);
        m.type = (qs_msg_type_t)t;
        float w[6] = {0.5f, -1, 2, 0, 1e-3f, 7};
        uint8_t px[2 * 3 * 3] = {0, 255, 7}, lb[2] = {3, 9};
        switch (m.type) {
        case QS_MSG_HELLO:
            snprintf(m.u.hello.role, sizeof m.u.hello.role, "worker");
            m.u.hello.pid = 1234;
            snprintf(m.u.hello.host, sizeof m.u.hello.host, "node");
            m.u.hello.has_auth = 1;
            break;
        case QS_MSG_CONFIG: {
            qs_msg_config_t *c = &m.u.config;
            c->seed = 42;
            c->nspecies = 2;
            for (int i = 0; i < 2; i++) {
                snprintf(c->species[i].name, QS_NAME_MAX, "sp%d", i);
                c->species[i].spec = small_spec(i ? QS_KIND_AUX : QS_KIND_VANILLA, 10, 5);
                c->species[i].obj.lambda = 0.01f;
                c->species[i].obj.temperature = 0.01f;
            }
            c->opt.kind = QS_OPT_ADAMAX;
            c->opt.lr = 2e-3f;
            c->opt.beta1 = 0.9f;
            c->opt.beta2 = 0.999f;
            c->opt.eps = 1e-8f;
            c->batch = 10;
            c->mutation_sigma = 0.01f;
            c->mutation_rate = 1;
            snprintf(c->data_path, sizeof c->data_path, "data/mnist");
            c->train_count = 8000;
            c->fitness_count = 2000;
            c->max_message = 1 << 20;
            c->heartbeat_s = 1;
            break;
        }
        case QS_MSG_DATA:
            m.u.data.train = (qs_dataset_t){2, 3, 3, px, lb};
            m.u.data.fitness = (qs_dataset_t){1, 3, 3, px, lb};
            break;
        case QS_MSG_TASK:
            m.u.task.kind = QS_TASK_BIRTH;
            m.u.task.task_id = 9;
            m.u.task.nweights = 6;
            m.u.task.weights = w;
            break;
        case QS_MSG_RESULT:
            m.u.result.accuracy = NAN;
            m.u.result.fidelity.srq = INFINITY;
            m.u.result.has_link = 1;
            m.u.result.nweights = 6;
            m.u.result.weights = w;
            break;
        case QS_MSG_ERROR:
            m.u.error.code = QS_ERR(CHECKSUM);
            snprintf(m.u.error.message, sizeof m.u.error.message, "bad \"thing\"");
            break;
        case QS_MSG_SHUTDOWN:
            snprintf(m.u.shutdown.reason, 128, "done");
            break;
        case QS_MSG_ISLAND_RECORDS: {
            qs_msg_island_records_t *r = &m.u.island_records;
            r->island = 3;
            r->generation = 4;
            r->records = records;
            r->records_len = sizeof records;
            r->dead = dead;
            r->ndead = 2;
            r->nspecies = 2;
            r->alive[0] = 5;
            r->alive[1] = 1;
            r->immigrants = 2;
            r->immigrants_lost = 1;
            r->best_fitness = 0.75;
            r->task_id = 77;
            r->run_best_id = 12;
            r->run_best_fitness = 0.8;
            break;
        }
        case QS_MSG_ISLAND:
            m.u.island = (qs_msg_island_t){.op = QS_ISLAND_HOST,
                                           .task_id = 0,
                                           .config = 1,
                                           .island = 2,
                                           .generation = 2,
                                           .best_id = 7,
                                           .best_fitness = 0.5,
                                           .scenario = "[run]\nseed = 3\n[islands]\ncount = 3\n",
                                           .genomes = ck.data,
                                           .genomes_len = (uint32_t)ck.len};
            break;
        case QS_MSG_ISLAND_GENOMES:
            m.u.island_genomes = (qs_msg_island_genomes_t){.task_id = 78,
                                                           .island = 2,
                                                           .generation = 2,
                                                           .state = 1,
                                                           .genomes = ck.data,
                                                           .genomes_len = (uint32_t)ck.len};
            break;
        default:
            break;
        }
        qs_bytes_t b;
        qs_bytes_init(&b);
        qs_msg_encode(&m, &b);
        qs_bytes_append(&stream, b.data, b.len);
        size_t plen;
        const uint8_t *p = payload(&b, &plen);
        char name[32];
        snprintf(name, sizeof name, "%s", qs_msg_type_name(m.type));
        put("fuzz_wire", name, p, plen);
        put("fuzz_mp", name, p, plen);
        uint8_t chunk = (uint8_t)(t * 7);
        qs_bytes_t f;
        qs_bytes_init(&f);
        qs_bytes_append(&f, &chunk, 1);
        qs_bytes_append(&f, b.data, b.len);
        put("fuzz_frame", name, f.data, f.len);
        qs_bytes_destroy(&f);
        qs_bytes_destroy(&b);
    }
    /* the whole conversation as one stream, byte at a time and in chunks */
    for (uint8_t c = 0; c < 2; c++) {
        qs_bytes_t f;
        qs_bytes_init(&f);
        uint8_t chunk = c ? 0x3f : 0;
        qs_bytes_append(&f, &chunk, 1);
        qs_bytes_append(&f, stream.data, stream.len);
        put("fuzz_frame", c ? "stream-chunks" : "stream-bytes", f.data, f.len);
        f.len -= 5; /* torn */
        put("fuzz_frame", c ? "stream-torn" : "stream-torn-bytes", f.data, f.len);
        qs_bytes_destroy(&f);
    }
    qs_bytes_destroy(&stream);
    qs_bytes_destroy(&ck);
}

static void lineage(void)
{
    qs_bytes_t log;
    qs_bytes_init(&log);
    for (int t = QS_REC_HEADER; t <= QS_REC_END; t++) {
        qs_record_t r;
        memset(&r, 0, sizeof r);
        r.type = (qs_rec_type_t)t;
        switch (r.type) {
        case QS_REC_HEADER:
            snprintf(r.u.header.run_name, QS_NAME_MAX, "quickstart");
            r.u.header.nspecies = 2;
            snprintf(r.u.header.species[0], QS_NAME_MAX, "vanilla");
            snprintf(r.u.header.species[1], QS_NAME_MAX, "aux");
            r.u.header.species_params[0] = 20100;
            r.u.header.species_params[1] = 21100;
            r.u.header.scenario = "[run]\nname = quickstart\n";
            break;
        case QS_REC_BIRTH:
            r.u.birth.id = 5;
            r.u.birth.parent = 2;
            r.u.birth.has_link = 1;
            r.u.birth.mutation_sigma = 0.01;
            break;
        case QS_REC_EVAL:
            r.u.eval.accuracy = 0.9;
            break;
        case QS_REC_DEATH:
            r.u.death.cause = QS_DEATH_CAPACITY;
            break;
        case QS_REC_GENERATION:
            r.u.generation.nspecies = 2;
            r.u.generation.species_count[0] = 3;
            r.u.generation.mean_accuracy = NAN;
            break;
        case QS_REC_END:
            snprintf(r.u.end.reason, 64, "completed");
            break;
        }
        qs_bytes_t b;
        qs_bytes_init(&b);
        qs_record_encode(&r, &b);
        qs_bytes_append(&log, b.data, b.len);
        size_t plen;
        const uint8_t *p = payload(&b, &plen);
        put("fuzz_lineage_record", qs_rec_type_name(r.type), p, plen);
        put("fuzz_mp", qs_rec_type_name(r.type), p, plen);
        qs_bytes_destroy(&b);
    }
    put("fuzz_lineage_reader", "log", log.data, log.len);
    put("fuzz_inspect", "lineage", log.data, log.len);
    qs_bytes_t d;
    qs_bytes_init(&d);
    qs_bytes_append(&d, log.data, log.len);
    d.data[log.len / 2] ^= 0x10;
    put("fuzz_lineage_reader", "log-damaged", d.data, d.len);
    put("fuzz_lineage_reader", "log-torn", log.data, log.len - 7);
    put("fuzz_inspect", "lineage-torn", log.data, log.len - 7);
    qs_bytes_destroy(&d);
    qs_bytes_destroy(&log);
}

static void checkpoint(void)
{
    qs_checkpoint_t c;
    memset(&c, 0, sizeof c);
    c.scenario = "[run]\nseed = 3\n";
    c.seed = 3;
    c.generation = 2;
    c.next_id = 9;
    qs_ckpt_org_t orgs[2];
    memset(orgs, 0, sizeof orgs);
    float w[5] = {1, -2, 0.5f, 0, 3};
    for (int i = 0; i < 2; i++) {
        orgs[i].id = (uint64_t)i + 7;
        orgs[i].newborn = i;
        orgs[i].accuracy = NAN;
        orgs[i].nweights = 5;
        orgs[i].weights = w;
    }
    c.norgs = 2;
    c.orgs = orgs;
    c.has_best = 1;
    c.best = orgs[0];
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_checkpoint_encode(&c, &b);
    put("fuzz_inspect", "checkpoint", b.data, b.len);
    put("fuzz_checkpoint", "checkpoint", payload(&b, &(size_t){0}), b.len - QS_FRAME_HEADER);
    qs_bytes_destroy(&b);
}

static void archive(void)
{
    qs_archive_header_t h = {.seed = 3, .mode = QS_ARCHIVE_SURVIVORS, .every = 2};
    memset(h.run_id, 'c', QS_RUN_ID_LEN);
    snprintf(h.run_name, sizeof h.run_name, "fuzz");
    qs_bytes_t file;
    qs_bytes_init(&file);
    qs_archive_header_encode(&h, &file);
    for (int i = 0; i < 2; i++) {
        qs_quine_spec_t s = small_spec(i ? QS_KIND_AUX : QS_KIND_VANILLA, 3, (uint64_t)i);
        qs_genome_t g;
        qs_genome_init(&g, &s);
        g.id = (uint64_t)i + 1;
        qs_bytes_t doc;
        qs_bytes_init(&doc);
        qs_genome_encode(&g, &doc);
        qs_archive_entry_t e = {.generation = 2u * (uint32_t)i,
                                .id = g.id,
                                .fitness = 0.5,
                                .accuracy = NAN,
                                .r2 = -1,
                                .genome = doc.data,
                                .genome_len = doc.len};
        snprintf(e.species, sizeof e.species, "s%d", i);
        qs_archive_entry_encode(&e, &file);
        qs_bytes_destroy(&doc);
        qs_genome_destroy(&g);
    }
    put("fuzz_archive_reader", "archive", file.data, file.len);
    put("fuzz_archive_reader", "archive-torn", file.data, file.len - 5);
    put("fuzz_inspect", "archive", file.data, file.len);
    qs_bytes_destroy(&file);
}

int main(void)
{
    mkdir("tests/fuzz/corpus", 0755);
    genomes();
    messages();
    lineage();
    checkpoint();
    archive();
    return 0;
}
