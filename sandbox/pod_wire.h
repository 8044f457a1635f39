/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the VM pod's channel between the host (backend/vm_pod*.c) and the
 * guest agent (agent/pod*.c): one virtio-serial port carries everything.
 *
 * A frame is a 12-byte header and a payload:
 *
 *     u32 len      payload bytes (at most POD_FRAME_MAX)
 *     u8  type     POD_REQ, POD_ANS, POD_EVENT, POD_DATA, POD_FLOW
 *     u8  flags    0
 *     u16 zero
 *     u32 tag      REQ/ANS: the request's sequence number (the answer has
 *                  the request's); DATA, FLOW: the stream; EVENT: 0
 *
 * in the byte order of the machine (host and guest are the same x86-64).
 *
 * REQ, ANS and EVENT payloads are one JSON object:
 *   REQ   {"op": "create"|"start"|"exec"|"kill"|"delete"|"pause"|"resize"|
 *                "close_stdin"|"pids"|"stats"|"update", ...arguments}
 *   ANS   {"ok": true, ...results} or {"ok": false, "errno": N, "error": "..."}
 *   EVENT {"event": "ready"}                      the agent is up (once)
 *         {"event": "exited", "id", "exec_id", "status"}
 *         {"event": "oom", "id"}
 * DATA payloads are a process's stdio bytes, untouched. Streams are
 * numbered by the host: a process created or exec'd with stream S has its
 * stdin on S (host -> guest), stdout on S+1 and stderr on S+2 (guest ->
 * host; with a terminal, the pty's output is on S+1). An empty DATA frame
 * ends its stream: the guest closes the process's stdin, the host closes
 * the fd it copies to. A process's output streams end before its exited
 * event is sent.
 *
 * FLOW frames are flow control of one stream, sent by the side that
 * receives its DATA: payload one byte, POD_FLOW_PAUSE ("stop reading
 * what feeds this stream") or POD_FLOW_RESUME. The host pauses a process's
 * stdout/stderr while it holds more than its cap unwritten (the caller's
 * fd is full): the agent stops reading that pipe or pty, so the process
 * blocks on write, as with a pipe to a slow reader. The agent pauses a
 * stdin stream while the process has not read what it holds: the host
 * stops reading the caller's fd. A few frames in flight may still come
 * after a pause; the end of a stream is never held back by one.
 *
 * Requests are answered in order; the host sends one at a time. Events
 * and data come between answers at any time. */
#ifndef CELLA_SANDBOX_POD_WIRE_H
#define CELLA_SANDBOX_POD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* the port's name (the guest finds it in /sys/class/virtio-ports) and the
 * pod's 9p share (<dir>/shared on the host, POD_GUEST_SHARED in the guest) */
#define POD_PORT          "cella.pod"
#define POD_SHARE_TAG     "cella.shared"
#define POD_GUEST_SHARED  "/run/pod/shared"
/* the read-write share: <dir>/shared-rw, the config's rw bind sources */
#define POD_SHARE_RW_TAG     "cella.shared.rw"
#define POD_GUEST_SHARED_RW  "/run/pod/shared-rw"
/* files in the initramfs: the marker of pod mode, and the network
 * description (netns/podlink.h's JSON) when the pod has one */
#define POD_GUEST_MARK    "/cella-sandbox/pod"
#define POD_GUEST_NET     "/cella-sandbox/net.json"

enum pod_frame_type {
        POD_REQ = 1,
        POD_ANS = 2,
        POD_EVENT = 3,
        POD_DATA = 4,
        POD_FLOW = 5,
};

#define POD_FLOW_PAUSE  'p'
#define POD_FLOW_RESUME 'r'

#define POD_FRAME_HDR 12
#define POD_FRAME_MAX (4u << 20)
/* DATA frames carry at most this much (a read of a pipe) */
#define POD_DATA_CHUNK 32768

struct pod_frame {
        uint8_t type;
        uint32_t tag;
        const char *data;       /* points into the reader's buffer until the next call */
        size_t len;
};

/* Incremental reader: feed what the fd has, take whole frames out. */
struct pod_reader {
        char *buf;
        size_t len, cap, off;   /* off: start of the unread part */
};
void pod_reader_init(struct pod_reader *r);
void pod_reader_free(struct pod_reader *r);
/* one read(2): 1 bytes read, 0 end of file, -1 error (errno; EAGAIN too) */
int pod_reader_fill(struct pod_reader *r, int fd);
/* 1 and *f when a whole frame is buffered, 0 when not yet, -1 when the
 * stream is corrupt (a frame over POD_FRAME_MAX, an unknown type) */
int pod_reader_next(struct pod_reader *r, struct pod_frame *f);

/* Write one frame (blocking, whole). 0 or -1 with errno. */
int pod_frame_write(int fd, uint8_t type, uint32_t tag, const void *data, size_t len);

#endif
