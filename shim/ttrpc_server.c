/* SPDX-License-Identifier: Apache-2.0 */
/* shim/ttrpc_server.c — the ttrpc server on the epoll loop (see ttrpc.h).
 *
 * A connection reads what the socket has, cuts it into frames and
 * dispatches each request at once, so many requests are in flight on one
 * connection and a method may answer later (a Wait). Answers are queued in
 * the connection's write buffer and written as the socket takes them.
 * Every bad frame gets the status Go's ttrpc gives it and a log line; the
 * connection stays up unless the byte stream itself is lost. */
#include "ttrpc.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

#define TTRPC_MAX_SERVICES 8
/* stop reading a peer whose unread answers pass this (it reads nothing) */
#define TTRPC_OUT_HIGH (2 * TTRPC_MESSAGE_MAX)
/* calls one connection may have unanswered (each holds its request) */
#define TTRPC_MAX_IN_FLIGHT 4096
#define TTRPC_READ_CHUNK 65536
#define TTRPC_READS_PER_EVENT 16

struct registered {
        const struct ttrpc_service *svc;
        void *data;
};

struct ttrpc_call {
        struct ttrpc_server *srv;       /* NULL once the server is freed */
        struct ttrpc_conn *conn;        /* NULL once orphaned */
        struct ttrpc_call *prev, *next; /* on conn->calls or srv->orphans */
        uint32_t stream_id;
        void *data;
        struct ttrpc_request req;
};

struct ttrpc_conn {
        struct loop_watch watch;        /* first: the callback's container */
        struct ttrpc_server *srv;
        struct ttrpc_conn *prev, *next;
        struct ttrpc_reader in;
        struct ttrpc_outbuf out;
        struct ttrpc_call *calls;
        size_t n_calls;
        int fd;
        unsigned in_feed;               /* > 0 while frames are handled */
        bool dead;
};

struct ttrpc_server {
        struct loop *loop;
        unsigned flags;
        struct registered services[TTRPC_MAX_SERVICES];
        size_t n_services;
        int listen_fd;
        struct loop_watch listen_watch;
        struct ttrpc_conn *conns;
        size_t n_conns;
        struct ttrpc_call *orphans;
        bool closing;
        bool drained_done;
        void (*drained)(void *arg);
        void *drained_arg;
};

static int conn_kick(struct ttrpc_conn *c);

/* ----------------------------------------------------------- lists */

#define LIST_PUSH(head, x)                      \
        do {                                    \
                (x)->prev = NULL;               \
                (x)->next = (head);             \
                if (head)                       \
                        (head)->prev = (x);     \
                (head) = (x);                   \
        } while (0)

#define LIST_UNLINK(head, x)                    \
        do {                                    \
                if ((x)->prev)                  \
                        (x)->prev->next = (x)->next; \
                else                            \
                        (head) = (x)->next;     \
                if ((x)->next)                  \
                        (x)->next->prev = (x)->prev; \
                (x)->prev = (x)->next = NULL;   \
        } while (0)

/* ----------------------------------------------------------- server */

struct ttrpc_server *ttrpc_server_new(struct loop *l, unsigned flags)
{
        struct ttrpc_server *s = xcalloc(1, sizeof *s);
        s->loop = l;
        s->flags = flags;
        s->listen_fd = -1;
        s->listen_watch.fd = -1;
        return s;
}

int ttrpc_server_register(struct ttrpc_server *s, const struct ttrpc_service *svc, void *data)
{
        for (size_t i = 0; i < s->n_services; i++)
                if (streq(s->services[i].svc->name, svc->name))
                        return -EEXIST;
        if (s->n_services == TTRPC_MAX_SERVICES)
                return -ENOSPC;
        s->services[s->n_services++] = (struct registered){ svc, data };
        return 0;
}

bool ttrpc_server_closing(const struct ttrpc_server *s)
{
        return s->closing;
}

size_t ttrpc_server_conn_count(const struct ttrpc_server *s)
{
        return s->n_conns;
}

