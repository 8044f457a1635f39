/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup, systemd driver: talking to systemd's manager over D-Bus
 * with libsystemd's sd-bus.
 *
 * libsystemd is dlopen()ed the first time the driver needs it, so a `cella`
 * run without --systemd-cgroup never maps it (nor what it pulls in: liblz4,
 * libzstd, liblzma, libcap, libgcrypt). The header gives the types; every
 * call goes through the table below.
 *
 * As root the connection is systemd's private socket /run/systemd/private
 * (what systemctl uses: no dbus-daemon needed, and systemd sends its
 * signals there unconditionally); otherwise, or when that socket is
 * missing, the system bus. A job (StartUnit, StopUnit) is done when the
 * Manager's JobRemoved signal names its object path; the match is in place
 * before the call, and sd_bus_call queues what arrives meanwhile, so the
 * signal cannot be missed. */
#include "systemd.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "base/log.h"
#include "base/util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_IFACE "org.freedesktop.systemd1.Manager"
#define SD_PRIVATE "/run/systemd/private"
#define JOB_TIMEOUT_US (30ULL * 1000000)     /* as runc */

static struct {
        __typeof__(sd_bus_new) *new_;
        __typeof__(sd_bus_set_address) *set_address;
        __typeof__(sd_bus_start) *start;
        __typeof__(sd_bus_open_system) *open_system;
        __typeof__(sd_bus_flush_close_unref) *close_unref;
        __typeof__(sd_bus_message_new_method_call) *new_method_call;
        __typeof__(sd_bus_message_append) *append;
        __typeof__(sd_bus_message_append_basic) *append_basic;
        __typeof__(sd_bus_message_append_array) *append_array;
        __typeof__(sd_bus_message_open_container) *open_container;
        __typeof__(sd_bus_message_close_container) *close_container;
        __typeof__(sd_bus_message_read) *read;
        __typeof__(sd_bus_message_unref) *message_unref;
        __typeof__(sd_bus_call) *call;
        __typeof__(sd_bus_call_method) *call_method;
        __typeof__(sd_bus_get_property_string) *get_property_string;
        __typeof__(sd_bus_error_free) *error_free;
        __typeof__(sd_bus_error_has_name) *error_has_name;
        __typeof__(sd_bus_match_signal) *match_signal;
        __typeof__(sd_bus_slot_unref) *slot_unref;
        __typeof__(sd_bus_process) *process;
        __typeof__(sd_bus_wait) *wait;
} dl;

#define SYM(field, name) { #name, offsetof(__typeof__(dl), field) }
static const struct {
        const char *name;
        size_t offset;
} symbols[] = {
        SYM(new_, sd_bus_new),
        SYM(set_address, sd_bus_set_address),
        SYM(start, sd_bus_start),
        SYM(open_system, sd_bus_open_system),
        SYM(close_unref, sd_bus_flush_close_unref),
        SYM(new_method_call, sd_bus_message_new_method_call),
        SYM(append, sd_bus_message_append),
        SYM(append_basic, sd_bus_message_append_basic),
        SYM(append_array, sd_bus_message_append_array),
        SYM(open_container, sd_bus_message_open_container),
        SYM(close_container, sd_bus_message_close_container),
        SYM(read, sd_bus_message_read),
        SYM(message_unref, sd_bus_message_unref),
        SYM(call, sd_bus_call),
        SYM(call_method, sd_bus_call_method),
        SYM(get_property_string, sd_bus_get_property_string),
        SYM(error_free, sd_bus_error_free),
        SYM(error_has_name, sd_bus_error_has_name),
        SYM(match_signal, sd_bus_match_signal),
        SYM(slot_unref, sd_bus_slot_unref),
        SYM(process, sd_bus_process),
        SYM(wait, sd_bus_wait),
};

int cgsd_bus_load(struct cella_error *err)
{
        static bool loaded;
        if (loaded)
                return 0;
        void *lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!lib)
                return cella_error_msg(err, ENOENT,
                                       "--systemd-cgroup: cannot load libsystemd.so.0 (%s): apt-get install libsystemd0",
                                       dlerror());
        for (size_t i = 0; i < ARRAY_SIZE(symbols); i++) {
                void *p = dlsym(lib, symbols[i].name);
                if (!p)
                        return cella_error_msg(err, ENOENT, "--systemd-cgroup: libsystemd.so.0 has no %s (too old)",
                                               symbols[i].name);
                *(void **)((char *)&dl + symbols[i].offset) = p;
        }
        loaded = true;
        return 0;
}

