/* rundir: creating, appending to and reopening a run directory. */
#include "sim/rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/file.h"
#include "proto/genome.h"
#include "proto/runcsv.h"

static const char *const run_files[] = {"scenario.ini",       "lineage.msgpack", "phylogeny.csv",
                                        "generations.csv",    "best.genome",     "run.log",
                                        "checkpoint.msgpack", "run.lock",        QS_ARCHIVE_FILE};

static void path_in(const qs_rundir_t *rd, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", rd->dir, name);
}

static int io_error(qs_error_t *err, const char *path, const char *what)
{
    int e = errno;
    return qs_error_set(err, e == ENOSPC || e == EDQUOT ? QS_ERR(NOSPC) : QS_ERR(IO),
                        "%s: %s: %s%s", path, what, strerror(e),
                        e == ENOSPC ? " (the disk is full)" : "");
}

static void gens_header(FILE *f, const qs_scenario_t *sc)
{
    const char *names[QS_MAX_SPECIES];
    for (uint32_t s = 0; s < sc->nspecies; s++)
        names[s] = sc->species[s].name;
    qs_runcsv_generations_header(f, names, sc->nspecies, sc->islands > 1, 0);
}

static int open_files(qs_rundir_t *rd, int truncate, qs_error_t *err)
{
    char p[QS_PATH_MAX + 64];
    path_in(rd, "lineage.msgpack", p, sizeof p);
    rd->lineage_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | (truncate ? O_TRUNC : 0), 0644);
    if (rd->lineage_fd < 0)
        return io_error(err, p, "cannot open");
    const char *mode = truncate ? "w" : "a";
    path_in(rd, "phylogeny.csv", p, sizeof p);
    if (!(rd->phylo = fopen(p, mode)))
        return io_error(err, p, "cannot open");
    path_in(rd, "generations.csv", p, sizeof p);
    if (!(rd->gens = fopen(p, mode)))
        return io_error(err, p, "cannot open");
    path_in(rd, "run.log", p, sizeof p);
    if (!(rd->log = fopen(p, "a")))
        return io_error(err, p, "cannot open");
    setvbuf(rd->log, NULL, _IOLBF, 0);
    return 0;
}

static int mkdir_p(const char *dir, qs_error_t *err)
{
    char at[QS_PATH_MAX];
    if (qs_mkdir_p(dir, at, sizeof at) < 0)
        return io_error(err, at, "cannot create folder");
    return 0;
}

/* Take run.lock (flock, released by the kernel when the process dies, not inherited by
 * the workers) and write who holds it; if another process holds it, say who. */
static int take_lock(qs_rundir_t *rd, qs_error_t *err)
{
    char p[QS_PATH_MAX + 64];
    path_in(rd, "run.lock", p, sizeof p);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return io_error(err, p, "cannot open");
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char who[256];
        ssize_t n = pread(fd, who, sizeof who - 1, 0);
        close(fd);
        if (e != EWOULDBLOCK) {
            errno = e;
            return io_error(err, p, "cannot lock");
        }
        who[n > 0 ? n : 0] = '\0';
        who[strcspn(who, "\n")] = '\0';
        return qs_error_set(err, QS_ERR(BUSY),
                            "%s: another quinesim is writing this run folder (%s, holding %s); "
                            "wait for it to end or stop it first",
                            rd->dir, who[0] ? who : "it has not said who it is yet", p);
    }
    char host[256] = "?", when[64], line[512];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
    int n = snprintf(line, sizeof line, "pid %ld on %s since %s\n", (long)getpid(), host, when);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
        int rc = io_error(err, p, "write");
        close(fd);
        return rc;
    }
    rd->lock_fd = fd;
    return 0;
}

