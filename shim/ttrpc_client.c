/* SPDX-License-Identifier: Apache-2.0 */
/* shim/ttrpc_client.c — the ttrpc client on the epoll loop (see ttrpc.h).
 *
 * The shim is a client of one service: containerd's events service, to
 * which it forwards task events. Requests get odd stream ids 1, 3, 5...;
 * answers are matched by stream id, in whatever order they come. Requests
 * are written from the loop only, so an answer callback never runs inside
 * ttrpc_client_call. */
#include "ttrpc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

struct pending {
        struct pending *next;
        uint32_t stream_id;
        ttrpc_reply_fn fn;
        void *arg;
};

struct ttrpc_client {
        struct loop_watch watch;        /* first: the callback's container */
        struct loop *loop;
        int fd;
        uint32_t next_id;
        struct ttrpc_reader in;
        struct ttrpc_outbuf out;
        struct pending *pending;
        size_t n_pending;
        bool dead;
        unsigned busy;                  /* > 0 while callbacks run */
        bool free_wanted;
        void (*on_close)(void *arg);
        void *on_close_arg;
};

static void client_on_event(struct loop_watch *w, uint32_t events);

struct ttrpc_client *ttrpc_client_new(struct loop *l, int fd)
{
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
                close(fd);
                return NULL;
        }
        struct ttrpc_client *c = xcalloc(1, sizeof *c);
        c->loop = l;
        c->fd = fd;
        c->next_id = 1;
        if (loop_add(l, &c->watch, fd, EPOLLIN, client_on_event) < 0) {
                close(fd);
                free(c);
                return NULL;
        }
        return c;
}

void ttrpc_client_on_close(struct ttrpc_client *c, void (*fn)(void *arg), void *arg)
{
        c->on_close = fn;
        c->on_close_arg = arg;
}

bool ttrpc_client_closed(const struct ttrpc_client *c)
{
        return c->dead;
}

size_t ttrpc_client_pending(const struct ttrpc_client *c)
{
        return c->n_pending;
}

static struct pending *take_pending(struct ttrpc_client *c, uint32_t stream_id)
{
        for (struct pending **pp = &c->pending; *pp; pp = &(*pp)->next) {
                if ((*pp)->stream_id == stream_id) {
                        struct pending *p = *pp;
                        *pp = p->next;
                        c->n_pending--;
                        return p;
                }
        }
        return NULL;
}

static void client_destroy(void *p)
{
        struct ttrpc_client *c = p;
        ttrpc_reader_release(&c->in);
        ttrpc_outbuf_release(&c->out);
        free(c);
}

/* The connection is lost: every pending call fails with Unavailable. */
static void client_die(struct ttrpc_client *c, bool tell)
{
        if (c->dead)
                return;
        c->dead = true;
        loop_del(c->loop, &c->watch);
        close(c->fd);
        c->fd = -1;
        c->busy++;
        while (c->pending) {
                struct pending *p = c->pending;
                c->pending = p->next;
                c->n_pending--;
                p->fn(p->arg, TTRPC_UNAVAILABLE, "ttrpc: closed", NULL, 0);
                free(p);
        }
        if (tell && c->on_close)
                c->on_close(c->on_close_arg);
        c->busy--;
}

void ttrpc_client_free(struct ttrpc_client *c)
{
        if (!c)
                return;
        client_die(c, false);
        if (c->busy) {
                c->free_wanted = true;
                return;
        }
        loop_defer_free(c->loop, c, client_destroy);
}

static void update_interest(struct ttrpc_client *c)
{
        loop_mod(c->loop, &c->watch, EPOLLIN | (ttrpc_outbuf_len(&c->out) ? EPOLLOUT : 0));
}