struct cgsd_bus {
        sd_bus *bus;
        bool direct;            /* the private socket: no bus names, no sender */
        int version;            /* 0 = not asked yet */
};

/* One line from a D-Bus error or an errno. */
static int bus_fail(struct cella_error *err, int r, const sd_bus_error *e, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int bus_fail(struct cella_error *err, int r, const sd_bus_error *e, const char *fmt, ...)
{
        char what[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        if (e && e->name)
                return cella_error_msg(err, r < 0 ? -r : EIO, "systemd: %s: %s (%s)", what,
                                       e->message ? e->message : "failed", e->name);
        return cella_error_set(err, r < 0 ? -r : EIO, "systemd: %s", what);
}

int cgsd_bus_open(struct cgsd_bus **out, struct cella_error *err)
{
        int r = cgsd_bus_load(err);
        if (r < 0)
                return r;
        sd_bus *bus = NULL;
        bool direct = false;
        if (geteuid() == 0 && access(SD_PRIVATE, F_OK) == 0) {
                r = dl.new_(&bus);
                if (r >= 0)
                        r = dl.set_address(bus, "unix:path=" SD_PRIVATE);
                if (r >= 0)
                        r = dl.start(bus);
                if (r >= 0)
                        direct = true;
                else {
                        log_debug("cgroup: systemd: %s: %s; trying the system bus", SD_PRIVATE, strerror(-r));
                        dl.close_unref(bus);
                        bus = NULL;
                }
        }
        if (!bus && (r = dl.open_system(&bus)) < 0)
                return bus_fail(err, r, NULL, "cannot connect to %s or the system bus", SD_PRIVATE);
        struct cgsd_bus *b = xcalloc(1, sizeof *b);
        b->bus = bus;
        b->direct = direct;
        log_debug("cgroup: systemd: connected (%s)", direct ? SD_PRIVATE : "system bus");
        *out = b;
        return 0;
}

void cgsd_bus_close(struct cgsd_bus *b)
{
        if (!b)
                return;
        dl.close_unref(b->bus);
        free(b);
}

int cgsd_bus_version(struct cgsd_bus *b)
{
        if (b->version)
                return b->version;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char *s = NULL;
        b->version = -1;
        if (dl.get_property_string(b->bus, SD_DEST, SD_PATH, SD_IFACE, "Version", &e, &s) >= 0 && s) {
                const char *p = s;
                while (*p == 'v' || *p == '"')
                        p++;
                if (*p >= '0' && *p <= '9')
                        b->version = atoi(p);
        }
        log_debug("cgroup: systemd version %d (\"%s\")", b->version, s ? s : "?");
        free(s);
        dl.error_free(&e);
        return b->version;
}

/* ---- messages ---- */

static int append_prop(sd_bus_message *m, const struct cgsd_prop *q)
{
        int r = dl.open_container(m, 'r', "sv");
        if (r >= 0)
                r = dl.append_basic(m, 's', q->name);
        if (r < 0)
                return r;
        switch (q->type) {
        case CGSD_STRING:
                r = dl.append(m, "v", "s", q->s);
                break;
        case CGSD_BOOL:
                r = dl.append(m, "v", "b", (int)(q->u != 0));
                break;
        case CGSD_U64:
                r = dl.append(m, "v", "t", q->u);
                break;
        case CGSD_BYTES:
                r = dl.open_container(m, 'v', "ay");
                if (r >= 0)
                        r = dl.append_array(m, 'y', q->bytes, q->n);
                if (r >= 0)
                        r = dl.close_container(m);
                break;
        case CGSD_PIDS:
                r = dl.open_container(m, 'v', "au");
                if (r >= 0)
                        r = dl.append_array(m, 'u', q->pids, q->n * sizeof *q->pids);
                if (r >= 0)
                        r = dl.close_container(m);
                break;
        case CGSD_DEVICES:
                r = dl.open_container(m, 'v', "a(ss)");
                if (r >= 0)
                        r = dl.open_container(m, 'a', "(ss)");
                for (size_t i = 0; r >= 0 && i < q->n; i++)
                        r = dl.append(m, "(ss)", q->devs[i].path, q->devs[i].perms);
                if (r >= 0)
                        r = dl.close_container(m);
                if (r >= 0)
                        r = dl.close_container(m);
                break;
        }
        return r < 0 ? r : dl.close_container(m);
}

static int append_props(sd_bus_message *m, const struct cgsd_props *props)
{
        int r = dl.open_container(m, 'a', "(sv)");
        for (size_t i = 0; r >= 0 && i < props->n; i++) {
                if (cella_log_enabled(CELLA_LOG_DEBUG)) {
                        _cleanup_free_ char *s = cgsd_prop_format(&props->v[i]);
                        log_debug("cgroup: systemd property %s", s);
                }
                r = append_prop(m, &props->v[i]);
        }
        return r < 0 ? r : dl.close_container(m);
}

static sd_bus_message *new_call(struct cgsd_bus *b, const char *method, int *r)
{
        sd_bus_message *m = NULL;
        *r = dl.new_method_call(b->bus, &m, SD_DEST, SD_PATH, SD_IFACE, method);
        return *r < 0 ? NULL : m;
}

/* ---- jobs ---- */

struct job_wait {
        char *job;              /* the object path the call returned */
        char *result;           /* "done", "failed", "timeout", ... once removed */
        char *seen[16];         /* JobRemoved paths that came before the reply was read */
        char *seen_result[16];
        size_t n_seen;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct job_wait *w = userdata;
        uint32_t id;
        const char *path, *unit, *result;
        if (dl.read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && streq(path, w->job)) {
                free(w->result);
                w->result = xstrdup(result);
        } else if (!w->job && w->n_seen < ARRAY_SIZE(w->seen)) {
                w->seen[w->n_seen] = xstrdup(path);
                w->seen_result[w->n_seen++] = xstrdup(result);
        }
        return 0;
}

static void job_wait_clear(struct job_wait *w)
{
        free(w->job);
        free(w->result);
        for (size_t i = 0; i < w->n_seen; i++) {
                free(w->seen[i]);
                free(w->seen_result[i]);
        }
        *w = (struct job_wait){ 0 };
}

static uint64_t now_us(void)
{
        return monotonic_ns() / 1000;
}

/* Set w->job from the reply, then process messages until its JobRemoved. */
static int wait_job(struct cgsd_bus *b, struct job_wait *w, sd_bus_message *reply, const char *what,
                    struct cella_error *err)
{
        const char *job;
        int r = dl.read(reply, "o", &job);
        if (r < 0)
                return bus_fail(err, r, NULL, "%s: cannot read the job from the reply", what);
        w->job = xstrdup(job);
        for (size_t i = 0; i < w->n_seen && !w->result; i++)
                if (streq(w->seen[i], job))
                        w->result = xstrdup(w->seen_result[i]);
        uint64_t deadline = now_us() + JOB_TIMEOUT_US;
        while (!w->result) {
                r = dl.process(b->bus, NULL);
                if (r < 0)
                        return bus_fail(err, r, NULL, "%s: waiting for job %s", what, job);
                if (r > 0)
                        continue;
                uint64_t now = now_us();
                if (now >= deadline)
                        return cella_error_msg(err, ETIMEDOUT, "systemd: %s: job %s not done after %llu s", what, job,
                                               JOB_TIMEOUT_US / 1000000);
                r = dl.wait(b->bus, deadline - now);
                if (r < 0)
                        return bus_fail(err, r, NULL, "%s: waiting for job %s", what, job);
        }
        log_debug("cgroup: systemd: %s: job %s %s", what, job, w->result);
        return 0;
}

/* Call method (unit, "replace", ...) and wait for the job it queues. What
 * the caller appends after the first two arguments comes from fill.
 * *no_unit: the error was NoSuchUnit. *exists: UnitExists. */
struct job_call {
        const char *method;
        const char *unit;
        const struct cgsd_props *props;         /* StartTransientUnit only */
        bool no_unit, exists;
        char *result;
};

static int job_call(struct cgsd_bus *b, struct job_call *c, struct cella_error *err)
{
        struct job_wait w = { 0 };
        sd_bus_slot *slot = NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char what[512];
        snprintf(what, sizeof what, "%s %s", c->method, c->unit);
        /* the Manager sends JobRemoved on the system bus only to subscribers */
        if (!b->direct)
                dl.call_method(b->bus, SD_DEST, SD_PATH, SD_IFACE, "Subscribe", NULL, NULL, NULL);
        int r = dl.match_signal(b->bus, &slot, b->direct ? NULL : SD_DEST, SD_PATH, SD_IFACE, "JobRemoved",
                                on_job_removed, &w);
        if (r < 0) {
                r = bus_fail(err, r, NULL, "%s: cannot watch JobRemoved", what);
                goto out;
        }
        m = new_call(b, c->method, &r);
        if (r >= 0)
                r = dl.append(m, "ss", c->unit, "replace");
        if (r >= 0 && c->props) {
                r = append_props(m, c->props);
                if (r >= 0)
                        r = dl.append(m, "a(sa(sv))", 0);
        }
        if (r < 0) {
                r = bus_fail(err, r, NULL, "%s: cannot build the call", what);
                goto out;
        }
        r = dl.call(b->bus, m, 0, &e, &reply);
        if (r < 0) {
                c->no_unit = dl.error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit") > 0;
                c->exists = dl.error_has_name(&e, "org.freedesktop.systemd1.UnitExists") > 0;
                r = bus_fail(err, r, &e, "%s", what);
                goto out;
        }
        r = wait_job(b, &w, reply, what, err);
        if (r == 0)
                c->result = steal_pointer(&w.result);
out:
        dl.error_free(&e);
        if (reply)
                dl.message_unref(reply);
        if (m)
                dl.message_unref(m);
        dl.slot_unref(slot);
        job_wait_clear(&w);
        return r;
}

static void reset_failed(struct cgsd_bus *b, const char *unit)
{
        sd_bus_error e = SD_BUS_ERROR_NULL;
        if (dl.call_method(b->bus, SD_DEST, SD_PATH, SD_IFACE, "ResetFailedUnit", &e, NULL, "s", unit) < 0)
                log_debug("cgroup: systemd: ResetFailedUnit %s: %s", unit, e.message ? e.message : "failed");
        dl.error_free(&e);
}

int cgsd_bus_start_unit(struct cgsd_bus *b, const char *unit, const struct cgsd_props *props,
                        struct cella_error *err)
{
        for (int attempt = 0;; attempt++) {
                struct job_call c = { .method = "StartTransientUnit", .unit = unit, .props = props };
                int r = job_call(b, &c, err);
                if (r < 0 && c.exists && attempt == 0) {
                        /* a failed leftover of the same name: let systemd drop it, once */
                        reset_failed(b, unit);
                        cella_error_clear(err);
                        continue;
                }
                if (r < 0)
                        return r;
                if (!streq(c.result, "done")) {
                        r = cella_error_msg(err, EIO, "systemd: cannot start unit %s: job %s", unit, c.result);
                        reset_failed(b, unit);
                }
                free(c.result);
                return r;
        }
}

int cgsd_bus_stop_unit(struct cgsd_bus *b, const char *unit, struct cella_error *err)
{
        struct job_call c = { .method = "StopUnit", .unit = unit };
        int r = job_call(b, &c, err);
        if (r < 0 && c.no_unit) {
                cella_error_clear(err);
                r = 0;
        } else if (r == 0 && !streq(c.result, "done")) {
                log_warn("cgroup: systemd: stopping %s: job %s", unit, c.result);
        }
        free(c.result);
        reset_failed(b, unit);
        return r;
}

int cgsd_bus_set_properties(struct cgsd_bus *b, const char *unit, const struct cgsd_props *props,
                            struct cella_error *err)
{
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;
        sd_bus_message *m = new_call(b, "SetUnitProperties", &r);
        if (r >= 0)
                r = dl.append(m, "sb", unit, 1);
        if (r >= 0)
                r = append_props(m, props);
        if (r < 0)
                r = bus_fail(err, r, NULL, "SetUnitProperties %s: cannot build the call", unit);
        else if ((r = dl.call(b->bus, m, 0, &e, &reply)) < 0)
                r = bus_fail(err, r, &e, "SetUnitProperties %s", unit);
        dl.error_free(&e);
        if (reply)
                dl.message_unref(reply);
        if (m)
                dl.message_unref(m);
        return r < 0 ? r : 0;
}