/* 128 random bits as 32 hex digits. */
static void draw_run_id(char out[QS_RUN_ID_LEN + 1])
{
    uint8_t b[QS_RUN_ID_LEN / 2];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        /* no entropy source: time and pid still make a collision unlikely */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        x ^= (uint64_t)getpid() << 40;
        for (size_t i = 0; i < sizeof b; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            b[i] = (uint8_t)(x >> 56);
        }
    }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void rundir_init(qs_rundir_t *rd, const char *dir, const qs_scenario_t *sc)
{
    memset(rd, 0, sizeof *rd);
    rd->lineage_fd = rd->lock_fd = -1;
    rd->sc = sc;
    qs_bytes_init(&rd->buf);
    qs_archiver_init(&rd->archive);
    snprintf(rd->dir, sizeof rd->dir, "%s", dir);
}

/* Is name one of a run's files (1), the temporary file of an atomic write of one,
 * NAME.tmp.PID (2: qs_write_file_atomic's, left by a writer killed mid-write or being
 * written now), or neither (0)? */
static int run_file_kind(const char *name)
{
    for (size_t i = 0; i < QS_ARRAY_LEN(run_files); i++) {
        size_t n = strlen(run_files[i]);
        if (strncmp(name, run_files[i], n) != 0)
            continue;
        if (name[n] == '\0')
            return 1;
        if (!strncmp(name + n, ".tmp.", 5) && name[n + 5] &&
            strspn(name + n + 5, "0123456789") == strlen(name + n + 5))
            return 2;
    }
    return 0;
}

/* Does dir hold anything other than a run's own files? With remove_temporary (the caller
 * holds the folder's lock, so no writer is alive), the temporary files of atomic writes
 * are removed. */
