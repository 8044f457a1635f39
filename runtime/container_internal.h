/* SPDX-License-Identifier: Apache-2.0 */
/* cella: what the files of the container lifecycle share:
 *   create.c     create (and the first half of run): checks, state dir,
 *                cgroup, clone, the init's setup
 *   run.c        start, and run (create + start + wait)
 *   container.c  the commands on an existing container: state, kill,
 *                pids, pause, delete, list */
#ifndef CELLA_CONTAINER_INTERNAL_H
#define CELLA_CONTAINER_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "container.h"
#include "state.h"

/* What create leaves for run (and for its own clean-up on failure). */
struct created {
        int rootfd;
        int dirfd;              /* state dir, locked */
        pid_t pid;
        int pidfd;
        int sync_fd;            /* run: START is still to be sent */
        int master;             /* pty master kept for run, else -1 */
        struct cella_spec *spec;
        bool own_spec;
        struct cella_cgroup *cgroup;
        bool cgroup_shared;     /* it held processes before this container */
        struct cella_state st;
};

/* config.json read and parsed once (front ends load it before choosing
 * the backend: cella_request_load; this covers callers that did not). */
struct preloaded {
        struct cella_create_opts o;
        struct cella_spec *spec;        /* owned; NULL when the caller gave one */
        char *text;
};

void created_release(struct created *c);
/* Wait (bounded) until pid is gone; it may not be our child. */
void wait_gone(pid_t pid, int timeout_ms);
/* create's work; run_mode: no exec.fifo, run sends START itself. On
 * failure nothing is left (destroy_half_made); *c is released by the caller. */
int create_internal(const struct cella_create_opts *o, bool run_mode, sigset_t *saved_mask,
                    struct created *c, struct cella_error *err);
void destroy_half_made(struct created *c, const char *id);
/* around clone and while run waits; *saved is the mask to restore */
void block_all_signals(sigset_t *saved);
int preload_spec(const struct cella_create_opts *o, struct preloaded *p, struct cella_error *err);
void preloaded_release(struct preloaded *p);
void net_teardown(const struct cella_net_annotations *net, const char *id);
/* The config kept in the state dir, or NULL (a create that died early). */
struct cella_spec *load_saved_spec(int dirfd);
/* delete with <root>/<id> already locked (dirfd) */
int delete_locked(int rootfd, int dirfd, const char *id, struct cella_state *st, struct cella_spec *spec,
                  bool force, struct cella_error *err);
void run_poststart(const char *id, struct cella_spec *spec, const struct cella_state *st);

#endif
