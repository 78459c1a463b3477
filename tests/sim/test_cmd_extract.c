/* Tests for genome archives ([run] archive, sim/archiver.c) and `quinesim extract`
 * (sim/cmd_extract.c), on a shortened quickstart (scenarios/quickstart.ini: paper-size
 * aux quines on the real digits, fewer and shorter generations):
 *   - an archived ancestor of a survivor is extracted and repaired, and repair measures
 *     the same replication R^2 the run archived; a missing id names its nearest archived
 *     ancestor; a run killed mid-generation and resumed has the same archive entries as
 *     one never interrupted, and one given another run's archive is refused; a cut
 *     archive is reported;
 *   - best archives the best_id of generations.csv for each archived generation, all
 *     archives every organism of phylogeny.csv exactly once. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/archive.h"
#include "proto/genome.h"
#include "tests/simutil.h"

static char dir[256];

static void setup(void)
{
    tu_tmpdir(dir, sizeof dir);
}

static void teardown(void)
{
    tu_rmrf(dir);
}

TestSuite(cmd_extract, .init = setup, .fini = teardown, .timeout = 180);

#define MAXORG 256

/* phylogeny.csv: parent and birth generation by id, and whether it is alive at the end. */
typedef struct {
    uint64_t parent[MAXORG];
    uint32_t born[MAXORG];
    int alive[MAXORG], present[MAXORG];
    uint64_t max_id;
} phylo_t;

static void read_phylo(const char *run, phylo_t *p)
{
    char path[700];
    snprintf(path, sizeof path, "%s/phylogeny.csv", run);
    memset(p, 0, sizeof *p);
    char *text = tu_read_file(path, NULL);
    cr_assert(text, "%s", path);
    char *line = strchr(text, '\n');
    while (line && line[1]) {
        line++;
        unsigned long long id, parent = 0;
        unsigned born;
        char anc[32], death[32];
        cr_assert_eq(sscanf(line, "%llu,%31[^,],%u,%31[^,]", &id, anc, &born, death), 4, "%s",
                     line);
        cr_assert_lt(id, MAXORG);
        if (anc[1] != '\'')
            parent = strtoull(anc + 1, NULL, 10);
        p->parent[id] = parent;
        p->born[id] = born;
        p->alive[id] = !strcmp(death, "none");
        p->present[id] = 1;
        p->max_id = id > p->max_id ? id : p->max_id;
        line = strchr(line, '\n');
    }
    free(text);
}

/* The archive: how many times each id is archived and the r2 it was archived with. */
typedef struct {
    int count[MAXORG];
    double r2[MAXORG];
    uint32_t first[MAXORG], generation[MAXORG]; /* the first and last archived at */
    uint64_t ids[4 * MAXORG];                   /* in file order */
    uint32_t gens[4 * MAXORG];
    size_t n;
} arch_t;

static void read_archive(const char *run, arch_t *a)
{
    char path[700];
    snprintf(path, sizeof path, "%s/archive.msgpack", run);
    memset(a, 0, sizeof *a);
    qs_archive_reader_t rd;
    qs_error_t err = {0};
    cr_assert_eq(qs_archive_open(&rd, path, &err), 0, "%s", err.msg);
    qs_archive_entry_t e;
    int rc;
    while ((rc = qs_archive_next(&rd, &e, &err)) > 0) {
        cr_assert_lt(e.id, MAXORG);
        cr_assert_lt(a->n, 4 * MAXORG);
        if (!a->count[e.id]++)
            a->first[e.id] = e.generation;
        a->r2[e.id] = a->count[e.id] == 1 ? e.r2 : a->r2[e.id]; /* of its first copy */
        a->generation[e.id] = e.generation;
        a->ids[a->n] = e.id;
        a->gens[a->n++] = e.generation;
    }
    cr_assert_eq(rc, 0, "%s", err.msg);
    qs_archive_close(&rd);
}

static int quickstart(const char *env, const char *out, const char *mode, char **log)
{
    const char *data = tu_data();
    char sc[600], args[1200];
    snprintf(sc, sizeof sc, "%s/scenarios/quickstart.ini", tu_src());
    snprintf(args, sizeof args,
             "--data %s --set run.generations=5 --set life.steps=10 --set data.fitness=100 "
             "--set data.train=500 --set selection.population=6 --set species.aux.count=6 "
             "--set run.archive=%s --set run.archive_every=2 --workers 2",
             data ? data : "data/mnist", mode);
    return su_run(env, sc, out, args, log);
}

static int qs(const char *args, char **out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s", tu_bin(), args);
    return tu_run(cmd, out);
}

