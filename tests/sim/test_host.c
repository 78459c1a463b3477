/* Tests for sim/host: an island's host takes the island, answers run and state, forgets
 * it on drop, and trusts nothing it is sent (an island it does not hold, a generation it
 * is not at, immigrants it did not ask for, no task id): each is an error naming it. The
 * lives are fake (tests/sim/poputil.h): no worker, no data. */
#include <criterion/criterion.h>
#include <string.h>

#include "proto/checkpoint.h"
#include "sim/host.h"
#include "sim/islands.h"
#include "tests/sim/poputil.h"

static const char *text = "[species.a]\nhidden = 8\ncount = 4\n[selection]\nelitism = 1\n"
                          "population = 6\n[islands]\ncount = 2\ninterval = 1\nmigrants = 1\n";

/* A life as a worker's would answer it: the task's weights + 1, its accuracy by id. */
static int fake_life(void *ctx, qs_life_task_t *t, qs_life_result_t *r, qs_error_t *err)
{
    (void)ctx;
    (void)err;
    memset(r, 0, sizeof *r);
    r->task_id = t->task_id;
    r->organism = t->organism;
    r->steps = t->steps;
    r->accuracy = pu_acc_by_id(t->organism);
    r->has_link = t->kind == QS_TASK_BIRTH;
    if (r->has_link)
        pu_fidelity(&r->link, t->weights, t->nweights, 0.9);
    r->nweights = t->nweights;
    r->weights = t->weights; /* moved, as qs_life_task_run does */
    t->weights = NULL;
    for (uint32_t k = 0; k < r->nweights; k++)
        r->weights[k] += 1.0f;
    pu_fidelity(&r->fidelity, r->weights, r->nweights, 0.5);
    return 0;
}

static qs_msg_island_t op(qs_island_op_t o, uint32_t island, uint32_t generation, uint64_t task)
{
    return (qs_msg_island_t){.op = o, .task_id = task, .island = island, .generation = generation};
}

/* m to h: 0 or the error's text in why. */
static int ask(qs_host_t *h, qs_msg_island_t m, qs_msg_t *reply, char *why, size_t cap)
{
    qs_error_t err = {0};
    int rc = qs_host_handle(h, &m, reply, &err);
    snprintf(why, cap, "%s", err.msg);
    return rc;
}

