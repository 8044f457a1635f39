/* SPDX-License-Identifier: Apache-2.0 */
/* shim/backend_vmpod_nopod.c — until backend/vm_pod*.c lands (helper
 * podvm, issue 21): backend/vm_pod.h answered with ENOTSUP, so the shim
 * links and a VM pod's Create fails with a clear message. shim/shim.mk
 * builds this file only when no backend/vm_pod*.c exists; it goes when
 * the real one is merged. */
#include <errno.h>

#include "backend/vm_pod.h"

int vm_pod_boot(const struct vm_pod_config *c, const struct vm_pod_loop *loop, const struct vm_pod_events *ev,
                struct vm_pod **pod, struct cella_error *err)
{
        *pod = NULL;
        return cella_error_msg(err, ENOTSUP, "VM pods are not built in this cella (no backend/vm_pod.c)");
}

void vm_pod_destroy(struct vm_pod *pod)
{
}

pid_t vm_pod_qemu_pid(const struct vm_pod *pod)
{
        return 0;
}

#define NOPOD(...) { return cella_error_msg(err, ENOTSUP, "VM pods are not built in this cella"); }
int vm_pod_create(struct vm_pod *pod, const char *id, const char *bundle, const struct vm_pod_stdio *io,
                  struct cella_error *err) NOPOD()
int vm_pod_start(struct vm_pod *pod, const char *id, struct cella_error *err) NOPOD()
int vm_pod_exec(struct vm_pod *pod, const char *id, const char *exec_id, const char *process_json, size_t len,
                const struct vm_pod_stdio *io, struct cella_error *err) NOPOD()
int vm_pod_kill(struct vm_pod *pod, const char *id, const char *exec_id, int sig, bool all,
                struct cella_error *err) NOPOD()
int vm_pod_delete(struct vm_pod *pod, const char *id, struct cella_error *err) NOPOD()
int vm_pod_pause(struct vm_pod *pod, const char *id, bool pause, struct cella_error *err) NOPOD()
int vm_pod_resize(struct vm_pod *pod, const char *id, const char *exec_id, unsigned width, unsigned height,
                  struct cella_error *err) NOPOD()
int vm_pod_close_stdin(struct vm_pod *pod, const char *id, const char *exec_id, struct cella_error *err) NOPOD()
int vm_pod_pids(struct vm_pod *pod, const char *id, pid_t **pids, size_t *n, struct cella_error *err) NOPOD()
int vm_pod_stats(struct vm_pod *pod, const char *id, struct cella_cgroup_stats *st, struct cella_error *err) NOPOD()
int vm_pod_update(struct vm_pod *pod, const char *id, const char *resources_json, size_t len,
                  struct cella_error *err) NOPOD()
