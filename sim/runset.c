/* runset: the points of `run --seeds/--sweep`, their folders, their resume, their table. */
#include "sim/runset.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/resources.h"

/* One --sweep key and its values. */
typedef struct {
    char key[160];
    char **values; /* owned */
    uint32_t n;
} axis_t;

/* One run of the set. */
typedef struct {
    char name[512]; /* its folder's name, and its tag */
    char dir[QS_PATH_MAX];
    qs_scenario_t *sc;
    char *text;
    qs_checkpoint_t ck;
    int has_ck;
} point_t;

typedef struct {
    point_t *p;
    uint32_t n;
    axis_t *axes;
    uint32_t naxes;
    uint64_t *seeds;
    uint32_t nseeds;
} set_t;

static void set_destroy(set_t *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        free(s->p[i].sc);
        free(s->p[i].text);
        if (s->p[i].has_ck)
            qs_checkpoint_destroy(&s->p[i].ck);
    }
    free(s->p);
    for (uint32_t a = 0; a < s->naxes; a++) {
        for (uint32_t v = 0; v < s->axes[a].n; v++)
            free(s->axes[a].values[v]);
        free(s->axes[a].values);
    }
    free(s->axes);
    free(s->seeds);
}

/* ---- --seeds and --sweep ------------------------------------------------------------------ */

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || *end)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int qs_runset_parse_seeds(const char *spec, uint64_t **seeds, uint32_t *n, qs_error_t *err)
{
    uint64_t *v = NULL;
    uint32_t k = 0, cap = 0;
    *seeds = NULL;
    *n = 0;
    if (!*spec)
        return qs_error_set(err, QS_ERR(INVAL), "--seeds is empty: give e.g. 1-5 or 1,3,7");
    for (const char *p = spec;;) {
        size_t len = strcspn(p, ",");
        const char *dash = memchr(p, '-', len);
        uint64_t a, b;
        if (dash ? parse_u64(p, (size_t)(dash - p), &a) < 0 ||
                       parse_u64(dash + 1, len - (size_t)(dash - p) - 1, &b) < 0
                 : parse_u64(p, len, &a) < 0) {
            free(v);
            return qs_error_set(err, QS_ERR(INVAL),
                                "--seeds '%.*s': expected a seed (0..2^64-1) or a range A-B, as in "
                                "1-5 or 1,3,7",
                                (int)len, p);
        }
        if (!dash)
            b = a;
        if (b < a) {
            free(v);
            return qs_error_set(err, QS_ERR(INVAL), "--seeds '%.*s': the range runs backwards",
                                (int)len, p);
        }
        if (b - a >= QS_WIRE_MAX_CONFIGS || k + (b - a) >= QS_WIRE_MAX_CONFIGS) {
            free(v);
            return qs_error_set(err, QS_ERR(RANGE), "--seeds %s: more than %d runs", spec,
                                QS_WIRE_MAX_CONFIGS);
        }
        for (uint64_t s = a;; s++) {
            for (uint32_t j = 0; j < k; j++)
                if (v[j] == s) {
                    free(v);
                    return qs_error_set(err, QS_ERR(INVAL),
                                        "--seeds %s: seed %" PRIu64 " is given twice", spec, s);
                }
            if (k == cap) {
                cap = cap ? 2 * cap : 16;
                v = xrealloc(v, cap * sizeof *v);
            }
            v[k++] = s;
            if (s == b)
                break;
        }
        if (!p[len])
            break;
        p += len + 1;
    }
    *seeds = v;
    *n = k;
    return 0;
}

/* Keys the runs of a set cannot differ in: they set up the one pool they share. */
static int pool_key(const char *key)
{
    return !strncmp(key, "workers.", 8) || !strcmp(key, "budget.task_timeout_s") ||
           !strcmp(key, "budget.worker_memory_mb");
}

/* "KEY=V1,V2,...": each value checked on a copy of base with the scenario's own parser
 * and validation. */
