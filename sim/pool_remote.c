/* pool_remote: the pool's remote workers, `quinesim worker --connect` peers over TCP.
 * The pool listens; each peer gets a challenge and must answer with a hello (with a MAC of
 * the run's token when it has one, sim/auth.h) within auth_timeout_s, sending at most one
 * small message until then; a peer may ask for the run's data set. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sim/pool_impl.h"

#define PREAUTH_LOG_BURST    20 /* peers whose pre-authentication events are logged, per window */
#define PREAUTH_LOG_WINDOW_S 10.0

void pool_remote_log_flush(qs_pool_t *p, int force)
{
    double now = qs_now();
    if (!force && now - p->preauth_window < PREAUTH_LOG_WINDOW_S)
        return;
    if (p->preauth_unlogged)
        pool_event(p, 1,
                   "%" PRIu64 " more events of unauthenticated peers (connections, refusals) in "
                   "the last %.0fs were not logged one by one",
                   p->preauth_unlogged, now - p->preauth_window);
    p->preauth_unlogged = 0;
    p->preauth_logged = 0;
    p->preauth_window = now;
}

int pool_remote_log_ok(qs_pool_t *p)
{
    pool_remote_log_flush(p, 0);
    if (p->preauth_logged < PREAUTH_LOG_BURST) {
        p->preauth_logged++;
        return 1;
    }
    return 0;
}

static void reject_peer(worker_t *w, const char *tell, const char *log)
{
    qs_msg_t e = {.type = QS_MSG_ERROR};
    e.u.error.code = QS_ERR(AUTH);
    snprintf(e.u.error.message, sizeof e.u.error.message, "%s", tell);
    pool_send(w, &e);
    pool_worker_fail(w, "%s", log);
}

int pool_remote_hello_ok(worker_t *w, const qs_msg_hello_t *h)
{
    qs_pool_t *p = w->p;
    if (p->has_token) {
        if (!h->has_auth) {
            reject_peer(w, "this run requires a token (--token-file)",
                        "sent no authentication (this run requires a token)");
            return 0;
        }
        if (!qs_auth_check(h->mac, &p->token, "hello", w->nonce, h->nonce)) {
            reject_peer(w, "authentication failed", "failed authentication (wrong token)");
            return 0;
        }
        qs_msg_t wm = {.type = QS_MSG_WELCOME};
        qs_auth_mac(wm.u.welcome.mac, &p->token, "welcome", h->nonce, w->nonce);
        pool_send(w, &wm);
    }
    uv_timer_stop(&w->auth_timer);
    w->reader.max_payload = p->o.configs[0]->max_message;
    return 1;
}

void pool_remote_send_data(worker_t *w, const qs_data_t *d)
{
    qs_msg_t m = {.type = QS_MSG_DATA};
    m.u.data.data_hash = d->hash;
    m.u.data.train = d->train; /* borrowed for encoding */
    m.u.data.fitness = d->fitness;
    pool_event(w->p, 0, "%s asked for the data set; sending %u + %u images", w->name,
               d->train.count, d->fitness.count);
    pool_send(w, &m);
}

void pool_remote_stop(qs_pool_t *p)
{
    pool_remote_log_flush(p, 1);
    if (p->listening && !uv_is_closing((uv_handle_t *)&p->listener))
        uv_close((uv_handle_t *)&p->listener, NULL);
}

static void on_auth_timeout(uv_timer_t *t)
{
    worker_t *w = t->data;
    if (!w->ready)
        pool_worker_fail(w, "did not authenticate within %gs", w->p->o.auth_timeout_s);
}

static void peer_name(uv_tcp_t *tcp, char *buf, size_t cap)
{
    struct sockaddr_storage addr;
    int alen = sizeof addr;
    char ip[64] = "?";
    int port = 0;
    if (uv_tcp_getpeername(tcp, (struct sockaddr *)&addr, &alen) == 0) {
        if (addr.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&addr, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&addr, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
        }
    }
    snprintf(buf, cap, "%s:%d", ip, port);
}

static void on_connection(uv_stream_t *server, int status)
{
    qs_pool_t *p = server->data;
    if (status < 0) {
        pool_event(p, 1, "accepting a remote worker failed: %s", uv_strerror(status));
        return;
    }
    worker_t *w = xcalloc(1, sizeof *w);
    w->remote = 1;
    uv_tcp_init(p->loop, &w->tcp);
    uv_timer_init(p->loop, &w->auth_timer);
    w->tcp.data = w->auth_timer.data = w;
    w->open_handles = 2;
    w->tx = w->rx = (uv_stream_t *)&w->tcp;
    /* Until it authenticates, a peer may send one small message: nothing big is read. */
    qs_frame_reader_init(&w->reader, QS_PREAUTH_MAX_MESSAGE);
    pool_link_worker(p, w);
    snprintf(w->name, sizeof w->name, "remote peer");
    if (uv_accept(server, (uv_stream_t *)&w->tcp) < 0 || p->stopping) {
        w->dying = 1;
        pool_close_worker(w);
        return;
    }
    char peer[96];
    peer_name(&w->tcp, peer, sizeof peer);
    snprintf(w->name, sizeof w->name, "remote worker %u (%s)", ++p->remote_seq, peer);
    w->unlogged = !pool_remote_log_ok(p);
    if (w->unlogged)
        p->preauth_unlogged++;
    else
        pool_event(p, 0, "%s connected", w->name);
    uv_tcp_nodelay(&w->tcp, 1);
    qs_error_t err = {0};
    if (qs_auth_nonce(w->nonce, &err) < 0) {
        pool_worker_fail(w, "%s", err.msg);
        return;
    }
    qs_msg_t c = {.type = QS_MSG_CHALLENGE};
    memcpy(c.u.challenge.nonce, w->nonce, QS_NONCE_LEN);
    pool_send(w, &c);
    uv_timer_start(&w->auth_timer, on_auth_timeout, (uint64_t)(p->o.auth_timeout_s * 1000), 0);
    pool_start_reading(w);
}

int qs_pool_listen(qs_pool_t *p, const char *hostport, const char *token_file, qs_error_t *err)
{
    char host[256];
    int port;
    int rc = qs_parse_hostport(hostport, host, sizeof host, &port, err);
    if (rc < 0)
        return qs_error_prefix(err, "--listen");
    if (token_file) {
        if ((rc = qs_token_load(&p->token, token_file, err)) < 0)
            return rc;
        p->has_token = 1;
    } else if (!qs_host_is_loopback(host)) {
        return qs_error_set(err, QS_ERR(AUTH),
                            "--listen %s: listening beyond loopback needs --token-file (anyone "
                            "who can reach the port could join the run)",
                            hostport);
    }
    struct sockaddr_storage addr;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr) != 0)
        return qs_error_set(err, QS_ERR(INVAL), "--listen %s: '%s' is not an IP address", hostport,
                            host);
    uv_tcp_init(p->loop, &p->listener);
    p->listener.data = p;
    p->listening = 1;
    if ((rc = uv_tcp_bind(&p->listener, (struct sockaddr *)&addr, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&p->listener, 128, on_connection)) < 0)
        return qs_error_set(err, QS_ERR(IO), "--listen %s: %s", hostport, uv_strerror(rc));
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    if (uv_tcp_getsockname(&p->listener, (struct sockaddr *)&bound, &blen) == 0)
        port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port);
    pool_event(p, 1, "listening for remote workers on %s:%d%s", host, port,
               p->has_token ? " (token required)" : " (loopback, no token)");
    return 0;
}
