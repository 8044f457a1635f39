/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the VM pod channel's frames (sandbox/pod_wire.h): what
 * pod_frame_write writes, pod_reader reads back whole, however the bytes
 * arrive; a corrupt stream is refused; and the guest RAM rule. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/vm_pod.h"
#include "base/util.h"
#include "sandbox/internal.h"
#include "sandbox/pod_wire.h"
#include "tests/unit/unit.h"

static void test_frames_round_trip_split_anywhere(void)
{
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        CHECK(pod_frame_write(sv[0], POD_REQ, 7, "{\"op\":\"start\"}", 14) == 0);
        CHECK(pod_frame_write(sv[0], POD_DATA, 42, NULL, 0) == 0);      /* the end of a stream */
        char big[100000];
        for (size_t i = 0; i < sizeof big; i++)
                big[i] = (char)(i * 7);
        CHECK(pod_frame_write(sv[0], POD_DATA, 43, big, sizeof big) == 0);
        close(sv[0]);
        /* read it back one byte at a time: frames come out whole */
        char all[200000];
        size_t len = 0;
        ssize_t n;
        while ((n = read(sv[1], all + len, sizeof all - len)) > 0)
                len += (size_t)n;
        close(sv[1]);
        CHECK(len == 3 * POD_FRAME_HDR + 14 + sizeof big);
        int p[2];
        CHECK(pipe(p) == 0);
        struct pod_reader r;
        pod_reader_init(&r);
        struct pod_frame f;
        int got = 0;
        for (size_t i = 0; i < len; i++) {
                CHECK(write(p[1], all + i, 1) == 1);
                CHECK(pod_reader_fill(&r, p[0]) == 1);
                while (pod_reader_next(&r, &f) > 0) {
                        got++;
                        if (got == 1) {
                                CHECK(f.type == POD_REQ && f.tag == 7 && f.len == 14);
                                CHECK(memcmp(f.data, "{\"op\":\"start\"}", 14) == 0);
                        } else if (got == 2) {
                                CHECK(f.type == POD_DATA && f.tag == 42 && f.len == 0);
                        } else {
                                CHECK(f.type == POD_DATA && f.tag == 43 && f.len == sizeof big);
                                CHECK(memcmp(f.data, big, sizeof big) == 0);
                        }
                }
        }
        CHECK(got == 3);
        close(p[1]);
        CHECK(pod_reader_fill(&r, p[0]) == 0);  /* end of file */
        close(p[0]);
        pod_reader_free(&r);
}

static void test_corrupt_stream_is_refused(void)
{
        int p[2];
        CHECK(pipe(p) == 0);
        unsigned char h[POD_FRAME_HDR] = { 0 };
        uint32_t len = POD_FRAME_MAX + 1;
        memcpy(h, &len, 4);
        h[4] = POD_DATA;
        CHECK(write(p[1], h, sizeof h) == (ssize_t)sizeof h);
        struct pod_reader r;
        pod_reader_init(&r);
        struct pod_frame f;
        CHECK(pod_reader_fill(&r, p[0]) == 1);
        errno = 0;
        CHECK(pod_reader_next(&r, &f) == -1 && errno == EPROTO);
        pod_reader_free(&r);
        /* an unknown type */
        memset(h, 0, sizeof h);
        h[4] = 9;
        CHECK(write(p[1], h, sizeof h) == (ssize_t)sizeof h);
        pod_reader_init(&r);
        CHECK(pod_reader_fill(&r, p[0]) == 1);
        CHECK(pod_reader_next(&r, &f) == -1);
        pod_reader_free(&r);
        CHECK(pod_frame_write(p[1], POD_DATA, 1, "x", (size_t)POD_FRAME_MAX + 1) == -1 && errno == EMSGSIZE);
        close(p[0]);
        close(p[1]);
}

static void test_guest_ram_for_limits(void)
{
        CHECK(vm_pod_memory_for(0) == (uint64_t)SANDBOX_MEM_DEFAULT_MB << 20);
        CHECK(vm_pod_memory_for(1 << 20) == (uint64_t)SANDBOX_MEM_MIN_MB << 20);
        CHECK(vm_pod_memory_for(512ull << 20) == (512ull + SANDBOX_MEM_OVERHEAD_MB) << 20);
}

int main(void)
{
        RUN(test_frames_round_trip_split_anywhere);
        RUN(test_corrupt_stream_is_refused);
        RUN(test_guest_ram_for_limits);
        UNIT_EXIT();
}
