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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/genome.h"

static const char *const run_files[] = {"scenario.ini",      "lineage.msgpack", "phylogeny.csv",
                                        "generations.csv",   "best.genome",     "run.log",
                                        "checkpoint.msgpack"};

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

static void phylo_header(FILE *f)
{
    fputs("id,ancestor_list,origin_time,destruction_time,species,accuracy,rel_err,r2,flops\n", f);
}

static void gens_header(FILE *f, const qs_scenario_t *sc)
{
    fputs("generation,population,births,deaths,best_accuracy,mean_accuracy,mean_rel_err,mean_r2,"
          "mean_link_r2,best_id,flops,params_alive",
          f);
    for (uint32_t s = 0; s < sc->nspecies; s++)
        fprintf(f, ",n_%s", sc->species[s].name);
    fputs(",wall_seconds,workers\n", f);
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

/* Does dir hold anything other than a run's own files? */
static int has_foreign_files(const char *dir, int *any)
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
        int ours = 0;
        for (size_t i = 0; i < QS_ARRAY_LEN(run_files); i++)
            ours |= !strcmp(e->d_name, run_files[i]);
        foreign |= !ours;
    }
    closedir(d);
    return foreign;
}

int qs_rundir_create(qs_rundir_t *rd, const char *dir, const qs_scenario_t *sc,
                     const char *scenario_text, int force, qs_error_t *err)
{
    memset(rd, 0, sizeof *rd);
    rd->lineage_fd = -1;
    rd->sc = sc;
    qs_bytes_init(&rd->buf);
    snprintf(rd->dir, sizeof rd->dir, "%s", dir);
    int any = 0;
    int foreign = has_foreign_files(dir, &any);
    if (any && (!force || foreign))
        return qs_error_set(err, QS_ERR(INVAL),
                            "%s: folder is not empty%s (choose another --out%s)", dir,
                            foreign ? " and holds files that are not a run's" : "",
                            foreign ? "" : ", add --force to replace that run, or --resume it");
    int rc = mkdir_p(dir, err);
    if (rc < 0)
        return rc;
    char p[QS_PATH_MAX + 64];
    path_in(rd, "checkpoint.msgpack", p, sizeof p);
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
    phylo_header(rd->phylo);
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
    qs_bytes_clear(&rd->buf);
    qs_record_encode(&h, &rd->buf);
    if (write(rd->lineage_fd, rd->buf.data, rd->buf.len) != (ssize_t)rd->buf.len) {
        path_in(rd, "lineage.msgpack", p, sizeof p);
        return io_error(err, p, "write");
    }
    if (fflush(rd->phylo) != 0 || fflush(rd->gens) != 0)
        return io_error(err, dir, "write");
    return 0;
}

static int cut_file(const qs_rundir_t *rd, const char *name, uint64_t size, qs_error_t *err)
{
    char p[QS_PATH_MAX + 64];
    path_in(rd, name, p, sizeof p);
    struct stat st;
    if (stat(p, &st) != 0)
        return io_error(err, p, "missing");
    if ((uint64_t)st.st_size < size)
        return qs_error_set(err, QS_ERR(TRUNCATED),
                            "%s: %lld bytes, shorter than the checkpoint's %llu: the run directory "
                            "lost data the checkpoint relies on",
                            p, (long long)st.st_size, (unsigned long long)size);
    if (truncate(p, (off_t)size) != 0)
        return io_error(err, p, "cannot cut back");
    return 0;
}

int qs_rundir_reopen(qs_rundir_t *rd, const char *dir, const qs_scenario_t *sc,
                     const qs_rundir_offsets_t *off, qs_error_t *err)
{
    memset(rd, 0, sizeof *rd);
    rd->lineage_fd = -1;
    rd->sc = sc;
    qs_bytes_init(&rd->buf);
    snprintf(rd->dir, sizeof rd->dir, "%s", dir);
    int rc;
    if ((rc = cut_file(rd, "lineage.msgpack", off->lineage, err)) < 0 ||
        (rc = cut_file(rd, "phylogeny.csv", off->phylogeny, err)) < 0 ||
        (rc = cut_file(rd, "generations.csv", off->generations, err)) < 0)
        return rc;
    return open_files(rd, 0, err);
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
    qs_bytes_destroy(&rd->buf);
    rd->lineage_fd = -1;
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

int qs_rundir_write_generation(qs_rundir_t *rd, const qs_population_t *pop,
                               const qs_generation_out_t *out, double wall_seconds,
                               uint32_t workers, qs_error_t *err)
{
    const qs_scenario_t *sc = rd->sc;
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
        if (o->parent)
            fprintf(rd->phylo, "%llu,[%llu],%u,", (unsigned long long)o->id,
                    (unsigned long long)o->parent, o->born);
        else
            fprintf(rd->phylo, "%llu,[],%u,", (unsigned long long)o->id, o->born);
        if (out->deaths[i].cause == QS_DEATH_END)
            fputs("inf", rd->phylo);
        else
            fprintf(rd->phylo, "%u", out->summary.generation + 1);
        fprintf(rd->phylo, ",%s,", sc->species[o->species].name);
        qs_csv_num(rd->phylo, o->accuracy);
        fputc(',', rd->phylo);
        qs_csv_num(rd->phylo, o->fidelity.rel_err);
        fputc(',', rd->phylo);
        qs_csv_num(rd->phylo, o->fidelity.r2);
        fprintf(rd->phylo, ",%llu\n", (unsigned long long)o->flops_total);
    }
    path_in(rd, "phylogeny.csv", p, sizeof p);
    int rc = sync_stream(rd->phylo, p, err);
    if (rc < 0)
        return rc;

    const qs_rec_generation_t *s = &out->summary;
    fprintf(rd->gens, "%u,%u,%u,%u,", s->generation, s->population, s->births, s->deaths);
    double cols[] = {s->best_accuracy, s->mean_accuracy, s->mean_rel_err, s->mean_r2,
                     s->mean_link_r2};
    for (size_t k = 0; k < QS_ARRAY_LEN(cols); k++) {
        qs_csv_num(rd->gens, cols[k]);
        fputc(',', rd->gens);
    }
    fprintf(rd->gens, "%llu,%llu,%llu", (unsigned long long)s->best_id,
            (unsigned long long)s->flops, (unsigned long long)s->params_alive);
    for (uint32_t k = 0; k < sc->nspecies; k++)
        fprintf(rd->gens, ",%u", s->species_count[k]);
    fprintf(rd->gens, ",%.3f,%u\n", wall_seconds, workers);
    path_in(rd, "generations.csv", p, sizeof p);
    (void)pop;
    return sync_stream(rd->gens, p, err);
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
    return 0;
}

int qs_rundir_save_best(qs_rundir_t *rd, const qs_population_t *pop, qs_error_t *err)
{
    if (!pop->has_best)
        return 0;
    const qs_org_t *b = &pop->best;
    qs_genome_t g = {0};
    g.id = b->id;
    g.nparents = b->parent ? 1 : 0;
    g.parents[0] = b->parent;
    g.generation = pop->best_generation;
    snprintf(g.species, sizeof g.species, "%s", rd->sc->species[b->species].name);
    g.spec = qs_scenario_spec(rd->sc, b->species);
    g.nweights = (uint32_t)pop->cost[b->species].nparams;
    g.weights = b->genome;
    g.metrics.present = 1;
    g.metrics.accuracy = b->accuracy;
    g.metrics.l_sr = b->fidelity.l_sr;
    g.metrics.rel_err = b->fidelity.rel_err;
    g.metrics.r2 = b->fidelity.r2;
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