int ttrpc_client_call(struct ttrpc_client *c, const char *service, const char *method, const void *payload,
                      size_t len, const struct ttrpc_call_opts *opts, ttrpc_reply_fn fn, void *arg,
                      struct cella_error *err)
{
        if (c->dead)
                return cella_error_msg(err, ENOTCONN, "ttrpc: closed");
        size_t blen;
        _cleanup_free_ uint8_t *body = ttrpc_request_encode(service, method, payload, len,
                                                            opts ? opts->timeout_nano : 0,
                                                            opts ? opts->metadata : NULL,
                                                            opts ? opts->n_metadata : 0, &blen);
        if (blen > TTRPC_MESSAGE_MAX)
                return cella_error_msg(err, EMSGSIZE, "ttrpc: %s/%s: message of %zu bytes exceeds the %u-byte limit",
                                       service, method, blen, TTRPC_MESSAGE_MAX);
        struct pending *p = xcalloc(1, sizeof *p);
        p->stream_id = c->next_id;
        p->fn = fn;
        p->arg = arg;
        p->next = c->pending;
        c->pending = p;
        c->n_pending++;
        c->next_id += 2;
        ttrpc_outbuf_frame(&c->out, p->stream_id, TTRPC_TYPE_REQUEST, 0, body, blen);
        update_interest(c);
        return 0;
}

static void handle_frame(struct ttrpc_client *c, enum ttrpc_read kind, const struct ttrpc_header *h,
                         const uint8_t *body)
{
        if (kind == TTRPC_READ_FRAME && h->type != TTRPC_TYPE_RESPONSE) {
                log_warn("ttrpc client: stream %u: ignoring a frame of type %u", h->stream_id, h->type);
                return;
        }
        struct pending *p = take_pending(c, h->stream_id);
        if (!p) {
                log_warn("ttrpc client: received a message for unknown stream %u", h->stream_id);
                return;
        }
        if (kind == TTRPC_READ_OVERSIZE) {
                char msg[128];
                snprintf(msg, sizeof msg, "message length %u exceed maximum message size of %u", h->length,
                         TTRPC_MESSAGE_MAX);
                p->fn(p->arg, TTRPC_RESOURCE_EXHAUSTED, msg, NULL, 0);
        } else {
                int code;
                _cleanup_free_ char *msg = NULL;
                _cleanup_free_ uint8_t *payload = NULL;
                size_t plen;
                if (ttrpc_response_decode(body, h->length, &code, &msg, &payload, &plen) < 0)
                        p->fn(p->arg, TTRPC_INTERNAL, "ttrpc: response is not a ttrpc.Response", NULL, 0);
                else
                        p->fn(p->arg, code, msg, payload, plen);
        }
        free(p);
}

static void client_read(struct ttrpc_client *c)
{
        uint8_t buf[16384];
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0) {
                if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                        return;
                log_warn("ttrpc client: read: %s", strerror(errno));
                client_die(c, true);
                return;
        }
        if (n == 0) {
                log_debug("ttrpc client: connection closed by the server");
                client_die(c, true);
                return;
        }
        struct ttrpc_header h;
        const uint8_t *body;
        enum ttrpc_read kind;
        ttrpc_reader_feed(&c->in, buf, (size_t)n);
        while (!c->dead && (kind = ttrpc_reader_next(&c->in, &h, &body)) != TTRPC_READ_MORE)
                handle_frame(c, kind, &h, body);
}

static void client_on_event(struct loop_watch *w, uint32_t events)
{
        struct ttrpc_client *c = (struct ttrpc_client *)w;
        c->busy++;
        if (events & EPOLLOUT) {
                int r = ttrpc_outbuf_flush(&c->out, c->fd);
                if (r < 0) {
                        log_warn("ttrpc client: write: %s", strerror(-r));
                        client_die(c, true);
                }
        }
        if (!c->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                client_read(c);
        if (!c->dead)
                update_interest(c);
        c->busy--;
        if (c->free_wanted && !c->busy)
                loop_defer_free(c->loop, c, client_destroy);
}

int ttrpc_client_dial(struct loop *l, const char *address, struct ttrpc_client **out, struct cella_error *err)
{
        const char *path = str_has_prefix(address, "unix://") ? address + strlen("unix://") : address;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (!*path || strlen(path) >= sizeof sa.sun_path)
                return cella_error_msg(err, EINVAL, "ttrpc: bad socket address \"%s\"", address);
        memcpy(sa.sun_path, path, strlen(path));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return cella_error_sys(err, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int r = cella_error_sys(err, "connect %s", path);
                close(fd);
                return r;
        }
        struct ttrpc_client *c = ttrpc_client_new(l, fd);
        if (!c)
                return cella_error_msg(err, ENOMEM, "ttrpc: client for %s", path);
        *out = c;
        return 0;
}
