/* SPDX-License-Identifier: Apache-2.0 */
/* cella: process security of the container init — capabilities (libcap),
 * seccomp (libseccomp) and no_new_privs. Runs inside the container's init
 * between the uid switch and execve; never prints or exits. */
#ifndef CELLA_SECURITY_H
#define CELLA_SECURITY_H

#include <stdbool.h>

#include "base/error.h"
#include "oci/spec.h"
#include "state.h"

/* Step 1, while still root in the container: drop everything outside the
 * bounding set and ask the kernel to keep permitted caps across setuid. */
int security_caps_prepare(const struct cella_capabilities *caps, struct cella_error *err);

/* Step 2, after setresuid/setresgid: set effective, permitted and
 * inheritable exactly as listed, then raise the ambient set. When
 * caps->present is false every capability is dropped. */
int security_caps_apply(const struct cella_capabilities *caps, struct cella_error *err);

int security_set_no_new_privs(struct cella_error *err);

/* A compiled seccomp filter (opaque). */
struct cella_seccomp_filter;

/* Compile the filter (may use a cache under cache_dir keyed by a hash of
 * the seccomp section; cache_dir may be NULL). Unknown syscall names are
 * skipped, as libseccomp does, and logged at debug level. */
int security_seccomp_compile(const struct cella_seccomp *sc, const char *cache_dir,
                             struct cella_seccomp_filter **out, struct cella_error *err);

/* Load it into the calling process. When the filter uses SCMP_ACT_NOTIFY,
 * *listener_fd receives the notification fd, otherwise -1. */
int security_seccomp_load(struct cella_seccomp_filter *f, int *listener_fd,
                          struct cella_error *err);

void security_seccomp_free(struct cella_seccomp_filter *f);

/* The filter goes in as the last step before execve, so that a profile
 * constrains the container's program and not the runtime's own setup.
 * Without no_new_privs, seccomp(2) needs CAP_SYS_ADMIN, which the process
 * usually does not keep: then this returns true and fills *held with caps
 * plus CAP_SYS_ADMIN (effective and permitted), to be applied by
 * security_caps_apply in place of caps; security_seccomp_load_last drops
 * it again. false: apply caps as they are. */
bool security_seccomp_hold_admin(const struct cella_capabilities *caps, bool no_new_privs,
                                 struct cella_capabilities *held);

/* security_seccomp_load, then, when final is not NULL (admin was held for
 * it), one capset(2) that drops CAP_SYS_ADMIN where final lacks it: the
 * only syscall the init makes under the filter besides execve. */
int security_seccomp_load_last(struct cella_seccomp_filter *f, const struct cella_capabilities *final,
                               int *listener_fd, struct cella_error *err);

/* Send a seccomp listener fd and the container process state to the
 * listenerPath socket as the runtime-spec describes (SCM_RIGHTS + the
 * containerProcessState JSON). Called by the runtime, not the init. */
int security_seccomp_send_listener(const char *listener_path, int listener_fd,
                                   const char *process_state_json, struct cella_error *err);

/* The containerProcessState JSON (malloc'd) for the process pid, whose
 * listener goes to the agent: {"ociVersion", "fds": ["seccompFd"], "pid",
 * "metadata", "state": the container's state (st, status), as hooks get it}. */
char *security_seccomp_process_state(int pid, const char *metadata, const struct cella_state *st,
                                     enum cella_status status);

/* Hand the listener of process pid to sc->listenerPath (a no-op without
 * one): the runtime's half of `run`, `create` and `exec`. */
int security_seccomp_to_agent(const struct cella_seccomp *sc, int pid, int listener_fd, const struct cella_state *st,
                              enum cella_status status, struct cella_error *err);

#endif