static void close_listener(struct ttrpc_server *s)
{
        if (s->listen_fd < 0)
                return;
        loop_del(s->loop, &s->listen_watch);
        close(s->listen_fd);
        s->listen_fd = -1;
}

static void check_drained(struct ttrpc_server *s)
{
        if (!s->closing || s->drained_done)
                return;
        for (struct ttrpc_conn *c = s->conns; c; c = c->next)
                if (c->calls || ttrpc_outbuf_len(&c->out))
                        return;
        s->drained_done = true;
        if (s->drained)
                s->drained(s->drained_arg);
}

void ttrpc_server_shutdown(struct ttrpc_server *s, void (*drained)(void *arg), void *arg)
{
        if (s->closing)
                return;
        s->closing = true;
        s->drained = drained;
        s->drained_arg = arg;
        close_listener(s);
        log_debug("ttrpc: server shutting down");
        check_drained(s);
}

/* ------------------------------------------------------------- calls */

static void call_free(struct ttrpc_call *call)
{
        ttrpc_request_free(&call->req);
        free(call);
}

/* The connection is gone: its calls live on until answered. */
static void orphan_calls(struct ttrpc_conn *c)
{
        while (c->calls) {
                struct ttrpc_call *call = c->calls;
                LIST_UNLINK(c->calls, call);
                call->conn = NULL;
                c->n_calls--;
                if (call->srv)
                        LIST_PUSH(call->srv->orphans, call);
        }
}

static void send_status(struct ttrpc_conn *c, uint32_t stream_id, int code, const char *msg)
{
        size_t len;
        _cleanup_free_ uint8_t *body = ttrpc_response_encode(code, msg, NULL, 0, &len);
        ttrpc_outbuf_frame(&c->out, stream_id, TTRPC_TYPE_RESPONSE, 0, body, len);
}

/* Answer the call (payload for OK, msg for an error), then free it. */
static void call_finish(struct ttrpc_call *call, int code, const char *msg, const void *payload, size_t len)
{
        struct ttrpc_conn *c = call->conn;
        if (c) {
                LIST_UNLINK(c->calls, call);
                c->n_calls--;
                size_t blen;
                _cleanup_free_ uint8_t *body = ttrpc_response_encode(code, msg, payload, len, &blen);
                if (blen > TTRPC_MESSAGE_MAX) {
                        log_warn("ttrpc: %s/%s: response of %zu bytes exceeds the %u-byte limit",
                                 call->req.service, call->req.method, blen, TTRPC_MESSAGE_MAX);
                        char m[128];
                        snprintf(m, sizeof m, "response of %zu bytes exceeds maximum message size of %u", blen,
                                 TTRPC_MESSAGE_MAX);
                        send_status(c, call->stream_id, TTRPC_RESOURCE_EXHAUSTED, m);
                } else {
                        ttrpc_outbuf_frame(&c->out, call->stream_id, TTRPC_TYPE_RESPONSE, 0, body, blen);
                }
        } else if (call->srv) {
                LIST_UNLINK(call->srv->orphans, call);
        }
        call_free(call);
        /* a late answer goes out now; one given during dispatch at the end
         * of the feed */
        if (c && !c->in_feed)
                conn_kick(c);
}

void ttrpc_call_reply(struct ttrpc_call *call, const void *payload, size_t len)
{
        call_finish(call, TTRPC_OK, NULL, payload, len);
}

void ttrpc_call_fail(struct ttrpc_call *call, int code, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (code == TTRPC_OK)
                code = TTRPC_UNKNOWN;
        log_debug("ttrpc: %s/%s (stream %u): %s: %s", call->req.service, call->req.method, call->stream_id,
                  ttrpc_code_name(code), msg);
        call_finish(call, code, msg, NULL, 0);
}

const char *ttrpc_call_service(const struct ttrpc_call *c) { return c->req.service; }
const char *ttrpc_call_method(const struct ttrpc_call *c) { return c->req.method; }
uint32_t ttrpc_call_stream(const struct ttrpc_call *c) { return c->stream_id; }
int64_t ttrpc_call_timeout_nano(const struct ttrpc_call *c) { return c->req.timeout_nano; }
void *ttrpc_call_data(const struct ttrpc_call *c) { return c->data; }
struct ttrpc_server *ttrpc_call_server(const struct ttrpc_call *c) { return c->srv; }
bool ttrpc_call_orphaned(const struct ttrpc_call *c) { return c->conn == NULL; }

