/* SPDX-License-Identifier: Apache-2.0 */
/* shim/ttrpc.h — ttrpc, containerd's GRPC-for-low-memory, in C.
 *
 * The wire (github.com/containerd/ttrpc): a stream of frames over a unix
 * socket, each a 10-byte header and a body of at most 4 MiB:
 *
 *     length    u32 big-endian   body bytes after the header
 *     stream id u32 big-endian   odd, chosen by the client per request
 *     type      u8               1 request, 2 response, 3 data (streams)
 *     flags     u8               data-frame flags; 0 otherwise
 *
 * A request body is a ttrpc.Request {service, method, payload, timeout_nano,
 * metadata}; the response on the same stream id is a ttrpc.Response
 * {google.rpc.Status status, payload}. Many requests may be in flight on one
 * connection and answers may come in any order. shim/ttrpc.proto has the
 * messages; docs/shim.md the errors each bad input gets.
 *
 * Server and client run on the shim's epoll loop (loop.h): no threads, no
 * blocking I/O. */
#ifndef CELLA_SHIM_TTRPC_H
#define CELLA_SHIM_TTRPC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "base/error.h"

#define TTRPC_HEADER_LEN 10
#define TTRPC_MESSAGE_MAX (4u << 20)

enum ttrpc_type {
        TTRPC_TYPE_REQUEST = 1,
        TTRPC_TYPE_RESPONSE = 2,
        TTRPC_TYPE_DATA = 3,
};

/* data-frame flags (ttrpc 1.2 streams) */
#define TTRPC_FLAG_REMOTE_CLOSED 0x1
#define TTRPC_FLAG_REMOTE_OPEN 0x2
#define TTRPC_FLAG_NO_DATA 0x4

/* gRPC status codes (google.golang.org/grpc/codes) */
enum ttrpc_code {
        TTRPC_OK = 0,
        TTRPC_CANCELLED = 1,
        TTRPC_UNKNOWN = 2,
        TTRPC_INVALID_ARGUMENT = 3,
        TTRPC_DEADLINE_EXCEEDED = 4,
        TTRPC_NOT_FOUND = 5,
        TTRPC_ALREADY_EXISTS = 6,
        TTRPC_PERMISSION_DENIED = 7,
        TTRPC_RESOURCE_EXHAUSTED = 8,
        TTRPC_FAILED_PRECONDITION = 9,
        TTRPC_ABORTED = 10,
        TTRPC_OUT_OF_RANGE = 11,
        TTRPC_UNIMPLEMENTED = 12,
        TTRPC_INTERNAL = 13,
        TTRPC_UNAVAILABLE = 14,
        TTRPC_DATA_LOSS = 15,
        TTRPC_UNAUTHENTICATED = 16,
};

/* "NotFound", "Unimplemented"...; "Code(N)" for unknown values. */
const char *ttrpc_code_name(int code);
/* The code a cella errno means to containerd (ENOENT → NotFound, EEXIST →
 * AlreadyExists, ENOSYS → Unimplemented, ...; Unknown for the rest). */
int ttrpc_code_from_errno(int errnum);

/* ------------------------------------------------------------ framing */

struct ttrpc_header {
        uint32_t length;
        uint32_t stream_id;
        uint8_t type;
        uint8_t flags;
};

void ttrpc_header_encode(uint8_t out[TTRPC_HEADER_LEN], const struct ttrpc_header *h);
void ttrpc_header_decode(const uint8_t in[TTRPC_HEADER_LEN], struct ttrpc_header *h);

/* Splits a byte stream into frames. Bytes are fed as they arrive; a frame
 * comes out once whole. A header announcing more than TTRPC_MESSAGE_MAX
 * comes out as TTRPC_READ_OVERSIZE and its body is dropped as it arrives
 * (never buffered), so the stream stays in step. */
struct ttrpc_reader {
        uint8_t *buf;
        size_t start, end, cap;
        uint64_t discard;       /* bytes of an oversize body still to drop */
};

