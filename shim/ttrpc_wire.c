/* SPDX-License-Identifier: Apache-2.0 */
/* shim/ttrpc_wire.c — ttrpc frames and envelope messages (see ttrpc.h):
 * status codes, the 10-byte header, the frame reader and write buffer,
 * and ttrpc.Request / ttrpc.Response through the code protoc-c generates
 * from shim/ttrpc.proto. Nothing here touches a socket except flush. */
#include "ttrpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/util.h"
#include "ttrpc.pb-c.h"

/* Buffers larger than this are given back once empty, so one 4 MiB
 * message does not pin 4 MiB for the life of a connection. */
#define TTRPC_BUF_KEEP (64u << 10)

static const char *const code_names[] = {
        "OK",           "Canceled",         "Unknown",          "InvalidArgument",    "DeadlineExceeded",
        "NotFound",     "AlreadyExists",    "PermissionDenied", "ResourceExhausted",  "FailedPrecondition",
        "Aborted",      "OutOfRange",       "Unimplemented",    "Internal",           "Unavailable",
        "DataLoss",     "Unauthenticated",
};

const char *ttrpc_code_name(int code)
{
        static __thread char other[24];
        if (code >= 0 && (size_t)code < ARRAY_SIZE(code_names))
                return code_names[code];
        snprintf(other, sizeof other, "Code(%d)", code);
        return other;
}

int ttrpc_code_from_errno(int errnum)
{
        switch (errnum) {
        case 0: return TTRPC_OK;
        case ENOENT: case ESRCH: return TTRPC_NOT_FOUND;
        case EEXIST: return TTRPC_ALREADY_EXISTS;
        case EINVAL: case EBADMSG: case ENAMETOOLONG: return TTRPC_INVALID_ARGUMENT;
        case EPERM: case EACCES: return TTRPC_PERMISSION_DENIED;
        case ENOSYS: case EOPNOTSUPP: return TTRPC_UNIMPLEMENTED;
        case EBUSY: case EALREADY: return TTRPC_FAILED_PRECONDITION;
        case ETIMEDOUT: return TTRPC_DEADLINE_EXCEEDED;
        case ECANCELED: return TTRPC_CANCELLED;
        case ENOMEM: case ENOSPC: case EMFILE: case ENFILE: case E2BIG: case EMSGSIZE:
                return TTRPC_RESOURCE_EXHAUSTED;
        case ECONNREFUSED: case ECONNRESET: case EPIPE: case ENOTCONN: case ESHUTDOWN:
                return TTRPC_UNAVAILABLE;
        case ERANGE: case EOVERFLOW: return TTRPC_OUT_OF_RANGE;
        default: return TTRPC_UNKNOWN;
        }
}

/* ------------------------------------------------------------ header */

void ttrpc_header_encode(uint8_t out[TTRPC_HEADER_LEN], const struct ttrpc_header *h)
{
        out[0] = (uint8_t)(h->length >> 24);
        out[1] = (uint8_t)(h->length >> 16);
        out[2] = (uint8_t)(h->length >> 8);
        out[3] = (uint8_t)h->length;
        out[4] = (uint8_t)(h->stream_id >> 24);
        out[5] = (uint8_t)(h->stream_id >> 16);
        out[6] = (uint8_t)(h->stream_id >> 8);
        out[7] = (uint8_t)h->stream_id;
        out[8] = h->type;
        out[9] = h->flags;
}

static uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void ttrpc_header_decode(const uint8_t in[TTRPC_HEADER_LEN], struct ttrpc_header *h)
{
        h->length = be32(in);
        h->stream_id = be32(in + 4);
        h->type = in[8];
        h->flags = in[9];
}

/* ------------------------------------------------ growable byte window */

/* Make room for n more bytes at buf[end]: slide the live bytes to the
 * front, then grow. */