static int parse_axis(axis_t *ax, const char *spec, const qs_scenario_t *base, const set_t *s,
                      qs_error_t *err)
{
    const char *eq = strchr(spec, '=');
    size_t klen = eq ? (size_t)(eq - spec) : 0;
    memset(ax, 0, sizeof *ax);
    if (!eq || klen == 0 || !memchr(spec, '.', klen) || klen >= sizeof ax->key)
        return qs_error_set(err, QS_ERR(INVAL),
                            "--sweep %s: expected section.key=value1,value2,... (species: "
                            "species.NAME.key=...)",
                            spec);
    memcpy(ax->key, spec, klen);
    ax->key[klen] = '\0';
    if (!strcmp(ax->key, "run.seed"))
        return qs_error_set(err, QS_ERR(INVAL), "--sweep run.seed: use --seeds for seeds");
    if (pool_key(ax->key))
        return qs_error_set(err, QS_ERR(INVAL),
                            "--sweep %s: the runs share one pool of workers, whose [workers] "
                            "and budget.task_timeout_s/worker_memory_mb keys they cannot vary; "
                            "use --set for all runs",
                            ax->key);
    for (uint32_t a = 0; a < s->naxes; a++)
        if (!strcmp(s->axes[a].key, ax->key))
            return qs_error_set(err, QS_ERR(INVAL), "--sweep %s is given twice", ax->key);
    qs_scenario_t *t = xmalloc(sizeof *t);
    int rc = 0;
    for (const char *p = eq + 1;;) {
        size_t len = strcspn(p, ",");
        char assign[1200];
        snprintf(assign, sizeof assign, "%s=%.*s", ax->key, (int)len, p);
        if (len == 0) {
            rc = qs_error_set(err, QS_ERR(INVAL), "--sweep %s: an empty value", spec);
            break;
        }
        for (uint32_t v = 0; v < ax->n; v++)
            if (strlen(ax->values[v]) == len && !strncmp(ax->values[v], p, len)) {
                rc = qs_error_set(err, QS_ERR(INVAL), "--sweep %s: value '%.*s' is given twice",
                                  ax->key, (int)len, p);
                break;
            }
        if (rc < 0)
            break;
        memcpy(t, base, sizeof *t);
        if ((rc = qs_scenario_set(t, assign, err)) < 0 || (rc = qs_scenario_validate(t, err)) < 0) {
            /* "--set KEY: why" from the parser: say --sweep KEY=VALUE instead */
            char why[sizeof err->msg];
            const char *at = err->msg, *colon = strstr(at, ": ");
            if (!strncmp(at, "--set ", 6) && colon)
                at = colon + 2;
            snprintf(why, sizeof why, "%s", at);
            qs_error_set(err, err->code, "--sweep %.400s: %s", assign, why);
            break;
        }
        ax->values = xrealloc(ax->values, (ax->n + 1) * sizeof *ax->values);
        char *val = xmalloc(len + 1);
        memcpy(val, p, len);
        val[len] = '\0';
        ax->values[ax->n++] = val;
        if (!p[len])
            break;
        p += len + 1;
    }
    free(t);
    if (rc == 0 && ax->n < 1)
        rc = qs_error_set(err, QS_ERR(INVAL), "--sweep %s: no values", spec);
    return rc;
}

/* ---- the points --------------------------------------------------------------------------- */

/* A folder name from "key=value" parts: '/' (a data path's) becomes '_'. */
static void append_part(char *name, size_t cap, const char *part)
{
    size_t n = strlen(name);
    snprintf(name + n, cap - n, "%s%s", n ? "," : "", part);
    for (char *c = name + n; *c; c++)
        if (*c == '/')
            *c = '_';
}

