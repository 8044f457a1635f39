/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: freeze/thaw, the processes inside, signalling them all. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>

#include "base/log.h"
#include "base/util.h"

/* Freezing waits for every task to reach the refrigerator; a task in an
 * uninterruptible sleep can hold that up. Bound the wait. */
#define FREEZE_TRIES 2000

static int v1_freeze(const char *dir, bool frozen, struct cella_error *err)
{
        const char *want = frozen ? "FROZEN" : "THAWED";
        for (unsigned i = 0; i < FREEZE_TRIES; i++) {
                /* Rewriting FROZEN nudges tasks forked while the cgroup was FREEZING. */
                int r = cg_write(dir, "freezer.state", want, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *state = NULL;
                r = cg_read(dir, "freezer.state", &state, err);
                if (r < 0)
                        return r;
                if (streq(state, want))
                        return 0;
                usleep(i < 10 ? 100 : 1000);
        }
        if (frozen)
                cg_write(dir, "freezer.state", "THAWED", NULL);
        return cella_error_set(err, EBUSY, "%s/freezer.state: did not reach %s", dir, want);
}

static int v2_freeze(const char *dir, bool frozen, struct cella_error *err)
{
        int r = cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < FREEZE_TRIES; i++) {
                uint64_t v;
                if (cg_read_keyed(dir, "cgroup.events", "frozen", &v) < 0)
                        return cella_error_set(err, EIO, "%s/cgroup.events: no \"frozen\" key", dir);
                if (v == (frozen ? 1 : 0))
                        return 0;
                usleep(i < 10 ? 100 : 1000);
        }
        if (frozen)
                cg_write(dir, "cgroup.freeze", "0", NULL);
        return cella_error_set(err, EBUSY, "%s/cgroup.events: the cgroup did not become %s", dir,
                               frozen ? "frozen" : "thawed");
}

static struct cg_loc freezer_loc(const struct cella_cgroup *cg)
{
        struct cg_loc l = cg_locate(cg, "freezer");
        if (l.dir && !l.v2)
                return l;
        const char *u = cgroup_dir_for(cg, "");
        if (u && cg_exists(u, "cgroup.freeze"))
                return (struct cg_loc){ u, true };
        return (struct cg_loc){ NULL, false };
}

int cgroup_set_frozen(const struct cella_cgroup *cg, bool frozen, struct cella_error *err)
{
        struct cg_loc l = freezer_loc(cg);
        if (!l.dir)
                return cella_error_set(err, ENOTSUP, "cgroup: no freezer (neither a v1 freezer hierarchy nor cgroup.freeze)");
        return l.v2 ? v2_freeze(l.dir, frozen, err) : v1_freeze(l.dir, frozen, err);
}

int cgroup_is_frozen(const struct cella_cgroup *cg, bool *frozen, struct cella_error *err)
{
        struct cg_loc l = freezer_loc(cg);
        if (!l.dir)
                return cella_error_set(err, ENOTSUP, "cgroup: no freezer (neither a v1 freezer hierarchy nor cgroup.freeze)");
        if (l.v2) {
                uint64_t v;
                if (cg_read_keyed(l.dir, "cgroup.events", "frozen", &v) < 0)
                        return cella_error_set(err, EIO, "%s/cgroup.events: no \"frozen\" key", l.dir);
                *frozen = v == 1;
                return 0;
        }
        _cleanup_free_ char *state = NULL;
        int r = cg_read(l.dir, "freezer.state", &state, err);
        if (r < 0)
                return r;
        *frozen = streq(state, "FROZEN");
        return 0;
}

int cgroup_check_frozen(const struct cella_cgroup *cg, struct cella_error *err)
{
        struct cg_loc l = freezer_loc(cg);
        if (!l.dir)
                return 0;
        bool frozen;
        if (l.v2) {
                uint64_t v;
                if (cg_read_keyed(l.dir, "cgroup.events", "frozen", &v) < 0)
                        return 0;
                frozen = v == 1;
        } else {
                _cleanup_free_ char *state = NULL;
                if (cg_read(l.dir, "freezer.state", &state, NULL) < 0)
                        return 0; /* not made yet */
                /* FREEZING too: a task that joins is frozen all the same */
                frozen = !streq(state, "THAWED");
        }
        if (frozen)
                return cella_error_msg(err, EBUSY, "container's cgroup unexpectedly frozen (%s)", l.dir);
        return 0;
}