static void window_reserve(uint8_t **buf, size_t *start, size_t *end, size_t *cap, size_t n)
{
        if (*start == *end) {
                *start = *end = 0;
                if (*cap > TTRPC_BUF_KEEP && n <= TTRPC_BUF_KEEP) {
                        free(*buf);
                        *buf = NULL;
                        *cap = 0;
                }
        }
        if (*end + n <= *cap)
                return;
        if (*start > 0) {
                memmove(*buf, *buf + *start, *end - *start);
                *end -= *start;
                *start = 0;
        }
        if (*end + n <= *cap)
                return;
        size_t want = *cap ? *cap : 4096;
        while (want < *end + n)
                want *= 2;
        *buf = xrealloc(*buf, want);
        *cap = want;
}

/* ------------------------------------------------------------ reader */

void ttrpc_reader_feed(struct ttrpc_reader *r, const void *data, size_t n)
{
        const uint8_t *p = data;
        if (r->discard) {
                size_t d = n < r->discard ? n : (size_t)r->discard;
                p += d;
                n -= d;
                r->discard -= d;
        }
        if (n == 0)
                return;
        window_reserve(&r->buf, &r->start, &r->end, &r->cap, n);
        memcpy(r->buf + r->end, p, n);
        r->end += n;
}

enum ttrpc_read ttrpc_reader_next(struct ttrpc_reader *r, struct ttrpc_header *h, const uint8_t **body)
{
        size_t avail = r->end - r->start;
        if (avail < TTRPC_HEADER_LEN)
                return TTRPC_READ_MORE;
        ttrpc_header_decode(r->buf + r->start, h);
        if (h->length > TTRPC_MESSAGE_MAX) {
                /* drop what is here of the body, the rest as it comes */
                avail -= TTRPC_HEADER_LEN;
                size_t d = avail < h->length ? avail : h->length;
                r->start += TTRPC_HEADER_LEN + d;
                r->discard = h->length - d;
                *body = NULL;
                return TTRPC_READ_OVERSIZE;
        }
        if (avail - TTRPC_HEADER_LEN < h->length)
                return TTRPC_READ_MORE;
        *body = r->buf + r->start + TTRPC_HEADER_LEN;
        r->start += TTRPC_HEADER_LEN + h->length;
        return TTRPC_READ_FRAME;
}

uint64_t ttrpc_reader_pending(const struct ttrpc_reader *r)
{
        return (uint64_t)(r->end - r->start) + r->discard;
}

void ttrpc_reader_release(struct ttrpc_reader *r)
{
        free(r->buf);
        memset(r, 0, sizeof *r);
}

/* ----------------------------------------------------------- outbuf */

void ttrpc_outbuf_frame(struct ttrpc_outbuf *o, uint32_t stream_id, uint8_t type, uint8_t flags,
                        const void *body, size_t len)
{
        struct ttrpc_header h = { .length = (uint32_t)len, .stream_id = stream_id, .type = type, .flags = flags };
        window_reserve(&o->buf, &o->start, &o->end, &o->cap, TTRPC_HEADER_LEN + len);
        ttrpc_header_encode(o->buf + o->end, &h);
        if (len)
                memcpy(o->buf + o->end + TTRPC_HEADER_LEN, body, len);
        o->end += TTRPC_HEADER_LEN + len;
}

int ttrpc_outbuf_flush(struct ttrpc_outbuf *o, int fd)
{
        while (o->start < o->end) {
                ssize_t n = send(fd, o->buf + o->start, o->end - o->start, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == ENOTSOCK)
                        n = write(fd, o->buf + o->start, o->end - o->start);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return 1;
                        return -errno;
                }
                o->start += (size_t)n;
        }
        o->start = o->end = 0;
        if (o->cap > TTRPC_BUF_KEEP) {
                free(o->buf);
                o->buf = NULL;
                o->cap = 0;
        }
        return 0;
}

void ttrpc_outbuf_release(struct ttrpc_outbuf *o)
{
        free(o->buf);
        memset(o, 0, sizeof *o);
}

