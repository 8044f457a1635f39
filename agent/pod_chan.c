/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the pod agent's lowest file — its state, the frames it sends to
 * the host (answers, events, stdio data) and the readers of a request's
 * members (see agent/pod_chan.h). */
#include "pod_chan.h"

#include <errno.h>
#include <string.h>

#include "agent/agent.h"
#include "base/json.h"
#include "base/json_write.h"
#include "base/util.h"
#include "sandbox/pod_wire.h"

struct pod_agent agent = { .port = -1, .sigfd = -1, .inotify = -1 };

void pod_send_json(uint8_t type, uint32_t tag, yajl_gen g)
{
        size_t len;
        _cleanup_free_ char *text = json_writer_finish(&g, &len);
        if (pod_frame_write(agent.port, type, tag, text, len) < 0)
                guest_console_msg("write to the host: %s", strerror(errno));
}

void pod_send_event(yajl_gen g)
{
        yajl_gen_map_close(g);
        pod_send_json(POD_EVENT, 0, g);
}

void pod_send_data(uint32_t stream, const void *buf, size_t len)
{
        if (pod_frame_write(agent.port, POD_DATA, stream, buf, len) < 0)
                guest_console_msg("write to the host: %s", strerror(errno));
}

const char *req_str(yajl_val req, const char *key)
{
        yajl_val v = json_get(req, key);
        return YAJL_IS_STRING(v) ? v->u.string : "";
}

bool req_bool(yajl_val req, const char *key)
{
        return YAJL_IS_TRUE(json_get(req, key));
}

long long req_int(yajl_val req, const char *key)
{
        yajl_val v = json_get(req, key);
        return YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}