enum ttrpc_read {
        TTRPC_READ_MORE = 0,    /* no whole frame buffered */
        TTRPC_READ_FRAME,       /* *h and *body (h->length bytes) set */
        TTRPC_READ_OVERSIZE,    /* *h set; the body is being dropped */
};

void ttrpc_reader_feed(struct ttrpc_reader *r, const void *data, size_t n);
/* *body stays valid until the next feed. */
enum ttrpc_read ttrpc_reader_next(struct ttrpc_reader *r, struct ttrpc_header *h, const uint8_t **body);
/* Bytes of an unfinished frame (buffered or still to drop): at EOF, > 0
 * means the peer cut a frame short. */
uint64_t ttrpc_reader_pending(const struct ttrpc_reader *r);
void ttrpc_reader_release(struct ttrpc_reader *r);

/* Frames waiting to be written to a non-blocking fd. */
struct ttrpc_outbuf {
        uint8_t *buf;
        size_t start, end, cap;
};

void ttrpc_outbuf_frame(struct ttrpc_outbuf *o, uint32_t stream_id, uint8_t type, uint8_t flags,
                        const void *body, size_t len);
/* Write what the socket takes: 0 all written, 1 some left (wait for
 * EPOLLOUT), -errno on a dead peer. */
int ttrpc_outbuf_flush(struct ttrpc_outbuf *o, int fd);
static inline size_t ttrpc_outbuf_len(const struct ttrpc_outbuf *o)
{
        return o->end - o->start;
}
void ttrpc_outbuf_release(struct ttrpc_outbuf *o);

/* --------------------------------------------------- envelope messages */

struct ttrpc_kv {
        const char *key;
        const char *value;
};

/* A decoded ttrpc.Request: pointers into the unpacked message. */
struct ttrpc_request {
        const char *service;
        const char *method;
        const uint8_t *payload;
        size_t payload_len;
        int64_t timeout_nano;
        const struct ttrpc_kv *metadata;        /* n_metadata entries */
        size_t n_metadata;
        void *unpacked_;                        /* owned: ttrpc_request_free */
        struct ttrpc_kv *kv_;
};

/* 0, or -EBADMSG when body is not a ttrpc.Request. */
int ttrpc_request_decode(const uint8_t *body, size_t len, struct ttrpc_request *req);
void ttrpc_request_free(struct ttrpc_request *req);
/* The encoded request (malloc'd, *len set). */
uint8_t *ttrpc_request_encode(const char *service, const char *method, const void *payload,
                              size_t payload_len, int64_t timeout_nano, const struct ttrpc_kv *md,
                              size_t n_md, size_t *len);

/* Encoded ttrpc.Response with a status (code 0 = OK: no status field). */
uint8_t *ttrpc_response_encode(int code, const char *message, const void *payload, size_t payload_len,
                               size_t *len);
/* Decode a response: *code, a malloc'd *message ("" for OK), and a malloc'd
 * payload copy. 0 or -EBADMSG. */
int ttrpc_response_decode(const uint8_t *body, size_t len, int *code, char **message, uint8_t **payload,
                          size_t *payload_len);

/* ------------------------------------------------------------- server */

struct ttrpc_server;
struct ttrpc_conn;
struct ttrpc_call;

/* A method gets the request payload and answers exactly once with
 * ttrpc_call_reply or ttrpc_call_fail — before it returns, or later (a Wait
 * that answers when a process exits). The call is freed by that answer. */
typedef void (*ttrpc_method_fn)(struct ttrpc_call *call, const uint8_t *payload, size_t len);

struct ttrpc_method {
        const char *name;
        ttrpc_method_fn fn;
};

struct ttrpc_service {
        const char *name;               /* "containerd.task.v2.Task" */
        const struct ttrpc_method *methods;
        size_t n_methods;
};

/* Refuse peers whose uid is neither 0 nor ours (SO_PEERCRED), as the Go
 * shim's ttrpc.UnixSocketRequireSameUser does. */
#define TTRPC_SERVER_SAME_USER 0x1

