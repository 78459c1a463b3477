/* cmd_extract: `quinesim extract`, an organism out of a run's genome archive.
 *
 *   quinesim extract RUN_DIR --organism ID [--generation G] [--out F.genome]
 *   quinesim extract RUN_DIR --list
 *
 * Writes the archived genome of organism ID (its latest archived generation, or G) as a
 * .genome file that train --from, repair, fertility and inspect read: the very bytes the
 * run archived, checked (checksums, spec) before they are written. An id the archive does
 * not hold is looked up in the run's lineage log, and the message names its nearest
 * archived ancestor. --list prints every entry, one line each. RUN_DIR may also be the
 * archive file itself. Exit status 0, 1 for a missing organism or a bad archive, 2 for a
 * usage error. */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/cli.h"
#include "proto/archive.h"
#include "proto/genome.h"
#include "proto/lineage.h"
#include "sim/archiver.h"
#include "sim/commands.h"

static void usage(FILE *to)
{
    fprintf(to, "usage: quinesim extract RUN_DIR --organism ID [--generation G] [--out F]\n"
                "       quinesim extract RUN_DIR --list\n"
                "\n"
                "Write an organism of a run's genome archive (archive.msgpack, kept with\n"
                "[run] archive = best | survivors | all) as a .genome file for train --from,\n"
                "repair, fertility and inspect. An organism the archive lacks is looked up in\n"
                "the lineage log, and its nearest archived ancestor is named.\n"
                "\n"
                "  --organism ID    the organism to extract\n"
                "  --generation G   the copy archived at generation G (default: the latest)\n"
                "  --out F          the genome file to write (default: organism-ID.genome)\n"
                "  --list           print every archived entry: generation, id, parent, born,\n"
                "                   species, fitness, accuracy, r2\n"
                "\n"
                "RUN_DIR may also be an archive file.\n");
}

/* An archived id and the generations it was archived at (first, last), sorted by id. */
typedef struct {
    uint64_t id;
    uint32_t first, last;
} seen_t;

typedef struct {
    uint64_t id, parent;
} link_t;

static int by_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b; /* both start with the id */
    return x < y ? -1 : x > y;
}

