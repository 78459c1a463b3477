/* resources: estimates of a run's memory from its scenario, and the checks `run` makes. */
#include "sim/resources.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/life.h"

/* MNIST's splits, for a [data] count of 0 ("all"): the estimate reads no file. */
#define ALL_TRAIN 60000
#define ALL_TEST  10000
/* A genome on the wire or in a checkpoint: its weights and a few hundred bytes of
 * metadata. */
#define GENOME_OVERHEAD 1024

static uint64_t mib(uint64_t bytes)
{
    return (bytes + ((uint64_t)1 << 20) - 1) >> 20;
}

static int needs_images(const qs_scenario_t *sc)
{
    for (uint32_t s = 0; s < sc->nspecies; s++)
        if (sc->species[s].kind == QS_KIND_AUX)
            return 1;
    return 0;
}

void qs_resources_estimate(const qs_scenario_t *sc, uint32_t local_workers, qs_resources_t *r)
{
    memset(r, 0, sizeof *r);
    r->local_workers = local_workers;
    uint64_t image_bytes = 0, max_n = 0;
    for (uint32_t s = 0; s < sc->nspecies; s++) {
        qs_quine_spec_t spec = qs_scenario_spec(sc, s);
        max_n = QS_MAX(max_n, (uint64_t)qs_quine_nparams(&spec));
        if (spec.kind == QS_KIND_AUX)
            image_bytes = QS_MAX(image_bytes, (uint64_t)spec.image_dim + 1); /* pixels, label */
    }
    if (needs_images(sc)) {
        r->images_assumed = sc->train == 0 || sc->test == 0;
        r->train = sc->train ? sc->train : ALL_TRAIN;
        r->fitness = sc->fitness;
        r->test = sc->test ? sc->test : (sc->fitness < ALL_TEST ? ALL_TEST - sc->fitness : 0);
    }
    r->data = (r->train + r->fitness) * image_bytes;
    qs_train_cfg_t tc = {.batch = sc->batch, .images = sc->images};
    for (uint32_t s = 0; s < sc->nspecies; s++) {
        qs_quine_spec_t spec = qs_scenario_spec(sc, s);
        r->species += qs_life_species_bytes(&spec, (uint32_t)r->train, (uint32_t)r->fitness, &tc);
    }
    uint64_t genome = max_n * sizeof(float) + GENOME_OVERHEAD;
    /* Tasks queued on the worker, the one running, its result being encoded, and the
     * frame reader's buffer (it grows by doubling: up to two genomes). */
    r->tasks = ((uint64_t)sc->in_flight + 4) * genome;
    /* The images, the species built from them and the tasks; loading the images holds the
     * files' prefixes and the cut sets for a moment, before OpenBLAS maps its buffers. */
    uint64_t work = r->data + r->species + r->tasks;
    r->worker_as = QS_MAX(QS_WORKER_LOAD_AS + 2 * r->data, QS_WORKER_BASE_AS + work);
    r->worker_rss = QS_PROCESS_BASE_RSS + QS_MAX(2 * r->data, work);
    uint64_t organisms = QS_MAX((uint64_t)sc->population, 1);
    uint64_t founders = 0;
    for (uint32_t s = 0; s < sc->nspecies; s++)
        founders += sc->species[s].count;
    organisms = QS_MAX(organisms, founders);
    r->checkpoint = (organisms + 1) * genome + ((uint64_t)64 << 10);
    uint64_t all_images = (r->train + r->fitness + r->test) * image_bytes;
    /* The population and the next generation's children, the tasks in flight and their
     * results, and a checkpoint being encoded. */
    uint64_t held = all_images + 2 * organisms * genome +
                    2 * (uint64_t)local_workers * sc->in_flight * genome + r->checkpoint;
    r->orchestrator = QS_PROCESS_BASE_RSS + QS_MAX(2 * all_images, held);
    r->machine = (uint64_t)local_workers * r->worker_rss + r->orchestrator;
}

static int same_data(const qs_scenario_t *a, const qs_scenario_t *b)
{
    return !strcmp(a->data_path, b->data_path) && a->train == b->train && a->fitness == b->fitness;
}

