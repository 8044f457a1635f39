/* cella: process security of the container init — capabilities (libcap),
 * seccomp (libseccomp) and no_new_privs. Runs inside the container's init
 * between the uid switch and execve; never prints or exits. */
#ifndef CELLA_SECURITY_H
#define CELLA_SECURITY_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

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

/* Send a seccomp listener fd and the container process state to the
 * listenerPath socket as the runtime-spec describes (SCM_RIGHTS + the
 * containerProcessState JSON). Called by the runtime, not the init. */
int security_seccomp_send_listener(const char *listener_path, int listener_fd,
                                   const char *process_state_json, struct cella_error *err);

/* The default seccomp profile of `cella spec` (as strict as Docker's
 * default), as the JSON text of a linux.seccomp object, or NULL when this
 * build has none. Static storage. */
const char *security_default_seccomp_json(void);

#endif
