/* SPDX-License-Identifier: Apache-2.0 */
/* cella: VM pods — one microVM per pod, every container of the pod inside
 * it (issue 21).
 *
 * The host side of a pod VM, driven by the containerd shim (shim/) — or any
 * front end with an event loop. One struct vm_pod is one QEMU microvm whose
 * PID 1 is cella's guest agent in pod mode (agent/pod*.c). The host talks
 * to the agent over one framed channel (sandbox/pod_wire.h): requests and
 * answers, events (a process exited, an OOM kill) and the data of every
 * process's stdio.
 *
 * Rootfs and bind-mount sources reach the guest through one 9p share, the
 * pod's <dir>/shared: each container's rootfs (already mounted on the host,
 * as the shim does for runc) is bind-mounted under it at create and
 * unmounted at delete. (The binds exist in QEMU's own mount namespace only;
 * read-write bind sources go through a second share, <dir>/shared-rw: see
 * docs/vm-pods-internals.md.)
 *
 * The program calling vm_pod_boot must contain the guest agent (link the
 * objects of agent/): the VM's /init is a copy of the running binary. The pod's network namespace (CNI's) reaches the
 * guest through a tap device wired to the pod's interface with tc
 * redirects (netns/podlink.h); the guest's eth0 gets the same MAC,
 * addresses and routes.
 *
 * Calls are synchronous (they wait for the agent's answer; events and
 * stdio data that arrive meanwhile are queued and handled on the next
 * readiness of the channel). Nothing here prints or exits.
 *
 * Process ids: exec_id NULL (or "") is a container's init. Guest pids are
 * the guest's; the host knows processes only as (id, exec_id). */
#ifndef CELLA_BACKEND_VM_POD_H
#define CELLA_BACKEND_VM_POD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "cgroup/cgroup.h"

struct vm_pod;

/* The caller's event loop: the pod watches its fds (the channel; the
 * stdin fds it was given) through these. add returns 0 or -errno; cb runs
 * when fd is readable (or hung up). add_writable (optional): the same for
 * writability, for an output fd that is full; del ends either watch.
 * Without add_writable a full output fd is waited for (blocking). */
struct vm_pod_loop {
        int (*add)(void *loop_data, int fd, void (*cb)(int fd, void *cb_data), void *cb_data);
        void (*del)(void *loop_data, int fd);
        void *loop_data;
        int (*add_writable)(void *loop_data, int fd, void (*cb)(int fd, void *cb_data), void *cb_data);
};

/* What the pod reports, from the caller's loop (never inside a vm_pod_*
 * call). */
struct vm_pod_events {
        /* a process ended: status as a shell's $? (128+N for signal N);
         * its stdout/stderr were all delivered and closed before this */
        void (*exited)(void *data, const char *id, const char *exec_id, int status);
        /* the container's memory limit killed a process (guest cgroup) */
        void (*oom)(void *data, const char *id);
        /* QEMU is gone (crash, killed, guest panic): every process still
         * running was reported exited (status 255) first; why holds the
         * console's last lines. The pod accepts only vm_pod_destroy now. */
        void (*died)(void *data, const char *why);
        void *data;
};

struct vm_pod_config {
        const char *dir;                /* the pod's host directory, made here, removed by vm_pod_destroy */
        const char *netns;              /* the pod's network namespace (path); NULL: the guest has lo only */
        uint64_t memory_bytes;          /* guest RAM; 0: SANDBOX_MEM_DEFAULT_MB */
        unsigned vcpus;                 /* 0: 1 */
        const char *vmm;                /* NULL: $CELLA_QEMU, then PATH (as --sandbox vm) */
        const char *kernel_dir;         /* NULL: $CELLA_VM_KERNEL, then /var/lib/cella/vm/kernel */
        const char *accel;              /* "auto" (NULL), "kvm", "tcg" */
        int boot_timeout_ms;            /* 0: CELLA_VM_BOOT_TIMEOUT or the default */
};