/* ---- pids ---- */

struct pid_list {
        pid_t *v;
        size_t n, cap;
};

static void pid_add(struct pid_list *l, pid_t p)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i] == p)
                        return;
        if (l->n == l->cap)
                l->v = xrealloc(l->v, (l->cap = l->cap ? l->cap * 2 : 16) * sizeof *l->v);
        l->v[l->n++] = p;
}

static int read_procs_tree(const char *dir, struct pid_list *l, struct cella_error *err)
{
        _cleanup_free_ char *text = NULL;
        int r = cg_read(dir, "cgroup.procs", &text, err);
        if (r < 0)
                return r;
        for (char *s = text; *s;) {
                char *end;
                long p = strtol(s, &end, 10);
                if (end == s)
                        break;
                if (p > 0)
                        pid_add(l, (pid_t)p);
                s = end;
                while (*s == '\n')
                        s++;
        }
        DIR *d = opendir(dir);
        if (!d)
                return cella_error_sys(err, "opendir %s", dir);
        struct dirent *e;
        while (r == 0 && (e = readdir(d))) {
                if (e->d_type != DT_DIR || streq(e->d_name, ".") || streq(e->d_name, ".."))
                        continue;
                _cleanup_free_ char *child = xasprintf("%s/%s", dir, e->d_name);
                r = read_procs_tree(child, l, err);
                if (r == -ENOENT)       /* a child cgroup went away meanwhile */
                        r = 0;
        }
        closedir(d);
        return r;
}

/* The hierarchy that sees every process of the container. */
static const char *pids_dir(const struct cella_cgroup *cg)
{
        if (cg->mode == CELLA_CGROUP_V2)
                return cgroup_dir_for(cg, "");
        static const char *const prefer[] = { "pids", "freezer", "memory", "cpu", "devices" };
        for (size_t i = 0; i < ARRAY_SIZE(prefer); i++) {
                struct cg_loc l = cg_locate(cg, prefer[i]);
                if (l.dir && !l.v2)
                        return l.dir;
        }
        return cg->n_dirs ? cg->dirs[0].path : NULL;
}

int cgroup_read_pids(const struct cella_cgroup *cg, pid_t **pids, size_t *n, struct cella_error *err)
{
        const char *dir = pids_dir(cg);
        if (!dir)
                return cella_error_set(err, ENOENT, "cgroup: the handle has no directories");
        struct pid_list l = { 0 };
        int r = read_procs_tree(dir, &l, err);
        if (r < 0) {
                free(l.v);
                return r;
        }
        *pids = l.v;
        *n = l.n;
        return 0;
}

static int signal_all(const struct cella_cgroup *cg, int sig, struct cella_error *err)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = cgroup_read_pids(cg, &pids, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (kill(pids[i], sig) < 0 && errno != ESRCH)
                        return cella_error_sys(err, "kill(%d, %d)", (int)pids[i], sig);
        return 0;
}

int cgroup_kill_all(const struct cella_cgroup *cg, int sig, struct cella_error *err)
{
        const char *u = cgroup_dir_for(cg, "");
        if (sig == SIGKILL && u && cg_exists(u, "cgroup.kill")) {
                int r = cg_write(u, "cgroup.kill", "1", err);
                /* a v1 freezer (hybrid) keeps even SIGKILLed tasks frozen */
                struct cg_loc f = freezer_loc(cg);
                bool frozen = false;
                if (r == 0 && f.dir && !f.v2 && cgroup_is_frozen(cg, &frozen, NULL) == 0 && frozen)
                        r = cgroup_set_frozen(cg, false, err);
                return r;
        }

        /* Freeze first so nothing forks between reading the pids and the
         * kill; thaw afterwards so the signal is acted on. */
        bool was_frozen = false, can_freeze = freezer_loc(cg).dir != NULL;
        if (can_freeze) {
                int r = cgroup_is_frozen(cg, &was_frozen, err);
                if (r == 0 && !was_frozen)
                        r = cgroup_set_frozen(cg, true, err);
                if (r < 0)
                        return r;
        }
        int r = signal_all(cg, sig, err);
        if (can_freeze && (!was_frozen || sig == SIGKILL)) {
                struct cella_error e = { 0 };
                if (cgroup_set_frozen(cg, false, &e) < 0 && r == 0) {
                        if (err)
                                *err = e;
                        r = cella_error_code(&e);
                }
        }
        return r;
}
