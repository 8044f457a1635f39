/* SPDX-License-Identifier: Apache-2.0 */
/* shim/oom.h — a container's OOM kills seen from the loop: cgroup v1's
 * memory.oom_control through an eventfd registered in cgroup.event_control,
 * cgroup v2's memory.events ("oom_kill" going up) through inotify. */
#ifndef CELLA_SHIM_OOM_H
#define CELLA_SHIM_OOM_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "base/error.h"

struct shim_oom {
        struct loop *loop;
        struct loop_watch w;
        int fd;                 /* the eventfd (v1) or inotify fd (v2) */
        bool v2;
        char *dir;              /* the memory cgroup */
        uint64_t kills;         /* v2: the last oom_kill count */
        void (*fn)(void *arg);  /* an OOM happened */
        void *arg;
};

/* Watch the memory cgroup dir; fn(arg) runs once per OOM event. */
int shim_oom_watch(struct shim_oom *o, struct loop *l, const char *dir, bool v2, void (*fn)(void *arg), void *arg,
                   struct cella_error *err);
void shim_oom_release(struct shim_oom *o);

#endif