/* Guest RAM for a pod whose containers' memory limits add up to
 * limits_sum bytes: the sum plus SANDBOX_MEM_OVERHEAD_MB (kernel, agent,
 * page cache), at least SANDBOX_MEM_MIN_MB; SANDBOX_MEM_DEFAULT_MB (256
 * MiB) when no limit is known (0). For vm_pod_config.memory_bytes. */
uint64_t vm_pod_memory_for(uint64_t limits_sum);

/* Boot the VM and wait until the agent says it is ready. On failure nothing
 * is left (QEMU, tap, dir) and err holds the console's last lines. */
int vm_pod_boot(const struct vm_pod_config *c, const struct vm_pod_loop *loop, const struct vm_pod_events *ev,
                struct vm_pod **pod, struct cella_error *err);
/* Kill QEMU, remove the tap and filters, unmount the shares, remove dir. */
void vm_pod_destroy(struct vm_pod *pod);
pid_t vm_pod_qemu_pid(const struct vm_pod *pod);
/* What a caller that was killed left (containerd's `shim delete` after a
 * crash): the pod's QEMU if it still runs (it dies with its parent, but
 * the parent may be a survivor), the tap and the tc filters in netns (NULL:
 * none), and dir. QEMU's mounts went with it. Idempotent; missing is fine. */
void vm_pod_cleanup(const char *dir, const char *netns);

/* A process's stdio on the host: fds the pod copies to and from (it owns
 * them from the call on, success or not, and closes them at the stream's
 * end). -1: none (/dev/null in the guest). terminal: the process gets a pty
 * in the guest; its output comes on out, err is unused.
 *
 * Flow control: output fds may be non-blocking (so one stalled reader
 * cannot stall the caller's loop). What a full fd does not take is kept,
 * in order, and written when it is writable again (loop.add_writable);
 * above VM_POD_OUT_CAP bytes kept for one stream the guest stops reading
 * that process's output, which then blocks on write (as with a pipe to a
 * slow reader): nothing is dropped unless the reader is gone (EPIPE or
 * another error: the stream ends). A stream's end and the process's
 * exited event come after its kept bytes are written. Input a process
 * does not read is held in the guest up to a cap, then the pod stops
 * reading the in fd until the process reads. */
#define VM_POD_OUT_CAP (8u << 20)
struct vm_pod_stdio {
        int in, out, err;
        bool terminal;
};

/* bundle: the host bundle (config.json; rootfs mounted as the shim mounts
 * it). The init waits for vm_pod_start. Namespace paths of the config that
 * point at the pod's sandbox container (CRI: /proc/<pid>/ns/...) or at the
 * pod's CNI netns are joined to the sandbox container's namespaces in the
 * guest. */
int vm_pod_create(struct vm_pod *pod, const char *id, const char *bundle, const struct vm_pod_stdio *io,
                  struct cella_error *err);
int vm_pod_start(struct vm_pod *pod, const char *id, struct cella_error *err);
/* process_json: an OCI process object (runc exec --process) */
int vm_pod_exec(struct vm_pod *pod, const char *id, const char *exec_id, const char *process_json, size_t len,
                const struct vm_pod_stdio *io, struct cella_error *err);
int vm_pod_kill(struct vm_pod *pod, const char *id, const char *exec_id, int sig, bool all,
                struct cella_error *err);
int vm_pod_delete(struct vm_pod *pod, const char *id, struct cella_error *err);
int vm_pod_pause(struct vm_pod *pod, const char *id, bool pause, struct cella_error *err);
int vm_pod_resize(struct vm_pod *pod, const char *id, const char *exec_id, unsigned width, unsigned height,
                  struct cella_error *err);
int vm_pod_close_stdin(struct vm_pod *pod, const char *id, const char *exec_id, struct cella_error *err);
/* guest pids of the container's processes (malloc'd) */
int vm_pod_pids(struct vm_pod *pod, const char *id, pid_t **pids, size_t *n, struct cella_error *err);
int vm_pod_stats(struct vm_pod *pod, const char *id, struct cella_cgroup_stats *st, struct cella_error *err);
/* resources_json: a linux.resources object */
int vm_pod_update(struct vm_pod *pod, const char *id, const char *resources_json, size_t len,
                  struct cella_error *err);

#endif