struct ttrpc_server *ttrpc_server_new(struct loop *l, unsigned flags);
/* Closes the listener and every connection; calls still pending become
 * orphans whose answers go nowhere. */
void ttrpc_server_free(struct ttrpc_server *s);
/* svc must outlive the server; data is handed to its methods. */
int ttrpc_server_register(struct ttrpc_server *s, const struct ttrpc_service *svc, void *data);
/* Accept connections on a listening socket (taken over: closed on free). */
int ttrpc_server_listen(struct ttrpc_server *s, int listen_fd, struct cella_error *err);
/* Serve one connected socket (taken over). NULL on failure. */
struct ttrpc_conn *ttrpc_server_add_conn(struct ttrpc_server *s, int fd);
/* Handle bytes as if read from the connection (the fuzz target's way in).
 * 0, or -1 when the connection is gone (and c freed). */
int ttrpc_conn_feed(struct ttrpc_conn *c, const void *data, size_t n);
/* Stop: close the listener; requests that arrive from now on fail with
 * Unavailable. drained(arg) runs once every answer is written (or its
 * connection gone) and no call is pending. */
void ttrpc_server_shutdown(struct ttrpc_server *s, void (*drained)(void *arg), void *arg);
bool ttrpc_server_closing(const struct ttrpc_server *s);
size_t ttrpc_server_conn_count(const struct ttrpc_server *s);

const char *ttrpc_call_service(const struct ttrpc_call *c);
const char *ttrpc_call_method(const struct ttrpc_call *c);
uint32_t ttrpc_call_stream(const struct ttrpc_call *c);
int64_t ttrpc_call_timeout_nano(const struct ttrpc_call *c);
/* The first value of a metadata key, NULL when absent. */
const char *ttrpc_call_metadata(const struct ttrpc_call *c, const char *key);
/* The data given with the service at registration. */
void *ttrpc_call_data(const struct ttrpc_call *c);
/* The server of the call (NULL once the server is freed). */
struct ttrpc_server *ttrpc_call_server(const struct ttrpc_call *c);
/* true once the connection the request came on is gone. */
bool ttrpc_call_orphaned(const struct ttrpc_call *c);
void ttrpc_call_reply(struct ttrpc_call *c, const void *payload, size_t len);
void ttrpc_call_fail(struct ttrpc_call *c, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------- client */

struct ttrpc_client;

/* The answer to a call: code (TTRPC_OK or an error, local ones included:
 * Unavailable "ttrpc: closed" when the connection goes), message, and
 * the response payload (valid during the callback). */
typedef void (*ttrpc_reply_fn)(void *arg, int code, const char *message, const uint8_t *payload,
                               size_t len);

/* A client on a connected socket (taken over). */
struct ttrpc_client *ttrpc_client_new(struct loop *l, int fd);
/* Connect to "unix:///path", "/path" or "\0abstract". */
int ttrpc_client_dial(struct loop *l, const char *address, struct ttrpc_client **out, struct cella_error *err);
/* Called once when the connection dies (after the pending calls failed). */
void ttrpc_client_on_close(struct ttrpc_client *c, void (*fn)(void *arg), void *arg);
/* Fails the pending calls with Unavailable "ttrpc: closed", then frees. */
void ttrpc_client_free(struct ttrpc_client *c);
bool ttrpc_client_closed(const struct ttrpc_client *c);
size_t ttrpc_client_pending(const struct ttrpc_client *c);

struct ttrpc_call_opts {
        int64_t timeout_nano;           /* sent to the server; 0 = none */
        const struct ttrpc_kv *metadata;
        size_t n_metadata;
};

/* Send a request; fn(arg, ...) gets the answer. opts may be NULL.
 * 0, or negative (closed connection, message too large) with err set — fn
 * is then not called. */
int ttrpc_client_call(struct ttrpc_client *c, const char *service, const char *method, const void *payload,
                      size_t len, const struct ttrpc_call_opts *opts, ttrpc_reply_fn fn, void *arg,
                      struct cella_error *err);

#endif
