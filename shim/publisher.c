/* SPDX-License-Identifier: Apache-2.0 */
/* shim/publisher.c — forward task events to containerd (see publisher.h). */
#include "publisher.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "ttrpc.h"

/* containerd puts the namespace in the ttrpc metadata too */
#define NAMESPACE_HEADER "containerd-namespace-ttrpc"

struct event {
        struct event *next;
        char *topic;
        uint8_t *req;           /* encoded ForwardRequest */
        size_t len;
        int attempts;           /* failed sends so far */
        int64_t not_before;     /* monotonic ns */
};

struct shim_publisher {
        struct loop *loop;
        char *address;
        char *ns;
        struct ttrpc_client *client;
        struct event *head, *tail;
        size_t queued;
        bool in_flight;
        bool closing;           /* being freed: answers are ignored */
        int64_t sent_at;
        int timer_fd;
        struct loop_watch timer;
        void (*on_idle)(void *arg);
        void *on_idle_arg;
};

static void pump(struct shim_publisher *p);

uint8_t *shim_forward_request_encode(const char *ns, const char *topic, const ProtobufCMessage *event,
                                     size_t *len)
{
        size_t elen = protobuf_c_message_get_packed_size(event);
        _cleanup_free_ uint8_t *ebuf = xmalloc(elen ? elen : 1);
        protobuf_c_message_pack(event, ebuf);

        Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
        /* typeurl's name for a registered proto: its full name, no prefix */
        any.type_url = (char *)event->descriptor->name;
        any.value.data = ebuf;
        any.value.len = elen;
        _cleanup_free_ Google__Protobuf__Timestamp *ts = shim_timestamp_now();
        Containerd__Services__Events__Ttrpc__V1__Envelope env = CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
        env.timestamp = ts;
        env.namespace_ = (char *)ns;
        env.topic = (char *)topic;
        env.event = &any;
        Containerd__Services__Events__Ttrpc__V1__ForwardRequest req =
                CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
        req.envelope = &env;
        *len = protobuf_c_message_get_packed_size(&req.base);
        uint8_t *out = xmalloc(*len ? *len : 1);
        protobuf_c_message_pack(&req.base, out);
        return out;
}

static void event_free(struct event *e)
{
        free(e->topic);
        free(e->req);
        free(e);
}

static void pop_head(struct shim_publisher *p)
{
        struct event *e = p->head;
        p->head = e->next;
        if (!p->head)
                p->tail = NULL;
        p->queued--;
        event_free(e);
        if (!p->head && p->on_idle)
                p->on_idle(p->on_idle_arg);
}

static void drop_client(struct shim_publisher *p)
{
        struct ttrpc_client *c = p->client;
        p->client = NULL;
        ttrpc_client_free(c);
}

/* The head event was not delivered: retry it later, or give it up. */
static void head_failed(struct shim_publisher *p, const char *why)
{
        struct event *e = p->head;
        e->attempts++;
        if (e->attempts > SHIM_PUBLISH_RETRIES) {
                log_error("events: dropping %s after %d tries: %s", e->topic, e->attempts, why);
                pop_head(p);
                return;
        }
        log_warn("events: forward %s: %s (retry %d in %d s)", e->topic, why, e->attempts, e->attempts);
        e->not_before = loop_now_ns() + (int64_t)e->attempts * 1000000000LL;
}

static void on_reply(void *arg, int code, const char *message, const uint8_t *payload, size_t len)
{
        struct shim_publisher *p = arg;
        if (p->closing)
                return;
        p->in_flight = false;
        loop_timer_arm(p->timer_fd, 0);
        if (code == TTRPC_OK) {
                log_debug("events: forwarded %s", p->head->topic);
                pop_head(p);
        } else {
                char why[512];
                snprintf(why, sizeof why, "%s: %s", ttrpc_code_name(code), message);
                head_failed(p, why);
                if (code == TTRPC_UNAVAILABLE || code == TTRPC_DEADLINE_EXCEEDED)
                        drop_client(p);
        }
        pump(p);
}

