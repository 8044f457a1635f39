/* SPDX-License-Identifier: Apache-2.0 */
/* The config model's small helpers: hook kind names and the clone flag of
 * each namespace type (the parser is spec_parse.c and the files it calls). */
#include <sched.h>

#include "spec.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *const hook_names[CELLA_HOOK__COUNT] = {
        [CELLA_HOOK_PRESTART] = "prestart",
        [CELLA_HOOK_CREATE_RUNTIME] = "createRuntime",
        [CELLA_HOOK_CREATE_CONTAINER] = "createContainer",
        [CELLA_HOOK_START_CONTAINER] = "startContainer",
        [CELLA_HOOK_POSTSTART] = "poststart",
        [CELLA_HOOK_POSTSTOP] = "poststop",
};

const char *cella_hook_kind_name(enum cella_hook_kind k)
{
        return (unsigned)k < CELLA_HOOK__COUNT ? hook_names[k] : NULL;
}

int cella_ns_clone_flag(enum cella_ns_type t)
{
        switch (t) {
        case CELLA_NS_PID: return CLONE_NEWPID;
        case CELLA_NS_NET: return CLONE_NEWNET;
        case CELLA_NS_IPC: return CLONE_NEWIPC;
        case CELLA_NS_UTS: return CLONE_NEWUTS;
        case CELLA_NS_MOUNT: return CLONE_NEWNS;
        case CELLA_NS_USER: return CLONE_NEWUSER;
        case CELLA_NS_CGROUP: return CLONE_NEWCGROUP;
        case CELLA_NS_TIME: return CLONE_NEWTIME;
        default: return 0;
        }
}