/* Every point of the grid: base + its sweep values + its seed, validated. */
static int make_points(set_t *s, const qs_scenario_t *base, const char *parent, qs_error_t *err)
{
    uint64_t total = s->nseeds ? s->nseeds : 1;
    for (uint32_t a = 0; a < s->naxes; a++)
        total *= s->axes[a].n;
    if (total > QS_WIRE_MAX_CONFIGS)
        return qs_error_set(err, QS_ERR(RANGE),
                            "the grid has %" PRIu64 " points; at most %d runs share a pool", total,
                            QS_WIRE_MAX_CONFIGS);
    s->p = xcalloc(total, sizeof *s->p);
    for (uint64_t i = 0; i < total; i++) {
        point_t *pt = &s->p[s->n++];
        pt->sc = xmalloc(sizeof *pt->sc);
        memcpy(pt->sc, base, sizeof *pt->sc);
        /* the index in mixed radix: the first axis outermost, the seeds innermost */
        uint64_t rest = i, stride = total;
        for (uint32_t a = 0; a < s->naxes; a++) {
            const axis_t *ax = &s->axes[a];
            stride /= ax->n;
            const char *v = ax->values[rest / stride];
            rest %= stride;
            char assign[1200];
            snprintf(assign, sizeof assign, "%s=%s", ax->key, v);
            if (qs_scenario_set(pt->sc, assign, err) < 0)
                return -1;
            append_part(pt->name, sizeof pt->name, assign);
        }
        if (s->nseeds) {
            char part[40];
            pt->sc->seed = s->seeds[rest];
            snprintf(part, sizeof part, "seed-%" PRIu64, s->seeds[rest]);
            append_part(pt->name, sizeof pt->name, part);
        }
        if (qs_scenario_validate(pt->sc, err) < 0)
            return qs_error_prefix(err, "point %s", pt->name);
        pt->text = qs_scenario_to_string(pt->sc);
        snprintf(pt->dir, sizeof pt->dir, "%.500s/%s", parent, pt->name);
    }
    return 0;
}

/* ---- resources ---------------------------------------------------------------------------- */

int qs_runset_check_resources(const qs_scenario_t *const *scs, uint32_t n, const qs_run_opts_t *ro,
                              int dry)
{
    qs_machine_t m;
    qs_machine_read(&m);
    qs_resources_t r;
    uint32_t workers =
        qs_resources_local_workers(scs[0], ro->workers, ro->workers_set, ro->listen != NULL);
    qs_resources_estimate_set(scs, n, workers, &r);
    if (dry)
        qs_resources_print(stdout, &r, scs[0], &m);
    char warn[1024];
    qs_error_t err = {0};
    if (qs_resources_check(&r, scs[0], &m, warn, sizeof warn, &err) < 0) {
        fflush(stdout);
        fprintf(stderr, "quinesim run: %s%s\n", err.msg, n > 1 ? " (the set's runs together)" : "");
        return 2;
    }
    for (char *line = warn, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
        nl = strchr(line, '\n');
        fprintf(stderr, "quinesim run: warning: %.*s\n", nl ? (int)(nl - line) : (int)strlen(line),
                line);
    }
    return 0;
}

/* ---- running and the table ---------------------------------------------------------------- */

static void print_points(const set_t *s, const char *parent, uint32_t workers)
{
    printf("; %u runs under %s, sharing %u local worker(s):\n", s->n, parent, workers);
    for (uint32_t i = 0; i < s->n; i++) {
        const point_t *p = &s->p[i];
        printf(";   %-40s seed %" PRIu64 ", %u generations%s\n", p->name, p->sc->seed,
               p->sc->generations, p->has_ck ? " (resumed)" : "");
    }
}

static void print_number(double v, int prec, int width)
{
    if (isfinite(v))
        printf(" %*.*f", width, prec, v);
    else
        printf(" %*s", width, "-");
}

static void print_table(const set_t *s, const qs_orch_run_t *runs)
{
    size_t w = 3;
    for (uint32_t i = 0; i < s->n; i++)
        w = QS_MAX(w, strlen(s->p[i].name));
    printf("\n%-*s  %-11s %5s %9s %9s %8s %8s %9s\n", (int)w, "run", "status", "gens", "best_acc",
           "mean_acc", "self_R2", "births", "seconds");
    for (uint32_t i = 0; i < s->n; i++) {
        const qs_orch_run_t *r = &runs[i];
        printf("%-*s  %-11s %5u", (int)w, s->p[i].name, r->reason, r->generations);
        print_number(r->has_last ? r->last.best_accuracy : NAN, 4, 9);
        print_number(r->has_last ? r->last.mean_accuracy : NAN, 4, 9);
        print_number(r->has_last ? r->last.mean_r2 : NAN, 4, 8);
        printf(" %8" PRIu64, r->births);
        print_number(r->wall, 1, 9);
        printf("\n");
    }
    fflush(stdout);
}