/* Send the head event when it is due and nothing is in flight. */
static void pump(struct shim_publisher *p)
{
        while (p->head && !p->in_flight) {
                int64_t now = loop_now_ns();
                if (p->head->not_before > now) {
                        loop_timer_arm(p->timer_fd, (uint64_t)((p->head->not_before - now) / 1000000 + 1));
                        return;
                }
                if (p->client && ttrpc_client_closed(p->client))
                        drop_client(p);
                struct cella_error err = { 0 };
                if (!p->client && ttrpc_client_dial(p->loop, p->address, &p->client, &err) < 0) {
                        head_failed(p, err.msg);
                        continue;
                }
                const struct ttrpc_kv md[] = { { NAMESPACE_HEADER, p->ns } };
                const struct ttrpc_call_opts opts = {
                        .timeout_nano = (int64_t)SHIM_PUBLISH_TIMEOUT_MS * 1000000,
                        .metadata = md,
                        .n_metadata = ARRAY_SIZE(md),
                };
                if (ttrpc_client_call(p->client, SHIM_EVENTS_SERVICE, "Forward", p->head->req, p->head->len, &opts,
                                      on_reply, p, &err) < 0) {
                        drop_client(p);
                        head_failed(p, err.msg);
                        continue;
                }
                p->in_flight = true;
                p->sent_at = now;
                loop_timer_arm(p->timer_fd, SHIM_PUBLISH_TIMEOUT_MS);
        }
}

static void on_timer(struct loop_watch *w, uint32_t events)
{
        struct shim_publisher *p = (struct shim_publisher *)((char *)w - offsetof(struct shim_publisher, timer));
        loop_timer_ack(p->timer_fd);
        if (p->in_flight && loop_now_ns() - p->sent_at >= (int64_t)SHIM_PUBLISH_TIMEOUT_MS * 1000000) {
                /* no answer in time: the pending call fails with
                 * Unavailable and on_reply schedules the retry */
                log_warn("events: no answer from containerd in %d ms", SHIM_PUBLISH_TIMEOUT_MS);
                drop_client(p);
                return;
        }
        pump(p);
}

struct shim_publisher *shim_publisher_new(struct loop *l, const char *address, const char *ns)
{
        int tfd = loop_timer_new();
        if (tfd < 0)
                return NULL;
        struct shim_publisher *p = xcalloc(1, sizeof *p);
        p->loop = l;
        p->address = xstrdup(address);
        p->ns = xstrdup(ns);
        p->timer_fd = tfd;
        if (loop_add(l, &p->timer, tfd, EPOLLIN, on_timer) < 0) {
                close(tfd);
                free(p->address);
                free(p->ns);
                free(p);
                return NULL;
        }
        return p;
}

int shim_publish(struct shim_publisher *p, const char *topic, const ProtobufCMessage *event,
                 struct cella_error *err)
{
        if (p->queued >= SHIM_PUBLISH_QUEUE_MAX) {
                log_error("events: queue full (%d): dropping %s", SHIM_PUBLISH_QUEUE_MAX, topic);
                return cella_error_msg(err, ENOSPC, "events: queue full: %s dropped", topic);
        }
        struct event *e = xcalloc(1, sizeof *e);
        e->topic = xstrdup(topic);
        e->req = shim_forward_request_encode(p->ns, topic, event, &e->len);
        if (p->tail)
                p->tail->next = e;
        else
                p->head = e;
        p->tail = e;
        p->queued++;
        pump(p);
        return 0;
}

bool shim_publisher_idle(const struct shim_publisher *p)
{
        return p->head == NULL;
}

void shim_publisher_on_idle(struct shim_publisher *p, void (*fn)(void *arg), void *arg)
{
        p->on_idle = fn;
        p->on_idle_arg = arg;
}

static void publisher_destroy(void *arg)
{
        struct shim_publisher *p = arg;
        free(p->address);
        free(p->ns);
        free(p);
}

void shim_publisher_free(struct shim_publisher *p)
{
        if (!p)
                return;
        p->on_idle = NULL;
        p->closing = true;
        loop_del(p->loop, &p->timer);
        close(p->timer_fd);
        if (p->queued)
                log_warn("events: %zu event(s) not delivered", p->queued);
        /* the pending call's answer (Unavailable) must not reach a freed
         * publisher: take the queue first */
        struct event *e = p->head;
        p->head = p->tail = NULL;
        p->queued = 0;
        while (e) {
                struct event *next = e->next;
                event_free(e);
                e = next;
        }
        struct ttrpc_client *c = p->client;
        p->client = NULL;
        p->in_flight = false;
        ttrpc_client_free(c);
        loop_defer_free(p->loop, p, publisher_destroy);
}