static int has_foreign_files(const char *dir, int *any, int remove_temporary)
{
    DIR *d = opendir(dir);
    int foreign = 0;
    *any = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        *any = 1;
        int kind = run_file_kind(e->d_name);
        foreign |= kind == 0;
        if (kind == 2 && remove_temporary) {
            char p[QS_PATH_MAX + 300];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    return foreign;
}

static int create(qs_rundir_t *rd, const char *dir, const qs_scenario_t *sc,
                  const char *scenario_text, int force, qs_error_t *err)
{
    rundir_init(rd, dir, sc);
    int any = 0;
    int foreign = has_foreign_files(dir, &any, 0);
    if (foreign)
        return qs_error_set(err, QS_ERR(INVAL),
                            "%s: folder is not empty and holds files that are not a run's "
                            "(choose another --out)",
                            dir);
    int rc = mkdir_p(dir, err);
    if (rc < 0 || (rc = take_lock(rd, err)) < 0)
        return rc;
    char p[QS_PATH_MAX + 64];
    path_in(rd, "checkpoint.msgpack", p, sizeof p);
    if (any && !force)
        return qs_error_set(
            err, QS_ERR(INVAL),
            "%s: folder is not empty: it holds a run (choose another --out, add --force to "
            "replace it%s)",
            dir,
            access(p, F_OK) == 0 ? ", or --resume it"
                                 : "; it stopped before its first checkpoint, so "
                                   "it cannot be resumed");
    if (any)
        has_foreign_files(dir, &any, 1); /* a killed writer's temporary files go too */
    draw_run_id(rd->run_id);
    rd->scenario_crc32 = qs_crc32(scenario_text, strlen(scenario_text));
    unlink(p);
    path_in(rd, "best.genome", p, sizeof p);
    unlink(p);
    path_in(rd, "run.log", p, sizeof p);
    unlink(p);
    path_in(rd, "scenario.ini", p, sizeof p);
    if ((rc = qs_write_file_atomic(p, scenario_text, strlen(scenario_text), err)) < 0)
        return rc;
    if ((rc = open_files(rd, 1, err)) < 0)
        return rc;
    qs_runcsv_phylogeny_header(rd->phylo, sc->islands > 1, 0);
    gens_header(rd->gens, sc);

    qs_record_t h = {.type = QS_REC_HEADER};
    h.u.header.version = QS_LINEAGE_VERSION;
    snprintf(h.u.header.run_name, sizeof h.u.header.run_name, "%s", sc->name);
    h.u.header.seed = sc->seed;
    h.u.header.created = (double)time(NULL);
    h.u.header.nspecies = sc->nspecies;
    for (uint32_t s = 0; s < sc->nspecies; s++) {
        snprintf(h.u.header.species[s], QS_NAME_MAX, "%s", sc->species[s].name);
        qs_quine_spec_t spec = qs_scenario_spec(sc, s);
        h.u.header.species_params[s] = qs_quine_nparams(&spec);
    }
    h.u.header.scenario = (char *)scenario_text;
    snprintf(h.u.header.run_id, sizeof h.u.header.run_id, "%s", rd->run_id);
    h.u.header.scenario_crc32 = rd->scenario_crc32;
    qs_bytes_clear(&rd->buf);
    qs_record_encode(&h, &rd->buf);
    if (write(rd->lineage_fd, rd->buf.data, rd->buf.len) != (ssize_t)rd->buf.len) {
        path_in(rd, "lineage.msgpack", p, sizeof p);
        return io_error(err, p, "write");
    }
    if (fflush(rd->phylo) != 0 || fflush(rd->gens) != 0)
        return io_error(err, dir, "write");
    return qs_archiver_create(&rd->archive, dir, sc, rd->run_id, err);
}

/* The lineage log up to the checkpoint's offset: a header of the checkpoint's run, whole
 * records, and the offset just after generation ck->generation - 1's summary (or the
 * header, for generation 0). */
static int check_lineage(qs_rundir_t *rd, const qs_checkpoint_t *ck, qs_error_t *err)
{
    char p[QS_PATH_MAX + 64];
    path_in(rd, "lineage.msgpack", p, sizeof p);
    qs_lineage_reader_t lr;
    qs_record_t r;
    int rc = qs_lineage_open(&lr, p, err);
    if (rc < 0)
        return rc;
    if ((rc = qs_lineage_next(&lr, &r, err)) <= 0 || r.type != QS_REC_HEADER) {
        if (rc > 0)
            qs_record_destroy(&r);
        if (rc >= 0)
            rc = qs_error_set(err, QS_ERR(FORMAT), "%s: does not start with a lineage header", p);
        goto out;
    }
    const qs_rec_header_t *h = &r.u.header;
    if (strcmp(h->run_id, ck->run_id) != 0)
        rc = qs_error_set(err, QS_ERR(MISMATCH),
                          "the checkpoint belongs to run %s, but %s is run %s (a checkpoint "
                          "copied from another run?)",
                          ck->run_id[0] ? ck->run_id : "(no id)", rd->dir,
                          h->run_id[0] ? h->run_id : "(no id)");
    else if (h->run_id[0] && qs_crc32(h->scenario, strlen(h->scenario)) != h->scenario_crc32)
        rc = qs_error_set(err, QS_ERR(CHECKSUM),
                          "%s: the header's scenario fails its digest (stored %08x)", p,
                          h->scenario_crc32);
    else if (h->run_id[0] && h->scenario_crc32 != ck->run_scenario_crc32)
        rc = qs_error_set(err, QS_ERR(MISMATCH),
                          "the checkpoint's run scenario digest %08x is not the run's %08x (%s)",
                          ck->run_scenario_crc32, h->scenario_crc32, p);
    else if (h->seed != ck->seed)
        rc = qs_error_set(err, QS_ERR(MISMATCH),
                          "the checkpoint has seed %llu, but the run in %s has seed %llu (a "
                          "checkpoint copied from another run?)",
                          (unsigned long long)ck->seed, rd->dir, (unsigned long long)h->seed);
    snprintf(rd->run_id, sizeof rd->run_id, "%s", h->run_id);
    rd->scenario_crc32 = h->scenario_crc32;
    qs_record_destroy(&r);
    if (rc < 0)
        goto out;
    uint64_t at = lr.good_bytes;
    qs_rec_type_t last = QS_REC_HEADER;
    uint32_t last_gen = 0;
    while (at < ck->off_lineage) {
        uint64_t from = at;
        if ((rc = qs_lineage_next(&lr, &r, err)) == 0)
            rc = qs_error_set(err, QS_ERR(TRUNCATED),
                              "%s: %llu bytes, shorter than the checkpoint's %llu: the run "
                              "directory lost data the checkpoint relies on",
                              p, (unsigned long long)at, (unsigned long long)ck->off_lineage);
        if (rc < 0) {
            qs_error_prefix(err, "before the checkpoint's offset %llu",
                            (unsigned long long)ck->off_lineage);
            goto out;
        }
        last = r.type;
        if (r.type == QS_REC_GENERATION)
            last_gen = r.u.generation.generation;
        qs_record_destroy(&r);
        at = lr.good_bytes;
        if (at > ck->off_lineage) {
            rc = qs_error_set(err, QS_ERR(FORMAT),
                              "%s: the checkpoint's offset %llu falls inside the record at "
                              "%llu..%llu",
                              p, (unsigned long long)ck->off_lineage, (unsigned long long)from,
                              (unsigned long long)at);
            goto out;
        }
    }
    if (at != ck->off_lineage ||
        (ck->generation == 0 ? last != QS_REC_HEADER
                             : last != QS_REC_GENERATION || last_gen + 1 != ck->generation))
        rc = qs_error_set(err, QS_ERR(FORMAT),
                          "%s: the checkpoint's offset %llu is not where generation %u starts", p,
                          (unsigned long long)ck->off_lineage, ck->generation);
out:
    qs_lineage_close(&lr);
    return rc;
}

/* A CSV up to off: exactly rows lines after its header, off just after a newline. */
static int check_rows(const qs_rundir_t *rd, const char *name, uint64_t off, uint64_t rows,
                      qs_error_t *err)
{
    char p[QS_PATH_MAX + 64];
    path_in(rd, name, p, sizeof p);
    FILE *f = fopen(p, "rb");
    if (!f)
        return io_error(err, p, "cannot open");
    char buf[65536];
    uint64_t at = 0, lines = 0;
    int last = '\n';
    while (at < off) {
        size_t n = fread(buf, 1, (size_t)QS_MIN((uint64_t)sizeof buf, off - at), f);
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
        last = buf[n - 1];
        at += n;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return io_error(err, p, "read");
    if (at < off)
        return qs_error_set(err, QS_ERR(TRUNCATED),
                            "%s: %llu bytes, shorter than the checkpoint's %llu: the run "
                            "directory lost data the checkpoint relies on",
                            p, (unsigned long long)at, (unsigned long long)off);
    if (off == 0 || last != '\n' || lines != rows + 1)
        return qs_error_set(err, QS_ERR(FORMAT),
                            "%s: the checkpoint's offset %llu is not the end of row %llu (%llu "
                            "lines up to it%s)",
                            p, (unsigned long long)off, (unsigned long long)rows,
                            (unsigned long long)lines, last != '\n' ? ", the last one cut" : "");
    return 0;
}

static int cut_file(const qs_rundir_t *rd, const char *name, uint64_t size, qs_error_t *err)
{
    char p[QS_PATH_MAX + 64];
    path_in(rd, name, p, sizeof p);
    if (truncate(p, (off_t)size) != 0)
        return io_error(err, p, "cannot cut back");
    return 0;
}

/* scenario.ini follows the accepted changes of a resume (written only if it differs). */
static int update_scenario(const qs_rundir_t *rd, const char *text, qs_error_t *err)
{
    char p[QS_PATH_MAX + 64];
    path_in(rd, "scenario.ini", p, sizeof p);
    qs_bytes_t cur;
    qs_bytes_init(&cur);
    qs_error_t ignore = {0};
    int same = qs_file_read_all(p, (size_t)16 << 20, &cur, &ignore) == 0 &&
               cur.len == strlen(text) && !memcmp(cur.data, text, cur.len);
    qs_bytes_destroy(&cur);
    return same ? 0 : qs_write_file_atomic(p, text, strlen(text), err);
}

static int reopen(qs_rundir_t *rd, const char *dir, const qs_scenario_t *sc,
                  const char *scenario_text, const qs_checkpoint_t *ck, qs_error_t *err)
{
    rundir_init(rd, dir, sc);
    int rc;
    if ((rc = take_lock(rd, err)) < 0 || (rc = check_lineage(rd, ck, err)) < 0 ||
        (rc = check_rows(rd, "generations.csv", ck->off_generations,
                         (uint64_t)ck->generation * (sc->islands > 1 ? sc->islands + 1 : 1), err)) <
            0 ||
        (rc = check_rows(rd, "phylogeny.csv", ck->off_phylogeny, ck->deaths, err)) < 0 ||
        (rc = qs_archiver_check(dir, ck, err)) < 0)
        return rc;
    /* every check passed: only now is anything changed; a killed writer's temporary files
     * (a checkpoint being gathered from its hosts, say) go */
    int any;
    has_foreign_files(dir, &any, 1);
    if ((rc = cut_file(rd, "lineage.msgpack", ck->off_lineage, err)) < 0 ||
        (rc = cut_file(rd, "phylogeny.csv", ck->off_phylogeny, err)) < 0 ||
        (rc = cut_file(rd, "generations.csv", ck->off_generations, err)) < 0 ||
        (rc = update_scenario(rd, scenario_text, err)) < 0 ||
        (rc = qs_archiver_reopen(&rd->archive, dir, sc, ck, rd->run_id, err)) < 0)
        return rc;
    return open_files(rd, 0, err);
}

int qs_rundir_create(qs_rundir_t *rd, const char *dir, const qs_scenario_t *sc,
                     const char *scenario_text, int force, qs_error_t *err)
{
    int rc = create(rd, dir, sc, scenario_text, force, err);
    if (rc < 0)
        qs_rundir_close(rd); /* releases the lock */
    return rc;
}

int qs_rundir_reopen(qs_rundir_t *rd, const char *dir, const qs_scenario_t *sc,
                     const char *scenario_text, const qs_checkpoint_t *ck, qs_error_t *err)
{
    int rc = reopen(rd, dir, sc, scenario_text, ck, err);
    if (rc < 0)
        qs_rundir_close(rd);
    return rc;
}

void qs_rundir_close(qs_rundir_t *rd)
{
    if (rd->lineage_fd >= 0)
        close(rd->lineage_fd);
    if (rd->phylo)
        fclose(rd->phylo);
    if (rd->gens)
        fclose(rd->gens);
    if (rd->log)
        fclose(rd->log);
    if (rd->lock_fd >= 0)
        close(rd->lock_fd); /* releases the lock */
    qs_bytes_destroy(&rd->buf);
    qs_archiver_close(&rd->archive);
    rd->lineage_fd = rd->lock_fd = -1;
    rd->phylo = rd->gens = rd->log = NULL;
}

static int sync_stream(FILE *f, const char *path, qs_error_t *err)
{
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        return io_error(err, path, "write");
    return 0;
}

/* Test hook for the crash tests: QS_TEST_TORN_WRITE=G makes the process write half of
 * generation G's lineage bytes and then die by SIGKILL, as a power cut mid-write would. */
static void torn_write_hook(const qs_rundir_t *rd, uint32_t generation)
{
    const char *g = getenv("QS_TEST_TORN_WRITE");
    if (!g || !*g || strtoul(g, NULL, 10) != generation)
        return;
    if (write(rd->lineage_fd, rd->buf.data, rd->buf.len / 2) < 0)
        _exit(99);
    fsync(rd->lineage_fd);
    raise(SIGKILL);
}

int qs_rundir_write_generation(qs_rundir_t *rd, const qs_islands_out_t *io, double wall_seconds,
                               uint32_t workers, qs_error_t *err)
{
    const qs_scenario_t *sc = rd->sc;
    const qs_generation_out_t *out = &io->all;
    uint32_t nislands = sc->islands > 1 ? sc->islands : 1;
    char p[QS_PATH_MAX + 64];
    qs_bytes_clear(&rd->buf);
    for (uint32_t i = 0; i < out->nbirths; i++) {
        qs_record_t r = {.type = QS_REC_BIRTH};
        r.u.birth = out->births[i];
        qs_record_encode(&r, &rd->buf);
    }
    for (uint32_t i = 0; i < out->nevals; i++) {
        qs_record_t r = {.type = QS_REC_EVAL};
        r.u.eval = out->evals[i];
        qs_record_encode(&r, &rd->buf);
    }
    for (uint32_t i = 0; i < out->ndeaths; i++) {
        qs_record_t r = {.type = QS_REC_DEATH};
        r.u.death = out->deaths[i];
        qs_record_encode(&r, &rd->buf);
    }
    qs_record_t g = {.type = QS_REC_GENERATION};
    g.u.generation = out->summary;
    g.u.generation.wall_seconds = wall_seconds;
    g.u.generation.workers = workers;
    qs_record_encode(&g, &rd->buf);
    path_in(rd, "lineage.msgpack", p, sizeof p);
    const uint8_t *data = rd->buf.data;
    size_t left = rd->buf.len;
    torn_write_hook(rd, out->summary.generation);
    while (left > 0) {
        ssize_t w = write(rd->lineage_fd, data, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return io_error(err, p, "write");
        data += w;
        left -= (size_t)w;
    }
    if (fsync(rd->lineage_fd) != 0)
        return io_error(err, p, "fsync");

    for (uint32_t i = 0; i < out->ndeaths; i++) {
        const qs_org_t *o = &out->dead[i];
        uint32_t island = qs_island_of(o->id, nislands);
        uint32_t origin = o->parent ? qs_island_of(o->parent, nislands) : island;
        qs_runcsv_org_t row = {.id = o->id,
                               .parent_id = o->parent,
                               .origin_time = o->born,
                               .alive = out->deaths[i].cause == QS_DEATH_END,
                               .destruction_time = out->summary.generation + 1,
                               .species = sc->species[o->species].name,
                               .accuracy = o->accuracy,
                               .rel_err = o->fidelity.rel_err,
                               .r2 = o->fidelity.r2,
                               .flops = o->flops_total,
                               .islands = nislands > 1,
                               .island = island,
                               .migrant = origin != island,
                               .origin_island = origin};
        qs_runcsv_phylogeny_row(rd->phylo, &row, 0);
    }
    path_in(rd, "phylogeny.csv", p, sizeof p);
    int rc = sync_stream(rd->phylo, p, err);
    if (rc < 0)
        return rc;

    /* one row per island, then the whole (the only row without islands) */
    for (uint32_t k = 0; k <= io->n; k++) {
        const qs_rec_generation_t *s = k < io->n ? &io->island[k].summary : &out->summary;
        qs_runcsv_gen_t row = {.generation = s->generation,
                               .islands = nislands > 1,
                               .island = k < io->n ? (int)k : -1,
                               .population = s->population,
                               .births = s->births,
                               .deaths = s->deaths,
                               .best_accuracy = s->best_accuracy,
                               .mean_accuracy = s->mean_accuracy,
                               .mean_rel_err = s->mean_rel_err,
                               .mean_r2 = s->mean_r2,
                               .mean_link_r2 = s->mean_link_r2,
                               .best_id = s->best_id,
                               .flops = s->flops,
                               .species_count = s->species_count,
                               .has_summary = 1,
                               .params_alive = s->params_alive,
                               .wall_seconds = wall_seconds,
                               .workers = workers};
        qs_runcsv_generations_row(rd->gens, &row, sc->nspecies, 0);
    }
    path_in(rd, "generations.csv", p, sizeof p);
    return sync_stream(rd->gens, p, err);
}

/* One row of phylogeny.csv, for sorting by id. */
typedef struct {
    uint64_t id;
    const char *text;
    size_t len;
} phylo_row_t;

static int row_by_id(const void *a, const void *b)
{
    uint64_t x = ((const phylo_row_t *)a)->id, y = ((const phylo_row_t *)b)->id;
    return x < y ? -1 : x > y;
}

int qs_rundir_sort_phylogeny(qs_rundir_t *rd, qs_error_t *err)
{
    char p[QS_PATH_MAX + 64];
    path_in(rd, "phylogeny.csv", p, sizeof p);
    int rc = sync_stream(rd->phylo, p, err);
    if (rc < 0)
        return rc;
    qs_bytes_t file;
    qs_bytes_init(&file);
    if ((rc = qs_file_read_all(p, SIZE_MAX, &file, err)) < 0) {
        qs_bytes_destroy(&file);
        return rc;
    }
    const char *text = (const char *)file.data;
    size_t len = file.len;
    size_t nrows = 0, cap = 1024;
    phylo_row_t *rows = xmalloc(cap * sizeof *rows);
    const char *line = memchr(text, '\n', len); /* the header stays first */
    size_t head = line ? (size_t)(line - text) + 1 : len;
    for (const char *at = text + head; at < text + len;) {
        const char *nl = memchr(at, '\n', (size_t)(text + len - at));
        size_t n = nl ? (size_t)(nl - at) + 1 : (size_t)(text + len - at);
        if (nrows == cap)
            rows = xrealloc(rows, (cap *= 2) * sizeof *rows);
        rows[nrows++] = (phylo_row_t){strtoull(at, NULL, 10), at, n};
        at += n;
    }
    qsort(rows, nrows, sizeof *rows, row_by_id);
    char *sorted = xmalloc(len ? len : 1), *o = sorted;
    memcpy(o, text, head);
    o += head;
    for (size_t i = 0; i < nrows; i++) {
        memcpy(o, rows[i].text, rows[i].len);
        o += rows[i].len;
    }
    rc = qs_write_file_atomic(p, sorted, (size_t)(o - sorted), err);
    free(sorted);
    free(rows);
    qs_bytes_destroy(&file);
    if (rc < 0)
        return rc;
    /* Appends (a resumed run) go on after the sorted rows: same size, same row count. */
    fclose(rd->phylo);
    if (!(rd->phylo = fopen(p, "a")))
        return io_error(err, p, "cannot open");
    return 0;
}

int qs_rundir_write_end(qs_rundir_t *rd, uint32_t generations, const char *reason, qs_error_t *err)
{
    char p[QS_PATH_MAX + 64];
    qs_record_t r = {.type = QS_REC_END};
    r.u.end.generations = generations;
    snprintf(r.u.end.reason, sizeof r.u.end.reason, "%s", reason);
    qs_bytes_clear(&rd->buf);
    qs_record_encode(&r, &rd->buf);
    path_in(rd, "lineage.msgpack", p, sizeof p);
    if (write(rd->lineage_fd, rd->buf.data, rd->buf.len) != (ssize_t)rd->buf.len ||
        fsync(rd->lineage_fd) != 0)
        return io_error(err, p, "write");
    return qs_rundir_sort_phylogeny(rd, err);
}

int qs_rundir_save_best(qs_rundir_t *rd, const qs_population_t *pop, qs_error_t *err)
{
    if (!pop || !pop->has_best)
        return 0;
    qs_genome_t g;
    qs_population_genome(pop, &pop->best, pop->best.genome, &g);
    char p[QS_PATH_MAX + 64];
    path_in(rd, "best.genome", p, sizeof p);
    return qs_genome_save(&g, p, err);
}

void qs_rundir_offsets(const qs_rundir_t *rd, qs_rundir_offsets_t *off)
{
    struct stat st;
    off->lineage = fstat(rd->lineage_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    off->phylogeny = (uint64_t)ftello(rd->phylo);
    off->generations = (uint64_t)ftello(rd->gens);
}

void qs_rundir_stamp(const qs_rundir_t *rd, qs_checkpoint_t *c)
{
    qs_rundir_offsets_t off;
    qs_rundir_offsets(rd, &off);
    c->off_lineage = off.lineage;
    c->off_phylogeny = off.phylogeny;
    c->off_generations = off.generations;
    c->off_archive = qs_archiver_offset(&rd->archive);
    snprintf(c->run_id, sizeof c->run_id, "%s", rd->run_id);
    c->run_scenario_crc32 = rd->scenario_crc32;
}

void qs_rundir_log(qs_rundir_t *rd, const char *fmt, ...)
{
    if (!rd->log)
        return;
    char stamp[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", localtime_r(&ts.tv_sec, &tm));
    fprintf(rd->log, "%s.%03ld ", stamp, ts.tv_nsec / 1000000);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(rd->log, fmt, ap);
    va_end(ap);
    fputc('\n', rd->log);
}
