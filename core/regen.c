/* regen: plain, standardized and sign offspring (see regen.h).
 *
 * Per group of n weights, c = p - m(p), a = s(theta) / s(p):
 *   out   = m(theta) + a c
 *   dout  = dm(theta) + da c + a (dp - dm(p)),  da = (ds(theta) - a ds(p)) / s(p),
 *           ds(x) = sum (x - m(x)) dx / (n s(x))
 *   gp    = a (u - mean u) - a (u . c) c / (n s(p)^2)
 *   gtheta += sum u / n + (u . c) / s(p) (theta - m(theta)) / (n s(theta))
 * all in double per group. */
#include "core/regen.h"

#include <math.h>
#include <string.h>

#include "core/util.h"

static const char *const regen_names[] = {"plain", "standardize", "sign"};

QS_NAME_FNS(qs_regen_name, qs_regen_parse, qs_regen_t, regen_names)
const qs_names_t qs_regen_names = QS_NAMES(regen_names);

#define MAX_GROUPS 24

typedef struct {
    double m_t, s_t, m_p, s_p, a;
} moments_t;

static void moments(const float *x, size_t n, double *m, double *s)
{
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    *m = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += ((double)x[i] - *m) * ((double)x[i] - *m);
    *s = sqrt(sq / (double)n);
}

static void group_moments(const float *theta, const float *p, size_t n, moments_t *g)
{
    moments(theta, n, &g->m_t, &g->s_t);
    moments(p, n, &g->m_p, &g->s_p);
    g->a = g->s_p > 0 ? g->s_t / g->s_p : 0;
}

static size_t groups(const qs_quine_spec_t *spec, qs_param_group_t *g)
{
    return qs_quine_param_groups(spec, g, MAX_GROUPS);
}

double qs_regen_sign_scale(const float *theta, size_t n)
{
    double sum = 0;
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i++)
        if (theta[i] != 0) {
            sum += fabs((double)theta[i]);
            nonzero++;
        }
    return nonzero ? sum / (double)nonzero : 0;
}

static void apply_sign(const qs_quine_spec_t *spec, const float *theta, float *pred)
{
    qs_param_group_t g[MAX_GROUPS];
    size_t ng = groups(spec, g);
    for (size_t k = 0; k < ng; k++) {
        const float a = (float)qs_regen_sign_scale(theta + g[k].offset, g[k].count);
        float *p = pred + g[k].offset;
        for (size_t i = 0; i < g[k].count; i++)
            p[i] = p[i] >= 0 ? a : -a;
    }
}

void qs_regen_apply(const qs_quine_spec_t *spec, qs_regen_t mode, const float *theta, float *pred)
{
    if (mode == QS_REGEN_SIGN)
        apply_sign(spec, theta, pred);
    if (mode != QS_REGEN_STANDARDIZE)
        return;
    qs_param_group_t g[MAX_GROUPS];
    size_t ng = groups(spec, g);
    for (size_t k = 0; k < ng; k++) {
        const float *t = theta + g[k].offset;
        float *p = pred + g[k].offset;
        moments_t mo;
        group_moments(t, p, g[k].count, &mo);
        for (size_t i = 0; i < g[k].count; i++)
            p[i] = (float)(mo.m_t + mo.a * ((double)p[i] - mo.m_p));
    }
}

void qs_regen_jvp(const qs_quine_spec_t *spec, qs_regen_t mode, const float *theta, const float *p,
                  const float *dtheta, float *dout)
{
    if (mode == QS_REGEN_SIGN)
        memset(dout, 0, qs_quine_nparams(spec) * sizeof *dout);
    if (mode != QS_REGEN_STANDARDIZE)
        return;
    qs_param_group_t g[MAX_GROUPS];
    size_t ng = groups(spec, g);
    for (size_t k = 0; k < ng; k++) {
        const size_t o = g[k].offset, n = g[k].count;
        moments_t mo;
        group_moments(theta + o, p + o, n, &mo);
        double dm_t = 0, dm_p = 0, ds_t = 0, ds_p = 0;
        for (size_t i = 0; i < n; i++) {
            dm_t += dtheta[o + i];
            dm_p += dout[o + i];
            ds_t += ((double)theta[o + i] - mo.m_t) * dtheta[o + i];
            ds_p += ((double)p[o + i] - mo.m_p) * dout[o + i];
        }
        dm_t /= (double)n;
        dm_p /= (double)n;
        ds_t = mo.s_t > 0 ? ds_t / ((double)n * mo.s_t) : 0;
        ds_p = mo.s_p > 0 ? ds_p / ((double)n * mo.s_p) : 0;
        double da = mo.s_p > 0 ? (ds_t - mo.a * ds_p) / mo.s_p : 0;
        for (size_t i = 0; i < n; i++) {
            double c = (double)p[o + i] - mo.m_p;
            dout[o + i] = (float)(dm_t + da * c + mo.a * ((double)dout[o + i] - dm_p));
        }
    }
}

void qs_regen_vjp(const qs_quine_spec_t *spec, qs_regen_t mode, const float *theta, const float *p,
                  const float *u, float *gp, float *gtheta)
{
    qs_param_group_t g[MAX_GROUPS];
    size_t ng = groups(spec, g), n_all = qs_quine_nparams(spec);
    if (mode == QS_REGEN_SIGN) {
        memset(gp, 0, n_all * sizeof *gp);
        return;
    }
    if (mode != QS_REGEN_STANDARDIZE) {
        memcpy(gp, u, n_all * sizeof *gp);
        return;
    }
    for (size_t k = 0; k < ng; k++) {
        const size_t o = g[k].offset, n = g[k].count;
        moments_t mo;
        group_moments(theta + o, p + o, n, &mo);
        double su = 0, uc = 0;
        for (size_t i = 0; i < n; i++) {
            su += u[o + i];
            uc += u[o + i] * ((double)p[o + i] - mo.m_p);
        }
        const double ubar = su / (double)n;
        const double cp = mo.s_p > 0 ? mo.a * uc / ((double)n * mo.s_p * mo.s_p) : 0;
        const double ct = mo.s_p > 0 && mo.s_t > 0 ? uc / mo.s_p / ((double)n * mo.s_t) : 0;
        for (size_t i = 0; i < n; i++) {
            double c = (double)p[o + i] - mo.m_p;
            gp[o + i] = (float)(mo.a * (u[o + i] - ubar) - cp * c);
            gtheta[o + i] += (float)(ubar + ct * ((double)theta[o + i] - mo.m_t));
        }
    }
}