/* The archive's bytes after its header (which holds the run id). */
static char *entries_of(const char *run, size_t *len)
{
    char path[700];
    snprintf(path, sizeof path, "%s/archive.msgpack", run);
    size_t n;
    char *b = tu_read_file(path, &n);
    cr_assert(b && n > QS_FRAME_HEADER);
    size_t head = QS_FRAME_HEADER + ((uint8_t)b[4] | (uint8_t)b[5] << 8 | (uint8_t)b[6] << 16 |
                                     (size_t)(uint8_t)b[7] << 24);
    cr_assert_lt(head, n);
    memmove(b, b + head, n - head);
    *len = n - head;
    return b;
}

Test(cmd_extract, archived_ancestor_of_a_quickstart_survivor_extracts_and_repairs)
{
    cr_assert(tu_data(), "the suite needs the MNIST data (make data)");
    char run[512], torn[512], args[2048], *log;
    snprintf(run, sizeof run, "%s/run", dir);
    cr_assert_eq(quickstart(NULL, run, "survivors", &log), 0, "%s", log);
    free(log);
    phylo_t p;
    arch_t a;
    read_phylo(run, &p);
    read_archive(run, &a);

    /* generations 0, 2 and 4 (the last) are archived, each with everyone alive in it */
    for (size_t i = 0; i < a.n; i++)
        cr_expect(a.gens[i] == 0 || a.gens[i] == 2 || a.gens[i] == 4, "generation %u", a.gens[i]);

    /* a survivor, and the nearest of its ancestors archived (its first copy is taken: one
     * from before the last generation) */
    uint64_t survivor = 0, ancestor = 0;
    for (uint64_t id = p.max_id; id > 0 && !ancestor; id--) {
        if (!p.present[id] || !p.alive[id])
            continue;
        for (uint64_t up = p.parent[id]; up; up = p.parent[up])
            if (a.count[up] && a.first[up] < 4) {
                survivor = id, ancestor = up;
                break;
            }
    }
    cr_assert(ancestor, "no survivor has an ancestor archived before the last generation");
    cr_assert(p.alive[survivor]);

    char genome[700];
    snprintf(genome, sizeof genome, "%s/ancestor.genome", dir);
    snprintf(args, sizeof args, "extract %s --organism %llu --generation %u --out %s", run,
             (unsigned long long)ancestor, a.first[ancestor], genome);
    cr_assert_eq(qs(args, &log), 0, "%s", log);
    free(log);
    qs_genome_t g;
    qs_error_t err = {0};
    cr_assert_eq(qs_genome_load(&g, genome, &err), 0, "%s", err.msg);
    cr_expect_eq(g.id, ancestor);
    cr_expect_eq(g.generation, p.born[ancestor]);
    cr_expect_eq(g.nparents, p.parent[ancestor] ? 1u : 0u);
    cr_expect_eq(g.parents[0], p.parent[ancestor]);
    cr_expect_eq(g.nweights, 21100u, "the quickstart's paper-size aux quine");
    qs_genome_destroy(&g);

    snprintf(args, sizeof args,
             "repair %s --damage 0.1 --cycles 1 --test-count 100 --data %s --json", genome,
             tu_data());
    cr_assert_eq(qs(args, &log), 0, "%s", log);
    const char *orig = strstr(log, "\"stage\":\"original\"");
    cr_assert(orig && strstr(log, "\"stage\":\"cycle\""), "%s", log);
    const char *r2 = strstr(orig, "\"r2\":");
    cr_assert(r2, "%s", log);
    cr_expect_float_eq(strtod(r2 + 5, NULL), a.r2[ancestor], 1e-4,
                       "repair measures the R2 the run archived (%s)", log);
    free(log);

    /* an organism the archive lacks: its nearest archived ancestor is named */
    uint64_t missing = 0, nearest = 0;
    for (uint64_t id = 1; id <= p.max_id && !missing; id++) {
        if (!p.present[id] || a.count[id])
            continue;
        for (uint64_t up = p.parent[id]; up; up = p.parent[up])
            if (a.count[up]) {
                missing = id, nearest = up;
                break;
            }
    }
    cr_assert(missing, "every organism is archived");
    snprintf(args, sizeof args, "extract %s --organism %llu", run, (unsigned long long)missing);
    cr_expect_eq(qs(args, &log), 1, "%s", log);
    char want[128];
    snprintf(want, sizeof want, "nearest archived ancestor is organism %llu",
             (unsigned long long)nearest);
    cr_expect(strstr(log, want), "%s", log);
    free(log);
    snprintf(args, sizeof args, "extract %s --organism 100000", run);
    cr_expect_eq(qs(args, &log), 1, "%s", log);
    cr_expect(strstr(log, "the run has no organism 100000"), "%s", log);
    free(log);

    /* killed while writing generation 2's records (its archive entries already written),
     * then resumed: the same entries as the run never interrupted */
    snprintf(torn, sizeof torn, "%s/torn", dir);
    cr_assert_neq(quickstart("QS_TEST_TORN_WRITE=2", torn, "survivors", &log), 0);
    free(log);
    /* an archive from another run is refused before anything is cut */
    char mine[700], theirs[700], saved[700];
    snprintf(mine, sizeof mine, "%s/archive.msgpack", torn);
    snprintf(saved, sizeof saved, "%s/archive.saved", dir);
    snprintf(theirs, sizeof theirs, "%s/archive.msgpack", run);
    cr_assert_eq(rename(mine, saved), 0);
    size_t tlen = 0;
    char *other = tu_read_file(theirs, &tlen);
    cr_assert(other);
    tu_write_file(mine, other, tlen);
    free(other);
    snprintf(args, sizeof args, "run --resume %s --quiet --workers 2", torn);
    cr_expect_neq(qs(args, &log), 0, "%s", log);
    cr_expect(strstr(log, "archive.msgpack belongs to run"), "%s", log);
    free(log);
    cr_assert_eq(rename(saved, mine), 0);
    cr_assert_eq(qs(args, &log), 0, "%s", log);
    free(log);
    size_t n1, n2;
    char *e1 = entries_of(run, &n1), *e2 = entries_of(torn, &n2);
    cr_expect_eq(n1, n2, "archive entries: %zu bytes vs %zu after the resume", n1, n2);
    cr_expect(n1 == n2 && !memcmp(e1, e2, n1), "the resumed run archived other genomes");
    free(e1);
    free(e2);

    /* a cut archive is reported, with the entries before the cut still listed */
    char path[700];
    snprintf(path, sizeof path, "%s/archive.msgpack", run);
    size_t len = 0;
    char *b = tu_read_file(path, &len);
    cr_assert(b && len > 100);
    tu_write_file(path, b, len - 100);
    free(b);
    snprintf(args, sizeof args, "extract %s --list", run);
    cr_expect_eq(qs(args, &log), 1, "%s", log);
    cr_expect(strstr(log, "cut short") && strstr(log, "archive.msgpack"), "%s", log);
    free(log);
}

