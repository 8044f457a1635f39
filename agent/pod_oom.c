/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the pod agent's OOM watch — inotify on each container's
 * memory.events, an "oom" event when its oom_kill count grows (see
 * agent/pod_chan.h). */
#include "pod_oom.h"
#include "pod_chan.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "base/fileutil.h"
#include "base/json_write.h"
#include "base/util.h"

static uint64_t read_oom_kills(const struct gctr *c)
{
        _cleanup_free_ char *path = xasprintf("%s/memory.events", c->cgroup);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        struct cella_error e = { 0 };
        if (read_file_at(AT_FDCWD, path, &buf, &len, &e) < 0)
                return 0;
        const char *k = strstr(buf, "oom_kill ");
        return k ? strtoull(k + 9, NULL, 10) : 0;
}

void pod_oom_watch(struct gctr *c)
{
        if (!c->cgroup || agent.inotify < 0)
                return;
        _cleanup_free_ char *path = xasprintf("%s/memory.events", c->cgroup);
        c->oom_wd = inotify_add_watch(agent.inotify, path, IN_MODIFY);
        c->oom_kills = read_oom_kills(c);
}

void pod_oom_check(void)
{
        char buf[4096];
        while (read(agent.inotify, buf, sizeof buf) > 0)
                ;
        for (struct gctr *c = agent.ctrs; c; c = c->next) {
                if (c->oom_wd < 0)
                        continue;
                uint64_t n = read_oom_kills(c);
                if (n <= c->oom_kills)
                        continue;
                c->oom_kills = n;
                yajl_gen g = json_writer_new(JSON_COMPACT);
                yajl_gen_map_open(g);
                json_put_key_str(g, "event", "oom");
                json_put_key_str(g, "id", c->id);
                pod_send_event(g);
        }
}