/* Whether key reaches a worker's species runtimes (sim/worker.c shares them between
 * configs equal but for the seed and the births' replication fields). */
static int runtime_key(const char *key)
{
    static const char *const keys[] = {"replication.regen", "replication.precision",
                                       "replication.input", "data.path",
                                       "data.train",        "data.fitness",
                                       "workers.heartbeat", "budget.worker_memory_mb"};
    size_t n = strlen(key);
    if (!strncmp(key, "species.", 8))
        return n < 6 || strcmp(key + n - 6, ".count") != 0;
    if (!strncmp(key, "life.", 5))
        return strcmp(key, "life.steps") != 0;
    for (size_t i = 0; i < QS_ARRAY_LEN(keys); i++)
        if (!strcmp(key, keys[i]))
            return 1;
    return 0;
}

static int same_runtime(const qs_scenario_t *a, const qs_scenario_t *b)
{
    qs_scenario_change_t ch[64];
    size_t n = qs_scenario_diff(a, b, ch, QS_ARRAY_LEN(ch));
    if (n > QS_ARRAY_LEN(ch))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (runtime_key(ch[i].key))
            return 0;
    return 1;
}

void qs_resources_estimate_set(const qs_scenario_t *const *scs, uint32_t n, uint32_t local_workers,
                               qs_resources_t *r)
{
    qs_resources_estimate(scs[0], local_workers, r);
    for (uint32_t i = 1; i < n; i++) {
        qs_resources_t x;
        qs_resources_estimate(scs[i], local_workers, &x);
        int data_seen = 0, runtime_seen = 0;
        for (uint32_t j = 0; j < i; j++) {
            data_seen |= same_data(scs[i], scs[j]);
            runtime_seen |= same_runtime(scs[i], scs[j]);
        }
        if (!data_seen)
            r->data += x.data;
        if (!runtime_seen)
            r->species += x.species;
        r->tasks = QS_MAX(r->tasks, x.tasks);
        r->images_assumed |= x.images_assumed;
        r->checkpoint = QS_MAX(r->checkpoint, x.checkpoint);
        r->orchestrator += x.orchestrator - QS_PROCESS_BASE_RSS;
    }
    uint64_t work = r->data + r->species + r->tasks;
    r->worker_as = QS_MAX(QS_WORKER_LOAD_AS + 2 * r->data, QS_WORKER_BASE_AS + work);
    r->worker_rss = QS_PROCESS_BASE_RSS + QS_MAX(2 * r->data, work);
    r->machine = (uint64_t)local_workers * r->worker_rss + r->orchestrator;
}

uint32_t qs_resources_local_workers(const qs_scenario_t *sc, uint32_t workers, int workers_set,
                                    int listen)
{
    uint32_t n = workers_set ? workers : sc->workers;
    if (n == 0 && !(workers_set && listen))
        n = (uint32_t)QS_MAX(1, sysconf(_SC_NPROCESSORS_ONLN)); /* auto */
    return n;
}

void qs_machine_read(qs_machine_t *m)
{
    memset(m, 0, sizeof *m);
    m->cores = (uint32_t)QS_MAX(1, sysconf(_SC_NPROCESSORS_ONLN));
    const char *path = getenv("QS_MEMINFO");
    FILE *f = fopen(path && *path ? path : "/proc/meminfo", "r");
    if (!f)
        return;
    char line[256];
    int have = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long kb;
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
            m->total = (uint64_t)kb << 10;
            have |= 1;
        } else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
            m->available = (uint64_t)kb << 10;
            have |= 2;
        } else if (sscanf(line, "Cores: %llu", &kb) == 1 && kb > 0) {
            m->cores = (uint32_t)kb; /* tests only: /proc/meminfo has no such line */
        }
    }
    fclose(f);
    m->known = have == 3;
}

/* "46 MiB of images, 21 MiB of species runtimes, 1 MiB of tasks, 226 MiB for the program" */
static void worker_parts(char *buf, size_t cap, const qs_resources_t *r, uint64_t base)
{
    snprintf(buf, cap,
             "%" PRIu64 " MiB of images, %" PRIu64 " MiB of species runtimes, %" PRIu64
             " MiB of tasks, %" PRIu64 " MiB for the program",
             mib(r->data), mib(r->species), mib(r->tasks), mib(base));
}