const char *ttrpc_call_metadata(const struct ttrpc_call *c, const char *key)
{
        for (size_t i = 0; i < c->req.n_metadata; i++)
                if (strcasecmp(c->req.metadata[i].key, key) == 0)
                        return c->req.metadata[i].value;
        return NULL;
}

/* ---------------------------------------------------------- dispatch */

static const struct registered *find_service(struct ttrpc_server *s, const char *name)
{
        for (size_t i = 0; i < s->n_services; i++)
                if (streq(s->services[i].svc->name, name))
                        return &s->services[i];
        return NULL;
}

static struct ttrpc_call *find_call(struct ttrpc_conn *c, uint32_t stream_id)
{
        for (struct ttrpc_call *call = c->calls; call; call = call->next)
                if (call->stream_id == stream_id)
                        return call;
        return NULL;
}

/* Reject a frame: a status on its stream id and a log line. */
static void reject(struct ttrpc_conn *c, uint32_t stream_id, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void reject(struct ttrpc_conn *c, uint32_t stream_id, int code, const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        log_warn("ttrpc: stream %u: %s: %s", stream_id, ttrpc_code_name(code), msg);
        send_status(c, stream_id, code, msg);
}

static void handle_request(struct ttrpc_conn *c, uint32_t stream_id, const uint8_t *body, size_t len)
{
        struct ttrpc_server *s = c->srv;
        struct ttrpc_request req;
        if (ttrpc_request_decode(body, len, &req) < 0) {
                reject(c, stream_id, TTRPC_INVALID_ARGUMENT, "unmarshal request error: not a ttrpc.Request (%zu bytes)", len);
                return;
        }
        if (find_call(c, stream_id)) {
                reject(c, stream_id, TTRPC_INVALID_ARGUMENT, "StreamID %u is already in use", stream_id);
        } else if (s->closing) {
                reject(c, stream_id, TTRPC_UNAVAILABLE, "ttrpc: server shutting down");
        } else if (c->n_calls >= TTRPC_MAX_IN_FLIGHT) {
                reject(c, stream_id, TTRPC_RESOURCE_EXHAUSTED, "%d requests already in flight on this connection",
                       TTRPC_MAX_IN_FLIGHT);
        } else {
                const struct registered *reg = find_service(s, req.service);
                const struct ttrpc_method *m = NULL;
                for (size_t i = 0; reg && i < reg->svc->n_methods; i++)
                        if (streq(reg->svc->methods[i].name, req.method))
                                m = &reg->svc->methods[i];
                if (!reg) {
                        reject(c, stream_id, TTRPC_UNIMPLEMENTED, "service %s", req.service);
                } else if (!m) {
                        reject(c, stream_id, TTRPC_UNIMPLEMENTED, "method %s", req.method);
                } else {
                        struct ttrpc_call *call = xcalloc(1, sizeof *call);
                        call->srv = s;
                        call->conn = c;
                        call->stream_id = stream_id;
                        call->data = reg->data;
                        call->req = req;
                        LIST_PUSH(c->calls, call);
                        c->n_calls++;
                        log_debug("ttrpc: stream %u: %s/%s", stream_id, req.service, req.method);
                        m->fn(call, req.payload, req.payload_len);
                        return;
                }
        }
        ttrpc_request_free(&req);
}

static void handle_frame(struct ttrpc_conn *c, enum ttrpc_read kind, const struct ttrpc_header *h,
                         const uint8_t *body)
{
        if (kind == TTRPC_READ_OVERSIZE) {
                reject(c, h->stream_id, TTRPC_RESOURCE_EXHAUSTED,
                       "message length %u exceed maximum message size of %u", h->length, TTRPC_MESSAGE_MAX);
                return;
        }
        if (h->type != TTRPC_TYPE_REQUEST && h->type != TTRPC_TYPE_DATA) {
                /* responses are not for a server; other types are ignored
                 * for future compatibility, as Go's ttrpc does */
                log_warn("ttrpc: stream %u: ignoring a frame of type %u (%u bytes)", h->stream_id, h->type,
                         h->length);
                return;
        }
        if (h->stream_id % 2 != 1) {
                reject(c, h->stream_id, TTRPC_INVALID_ARGUMENT, "StreamID must be odd for client initiated streams");
                return;
        }
        if (h->type == TTRPC_TYPE_DATA) {
                if (find_call(c, h->stream_id))
                        reject(c, h->stream_id, TTRPC_INVALID_ARGUMENT, "data is not allowed on a unary stream");
                else
                        reject(c, h->stream_id, TTRPC_INVALID_ARGUMENT, "StreamID is no longer active");
                return;
        }
        handle_request(c, h->stream_id, body, h->length);
}

/* -------------------------------------------------------- connection */

static void conn_destroy(void *p)
{
        struct ttrpc_conn *c = p;
        ttrpc_reader_release(&c->in);
        ttrpc_outbuf_release(&c->out);
        free(c);
}

/* Close the socket; the memory goes after the current event batch (or at
 * the end of the feed that is running). */
static void conn_close(struct ttrpc_conn *c)
{
        if (c->dead)
                return;
        struct ttrpc_server *s = c->srv;
        c->dead = true;
        loop_del(s->loop, &c->watch);
        close(c->fd);
        c->fd = -1;
        orphan_calls(c);
        LIST_UNLINK(s->conns, c);
        s->n_conns--;
        if (!c->in_feed)
                loop_defer_free(s->loop, c, conn_destroy);
        check_drained(s);
}

/* Write what is queued; watch for writability while some is left; stop
 * reading from a peer that leaves its answers unread. 0, or -1 when the
 * connection is gone (c may be freed). */
static int conn_kick(struct ttrpc_conn *c)
{
        if (c->dead)
                return -1;
        int r = ttrpc_outbuf_flush(&c->out, c->fd);
        if (r < 0) {
                if (r == -EPIPE || r == -ECONNRESET)
                        log_debug("ttrpc: peer went away before its answers were written");
                else
                        log_warn("ttrpc: write: %s", strerror(-r));
                conn_close(c);
                return -1;
        }
        uint32_t ev = r == 1 ? EPOLLOUT : 0;
        if (ttrpc_outbuf_len(&c->out) < TTRPC_OUT_HIGH)
                ev |= EPOLLIN;
        loop_mod(c->srv->loop, &c->watch, ev);
        check_drained(c->srv);
        return 0;
}

int ttrpc_conn_feed(struct ttrpc_conn *c, const void *data, size_t n)
{
        struct ttrpc_header h;
        const uint8_t *body;
        enum ttrpc_read kind;
        c->in_feed++;
        ttrpc_reader_feed(&c->in, data, n);
        while (!c->dead && (kind = ttrpc_reader_next(&c->in, &h, &body)) != TTRPC_READ_MORE)
                handle_frame(c, kind, &h, body);
        c->in_feed--;
        if (c->dead) {
                if (!c->in_feed)
                        loop_defer_free(c->srv->loop, c, conn_destroy);
                return -1;
        }
        return c->in_feed ? 0 : conn_kick(c);
}

/* The peer closed: say what was cut short, write what we can, close. */
static void conn_eof(struct ttrpc_conn *c)
{
        uint64_t pending = ttrpc_reader_pending(&c->in);
        if (pending) {
                struct ttrpc_header h = { 0 };
                size_t have = c->in.end - c->in.start;
                if (have >= TTRPC_HEADER_LEN && !c->in.discard) {
                        ttrpc_header_decode(c->in.buf + c->in.start, &h);
                        reject(c, h.stream_id, TTRPC_INVALID_ARGUMENT,
                               "message truncated: connection closed after %zu of %u bytes",
                               have - TTRPC_HEADER_LEN, h.length);
                } else {
                        log_warn("ttrpc: connection closed in the middle of a frame (%llu bytes)",
                                 (unsigned long long)pending);
                }
        } else {
                log_debug("ttrpc: connection closed by the peer");
        }
        /* a half-closed peer may still read: one try, never a wait */
        if (ttrpc_outbuf_len(&c->out))
                ttrpc_outbuf_flush(&c->out, c->fd);
        conn_close(c);
}

static void conn_read(struct ttrpc_conn *c)
{
        uint8_t buf[TTRPC_READ_CHUNK];
        for (int i = 0; i < TTRPC_READS_PER_EVENT; i++) {
                ssize_t n = read(c->fd, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return;
                        log_warn("ttrpc: read: %s", strerror(errno));
                        conn_close(c);
                        return;
                }
                if (n == 0) {
                        conn_eof(c);
                        return;
                }
                if (ttrpc_conn_feed(c, buf, (size_t)n) < 0)
                        return;
                if (ttrpc_outbuf_len(&c->out) >= TTRPC_OUT_HIGH || (size_t)n < sizeof buf)
                        return;
        }
}

static void conn_on_event(struct loop_watch *w, uint32_t events)
{
        struct ttrpc_conn *c = (struct ttrpc_conn *)w;
        if ((events & EPOLLOUT) && conn_kick(c) < 0)
                return;
        if (events & EPOLLIN)
                conn_read(c);
        else if (events & (EPOLLHUP | EPOLLERR))
                conn_close(c);
}

struct ttrpc_conn *ttrpc_server_add_conn(struct ttrpc_server *s, int fd)
{
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
                log_warn("ttrpc: fcntl: %s", strerror(errno));
                close(fd);
                return NULL;
        }
        struct ttrpc_conn *c = xcalloc(1, sizeof *c);
        c->srv = s;
        c->fd = fd;
        int r = loop_add(s->loop, &c->watch, fd, EPOLLIN, conn_on_event);
        if (r < 0) {
                log_warn("ttrpc: epoll: %s", strerror(-r));
                close(fd);
                free(c);
                return NULL;
        }
        LIST_PUSH(s->conns, c);
        s->n_conns++;
        return c;
}

