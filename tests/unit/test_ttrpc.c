/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the shim's ttrpc (shim/ttrpc*.c): framing, the envelope
 * messages, a server and a client over socketpairs (many requests in
 * flight, answers out of order, every bad input's status), the Task
 * service on the stub backend, the events publisher against a fake
 * containerd events service, and the shim's address helpers. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "shim/backend.h"
#include "shim/publisher.h"
#include "base/sha256.h"
#include "shim/shim.h"
#include "shim/task_service.h"
#include "shim/ttrpc.h"
#include "tests/unit/unit.h"

/* ------------------------------------------------------------ helpers */

/* Run the loop until *done or ~5 s pass. */
static void run_until(struct loop *l, const bool *done)
{
        for (int i = 0; i < 500 && !*done; i++)
                loop_run_once(l, 10);
}

struct answer {
        bool got;
        int code;
        char msg[256];
        uint8_t payload[256];
        size_t len;
        int order;
};

static int answer_seq;

static void on_answer(void *arg, int code, const char *message, const uint8_t *payload, size_t len)
{
        struct answer *a = arg;
        a->got = true;
        a->code = code;
        snprintf(a->msg, sizeof a->msg, "%s", message);
        a->len = len < sizeof a->payload ? len : sizeof a->payload;
        if (a->len)
                memcpy(a->payload, payload, a->len);
        a->order = ++answer_seq;
}

/* A test service: Echo answers at once; Later answers when Release is
 * called (out of order); Fail answers an error. */
static struct ttrpc_call *held;

static void m_echo(struct ttrpc_call *call, const uint8_t *p, size_t n)
{
        ttrpc_call_reply(call, p, n);
}

static void m_later(struct ttrpc_call *call, const uint8_t *p, size_t n)
{
        held = call;
}

static void m_release(struct ttrpc_call *call, const uint8_t *p, size_t n)
{
        ttrpc_call_reply(call, "released", 8);
        if (held) {
                struct ttrpc_call *h = held;
                held = NULL;
                ttrpc_call_reply(h, "later", 5);
        }
}

static void m_fail(struct ttrpc_call *call, const uint8_t *p, size_t n)
{
        const char *ns = ttrpc_call_metadata(call, "Containerd-Namespace-Ttrpc");
        ttrpc_call_fail(call, TTRPC_NOT_FOUND, "no such thing in %s", ns ? ns : "-");
}

/* Hold keeps every call until the test answers them */
static struct ttrpc_call *holding[5000];
static size_t n_holding;

static void m_hold(struct ttrpc_call *call, const uint8_t *p, size_t n)
{
        holding[n_holding++] = call;
}

static const struct ttrpc_method test_methods[] = {
        { "Echo", m_echo }, { "Later", m_later }, { "Release", m_release }, { "Fail", m_fail }, { "Hold", m_hold },
};
static const struct ttrpc_service test_service = { "test.Echo", test_methods, ARRAY_SIZE(test_methods) };

struct pair {
        struct loop *loop;
        struct ttrpc_server *srv;
        struct ttrpc_client *cli;
        int raw;        /* the client end when no client is made */
};

static void pair_open(struct pair *p, bool with_client)
{
        int sv[2];
        memset(p, 0, sizeof *p);
        p->loop = loop_new();
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        p->srv = ttrpc_server_new(p->loop, 0);
        CHECK(ttrpc_server_register(p->srv, &test_service, NULL) == 0);
        CHECK(ttrpc_server_add_conn(p->srv, sv[0]) != NULL);
        if (with_client) {
                p->cli = ttrpc_client_new(p->loop, sv[1]);
                p->raw = -1;
        } else {
                p->raw = sv[1];
        }
}

static void pair_close(struct pair *p)
{
        ttrpc_client_free(p->cli);
        if (p->raw >= 0)
                close(p->raw);
        ttrpc_server_free(p->srv);
        loop_free(p->loop);
}

static void call(struct pair *p, const char *svc, const char *method, const void *payload, size_t len,
                 struct answer *a)
{
        struct cella_error err = { 0 };
        memset(a, 0, sizeof *a);
        CHECK(ttrpc_client_call(p->cli, svc, method, payload, len, NULL, on_answer, a, &err) == 0);
}

/* Write raw bytes as the client; read back one response frame. */
static bool raw_roundtrip(struct pair *p, const void *bytes, size_t n, uint32_t *stream, int *code, char **msg)
{
        if (n)
                CHECK(write(p->raw, bytes, n) == (ssize_t)n);
        struct ttrpc_reader r = { 0 };
        struct ttrpc_header h;
        const uint8_t *body;
        bool got = false;
        fcntl(p->raw, F_SETFL, O_NONBLOCK);
        for (int i = 0; i < 500 && !got; i++) {
                loop_run_once(p->loop, 10);
                uint8_t buf[4096];
                ssize_t k = read(p->raw, buf, sizeof buf);
                if (k > 0)
                        ttrpc_reader_feed(&r, buf, (size_t)k);
                if (ttrpc_reader_next(&r, &h, &body) == TTRPC_READ_FRAME) {
                        uint8_t *pl;
                        size_t plen;
                        got = h.type == TTRPC_TYPE_RESPONSE &&
                              ttrpc_response_decode(body, h.length, code, msg, &pl, &plen) == 0;
                        if (got)
                                free(pl);
                        *stream = h.stream_id;
                }
        }
        ttrpc_reader_release(&r);
        return got;
}

static uint8_t *frame(uint32_t stream, uint8_t type, const void *body, size_t len, size_t *out_len)
{
        struct ttrpc_outbuf o = { 0 };
        ttrpc_outbuf_frame(&o, stream, type, 0, body, len);
        *out_len = ttrpc_outbuf_len(&o);
        return o.buf;
}

/* ------------------------------------------------------------ framing */

static void test_header_layout(void)
{
        struct ttrpc_header h = { .length = 0x01020304, .stream_id = 0xa0b0c0d1, .type = 2, .flags = 5 }, back;
        uint8_t b[TTRPC_HEADER_LEN];
        ttrpc_header_encode(b, &h);
        const uint8_t want[] = { 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd1, 2, 5 };
        CHECK(memcmp(b, want, sizeof want) == 0);
        ttrpc_header_decode(b, &back);
        CHECK(back.length == h.length && back.stream_id == h.stream_id && back.type == 2 && back.flags == 5);
        CHECK(TTRPC_MESSAGE_MAX == 4194304);
}

static void test_reader_split_anywhere(void)
{
        /* three frames, fed one byte at a time and in one piece */
        struct ttrpc_outbuf o = { 0 };
        ttrpc_outbuf_frame(&o, 1, 1, 0, "abc", 3);
        ttrpc_outbuf_frame(&o, 3, 1, 0, "", 0);
        ttrpc_outbuf_frame(&o, 5, 3, 1, "zz", 2);
        for (size_t step = 1; step <= ttrpc_outbuf_len(&o); step += ttrpc_outbuf_len(&o) - 1) {
                struct ttrpc_reader r = { 0 };
                struct ttrpc_header h;
                const uint8_t *body;
                int frames = 0;
                for (size_t off = 0; off < ttrpc_outbuf_len(&o); off += step) {
                        size_t n = ttrpc_outbuf_len(&o) - off < step ? ttrpc_outbuf_len(&o) - off : step;
                        ttrpc_reader_feed(&r, o.buf + off, n);
                        while (ttrpc_reader_next(&r, &h, &body) == TTRPC_READ_FRAME) {
                                frames++;
                                if (h.stream_id == 1)
                                        CHECK(h.length == 3 && memcmp(body, "abc", 3) == 0);
                                if (h.stream_id == 5)
                                        CHECK(h.type == 3 && h.flags == 1 && memcmp(body, "zz", 2) == 0);
                        }
                }
                CHECK(frames == 3);
                CHECK(ttrpc_reader_pending(&r) == 0);
                ttrpc_reader_release(&r);
        }
        ttrpc_outbuf_release(&o);
}

static void test_reader_oversize_is_skipped(void)
{
        struct ttrpc_reader r = { 0 };
        struct ttrpc_header h = { .length = TTRPC_MESSAGE_MAX + 1, .stream_id = 7, .type = 1 };
        uint8_t hdr[TTRPC_HEADER_LEN];
        ttrpc_header_encode(hdr, &h);
        const uint8_t *body;
        ttrpc_reader_feed(&r, hdr, sizeof hdr);
        ttrpc_reader_feed(&r, "xxxx", 4);
        struct ttrpc_header got;
        CHECK(ttrpc_reader_next(&r, &got, &body) == TTRPC_READ_OVERSIZE);
        CHECK(got.stream_id == 7 && got.length == TTRPC_MESSAGE_MAX + 1);
        CHECK(ttrpc_reader_pending(&r) == TTRPC_MESSAGE_MAX + 1 - 4);
        /* the rest of the body, in pieces, then a good frame */
        _cleanup_free_ uint8_t *junk = xcalloc(1, 1 << 20);
        for (uint64_t left = TTRPC_MESSAGE_MAX - 3; left;) {
                size_t n = left < (1 << 20) ? left : (1 << 20);
                ttrpc_reader_feed(&r, junk, n);
                left -= n;
                CHECK(ttrpc_reader_next(&r, &got, &body) == TTRPC_READ_MORE);
        }
        CHECK(r.cap < 65536);   /* nothing of it was buffered */
        size_t n;
        _cleanup_free_ uint8_t *f = frame(9, 1, "ok", 2, &n);
        ttrpc_reader_feed(&r, f, n);
        CHECK(ttrpc_reader_next(&r, &got, &body) == TTRPC_READ_FRAME);
        CHECK(got.stream_id == 9 && memcmp(body, "ok", 2) == 0);
        ttrpc_reader_release(&r);
}

static void test_messages_round_trip(void)
{
        const struct ttrpc_kv md[] = { { "containerd-namespace-ttrpc", "k8s.io" }, { "a", "b" } };
        size_t len;
        _cleanup_free_ uint8_t *req = ttrpc_request_encode("svc.S", "M", "\x01\x02", 2, 5000000000LL, md, 2, &len);
        struct ttrpc_request r;
        CHECK(ttrpc_request_decode(req, len, &r) == 0);
        CHECK_STREQ(r.service, "svc.S");
        CHECK_STREQ(r.method, "M");
        CHECK(r.payload_len == 2 && memcmp(r.payload, "\x01\x02", 2) == 0);
        CHECK(r.timeout_nano == 5000000000LL);
        CHECK(r.n_metadata == 2 && streq(r.metadata[0].key, "containerd-namespace-ttrpc") &&
              streq(r.metadata[0].value, "k8s.io"));
        ttrpc_request_free(&r);
        /* not a Request: a truncated varint, a bad wire type */
        CHECK(ttrpc_request_decode((const uint8_t *)"\x0a\x05" "ab", 4, &r) == -EBADMSG);
        CHECK(ttrpc_request_decode((const uint8_t *)"\x0f", 1, &r) == -EBADMSG);

        _cleanup_free_ uint8_t *resp = ttrpc_response_encode(TTRPC_NOT_FOUND, "gone", NULL, 0, &len);
        int code;
        char *msg;
        uint8_t *pl;
        size_t plen;
        CHECK(ttrpc_response_decode(resp, len, &code, &msg, &pl, &plen) == 0);
        CHECK(code == TTRPC_NOT_FOUND && streq(msg, "gone") && plen == 0);
        free(msg);
        free(pl);
        /* an empty Response is OK with no payload */
        CHECK(ttrpc_response_decode((const uint8_t *)"", 0, &code, &msg, &pl, &plen) == 0);
        CHECK(code == TTRPC_OK && streq(msg, "") && plen == 0);
        free(msg);
        free(pl);
}

static void test_codes(void)
{
        CHECK_STREQ(ttrpc_code_name(TTRPC_UNIMPLEMENTED), "Unimplemented");
        CHECK_STREQ(ttrpc_code_name(TTRPC_INVALID_ARGUMENT), "InvalidArgument");
        CHECK_STREQ(ttrpc_code_name(99), "Code(99)");
        CHECK(ttrpc_code_from_errno(ENOENT) == TTRPC_NOT_FOUND);
        CHECK(ttrpc_code_from_errno(EEXIST) == TTRPC_ALREADY_EXISTS);
        CHECK(ttrpc_code_from_errno(ENOSYS) == TTRPC_UNIMPLEMENTED);
        CHECK(ttrpc_code_from_errno(EBUSY) == TTRPC_FAILED_PRECONDITION);
        CHECK(ttrpc_code_from_errno(EINVAL) == TTRPC_INVALID_ARGUMENT);
        CHECK(ttrpc_code_from_errno(EIO) == TTRPC_UNKNOWN);
}

/* --------------------------------------------------- server and client */

static void test_many_in_flight_out_of_order(void)
{
        struct pair p;
        pair_open(&p, true);
        enum { N = 200 };
        static struct answer echo[N];
        struct answer later, release;
        answer_seq = 0;
        call(&p, "test.Echo", "Later", NULL, 0, &later);
        for (int i = 0; i < N; i++) {
                char b[16];
                int n = snprintf(b, sizeof b, "msg-%d", i);
                call(&p, "test.Echo", "Echo", b, (size_t)n, &echo[i]);
        }
        call(&p, "test.Echo", "Release", NULL, 0, &release);
        CHECK(ttrpc_client_pending(p.cli) == N + 2);
        run_until(p.loop, &later.got);
        CHECK(ttrpc_client_pending(p.cli) == 0);
        for (int i = 0; i < N; i++) {
                char b[16];
                int n = snprintf(b, sizeof b, "msg-%d", i);
                CHECK(echo[i].got && echo[i].code == 0 && echo[i].len == (size_t)n && memcmp(echo[i].payload, b, (size_t)n) == 0);
        }
        /* Later was sent first and answered last */
        CHECK(release.got && memcmp(release.payload, "released", 8) == 0);
        CHECK(later.got && later.len == 5 && memcmp(later.payload, "later", 5) == 0);
        CHECK(later.order > release.order && later.order > echo[N - 1].order);
        pair_close(&p);
}

static void test_in_flight_limit(void)
{
        struct pair p;
        pair_open(&p, true);
        enum { N = 4097 };
        static struct answer a[N];
        for (int i = 0; i < N; i++)
                call(&p, "test.Echo", "Hold", NULL, 0, &a[i]);
        run_until(p.loop, &a[N - 1].got);
        CHECK(n_holding == N - 1);
        CHECK(a[N - 1].code == TTRPC_RESOURCE_EXHAUSTED && strstr(a[N - 1].msg, "4096 requests already in flight"));
        for (size_t i = 0; i < n_holding; i++)
                ttrpc_call_reply(holding[i], "ok", 2);
        n_holding = 0;
        run_until(p.loop, &a[N - 2].got);
        CHECK(a[0].got && a[0].code == TTRPC_OK && a[N - 2].code == TTRPC_OK);
        CHECK(ttrpc_client_pending(p.cli) == 0);
        pair_close(&p);
}

static void test_errors_through_the_client(void)
{
        struct pair p;
        pair_open(&p, true);
        struct answer a, b, c;
        call(&p, "no.Such", "Echo", NULL, 0, &a);
        call(&p, "test.Echo", "Nope", NULL, 0, &b);
        const struct ttrpc_kv md[] = { { "containerd-namespace-ttrpc", "ns1" } };
        const struct ttrpc_call_opts opts = { .metadata = md, .n_metadata = 1 };
        struct cella_error err = { 0 };
        memset(&c, 0, sizeof c);
        CHECK(ttrpc_client_call(p.cli, "test.Echo", "Fail", NULL, 0, &opts, on_answer, &c, &err) == 0);
        run_until(p.loop, &c.got);
        CHECK(a.got && a.code == TTRPC_UNIMPLEMENTED && streq(a.msg, "service no.Such"));
        CHECK(b.got && b.code == TTRPC_UNIMPLEMENTED && streq(b.msg, "method Nope"));
        CHECK(c.got && c.code == TTRPC_NOT_FOUND && streq(c.msg, "no such thing in ns1"));
        /* a request over 4 MiB is refused before it is sent */
        _cleanup_free_ uint8_t *big = xcalloc(1, TTRPC_MESSAGE_MAX);
        CHECK(ttrpc_client_call(p.cli, "test.Echo", "Echo", big, TTRPC_MESSAGE_MAX, NULL, on_answer, &a, &err) == -EMSGSIZE);
        CHECK(strstr(err.msg, "exceeds") != NULL);
        pair_close(&p);
}

static void test_bad_frames_get_statuses(void)
{
        struct pair p;
        pair_open(&p, false);
        uint32_t stream;
        int code;
        char *msg = NULL;
        size_t n, rl;

        /* a log line for each: the log goes to a memfd we read back */
        int logfd = memfd_create("log", MFD_CLOEXEC);
        cella_log_setup(logfd, CELLA_LOG_TEXT, CELLA_LOG_WARN);

        _cleanup_free_ uint8_t *f1 = frame(1, 1, "\xff\xff", 2, &n);
        CHECK(raw_roundtrip(&p, f1, n, &stream, &code, &msg));
        CHECK(stream == 1 && code == TTRPC_INVALID_ARGUMENT && str_has_prefix(msg, "unmarshal request error"));
        free(msg);

        _cleanup_free_ uint8_t *req = ttrpc_request_encode("test.Echo", "Echo", "x", 1, 0, NULL, 0, &rl);
        _cleanup_free_ uint8_t *f2 = frame(4, 1, req, rl, &n);
        CHECK(raw_roundtrip(&p, f2, n, &stream, &code, &msg));
        CHECK(stream == 4 && code == TTRPC_INVALID_ARGUMENT && streq(msg, "StreamID must be odd for client initiated streams"));
        free(msg);

        _cleanup_free_ uint8_t *f3 = frame(5, TTRPC_TYPE_DATA, "d", 1, &n);
        CHECK(raw_roundtrip(&p, f3, n, &stream, &code, &msg));
        CHECK(stream == 5 && code == TTRPC_INVALID_ARGUMENT && streq(msg, "StreamID is no longer active"));
        free(msg);

        /* oversize: the header, then the body in pieces; the connection
         * stays in step and answers the next request */
        struct ttrpc_header h = { .length = TTRPC_MESSAGE_MAX + 10, .stream_id = 7, .type = 1 };
        uint8_t hdr[TTRPC_HEADER_LEN];
        ttrpc_header_encode(hdr, &h);
        CHECK(raw_roundtrip(&p, hdr, sizeof hdr, &stream, &code, &msg));
        CHECK(stream == 7 && code == TTRPC_RESOURCE_EXHAUSTED && strstr(msg, "exceed maximum message size of 4194304"));
        free(msg);
        _cleanup_free_ uint8_t *junk = xcalloc(1, 65536);
        for (size_t left = TTRPC_MESSAGE_MAX + 10; left;) {
                size_t k = left < 65536 ? left : 65536;
                ssize_t w = write(p.raw, junk, k);
                if (w < 0 && errno == EAGAIN) {
                        loop_run_once(p.loop, 10);
                        continue;
                }
                CHECK(w > 0);
                if (w <= 0)
                        break;
                left -= (size_t)w;
                loop_run_once(p.loop, 0);
        }
        _cleanup_free_ uint8_t *f4 = frame(9, 1, req, rl, &n);
        CHECK(raw_roundtrip(&p, f4, n, &stream, &code, &msg));
        CHECK(stream == 9 && code == TTRPC_OK);
        free(msg);

        /* an unknown frame type is ignored; the next request is answered */
        _cleanup_free_ uint8_t *f5 = frame(11, 9, req, rl, &n);
        _cleanup_free_ uint8_t *f6 = frame(13, 1, req, rl, &n);
        uint8_t both[256];
        memcpy(both, f5, n);
        memcpy(both + n, f6, n);
        CHECK(raw_roundtrip(&p, both, 2 * n, &stream, &code, &msg));
        CHECK(stream == 13 && code == TTRPC_OK);
        free(msg);

        char logbuf[4096] = "";
        CHECK(pread(logfd, logbuf, sizeof logbuf - 1, 0) > 0);
        CHECK(strstr(logbuf, "stream 4: InvalidArgument: StreamID must be odd") != NULL);
        CHECK(strstr(logbuf, "stream 7: ResourceExhausted") != NULL);
        CHECK(strstr(logbuf, "ignoring a frame of type 9") != NULL);
        cella_log_setup(-1, CELLA_LOG_TEXT, CELLA_LOG_WARN);
        close(logfd);
        CHECK(ttrpc_server_conn_count(p.srv) == 1);
        pair_close(&p);
}

static void test_truncated_frame_at_eof(void)
{
        struct pair p;
        pair_open(&p, false);
        size_t rl, n;
        _cleanup_free_ uint8_t *req = ttrpc_request_encode("test.Echo", "Echo", "x", 1, 0, NULL, 0, &rl);
        _cleanup_free_ uint8_t *f = frame(3, 1, req, rl, &n);
        CHECK(write(p.raw, f, n - 2) == (ssize_t)(n - 2));
        shutdown(p.raw, SHUT_WR);
        uint32_t stream;
        int code;
        char *msg = NULL;
        CHECK(raw_roundtrip(&p, "", 0, &stream, &code, &msg));
        CHECK(stream == 3 && code == TTRPC_INVALID_ARGUMENT && str_has_prefix(msg, "message truncated"));
        free(msg);
        for (int i = 0; i < 10; i++)
                loop_run_once(p.loop, 1);
        CHECK(ttrpc_server_conn_count(p.srv) == 0);
        pair_close(&p);
}

static bool drained;
static void on_drained(void *arg)
{
        drained = true;
}

static void test_shutdown_refuses_new_requests(void)
{
        struct pair p;
        pair_open(&p, true);
        struct answer later, a, rel;
        answer_seq = 0;
        drained = false;
        call(&p, "test.Echo", "Later", NULL, 0, &later);
        for (int i = 0; i < 20 && !held; i++)
                loop_run_once(p.loop, 10);
        CHECK(held != NULL);
        ttrpc_server_shutdown(p.srv, on_drained, NULL);
        CHECK(ttrpc_server_closing(p.srv) && !drained);
        call(&p, "test.Echo", "Echo", "x", 1, &a);
        run_until(p.loop, &a.got);
        CHECK(a.code == TTRPC_UNAVAILABLE && streq(a.msg, "ttrpc: server shutting down"));
        CHECK(!drained);        /* Later is still pending */
        call(&p, "test.Echo", "Release", NULL, 0, &rel);   /* refused too */
        run_until(p.loop, &rel.got);
        CHECK(rel.code == TTRPC_UNAVAILABLE);
        struct ttrpc_call *h = held;
        held = NULL;
        ttrpc_call_reply(h, "done", 4);
        run_until(p.loop, &later.got);
        CHECK(later.code == TTRPC_OK && drained);
        pair_close(&p);
}

static void test_client_sees_server_go(void)
{
        struct pair p;
        pair_open(&p, true);
        struct answer a;
        call(&p, "test.Echo", "Later", NULL, 0, &a);
        for (int i = 0; i < 20 && !held; i++)
                loop_run_once(p.loop, 10);
        /* the server goes away with the call pending: the call is orphaned
         * and its late answer goes nowhere */
        struct ttrpc_call *h = held;
        held = NULL;
        ttrpc_server_free(p.srv);
        p.srv = NULL;
        CHECK(ttrpc_call_orphaned(h));
        ttrpc_call_reply(h, "late", 4);
        run_until(p.loop, &a.got);
        CHECK(a.code == TTRPC_UNAVAILABLE && streq(a.msg, "ttrpc: closed"));
        CHECK(ttrpc_client_closed(p.cli));
        struct cella_error err = { 0 };
        CHECK(ttrpc_client_call(p.cli, "test.Echo", "Echo", NULL, 0, NULL, on_answer, &a, &err) == -ENOTCONN);
        pair_close(&p);
}

/* ------------------------------------------------ the Task service */

static bool host_stopped;
static void host_shutdown(struct shim_host *h)
{
        host_stopped = true;
        ttrpc_server_shutdown(h->data, NULL, NULL);
}

static void test_task_service_on_the_stub(void)
{
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        struct loop *l = loop_new();
        struct ttrpc_server *srv = ttrpc_server_new(l, 0);
        struct shim_host host = { .shutdown = host_shutdown, .data = srv };
        struct shim_backend *b = shim_backend_stub_new(&host);
        CHECK(shim_task_service_register(srv, b) == 0);
        ttrpc_server_add_conn(srv, sv[0]);
        struct ttrpc_client *cli = ttrpc_client_new(l, sv[1]);
        struct cella_error err = { 0 };
        const char *svc = "containerd.task.v2.Task";

        /* Connect: this process is the shim */
        shim_connect_req creq = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
        creq.id = "c1";
        uint8_t buf[64];
        size_t n = containerd__task__v2__connect_request__pack(&creq, buf);
        struct answer a;
        memset(&a, 0, sizeof a);
        CHECK(ttrpc_client_call(cli, svc, "Connect", buf, n, NULL, on_answer, &a, &err) == 0);
        run_until(l, &a.got);
        CHECK(a.code == TTRPC_OK);
        shim_connect_resp *cr = containerd__task__v2__connect_response__unpack(NULL, a.len, a.payload);
        CHECK(cr && cr->shim_pid == (uint32_t)getpid() && cr->task_pid == 0);
        if (cr)
                containerd__task__v2__connect_response__free_unpacked(cr, NULL);

        /* every other method of shim.proto: a clean Unimplemented */
        const ProtobufCServiceDescriptor *d = &containerd__task__v2__task__descriptor;
        CHECK(d->n_methods == 17);
        for (unsigned i = 0; i < d->n_methods; i++) {
                const char *m = d->methods[i].name;
                if (streq(m, "Connect") || streq(m, "Shutdown"))
                        continue;
                memset(&a, 0, sizeof a);
                CHECK(ttrpc_client_call(cli, svc, m, NULL, 0, NULL, on_answer, &a, &err) == 0);
                run_until(l, &a.got);
                char want[128];
                snprintf(want, sizeof want, "cella shim: %s is not implemented yet", m);
                CHECK(a.code == TTRPC_UNIMPLEMENTED);
                CHECK_STREQ(a.msg, want);
        }
        /* a payload that is not a CreateTaskRequest */
        memset(&a, 0, sizeof a);
        CHECK(ttrpc_client_call(cli, svc, "Create", "\x0a\x09" "abc", 5, NULL, on_answer, &a, &err) == 0);
        run_until(l, &a.got);
        CHECK(a.code == TTRPC_INVALID_ARGUMENT && strstr(a.msg, "not a containerd.task.v2.CreateTaskRequest"));

        /* Shutdown stops the server; later requests are Unavailable */
        struct answer s, after;
        memset(&s, 0, sizeof s);
        memset(&after, 0, sizeof after);
        host_stopped = false;
        CHECK(ttrpc_client_call(cli, svc, "Shutdown", NULL, 0, NULL, on_answer, &s, &err) == 0);
        CHECK(ttrpc_client_call(cli, svc, "Connect", NULL, 0, NULL, on_answer, &after, &err) == 0);
        run_until(l, &after.got);
        CHECK(s.got && s.code == TTRPC_OK && host_stopped);
        CHECK(after.code == TTRPC_UNAVAILABLE);

        /* the `delete` command's answer */
        shim_delete_resp dr = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
        CHECK(b->ops->cleanup(b, "c1", "/nonexistent", &dr, &err) == 0);
        CHECK(dr.exit_status == 128 + SIGKILL);

        ttrpc_client_free(cli);
        ttrpc_server_free(srv);
        shim_backend_free(b);
        loop_free(l);
}

/* ------------------------------------------------------ the publisher */

struct fake_events {
        int calls;
        int fail_first;         /* answer this many calls with Unavailable */
        char topics[4][64];
        int got;
        char ns_md[64];
        char ns_env[64];
        char type_url[128];
        char container_id[64];
        int64_t seconds;
};

static void m_forward(struct ttrpc_call *call, const uint8_t *p, size_t n)
{
        struct fake_events *fe = ttrpc_call_data(call);
        fe->calls++;
        if (fe->fail_first > 0) {
                fe->fail_first--;
                ttrpc_call_fail(call, TTRPC_UNAVAILABLE, "not yet");
                return;
        }
        Containerd__Services__Events__Ttrpc__V1__ForwardRequest *r =
                containerd__services__events__ttrpc__v1__forward_request__unpack(NULL, n, p);
        if (!r || !r->envelope || !r->envelope->event) {
                ttrpc_call_fail(call, TTRPC_INVALID_ARGUMENT, "bad envelope");
                if (r)
                        containerd__services__events__ttrpc__v1__forward_request__free_unpacked(r, NULL);
                return;
        }
        const char *md = ttrpc_call_metadata(call, "containerd-namespace-ttrpc");
        snprintf(fe->ns_md, sizeof fe->ns_md, "%s", md ? md : "");
        snprintf(fe->ns_env, sizeof fe->ns_env, "%s", r->envelope->namespace_);
        snprintf(fe->type_url, sizeof fe->type_url, "%s", r->envelope->event->type_url);
        if (fe->got < 4)
                snprintf(fe->topics[fe->got], sizeof fe->topics[0], "%s", r->envelope->topic);
        fe->got++;
        fe->seconds = r->envelope->timestamp ? r->envelope->timestamp->seconds : 0;
        Containerd__Events__TaskCreate *tc = containerd__events__task_create__unpack(
                NULL, r->envelope->event->value.len, r->envelope->event->value.data);
        snprintf(fe->container_id, sizeof fe->container_id, "%s", tc ? tc->container_id : "?");
        if (tc)
                containerd__events__task_create__free_unpacked(tc, NULL);
        containerd__services__events__ttrpc__v1__forward_request__free_unpacked(r, NULL);
        Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
        uint8_t out[8];
        ttrpc_call_reply(call, out, google__protobuf__empty__pack(&e, out));
}

static const struct ttrpc_method events_methods[] = { { "Forward", m_forward } };
static const struct ttrpc_service events_service = { SHIM_EVENTS_SERVICE, events_methods, 1 };

static void on_idle(void *arg)
{
        *(bool *)arg = true;
}

static void test_publisher_forwards_in_order(void)
{
        char dir[] = "/tmp/cella-ttrpc-XXXXXX";
        CHECK(mkdtemp(dir) != NULL);
        _cleanup_free_ char *path = xasprintf("%s/containerd.sock.ttrpc", dir);
        struct cella_error err = { 0 };
        struct loop *l = loop_new();
        struct ttrpc_server *srv = ttrpc_server_new(l, TTRPC_SERVER_SAME_USER);
        struct fake_events fe = { .fail_first = 1 };
        CHECK(ttrpc_server_register(srv, &events_service, &fe) == 0);
        int lfd = shim_socket_listen(path, &err);
        CHECK(lfd >= 0);
        CHECK(ttrpc_server_listen(srv, lfd, &err) == 0);

        _cleanup_free_ char *addr = xasprintf("unix://%s", path);
        struct shim_publisher *pub = shim_publisher_new(l, addr, "k8s.io");
        bool idle = false;
        shim_publisher_on_idle(pub, on_idle, &idle);
        Containerd__Events__TaskCreate tc = CONTAINERD__EVENTS__TASK_CREATE__INIT;
        tc.container_id = "c1";
        Containerd__Events__TaskStart ts = CONTAINERD__EVENTS__TASK_START__INIT;
        ts.container_id = "c1";
        CHECK(shim_publish(pub, SHIM_TOPIC_TASK_CREATE, &tc.base, &err) == 0);
        CHECK(shim_publish(pub, SHIM_TOPIC_TASK_START, &ts.base, &err) == 0);
        CHECK(!shim_publisher_idle(pub));
        /* the first try fails (Unavailable): retried after 1 s, in order */
        for (int i = 0; i < 300 && !idle; i++)
                loop_run_once(l, 10);
        CHECK(idle && shim_publisher_idle(pub));
        CHECK(fe.calls == 3 && fe.got == 2);
        CHECK_STREQ(fe.topics[0], "/tasks/create");
        CHECK_STREQ(fe.topics[1], "/tasks/start");
        CHECK_STREQ(fe.ns_md, "k8s.io");
        CHECK_STREQ(fe.ns_env, "k8s.io");
        CHECK_STREQ(fe.type_url, "containerd.events.TaskStart");
        CHECK_STREQ(fe.container_id, "c1");
        CHECK(fe.seconds > 1600000000);

        shim_publisher_free(pub);
        ttrpc_server_free(srv);
        loop_free(l);
        unlink(path);
        rmdir(dir);
}

static void test_publisher_without_containerd(void)
{
        struct loop *l = loop_new();
        struct shim_publisher *pub = shim_publisher_new(l, "/nonexistent/containerd.sock.ttrpc", "default");
        struct cella_error err = { 0 };
        Containerd__Events__TaskExit te = CONTAINERD__EVENTS__TASK_EXIT__INIT;
        CHECK(shim_publish(pub, SHIM_TOPIC_TASK_EXIT, &te.base, &err) == 0);
        CHECK(!shim_publisher_idle(pub));       /* waits for a retry */
        for (int i = 0; i < SHIM_PUBLISH_QUEUE_MAX - 1; i++)
                shim_publish(pub, SHIM_TOPIC_TASK_EXIT, &te.base, &err);
        CHECK(shim_publish(pub, SHIM_TOPIC_TASK_EXIT, &te.base, &err) == -ENOSPC);
        shim_publisher_free(pub);       /* drops them, with a log line */
        loop_free(l);
}

/* ------------------------------------------------- addresses and flags */

static void test_sha256_and_socket_address(void)
{
        char hex[65];
        cella_sha256_hex("", 0, hex);
        CHECK_STREQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        cella_sha256_hex("abc", 3, hex);
        CHECK_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        const char *l56 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        cella_sha256_hex(l56, strlen(l56), hex);
        CHECK_STREQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

        _cleanup_free_ char *a = shim_path_join("/run/containerd/containerd.sock", "k8s.io", "pod");
        CHECK_STREQ(a, "/run/containerd/containerd.sock/k8s.io/pod");
        _cleanup_free_ char *b = shim_path_join("a//b/./c/..", "", "../d/");
        CHECK_STREQ(b, "a/d");
        _cleanup_free_ char *c = shim_path_join("/../x", "..", NULL);
        CHECK_STREQ(c, "/");
        _cleanup_free_ char *d = shim_path_join("../../x", "y", "");
        CHECK_STREQ(d, "../../x/y");
        _cleanup_free_ char *e = shim_path_join("", "", "");
        CHECK_STREQ(e, "");
        _cleanup_free_ char *f = shim_path_join("x/..", NULL, NULL);
        CHECK_STREQ(f, ".");

        _cleanup_free_ char *s = shim_socket_address("/run/containerd/containerd.sock", "default", "c1");
        cella_sha256_hex("/run/containerd/containerd.sock/default/c1", 42, hex);
        _cleanup_free_ char *want = xasprintf("unix:///run/containerd/s/%s", hex);
        CHECK_STREQ(s, want);
        CHECK_STREQ(shim_address_path(s), s + strlen("unix://"));
        CHECK(shim_address_path("/x") == NULL);
}

static void test_bundle_group(void)
{
        char dir[] = "/tmp/cella-group-XXXXXX";
        CHECK(mkdtemp(dir) != NULL);
        _cleanup_free_ char *cfg = xasprintf("%s/config.json", dir);
        struct cella_error err = { 0 };
        const char *cases[][2] = {
                { "{\"annotations\":{\"io.kubernetes.cri.sandbox-id\":\"pod1\"}}", "pod1" },
                { "{\"annotations\":{\"io.kubernetes.cri.sandbox-id\":\"pod1\","
                  "\"io.containerd.cella.v2.group\":\"g\"}}", "g" },
                { "{\"annotations\":{\"other\":\"x\"}}", "self" },
                { "{\"annotations\":{\"io.kubernetes.cri.sandbox-id\":\"\"}}", "self" },
                { "{}", "self" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                CHECK(shim_write_file_atomic(dir, "config.json", cases[i][0], &err) == 0);
                char *g = NULL;
                CHECK(shim_bundle_group(cfg, "self", &g, &err) == 0);
                CHECK_STREQ(g, cases[i][1]);
                free(g);
        }
        CHECK(shim_write_file_atomic(dir, "config.json", "{\"annotations\":", &err) == 0);
        char *g = NULL;
        CHECK(shim_bundle_group(cfg, "self", &g, &err) < 0);
        CHECK(str_has_prefix(err.msg, cfg));
        unlink(cfg);
        CHECK(shim_bundle_group(cfg, "self", &g, &err) == -ENOENT);
        rmdir(dir);
}

static void test_parse_args(void)
{
        struct shim_opts o = { 0 };
        struct cella_error err = { 0 };
        char *argv1[] = { "shim", "-namespace", "k8s.io", "--id=c1", "-address", "/a.sock", "-publish-binary",
                          "/usr/bin/containerd", "-debug", "start", NULL };
        CHECK(shim_parse_args(10, argv1, &o, &err) == 0);
        CHECK_STREQ(o.namespace_, "k8s.io");
        CHECK_STREQ(o.id, "c1");
        CHECK_STREQ(o.address, "/a.sock");
        CHECK_STREQ(o.publish_binary, "/usr/bin/containerd");
        CHECK(o.debug && !o.version);
        CHECK_STREQ(o.action, "start");

        memset(&o, 0, sizeof o);
        char *argv2[] = { "shim", "-debug=false", "-v", "--", "-x", NULL };
        CHECK(shim_parse_args(5, argv2, &o, &err) == 0);
        CHECK(!o.debug && o.version);
        CHECK_STREQ(o.action, "-x");

        char *argv3[] = { "shim", "-bogus", NULL };
        CHECK(shim_parse_args(2, argv3, &o, &err) < 0);
        CHECK_STREQ(err.msg, "flag provided but not defined: -bogus");
        char *argv4[] = { "shim", "-id", NULL };
        CHECK(shim_parse_args(2, argv4, &o, &err) < 0);
        char *argv5[] = { "shim", "-debug=maybe", NULL };
        CHECK(shim_parse_args(2, argv5, &o, &err) < 0);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        cella_log_setup(-1, CELLA_LOG_TEXT, CELLA_LOG_WARN);
        RUN(test_header_layout);
        RUN(test_reader_split_anywhere);
        RUN(test_reader_oversize_is_skipped);
        RUN(test_messages_round_trip);
        RUN(test_codes);
        RUN(test_many_in_flight_out_of_order);
        RUN(test_in_flight_limit);
        RUN(test_errors_through_the_client);
        RUN(test_bad_frames_get_statuses);
        RUN(test_truncated_frame_at_eof);
        RUN(test_shutdown_refuses_new_requests);
        RUN(test_client_sees_server_go);
        RUN(test_task_service_on_the_stub);
        RUN(test_publisher_forwards_in_order);
        RUN(test_publisher_without_containerd);
        RUN(test_sha256_and_socket_address);
        RUN(test_bundle_group);
        RUN(test_parse_args);
        UNIT_EXIT();
}