/* Run (or with dry print) the set's points under parent. */
static int run_points(set_t *s, const char *parent, qs_run_opts_t *ro, int dry)
{
    const qs_scenario_t **scs = xcalloc(s->n, sizeof *scs);
    for (uint32_t i = 0; i < s->n; i++)
        scs[i] = s->p[i].sc;
    uint32_t workers =
        qs_resources_local_workers(scs[0], ro->workers, ro->workers_set, ro->listen != NULL);
    int status;
    if (dry)
        print_points(s, parent, workers);
    if ((status = qs_runset_check_resources(scs, s->n, ro, dry)) != 0 || dry) {
        free(scs);
        return status;
    }
    free(scs);
    char at[QS_PATH_MAX];
    if (qs_mkdir_p(parent, at, sizeof at) < 0) {
        fprintf(stderr, "quinesim run: cannot create %s: %s\n", at, strerror(errno));
        return 1;
    }
    qs_orch_run_t *runs = xcalloc(s->n, sizeof *runs);
    for (uint32_t i = 0; i < s->n; i++) {
        point_t *p = &s->p[i];
        runs[i] = (qs_orch_run_t){.sc = p->sc,
                                  .scenario_text = p->text,
                                  .out_dir = p->dir,
                                  .resume = p->has_ck ? &p->ck : NULL,
                                  .tag = p->name};
    }
    if (ro->progress != QS_PROGRESS_QUIET) {
        printf("%u runs under %s on one pool of %u local worker(s)\n", s->n, parent, workers);
        fflush(stdout);
    }
    status = qs_orchestrator_run_set(runs, s->n, ro);
    int started = 0;
    for (uint32_t i = 0; i < s->n; i++)
        started |= strcmp(runs[i].reason, "not started") != 0;
    if (started && ro->progress != QS_PROGRESS_QUIET)
        print_table(s, runs);
    if (status > 2)
        fprintf(stderr, "quinesim: resume with: quinesim run --resume %s\n", parent);
    free(runs);
    return status;
}

int qs_runset_run(const qs_runset_args_t *a, qs_run_opts_t *ro)
{
    set_t s = {0};
    qs_error_t err = {0};
    qs_scenario_t *base = xcalloc(1, sizeof *base);
    int status = 2;
    if (qs_scenario_load(base, a->scenario, &err) < 0)
        goto fail;
    for (int i = 0; i < a->nsets; i++)
        if (qs_scenario_set(base, a->sets[i], &err) < 0)
            goto fail;
    if (qs_scenario_validate(base, &err) < 0)
        goto fail;
    if (a->seeds && qs_runset_parse_seeds(a->seeds, &s.seeds, &s.nseeds, &err) < 0)
        goto fail;
    s.axes = xcalloc((size_t)QS_MAX(a->nsweeps, 1), sizeof *s.axes);
    for (int i = 0; i < a->nsweeps; i++) {
        if (parse_axis(&s.axes[s.naxes], a->sweeps[i], base, &s, &err) < 0) {
            axis_t *ax = &s.axes[s.naxes];
            for (uint32_t v = 0; v < ax->n; v++)
                free(ax->values[v]);
            free(ax->values);
            goto fail;
        }
        s.naxes++;
    }
    char parent[QS_PATH_MAX];
    if (a->out && *a->out)
        snprintf(parent, sizeof parent, "%s", a->out);
    else
        snprintf(parent, sizeof parent, "runs/%s", base->name);
    if (make_points(&s, base, parent, &err) < 0)
        goto fail;
    status = run_points(&s, parent, ro, a->dry);
    goto out;
fail:
    fprintf(stderr, "quinesim run: %s\n", err.msg);
out:
    set_destroy(&s);
    free(base);
    return status;
}

