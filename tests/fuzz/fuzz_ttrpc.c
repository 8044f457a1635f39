/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the shim's ttrpc frame and message decoders.
 *
 * Input: byte 0 picks how the rest is cut into reads (1 to 256 bytes each),
 * the rest is what a client wrote to containerd-shim-cella-v2's socket. It
 * is fed to a server connection that has the real Task service on the stub
 * backend (so the frame reader, ttrpc.Request decoding, dispatch, the Task
 * requests' protobuf-c decoding, status answers and Shutdown all run), the
 * answers are read back and decoded as a client would, and the same bytes
 * go through the reader and the Request/Response decoders on their own.
 * Nothing may crash, leak or hang; a stream cut short just ends. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "shim/backend.h"
#include "shim/task_service.h"
#include "shim/ttrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void host_shutdown(struct shim_host *h)
{
        ttrpc_server_shutdown(h->data, NULL, NULL);
}

/* Decode every frame of a byte stream as the client would. */
static void decode_stream(const uint8_t *p, size_t n)
{
        struct ttrpc_reader r = { 0 };
        struct ttrpc_header h;
        const uint8_t *body;
        enum ttrpc_read kind;
        ttrpc_reader_feed(&r, p, n);
        while ((kind = ttrpc_reader_next(&r, &h, &body)) != TTRPC_READ_MORE) {
                if (kind != TTRPC_READ_FRAME)
                        continue;
                int code;
                char *msg;
                uint8_t *payload;
                size_t plen;
                if (ttrpc_response_decode(body, h.length, &code, &msg, &payload, &plen) == 0) {
                        free(msg);
                        free(payload);
                }
                struct ttrpc_request req;
                if (ttrpc_request_decode(body, h.length, &req) == 0)
                        ttrpc_request_free(&req);
        }
        ttrpc_reader_release(&r);
}

/* Read what the server answered so far. */
static void drain(int fd, uint8_t **out, size_t *len, size_t *cap)
{
        for (;;) {
                if (*cap - *len < 65536) {
                        *cap = *cap * 2 + 65536;
                        *out = realloc(*out, *cap);
                }
                ssize_t k = recv(fd, *out + *len, *cap - *len, MSG_DONTWAIT);
                if (k <= 0)
                        return;
                *len += (size_t)k;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static int once;
        if (!once) {
                once = 1;
                signal(SIGPIPE, SIG_IGN);
                cella_log_setup(-1, CELLA_LOG_TEXT, CELLA_LOG_ERROR);
        }
        if (size < 1)
                return 0;
        size_t step = (size_t)data[0] + 1;
        data++;
        size--;
        decode_stream(data, size);

        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return 0;
        struct loop *l = loop_new();
        struct ttrpc_server *srv = ttrpc_server_new(l, 0);
        struct shim_host host = { .shutdown = host_shutdown, .data = srv };
        struct shim_backend *b = shim_backend_stub_new(&host);
        shim_task_service_register(srv, b);
        struct ttrpc_conn *c = ttrpc_server_add_conn(srv, sv[0]);
        uint8_t *out = NULL;
        size_t len = 0, cap = 0;
        for (size_t off = 0; c && off < size; off += step) {
                size_t n = size - off < step ? size - off : step;
                if (ttrpc_conn_feed(c, data + off, n) < 0)
                        c = NULL;
                drain(sv[1], &out, &len, &cap);
        }
        for (int i = 0; i < 4; i++) {
                loop_run_once(l, 0);
                drain(sv[1], &out, &len, &cap);
        }
        decode_stream(out, len);
        free(out);
        ttrpc_server_free(srv);
        shim_backend_free(b);
        loop_free(l);
        close(sv[1]);
        return 0;
}
