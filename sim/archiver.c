/* archiver: choosing, appending, checking and cutting back a run's genome archive (see
 * archiver.h). */
#include "sim/archiver.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int io_error(qs_error_t *err, const char *path, const char *what)
{
    int e = errno;
    return qs_error_set(err, e == ENOSPC || e == EDQUOT ? QS_ERR(NOSPC) : QS_ERR(IO),
                        "%s: %s: %s%s", path, what, strerror(e),
                        e == ENOSPC ? " (the disk is full)" : "");
}

void qs_archiver_init(qs_archiver_t *a)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    qs_bytes_init(&a->buf);
}

static void set_path(qs_archiver_t *a, const char *dir, const qs_scenario_t *sc)
{
    a->sc = sc;
    snprintf(a->path, sizeof a->path, "%s/%s", dir, QS_ARCHIVE_FILE);
}

static int write_all(qs_archiver_t *a, qs_error_t *err)
{
    const uint8_t *p = a->buf.data;
    size_t left = a->buf.len;
    while (left > 0) {
        ssize_t w = write(a->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return io_error(err, a->path, "write");
        p += w;
        left -= (size_t)w;
    }
    if (fsync(a->fd) != 0)
        return io_error(err, a->path, "fsync");
    return 0;
}

/* Start archive.msgpack afresh: header of the run. */
static int start(qs_archiver_t *a, const char *run_id, qs_error_t *err)
{
    a->fd = open(a->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (a->fd < 0)
        return io_error(err, a->path, "cannot open");
    qs_archive_header_t h;
    memset(&h, 0, sizeof h);
    snprintf(h.run_id, sizeof h.run_id, "%s", run_id);
    snprintf(h.run_name, sizeof h.run_name, "%s", a->sc->name);
    h.seed = a->sc->seed;
    h.mode = a->sc->archive;
    h.every = a->sc->archive_every;
    qs_bytes_clear(&a->buf);
    qs_archive_header_encode(&h, &a->buf);
    return write_all(a, err);
}

int qs_archiver_create(qs_archiver_t *a, const char *dir, const qs_scenario_t *sc,
                       const char *run_id, qs_error_t *err)
{
    set_path(a, dir, sc);
    if (sc->archive == QS_ARCHIVE_NONE) {
        if (unlink(a->path) != 0 && errno != ENOENT)
            return io_error(err, a->path, "cannot remove the old archive");
        return 0;
    }
    return start(a, run_id, err);
}

int qs_archiver_check(const char *dir, const qs_checkpoint_t *ck, qs_error_t *err)
{
    if (ck->off_archive == 0)
        return 0;
    char path[QS_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, QS_ARCHIVE_FILE);
    qs_archive_reader_t rd;
    int rc = qs_archive_open(&rd, path, err);
    if (rc < 0) {
        qs_error_prefix(err, "the checkpoint counts %llu archive bytes",
                        (unsigned long long)ck->off_archive);
        return rc;
    }
    if (strcmp(rd.header.run_id, ck->run_id) != 0) {
        rc = qs_error_set(err, QS_ERR(MISMATCH),
                          "%s belongs to run %s, but the checkpoint to run %s (an archive "
                          "copied from another run?)",
                          path, rd.header.run_id, ck->run_id[0] ? ck->run_id : "(no id)");
        goto out;
    }
    qs_archive_entry_t e;
    while (rd.pos < ck->off_archive) {
        uint64_t from = rd.pos;
        if ((rc = qs_archive_next(&rd, &e, err)) == 0)
            rc =
                qs_error_set(err, QS_ERR(TRUNCATED),
                             "%s: %llu bytes, shorter than the checkpoint's %llu: the run "
                             "directory lost data the checkpoint relies on",
                             path, (unsigned long long)rd.pos, (unsigned long long)ck->off_archive);
        if (rc < 0)
            goto out;
        if (rd.pos > ck->off_archive) {
            rc = qs_error_set(err, QS_ERR(FORMAT),
                              "%s: the checkpoint's offset %llu falls inside the record at "
                              "%llu..%llu",
                              path, (unsigned long long)ck->off_archive, (unsigned long long)from,
                              (unsigned long long)rd.pos);
            goto out;
        }
        if (e.generation >= ck->generation) {
            rc = qs_error_set(err, QS_ERR(FORMAT),
                              "%s: the record at %llu is of generation %u, but the checkpoint "
                              "is at the start of generation %u",
                              path, (unsigned long long)from, e.generation, ck->generation);
            goto out;
        }
    }
    if (rd.pos != ck->off_archive)
        rc = qs_error_set(err, QS_ERR(FORMAT),
                          "%s: the checkpoint's offset %llu is inside the archive's header", path,
                          (unsigned long long)ck->off_archive);
out:
    qs_archive_close(&rd);
    return rc;
}

int qs_archiver_reopen(qs_archiver_t *a, const char *dir, const qs_scenario_t *sc,
                       const qs_checkpoint_t *ck, const char *run_id, qs_error_t *err)
{
    set_path(a, dir, sc);
    if (ck->off_archive == 0)
        return sc->archive == QS_ARCHIVE_NONE ? 0 : start(a, run_id, err);
    if (truncate(a->path, (off_t)ck->off_archive) != 0)
        return io_error(err, a->path, "cannot cut back");
    if (sc->archive == QS_ARCHIVE_NONE)
        return 0; /* kept as it was at the checkpoint, not appended to */
    a->fd = open(a->path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (a->fd < 0)
        return io_error(err, a->path, "cannot open");
    return 0;
}

int qs_archiver_archives(const qs_scenario_t *sc, uint32_t g)
{
    return sc->archive == QS_ARCHIVE_ALL ||
           (sc->archive != QS_ARCHIVE_NONE &&
            (g % sc->archive_every == 0 || g + 1 == sc->generations));
}

/* Higher fitness wins (a NaN never does), then the lower id: population.c's order. */
static int fitter(const qs_org_t *o, const qs_org_t *than)
{
    if (isnan(than->fitness))
        return !isnan(o->fitness) || o->id < than->id;
    return o->fitness > than->fitness || (o->fitness == than->fitness && o->id < than->id);
}

static void append_org(qs_archiver_t *a, const qs_population_t *pop, const qs_org_t *o,
                       qs_bytes_t *doc)
{
    qs_genome_t g;
    qs_population_genome(pop, o, o->result ? o->result : o->genome, &g);
    qs_bytes_clear(doc);
    qs_genome_encode(&g, doc);
    qs_archive_entry_t e;
    memset(&e, 0, sizeof e);
    e.generation = pop->generation;
    e.id = o->id;
    e.parent = o->parent;
    e.born = o->born;
    snprintf(e.species, sizeof e.species, "%s", g.species);
    e.fitness = o->fitness;
    e.accuracy = o->accuracy;
    e.r2 = o->fidelity.r2;
    e.genome = doc->data;
    e.genome_len = doc->len;
    qs_archive_entry_encode(&e, &a->buf);
}

static int by_org_id(const void *a, const void *b)
{
    uint64_t x = (*(const qs_org_t *const *)a)->id, y = (*(const qs_org_t *const *)b)->id;
    return x < y ? -1 : x > y;
}

int qs_archiver_write_generation(qs_archiver_t *a, const qs_population_t *pops, uint32_t npops,
                                 qs_error_t *err)
{
    const qs_scenario_t *sc = a->sc;
    uint32_t gen = pops[0].generation, total = 0;
    for (uint32_t k = 0; k < npops; k++)
        total += pops[k].norgs;
    if (a->fd < 0 || !qs_archiver_archives(sc, gen) || total == 0)
        return 0;
    /* every organism of the generation, in id order, with the population it belongs to */
    const qs_org_t **orgs = xmalloc(total * sizeof *orgs);
    uint32_t n = 0;
    for (uint32_t k = 0; k < npops; k++)
        for (uint32_t i = 0; i < pops[k].norgs; i++)
            orgs[n++] = &pops[k].orgs[i];
    qsort(orgs, n, sizeof *orgs, by_org_id);
    qs_bytes_t doc;
    qs_bytes_init(&doc);
    qs_bytes_clear(&a->buf);
    const qs_population_t *pop = &pops[0]; /* the species' specs: the same on every island */
    if (sc->archive == QS_ARCHIVE_BEST) {
        const qs_org_t *best = orgs[0];
        for (uint32_t i = 1; i < n; i++)
            if (fitter(orgs[i], best))
                best = orgs[i];
        append_org(a, pop, best, &doc);
    } else {
        for (uint32_t i = 0; i < n; i++)
            if (sc->archive == QS_ARCHIVE_SURVIVORS || orgs[i]->born == gen)
                append_org(a, pop, orgs[i], &doc);
    }
    free(orgs);
    qs_bytes_destroy(&doc);
    return a->buf.len ? write_all(a, err) : 0;
}

uint64_t qs_archiver_offset(const qs_archiver_t *a)
{
    if (a->fd < 0)
        return 0;
    off_t end = lseek(a->fd, 0, SEEK_END);
    return end > 0 ? (uint64_t)end : 0;
}

void qs_archiver_close(qs_archiver_t *a)
{
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    qs_bytes_destroy(&a->buf);
}

void qs_archiver_estimate(const qs_scenario_t *sc, qs_archiver_estimate_t *est)
{
    memset(est, 0, sizeof *est);
    if (sc->archive == QS_ARCHIVE_NONE)
        return;
    /* The largest entry: the biggest species' genome with the widest numbers. */
    qs_bytes_t doc, frame;
    qs_bytes_init(&doc);
    qs_bytes_init(&frame);
    for (uint32_t s = 0; s < sc->nspecies; s++) {
        qs_quine_spec_t spec = qs_scenario_spec(sc, s);
        qs_genome_t g;
        qs_genome_init(&g, &spec);
        g.id = g.parents[0] = UINT64_MAX;
        g.nparents = 1;
        g.generation = UINT32_MAX;
        snprintf(g.species, sizeof g.species, "%s", sc->species[s].name);
        g.metrics.present = 1;
        g.metrics.accuracy = g.metrics.l_sr = g.metrics.rel_err = g.metrics.r2 = 0.1;
        qs_bytes_clear(&doc);
        qs_genome_encode(&g, &doc);
        qs_archive_entry_t e = {.generation = UINT32_MAX,
                                .id = UINT64_MAX,
                                .parent = UINT64_MAX,
                                .born = UINT32_MAX,
                                .fitness = 0.1,
                                .accuracy = 0.1,
                                .r2 = 0.1,
                                .genome = doc.data,
                                .genome_len = doc.len};
        snprintf(e.species, sizeof e.species, "%s", g.species);
        qs_bytes_clear(&frame);
        qs_archive_entry_encode(&e, &frame);
        est->entry_bytes = QS_MAX(est->entry_bytes, (uint64_t)frame.len);
        qs_genome_destroy(&g);
    }
    uint64_t founders = 0;
    for (uint32_t s = 0; s < sc->nspecies; s++)
        founders += sc->species[s].count;
    uint64_t later = sc->population; /* organisms of a later generation, at most */
    uint64_t born = sc->population - QS_MIN(sc->elitism, sc->population);
    uint64_t G = sc->generations, K = sc->archive_every;
    if (sc->archive == QS_ARCHIVE_ALL) /* every generation's newborns */
        est->generations = (uint32_t)G;
    else /* 0, K, 2K, ... and the last */
        est->generations = (uint32_t)((G - 1) / K + 1 + ((G - 1) % K != 0));
    uint64_t rest = est->generations - 1; /* after generation 0 */
    if (sc->archive == QS_ARCHIVE_BEST)
        est->entries = est->generations;
    else if (sc->archive == QS_ARCHIVE_SURVIVORS)
        est->entries = founders + rest * later;
    else
        est->entries = founders + rest * born;
    qs_archive_header_t h = {.mode = sc->archive, .every = sc->archive_every, .seed = sc->seed};
    memset(h.run_id, 'f', QS_RUN_ID_LEN);
    snprintf(h.run_name, sizeof h.run_name, "%s", sc->name);
    qs_bytes_clear(&frame);
    qs_archive_header_encode(&h, &frame);
    est->bytes = frame.len + est->entries * est->entry_bytes;
    qs_bytes_destroy(&doc);
    qs_bytes_destroy(&frame);
}