/* The parent of each organism born in the run, from its lineage log (sorted by id). */
static link_t *read_links(const char *run_dir, size_t *n, qs_error_t *err)
{
    char path[QS_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/lineage.msgpack", run_dir);
    qs_lineage_reader_t *lr = xmalloc(sizeof *lr);
    link_t *links = NULL;
    size_t cap = 0;
    *n = 0;
    if (qs_lineage_open(lr, path, err) < 0) {
        free(lr);
        return NULL;
    }
    for (;;) {
        qs_record_t r;
        qs_error_t e;
        int rc = qs_lineage_next(lr, &r, &e);
        if (rc == 0 || rc == QS_ERR(IO))
            break;
        if (rc < 0)
            continue; /* a damaged stretch: the rest still names parents */
        if (r.type == QS_REC_BIRTH) {
            if (*n == cap)
                links = xrealloc(links, (cap = cap ? 2 * cap : 1024) * sizeof *links);
            links[(*n)++] = (link_t){r.u.birth.id, r.u.birth.parent};
        }
        qs_record_destroy(&r);
    }
    qs_lineage_close(lr);
    free(lr);
    qsort(links, *n, sizeof *links, by_id);
    return links;
}

/* Name the nearest archived ancestor of id (always returns 1: the organism is missing). */
static int report_missing(const char *run_arg, const char *run_dir, const qs_archive_reader_t *rd,
                          uint64_t id, const seen_t *seen, size_t nseen)
{
    fprintf(
        stderr, "quinesim extract: organism %llu is not in %s (archive = %s, archive_every = %u)",
        (unsigned long long)id, rd->path, qs_archive_mode_name(rd->header.mode), rd->header.every);
    qs_error_t err = {0};
    size_t nlinks;
    link_t *links = read_links(run_dir, &nlinks, &err);
    if (!links && err.code) {
        fprintf(stderr, "; its ancestors are unknown: %s\n", err.msg);
        return 1;
    }
    link_t key = {id, 0};
    const link_t *at = nlinks ? bsearch(&key, links, nlinks, sizeof *links, by_id) : NULL;
    if (!at) {
        fprintf(stderr, "; the run has no organism %llu (its lineage log names %zu",
                (unsigned long long)id, nlinks);
        if (nlinks)
            fprintf(stderr, ", ids %llu..%llu", (unsigned long long)links[0].id,
                    (unsigned long long)links[nlinks - 1].id);
        fputs(")\n", stderr);
        free(links);
        return 1;
    }
    unsigned up = 0;
    for (uint64_t cur = at->parent; cur; up++) {
        seen_t sk = {cur, 0, 0};
        const seen_t *s = nseen ? bsearch(&sk, seen, nseen, sizeof *seen, by_id) : NULL;
        if (s) {
            char when[48];
            if (s->first == s->last)
                snprintf(when, sizeof when, "generation %u", s->first);
            else
                snprintf(when, sizeof when, "generations %u to %u", s->first, s->last);
            fprintf(stderr,
                    "; its nearest archived ancestor is organism %llu (%u step%s up its ancestry, "
                    "archived at %s): quinesim extract %s --organism %llu\n",
                    (unsigned long long)cur, up + 1, up ? "s" : "", when, run_arg,
                    (unsigned long long)cur);
            free(links);
            return 1;
        }
        key.id = cur;
        at = bsearch(&key, links, nlinks, sizeof *links, by_id);
        cur = at ? at->parent : 0;
    }
    fprintf(stderr, "; none of its %u ancestors is archived either\n", up);
    free(links);
    return 1;
}

static void print_entry(const qs_archive_entry_t *e)
{
    printf("%u\t%llu\t%llu\t%u\t%s\t%.6g\t%.6g\t%.6g\n", e->generation, (unsigned long long)e->id,
           (unsigned long long)e->parent, e->born, e->species, e->fitness, e->accuracy, e->r2);
}

typedef struct {
    uint64_t id, want_gen;
    int have_id, have_gen, list;
    const char *out;     /* NULL: organism-ID.genome */
    const char *run_arg; /* RUN_DIR or an archive file */
} opts_t;

/* Parse the options into o: -1 to go on, else the exit status (--help, a usage error). */
static int parse_args(int argc, char **argv, opts_t *o)
{
    static const struct option longopts[] = {
        {"organism", required_argument, 0, 'i'}, {"generation", required_argument, 0, 'g'},
        {"out", required_argument, 0, 'o'},      {"list", no_argument, 0, 'l'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    int c;
    qs_error_t err = {0};
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:g:o:lh", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (qs_parse_u64("--organism", optarg, 1, UINT64_MAX, &o->id, &err) < 0)
                return qs_cli_usage_error("extract", "%s", err.msg);
            o->have_id = 1;
            break;
        case 'g':
            if (qs_parse_u64("--generation", optarg, 0, UINT32_MAX, &o->want_gen, &err) < 0)
                return qs_cli_usage_error("extract", "%s", err.msg);
            o->have_gen = 1;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'l':
            o->list = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: /* ':' or '?' */
            qs_cli_opt_error(c, argc, argv, &err);
            return qs_cli_usage_error("extract", "%s", err.msg);
        }
    }
    if (optind == argc)
        return qs_cli_usage_error("extract", "which run? (quinesim extract RUN_DIR --organism ID)");
    if (argc - optind > 1)
        return qs_cli_usage_error("extract", "unexpected argument '%s'", argv[optind + 1]);
    if (o->have_id == o->list)
        return qs_cli_usage_error("extract", "give either --organism ID or --list");
    if (o->list && (o->have_gen || o->out))
        return qs_cli_usage_error("extract", "--generation and --out go with --organism");
    o->run_arg = argv[optind];
    return -1;
}

/* The run's folder and its archive's path, for RUN_DIR or an archive file: 0, or -1 with
 * the error printed (a folder without an archive). */
static int archive_path(const char *run_arg, char *run_dir, size_t dir_cap, char *path,
                        size_t path_cap)
{
    struct stat st;
    if (stat(run_arg, &st) == 0 && !S_ISDIR(st.st_mode)) {
        snprintf(path, path_cap, "%s", run_arg);
        snprintf(run_dir, dir_cap, "%s", run_arg);
        snprintf(run_dir, dir_cap, "%s", dirname(run_dir));
        return 0;
    }
    snprintf(run_dir, dir_cap, "%s", run_arg);
    snprintf(path, path_cap, "%s/%s", run_arg, QS_ARCHIVE_FILE);
    if (stat(path, &st) != 0) {
        fprintf(stderr,
                "quinesim extract: %s has no %s: %s (a run keeps one with [run] archive = "
                "best | survivors | all)\n",
                run_arg, QS_ARCHIVE_FILE,
                stat(run_arg, &st) != 0 ? "no such folder" : "the run kept no archive");
        return -1;
    }
    return 0;
}

/* The archive has no copy of organism o->id (at o->generation): say where it is archived
 * instead, or its nearest archived ancestor. seen[0..nseen) is every entry read (sorted
 * here). Returns the exit status. */
static int report_absent(const opts_t *o, const char *run_dir, const qs_archive_reader_t *rd,
                         seen_t *seen, size_t nseen)
{
    if (o->have_gen) {
        int other = 0;
        for (size_t i = 0; i < nseen; i++)
            other |= seen[i].id == o->id;
        if (other) {
            fprintf(stderr,
                    "quinesim extract: organism %llu is archived, but not at generation "
                    "%llu; at:",
                    (unsigned long long)o->id, (unsigned long long)o->want_gen);
            for (size_t i = 0; i < nseen; i++)
                if (seen[i].id == o->id)
                    fprintf(stderr, " %u", seen[i].first);
            fputc('\n', stderr);
            return 1;
        }
    }
    /* one row per id, with the first and last generation it was archived at */
    qsort(seen, nseen, sizeof *seen, by_id);
    size_t w = 0;
    for (size_t i = 0; i < nseen; i++) {
        if (w && seen[w - 1].id == seen[i].id) {
            seen[w - 1].first = QS_MIN(seen[w - 1].first, seen[i].first);
            seen[w - 1].last = QS_MAX(seen[w - 1].last, seen[i].last);
            continue;
        }
        seen[w++] = seen[i];
    }
    return report_missing(o->run_arg, run_dir, rd, o->id, seen, w);
}

/* Check that the genome found in the archive's entry hit is organism o->id's, and write it
 * to o->out. Returns the exit status. */
static int write_found(const opts_t *o, const char *path, const qs_bytes_t *found,
                       const qs_archive_entry_t *hit)
{
    qs_error_t err = {0};
    qs_genome_t g;
    if (qs_genome_decode(&g, found->data, found->len, &err) < 0) {
        fprintf(stderr, "quinesim extract: %s: organism %llu (generation %u): %s\n", path,
                (unsigned long long)o->id, hit->generation, err.msg);
        return 1;
    }
    int same = g.id == hit->id;
    qs_genome_destroy(&g);
    if (!same) {
        fprintf(stderr,
                "quinesim extract: %s: the entry of organism %llu holds another organism's "
                "genome\n",
                path, (unsigned long long)o->id);
        return 1;
    }
    char def[64];
    snprintf(def, sizeof def, "organism-%llu.genome", (unsigned long long)o->id);
    const char *out = o->out ? o->out : def;
    if (qs_write_file_atomic(out, found->data, found->len, &err) < 0) {
        fprintf(stderr, "quinesim extract: %s\n", err.msg);
        return 1;
    }
    printf("organism %llu (%s, born in generation %u, archived at generation %u, fitness %.6g, "
           "R2 %.6g) -> %s\n",
           (unsigned long long)o->id, hit->species, hit->born, hit->generation, hit->fitness,
           hit->r2, out);
    return 0;
}

int cmd_extract(int argc, char **argv)
{
    opts_t o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    char run_dir[QS_PATH_MAX], path[QS_PATH_MAX + 32];
    if (archive_path(o.run_arg, run_dir, sizeof run_dir, path, sizeof path) < 0)
        return 1;

    qs_error_t err = {0};
    qs_archive_reader_t rd;
    if (qs_archive_open(&rd, path, &err) < 0) {
        fprintf(stderr, "quinesim extract: %s\n", err.msg);
        return 1;
    }
    seen_t *seen = NULL;
    size_t nseen = 0, cap = 0;
    qs_bytes_t found;
    qs_bytes_init(&found);
    qs_archive_entry_t e, hit;
    memset(&hit, 0, sizeof hit);
    int status = 0;
    if (o.list)
        printf("generation\tid\tparent\tborn\tspecies\tfitness\taccuracy\tr2\n");
    while ((rc = qs_archive_next(&rd, &e, &err)) > 0) {
        if (o.list) {
            print_entry(&e);
            continue;
        }
        if (e.id == o.id && (o.have_gen ? e.generation == o.want_gen : 1)) {
            qs_bytes_clear(&found);
            qs_bytes_append(&found, e.genome, e.genome_len);
            hit = e;
            hit.genome = NULL;
        }
        if (nseen == cap)
            seen = xrealloc(seen, (cap = cap ? 2 * cap : 1024) * sizeof *seen);
        seen[nseen++] = (seen_t){e.id, e.generation, e.generation};
    }
    if (rc < 0) { /* entries before the damage were read */
        fprintf(stderr, "quinesim extract: %s\n", err.msg);
        status = 1;
    }
    if (!o.list && !found.len)
        status = report_absent(&o, run_dir, &rd, seen, nseen);
    else if (!o.list && write_found(&o, path, &found, &hit) != 0)
        status = 1; /* else that of the reading */
    qs_bytes_destroy(&found);
    free(seen);
    qs_archive_close(&rd);
    return status;
}