/* ------------------------------------------------- request / response */

int ttrpc_request_decode(const uint8_t *body, size_t len, struct ttrpc_request *req)
{
        memset(req, 0, sizeof *req);
        Ttrpc__Request *m = ttrpc__request__unpack(NULL, len, body);
        if (!m)
                return -EBADMSG;
        req->unpacked_ = m;
        req->service = m->service;
        req->method = m->method;
        req->payload = m->payload.data;
        req->payload_len = m->payload.len;
        req->timeout_nano = m->timeout_nano;
        if (m->n_metadata) {
                req->kv_ = xcalloc(m->n_metadata, sizeof *req->kv_);
                for (size_t i = 0; i < m->n_metadata; i++)
                        req->kv_[i] = (struct ttrpc_kv){ m->metadata[i]->key, m->metadata[i]->value };
                req->metadata = req->kv_;
                req->n_metadata = m->n_metadata;
        }
        return 0;
}

void ttrpc_request_free(struct ttrpc_request *req)
{
        if (req->unpacked_)
                ttrpc__request__free_unpacked(req->unpacked_, NULL);
        free(req->kv_);
        memset(req, 0, sizeof *req);
}

uint8_t *ttrpc_request_encode(const char *service, const char *method, const void *payload,
                              size_t payload_len, int64_t timeout_nano, const struct ttrpc_kv *md,
                              size_t n_md, size_t *len)
{
        Ttrpc__Request m = TTRPC__REQUEST__INIT;
        m.service = (char *)service;
        m.method = (char *)method;
        m.payload.data = (uint8_t *)payload;
        m.payload.len = payload_len;
        m.timeout_nano = timeout_nano;
        _cleanup_free_ Ttrpc__KeyValue *kvs = n_md ? xcalloc(n_md, sizeof *kvs) : NULL;
        _cleanup_free_ Ttrpc__KeyValue **ptrs = n_md ? xcalloc(n_md, sizeof *ptrs) : NULL;
        for (size_t i = 0; i < n_md; i++) {
                ttrpc__key_value__init(&kvs[i]);
                kvs[i].key = (char *)md[i].key;
                kvs[i].value = (char *)md[i].value;
                ptrs[i] = &kvs[i];
        }
        m.n_metadata = n_md;
        m.metadata = ptrs;
        *len = ttrpc__request__get_packed_size(&m);
        uint8_t *out = xmalloc(*len ? *len : 1);
        ttrpc__request__pack(&m, out);
        return out;
}

uint8_t *ttrpc_response_encode(int code, const char *message, const void *payload, size_t payload_len,
                               size_t *len)
{
        Ttrpc__Status st = TTRPC__STATUS__INIT;
        Ttrpc__Response m = TTRPC__RESPONSE__INIT;
        st.code = code;
        st.message = (char *)(message ? message : "");
        /* like Go's ttrpc, OK is sent as an empty status too */
        m.status = &st;
        m.payload.data = (uint8_t *)payload;
        m.payload.len = payload_len;
        *len = ttrpc__response__get_packed_size(&m);
        uint8_t *out = xmalloc(*len ? *len : 1);
        ttrpc__response__pack(&m, out);
        return out;
}

int ttrpc_response_decode(const uint8_t *body, size_t len, int *code, char **message, uint8_t **payload,
                          size_t *payload_len)
{
        Ttrpc__Response *m = ttrpc__response__unpack(NULL, len, body);
        if (!m)
                return -EBADMSG;
        *code = m->status ? m->status->code : TTRPC_OK;
        *message = xstrdup(m->status && m->status->message ? m->status->message : "");
        *payload_len = m->payload.len;
        *payload = xmalloc(m->payload.len ? m->payload.len : 1);
        if (m->payload.len)
                memcpy(*payload, m->payload.data, m->payload.len);
        ttrpc__response__free_unpacked(m, NULL);
        return 0;
}