int qs_resources_check(const qs_resources_t *r, const qs_scenario_t *sc, const qs_machine_t *m,
                       char *warn, size_t cap, qs_error_t *err)
{
    char parts[256];
    size_t used = 0;
    if (cap)
        warn[0] = '\0';
    if (sc->worker_memory_mb && r->worker_as > ((uint64_t)sc->worker_memory_mb << 20)) {
        worker_parts(parts, sizeof parts, r, QS_WORKER_BASE_AS);
        return qs_error_set(err, QS_ERR(TOOBIG),
                            "each worker needs about %" PRIu64 " MiB of address space (%s), but "
                            "[budget] worker_memory_mb = %u: raise it to at least %" PRIu64
                            " (0: no limit) or make the species smaller",
                            mib(r->worker_as), parts, sc->worker_memory_mb, mib(r->worker_as));
    }
    if (!m->known)
        return 0;
    if (r->machine > m->total) {
        worker_parts(parts, sizeof parts, r, QS_PROCESS_BASE_RSS);
        uint64_t room = m->total > r->orchestrator ? m->total - r->orchestrator : 0;
        uint64_t fit = r->worker_rss ? room / r->worker_rss : 0;
        char fix[96] = "make the species smaller";
        if (fit)
            snprintf(fix, sizeof fix,
                     "use at most %" PRIu64 " local workers (--workers %" PRIu64 ")", fit, fit);
        return qs_error_set(err, QS_ERR(TOOBIG),
                            "this machine has %" PRIu64 " MiB of memory; %u local worker(s) of "
                            "about %" PRIu64 " MiB each (%s) and the orchestrator's %" PRIu64
                            " MiB need %" PRIu64 " MiB: %s",
                            mib(m->total), r->local_workers, mib(r->worker_rss), parts,
                            mib(r->orchestrator), mib(r->machine), fix);
    }
    if (r->machine > m->available && used < cap)
        used +=
            (size_t)snprintf(warn + used, cap - used,
                             "%sthe run needs about %" PRIu64 " MiB and %" PRIu64
                             " MiB are available now (of %" PRIu64 " MiB): it may swap",
                             used ? "\n" : "", mib(r->machine), mib(m->available), mib(m->total));
    if (r->local_workers > m->cores && used < cap)
        used += (size_t)snprintf(warn + used, cap - used,
                                 "%s%u local workers on %u cores: they share the cores, each "
                                 "task takes longer, and heartbeats may come late",
                                 used ? "\n" : "", r->local_workers, m->cores);
    return 0;
}

void qs_resources_print(FILE *to, const qs_resources_t *r, const qs_scenario_t *sc,
                        const qs_machine_t *m)
{
    fprintf(to,
            "; memory (estimated): each worker %" PRIu64 " MiB resident, %" PRIu64
            " MiB of address space (images %" PRIu64 " MiB, species %" PRIu64 " MiB, tasks %" PRIu64
            " MiB); worker_memory_mb = %u%s\n",
            mib(r->worker_rss), mib(r->worker_as), mib(r->data), mib(r->species), mib(r->tasks),
            sc->worker_memory_mb, sc->worker_memory_mb ? "" : " (no limit)");
    fprintf(to,
            "; memory (estimated): orchestrator %" PRIu64 " MiB; %u local worker(s) and the "
            "orchestrator %" PRIu64 " MiB; this machine %s",
            mib(r->orchestrator), r->local_workers, mib(r->machine), m->known ? "" : "unknown");
    if (m->known)
        fprintf(to, "%" PRIu64 " MiB, %" PRIu64 " MiB available, %u cores", mib(m->total),
                mib(m->available), m->cores);
    fprintf(to, "\n; checkpoint (checkpoint.msgpack): at most %" PRIu64 " bytes (%.1f MB)%s\n",
            r->checkpoint, (double)r->checkpoint / 1e6,
            r->images_assumed ? "; [data] counts of 0 taken as MNIST's 60,000 / 10,000" : "");
}