Test(cmd_extract, best_and_all_archive_what_they_promise)
{
    cr_assert(tu_data(), "the suite needs the MNIST data (make data)");
    char run[512], path[700], *log;
    snprintf(run, sizeof run, "%s/best", dir);
    cr_assert_eq(quickstart(NULL, run, "best", &log), 0, "%s", log);
    free(log);
    arch_t a;
    read_archive(run, &a);
    cr_assert_eq(a.n, 3, "one entry for each of generations 0, 2, 4");
    snprintf(path, sizeof path, "%s/generations.csv", run);
    char *csv = tu_read_file(path, NULL);
    cr_assert(csv);
    size_t k = 0;
    for (char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        unsigned gen;
        cr_assert_eq(sscanf(line + 1, "%u,", &gen), 1);
        if (gen % 2)
            continue;
        /* best_id is the 10th column */
        const char *f = line + 1;
        for (int c = 0; c < 9; c++)
            f = strchr(f, ',') + 1;
        cr_assert_lt(k, a.n);
        cr_expect_eq(a.gens[k], gen);
        cr_expect_eq(a.ids[k], strtoull(f, NULL, 10), "generation %u", gen);
        k++;
    }
    cr_expect_eq(k, 3);
    free(csv);

    snprintf(run, sizeof run, "%s/all", dir);
    cr_assert_eq(quickstart(NULL, run, "all", &log), 0, "%s", log);
    free(log);
    phylo_t p;
    read_phylo(run, &p);
    read_archive(run, &a);
    size_t organisms = 0;
    for (uint64_t id = 1; id <= p.max_id; id++) {
        organisms += p.present[id];
        cr_expect_eq(a.count[id], p.present[id], "organism %llu archived %d times",
                     (unsigned long long)id, a.count[id]);
        if (a.count[id])
            cr_expect_eq(a.generation[id], p.born[id], "archived after its first life");
    }
    cr_expect_eq(a.n, organisms);

    /* inspect lists an archive as JSON Lines: the header, then one line per entry */
    snprintf(path, sizeof path, "inspect %s/archive.msgpack", run);
    cr_assert_eq(qs(path, &log), 0, "%s", log);
    size_t lines = 0;
    for (const char *c = log; *c; c++)
        lines += *c == '\n';
    cr_expect_eq(lines, organisms + 1, "%s", log);
    cr_expect(strstr(log, "\"format\":\"quinesim.archive\",") && strstr(log, "\"mode\":\"all\""),
              "%s", log);
    free(log);
}