Test(host, takes_an_island_answers_and_refuses_what_it_was_not_asked)
{
    qs_host_t h;
    qs_host_init(&h, fake_life, NULL);
    qs_msg_t r;
    char why[512];
    qs_msg_island_t take = op(QS_ISLAND_HOST, 0, 0, 0);
    take.scenario = (char *)text;
    cr_assert_eq(ask(&h, take, &r, why, sizeof why), 0, "%s", why);
    cr_assert_eq(r.type, 0, "no answer to host");

    cr_assert_lt(ask(&h, op(QS_ISLAND_RUN, 0, 1, 7), &r, why, sizeof why), 0);
    cr_assert(strstr(why, "for generation 1, it is at 0"), "%s", why);
    cr_assert_lt(ask(&h, op(QS_ISLAND_IMMIGRANTS, 0, 0, 7), &r, why, sizeof why), 0);
    cr_assert(strstr(why, "not asked for"), "%s", why);
    cr_assert_lt(ask(&h, op(QS_ISLAND_RUN, 1, 0, 7), &r, why, sizeof why), 0);
    cr_assert(strstr(why, "which it does not host"), "%s", why);
    cr_assert_lt(ask(&h, op(QS_ISLAND_RUN, 0, 0, 0), &r, why, sizeof why), 0);
    cr_assert(strstr(why, "without a task id"), "%s", why);

    /* its state: generation 0, island 0's founders (ids 1, 3: dealt out in turn) */
    cr_assert_eq(ask(&h, op(QS_ISLAND_STATE, 0, 0, 8), &r, why, sizeof why), 0, "%s", why);
    cr_assert_eq(r.type, QS_MSG_ISLAND_GENOMES);
    cr_assert(r.u.island_genomes.state && r.u.island_genomes.task_id == 8);
    qs_checkpoint_t c;
    qs_error_t err = {0};
    cr_assert_eq(qs_checkpoint_decode_frame(&c, r.u.island_genomes.genomes,
                                            r.u.island_genomes.genomes_len, &err),
                 0, "%s", err.msg);
    cr_assert_eq(c.generation, 0);
    cr_assert_eq(c.norgs, 2);
    cr_assert(c.orgs[0].id == 1 && c.orgs[1].id == 3);
    qs_checkpoint_destroy(&c);
    qs_msg_destroy(&r);

    /* a migration follows generation 0: the emigrants, then the immigrants are awaited */
    qs_msg_island_t run = op(QS_ISLAND_RUN, 0, 0, 9);
    run.migrate = 1;
    cr_assert_eq(ask(&h, run, &r, why, sizeof why), 0, "%s", why);
    cr_assert_eq(r.type, QS_MSG_ISLAND_GENOMES);
    cr_assert(!r.u.island_genomes.state);
    qs_ckpt_org_t *em;
    uint32_t nem;
    cr_assert_eq(qs_checkpoint_decode_orgs(r.u.island_genomes.genomes,
                                           r.u.island_genomes.genomes_len, 1, &em, &nem, &err),
                 0, "%s", err.msg);
    cr_assert_eq(nem, 1);
    cr_assert_eq(em[0].id, 1, "the fittest: accuracy 0.37 against 0.11 for id 3");
    qs_msg_destroy(&r);
    cr_assert_lt(ask(&h, op(QS_ISLAND_RUN, 0, 0, 11), &r, why, sizeof why), 0);
    cr_assert(strstr(why, "while its immigrants are awaited"), "%s", why);
    cr_assert_lt(ask(&h, op(QS_ISLAND_STATE, 0, 0, 10), &r, why, sizeof why), 0);
    cr_assert(strstr(why, "while its immigrants are awaited"), "%s", why);

    /* the immigrants: the other island's emigrant (here island 0's own, renamed) */
    qs_bytes_t frames;
    qs_bytes_init(&frames);
    em[0].id = 2; /* an organism of island 1 */
    qs_checkpoint_encode_orgs(em, 1, &frames);
    qs_msg_island_t imm = op(QS_ISLAND_IMMIGRANTS, 0, 0, 12);
    imm.genomes = frames.data;
    imm.genomes_len = (uint32_t)frames.len;
    cr_assert_eq(ask(&h, imm, &r, why, sizeof why), 0, "%s", why);
    cr_assert_eq(r.type, QS_MSG_ISLAND_RECORDS);
    const qs_msg_island_records_t *rec = &r.u.island_records;
    cr_assert(rec->island == 0 && rec->generation == 0 && rec->task_id == 12);
    cr_assert_eq(rec->immigrants, 1);
    cr_assert_eq(rec->run_best_id, 1, "no best named to it yet: its own best is named");
    qs_generation_out_t out;
    cr_assert_eq(qs_islands_records_out(rec, &out, &err), 0, "%s", err.msg);
    cr_assert_eq(out.nevals, 2);
    qs_generation_out_destroy(&out);
    qs_msg_destroy(&r);
    qs_checkpoint_orgs_free(em, nem);
    qs_bytes_destroy(&frames);

    /* dropped: forgotten */
    cr_assert_eq(ask(&h, op(QS_ISLAND_DROP, 0, 1, 0), &r, why, sizeof why), 0, "%s", why);
    cr_assert_lt(ask(&h, op(QS_ISLAND_STATE, 0, 1, 13), &r, why, sizeof why), 0);
    cr_assert(strstr(why, "which it does not host"), "%s", why);
    qs_host_destroy(&h);
}
