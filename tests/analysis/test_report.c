/* Tests for `quinesim analyze --html` (analysis/report): the page of two synthetic runs is
 * self-contained (no external script, style or link), the vendored uPlot matches its
 * SHA-256 digests, and headless Chromium (Debian `chromium`) loads it without an error
 * and with data points in every chart (the page's own script reports them in
 * #qs-status, read back from --dump-dom). Skipped, with the reason, where Chromium is
 * missing or cannot start. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/lineage.h"
#include "synth.h"
#include "tests/testutil.h"

static char tmp[256];

static void setup(void)
{
    tu_tmpdir(tmp, sizeof tmp);
}

static void teardown(void)
{
    tu_rmrf(tmp);
}

TestSuite(report, .init = setup, .fini = teardown, .timeout = 120);

static void encode_to(const qs_record_t *r, void *ctx)
{
    qs_record_encode(r, ctx);
}

static void synth_dir(const char *name, uint64_t seed)
{
    char p[512];
    snprintf(p, sizeof p, "mkdir -p %s/%s", tmp, name);
    cr_assert_eq(system(p), 0);
    synth_params_t sp = {0};
    sp.nspecies = 2;
    sp.founders[0] = 4;
    sp.founders[1] = 4;
    sp.handicap[1] = 0.2;
    sp.generations = 15;
    sp.population = 10;
    sp.elitism = 2;
    sp.seed = seed;
    qs_bytes_t b;
    qs_bytes_init(&b);
    synth_truth_t t;
    synth_run(&sp, encode_to, &b, &t);
    snprintf(p, sizeof p, "%s/%s/lineage.msgpack", tmp, name);
    tu_write_file(p, b.data, b.len);
    qs_bytes_destroy(&b);
}

static const char *src(void)
{
    const char *s = getenv("QS_SRC");
    return s ? s : ".";
}

Test(report, vendored_uplot_matches_its_digests)
{
    char cmd[1024], *out = NULL;
    snprintf(cmd, sizeof cmd, "cd %s/analysis/report && sha256sum --check --strict SHA256SUMS",
             src());
    cr_assert_eq(tu_run(cmd, &out), 0, "the vendored files do not match SHA256SUMS: %s", out);
    free(out);
}

Test(report, page_is_self_contained_and_draws_in_chromium)
{
    synth_dir("one", 1);
    synth_dir("two", 2);
    char cmd[4096], page[512], *out = NULL;
    snprintf(page, sizeof page, "%s/page.html", tmp);
    snprintf(cmd, sizeof cmd, "%s analyze %s/one %s/two --html %s", tu_bin(), tmp, tmp, page);
    cr_assert_eq(tu_run(cmd, &out), 0, "%s", out);
    cr_expect(strstr(out, "html: "), "%s", out);
    free(out);
    size_t len;
    char *html = tu_read_file(page, &len);
    cr_assert(html);
    cr_expect(strstr(html, "uPlot (v1.6.32)"), "uPlot is not inlined");
    cr_expect_null(strstr(html, "<script src"), "an external script");
    cr_expect_null(strstr(html, "<link"), "an external resource");
    cr_expect_null(strstr(html, "src=\"http"), "a network address");
    cr_expect_null(strstr(html, "@import"), "an imported style sheet");
    free(html);

    if (tu_run("command -v chromium", NULL) != 0)
        cr_skip_test("Chromium is not installed (Debian chromium, `make deps`): the page was "
                     "not loaded in a browser");
    char profile[300];
    snprintf(profile, sizeof profile, "%s/profile", tmp);
    snprintf(cmd, sizeof cmd,
             "timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic "
             "--no-first-run --disable-background-networking --disable-component-update "
             "--disable-sync --user-data-dir=%s --dump-dom file://%s 2>/dev/null",
             profile, page);
    char *dom = NULL;
    int rc = tu_run(cmd, &dom);
    if (rc != 0 || !dom || !strstr(dom, "<body")) {
        free(dom);
        cr_skip_test("Chromium could not start here (exit %d): the page was not loaded", rc);
    }
    const char *st = strstr(dom, "id=\"qs-status\"");
    cr_assert(st, "the page's script did not run: no status element");
    st = strchr(st, '>');
    cr_assert(st && st[1] == '{', "the page's script did not finish: %.300s", st);
    cr_expect(strstr(st, "\"errors\":[]"), "errors in the page: %.600s", st);
    cr_expect(strstr(st, "\"runs\":2"), "%.300s", st);
    const char *charts[] = {"compare.accuracy", "compare.fidelity", "compare.phylo",
                            "run0.accuracy",    "run0.fidelity",    "run0.scatter",
                            "run0.species",     "run0.phylo",       "run0.ltt",
                            "run0.tree",        "run1.accuracy",    "run1.tree"};
    for (size_t k = 0; k < sizeof charts / sizeof *charts; k++) {
        char key[64];
        snprintf(key, sizeof key, "\"%s\":", charts[k]);
        const char *p = strstr(st, key);
        cr_expect(p, "no chart %s: %.600s", charts[k], st);
        if (p)
            cr_expect_gt(atol(p + strlen(key)), 0, "chart %s has no data points", charts[k]);
    }
    cr_expect(strstr(dom, "<canvas"), "uPlot drew no canvas");
    cr_expect(strstr(dom, "<path"), "no phylogeny was drawn");
    free(dom);
}

Test(report, unwritable_page_is_an_error)
{
    synth_dir("one", 1);
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s analyze %s/one --html %s/no/such/dir/page.html", tu_bin(), tmp,
             tmp);
    cr_expect_neq(tu_run(cmd, &out), 0);
    cr_expect(strstr(out, "--html") && strstr(out, "cannot create"), "%s", out);
    free(out);
}
