/* SPDX-License-Identifier: Apache-2.0 */
/* shim/publisher.h — task events to containerd, as containerd 1.6's shims
 * send them: a ttrpc call containerd.services.events.ttrpc.v1.Events/Forward
 * on containerd's ttrpc socket ($TTRPC_ADDRESS) carrying an Envelope
 * {timestamp, namespace, topic, event: Any{type_url "containerd.events.X",
 * the encoded event}}.
 *
 * Events go out in the order published, one at a time (containerd handles
 * each call on its own goroutine, so two in flight could swap: an exit
 * seen before its start). A failed send is retried after 1, 2, ... 5 s on
 * a fresh connection and dropped after the fifth retry, as Go's
 * RemoteEventsPublisher does; at most 2048 events wait. */
#ifndef CELLA_SHIM_PUBLISHER_H
#define CELLA_SHIM_PUBLISHER_H

#include <stdbool.h>

#include "loop.h"
#include "proto.h"
#include "base/error.h"

#define SHIM_TOPIC_TASK_CREATE "/tasks/create"
#define SHIM_TOPIC_TASK_START "/tasks/start"
#define SHIM_TOPIC_TASK_OOM "/tasks/oom"
#define SHIM_TOPIC_TASK_EXIT "/tasks/exit"
#define SHIM_TOPIC_TASK_DELETE "/tasks/delete"
#define SHIM_TOPIC_TASK_EXEC_ADDED "/tasks/exec-added"
#define SHIM_TOPIC_TASK_EXEC_STARTED "/tasks/exec-started"
#define SHIM_TOPIC_TASK_PAUSED "/tasks/paused"
#define SHIM_TOPIC_TASK_RESUMED "/tasks/resumed"
#define SHIM_TOPIC_TASK_CHECKPOINTED "/tasks/checkpointed"

#define SHIM_EVENTS_SERVICE "containerd.services.events.ttrpc.v1.Events"
#define SHIM_PUBLISH_QUEUE_MAX 2048
#define SHIM_PUBLISH_RETRIES 5
#define SHIM_PUBLISH_TIMEOUT_MS 5000

struct shim_publisher;

/* address: containerd's ttrpc socket ("unix://" optional); the connection
 * is made on the first event. ns: the namespace of every envelope. */
struct shim_publisher *shim_publisher_new(struct loop *l, const char *address, const char *ns);
/* Events still queued are dropped (with a log line). */
void shim_publisher_free(struct shim_publisher *p);

/* Queue event under topic (SHIM_TOPIC_*). event is encoded now: the caller
 * keeps it. 0, or negative with err set (queue full). */
int shim_publish(struct shim_publisher *p, const char *topic, const ProtobufCMessage *event,
                 struct cella_error *err);

/* true when nothing waits to be sent. */
bool shim_publisher_idle(const struct shim_publisher *p);
/* fn(arg) runs each time the queue becomes empty. */
void shim_publisher_on_idle(struct shim_publisher *p, void (*fn)(void *arg), void *arg);

/* The encoded ForwardRequest for an event (tests, and the wire's shape in
 * one place). */
uint8_t *shim_forward_request_encode(const char *ns, const char *topic, const ProtobufCMessage *event,
                                     size_t *len);

#endif