/* ---- resume ------------------------------------------------------------------------------- */

/* Keys that can never change on a resume: they define the organisms and their world. */
static int change_forbidden(const char *key)
{
    return !strcmp(key, "run.seed") || !strcmp(key, "data.train") || !strcmp(key, "data.fitness") ||
           !strcmp(key, "replication.input") || !strncmp(key, "species.", 8) ||
           !strcmp(key, "islands.count") || !strcmp(key, "islands.topology") ||
           !strcmp(key, "islands.degree") || !strcmp(key, "islands.topology_seed");
}

static int key_allowed(const char *allow, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = allow; *p;) {
        size_t n = strcspn(p, ",");
        if (n == k && !strncmp(p, key, n))
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

int qs_runset_load_resume(const char *dir, const char *scenario_path, const char *const *sets,
                          int nsets, const char *allow, qs_scenario_t *sc, char **text,
                          qs_checkpoint_t *ck)
{
    char path[QS_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/checkpoint.msgpack", dir);
    qs_error_t err = {0};
    qs_scenario_t *old = xcalloc(1, sizeof *old);
    int status = 2;
    *text = NULL;
    if (qs_checkpoint_load(ck, path, &err) < 0) {
        char lineage[QS_PATH_MAX + 32];
        snprintf(lineage, sizeof lineage, "%s/lineage.msgpack", dir);
        if (access(path, F_OK) != 0 && access(lineage, F_OK) == 0)
            fprintf(stderr,
                    "quinesim run --resume: %s has no checkpoint: the run stopped before its "
                    "first one, so there is nothing to resume; start it again with `quinesim "
                    "run SCENARIO.ini --out %s --force`\n",
                    dir, dir);
        else
            fprintf(stderr, "quinesim run --resume: %s\n", err.msg);
        free(old);
        return 1;
    }
    if (ck->finished) { /* resuming is idempotent: a finished run is simply done */
        printf("%s: the run is complete (%u generations); nothing to resume\n", dir,
               ck->generation);
        status = 0;
        goto out;
    }
    qs_scenario_defaults(old);
    snprintf(old->path, sizeof old->path, "%.900s (stored scenario)", path);
    if (qs_scenario_parse_string(old, ck->scenario, old->path, &err) < 0 ||
        qs_scenario_validate(old, &err) < 0)
        goto fail;
    if (old->seed != ck->seed) {
        fprintf(stderr,
                "quinesim run --resume: %s: its scenario says seed %llu, its seed field %llu: "
                "the checkpoint is not one this program wrote\n",
                path, (unsigned long long)old->seed, (unsigned long long)ck->seed);
        goto out;
    }
    if (ck->norgs == 0) {
        fprintf(stderr,
                "quinesim run --resume: %s: the plan of generation %u is empty, but the run is "
                "not marked finished: the checkpoint is not one this program wrote\n",
                path, ck->generation);
        goto out;
    }
    if (scenario_path) {
        if (qs_scenario_load(sc, scenario_path, &err) < 0)
            goto fail;
    } else {
        *sc = *old;
    }
    for (int i = 0; i < nsets; i++)
        if (qs_scenario_set(sc, sets[i], &err) < 0)
            goto fail;
    if (qs_scenario_validate(sc, &err) < 0)
        goto fail;
    qs_scenario_change_t changes[64];
    size_t nch = qs_scenario_diff(old, sc, changes, 64), bad = 0;
    for (size_t i = 0; i < nch && i < 64; i++) {
        const qs_scenario_change_t *ch = &changes[i];
        if (change_forbidden(ch->key)) {
            fprintf(stderr,
                    "quinesim run --resume: %s changed (%s -> %s); it can never change within "
                    "a run\n",
                    ch->key, ch->old_value, ch->new_value);
            bad++;
        } else if (!key_allowed(allow, ch->key)) {
            fprintf(stderr,
                    "quinesim run --resume: %s changed (%s -> %s); add it to --allow-changes "
                    "to accept\n",
                    ch->key, ch->old_value, ch->new_value);
            bad++;
        }
    }
    if (bad) {
        fprintf(stderr, "quinesim run --resume: refusing to resume with a changed scenario\n");
        goto out;
    }
    if (sc->generations <= ck->generation) {
        fprintf(stderr, "quinesim run --resume: run.generations = %u, but %u are already done\n",
                sc->generations, ck->generation);
        goto out;
    }
    *text = qs_scenario_to_string(sc);
    free(old);
    return -1;
fail:
    fprintf(stderr, "quinesim run --resume: %s\n", err.msg);
out:
    qs_checkpoint_destroy(ck);
    free(old);
    return status;
}

static int has_file(const char *dir, const char *sub, const char *name)
{
    char p[QS_PATH_MAX * 2 + 32];
    snprintf(p, sizeof p, "%s%s%s/%s", dir, sub ? "/" : "", sub ? sub : "", name);
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The subfolders of dir that hold a checkpoint, in natural order (*n of them). */
static char **list_runs(const char *dir, uint32_t *n)
{
    char **subs = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_file(dir, e->d_name, "checkpoint.msgpack"))
            continue;
        subs = xrealloc(subs, (*n + 1) * sizeof *subs);
        subs[(*n)++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(subs, *n, sizeof *subs, qs_natural_cmp);
    return subs;
}

int qs_runset_is_parent(const char *dir)
{
    if (has_file(dir, NULL, "checkpoint.msgpack") || has_file(dir, NULL, "lineage.msgpack"))
        return 0;
    uint32_t n;
    char **subs = list_runs(dir, &n);
    for (uint32_t i = 0; i < n; i++)
        free(subs[i]);
    free(subs);
    return n > 0;
}

int qs_runset_resume(const char *dir, const char *const *sets, int nsets, const char *allow,
                     qs_run_opts_t *ro, int dry)
{
    uint32_t nsubs;
    char **subs = list_runs(dir, &nsubs);
    set_t s = {0};
    s.p = xcalloc(nsubs, sizeof *s.p);
    int status = 0, complete = 0;
    for (uint32_t i = 0; i < nsubs; i++) {
        point_t *p = &s.p[s.n];
        snprintf(p->name, sizeof p->name, "%s", subs[i]);
        snprintf(p->dir, sizeof p->dir, "%.500s/%.500s", dir, subs[i]);
        p->sc = xcalloc(1, sizeof *p->sc);
        int rc = qs_runset_load_resume(p->dir, NULL, sets, nsets, allow, p->sc, &p->text, &p->ck);
        if (rc == -1) {
            p->has_ck = 1;
            s.n++;
            continue;
        }
        free(p->sc);
        p->sc = NULL;
        if (rc == 0)
            complete++;
        else
            status = rc; /* reported; the set does not start */
    }
    for (uint32_t i = 0; i < nsubs; i++)
        free(subs[i]);
    free(subs);
    for (uint32_t i = 1; i < s.n && status == 0; i++) {
        qs_scenario_change_t ch[64];
        size_t nch = qs_scenario_diff(s.p[0].sc, s.p[i].sc, ch, QS_ARRAY_LEN(ch));
        for (size_t k = 0; k < nch && k < QS_ARRAY_LEN(ch); k++)
            if (pool_key(ch[k].key)) {
                fprintf(stderr,
                        "quinesim run --resume: %s and %s differ in %s (%s, %s): runs that "
                        "share one pool cannot; resume them one by one\n",
                        s.p[0].dir, s.p[i].dir, ch[k].key, ch[k].old_value, ch[k].new_value);
                status = 2;
                break;
            }
    }
    if (status == 0 && s.n == 0)
        printf("%s: all %d runs are complete; nothing to resume\n", dir, complete);
    else if (status == 0)
        status = run_points(&s, dir, ro, dry);
    set_destroy(&s);
    return status;
}