/* ---------------------------------------------------------- listener */

static bool peer_allowed(int fd)
{
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                log_warn("ttrpc: SO_PEERCRED: %s", strerror(errno));
                return false;
        }
        if (cred.uid == 0 || cred.uid == geteuid())
                return true;
        log_warn("ttrpc: refusing a connection from uid %u (pid %d)", cred.uid, cred.pid);
        return false;
}

static void on_accept(struct loop_watch *w, uint32_t events)
{
        struct ttrpc_server *s = (struct ttrpc_server *)((char *)w - offsetof(struct ttrpc_server, listen_watch));
        for (;;) {
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        if (errno != EAGAIN && errno != EWOULDBLOCK)
                                log_warn("ttrpc: accept: %s", strerror(errno));
                        return;
                }
                if ((s->flags & TTRPC_SERVER_SAME_USER) && !peer_allowed(fd)) {
                        close(fd);
                        continue;
                }
                ttrpc_server_add_conn(s, fd);
        }
}

int ttrpc_server_listen(struct ttrpc_server *s, int listen_fd, struct cella_error *err)
{
        int fl = fcntl(listen_fd, F_GETFL);
        if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
                int r = cella_error_sys(err, "listening socket %d", listen_fd);
                close(listen_fd);
                return r;
        }
        close_listener(s);
        s->listen_fd = listen_fd;
        int r = loop_add(s->loop, &s->listen_watch, listen_fd, EPOLLIN, on_accept);
        if (r < 0) {
                s->listen_fd = -1;
                close(listen_fd);
                return cella_error_set(err, -r, "epoll: listening socket");
        }
        return 0;
}

void ttrpc_server_free(struct ttrpc_server *s)
{
        if (!s)
                return;
        s->drained = NULL;
        s->drained_done = true;
        close_listener(s);
        while (s->conns)
                conn_close(s->conns);
        while (s->orphans) {
                struct ttrpc_call *call = s->orphans;
                LIST_UNLINK(s->orphans, call);
                call->srv = NULL;
        }
        free(s);
}
