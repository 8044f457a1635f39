/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: the systemd driver (--systemd-cgroup). Shared by
 * cgroup/systemd*.c and the hooks in cgroup.c and join.c only (the driver
 * never calls those back); not a public API (cgroup/cgroup.h is).
 *
 *   systemd.c        the driver: create, start (the scope with the init in
 *                    it), apply/update, stop; the "is systemd here" check
 *   systemd_props.c  cgroupsPath -> slice, unit, path; linux.resources ->
 *                    unit properties (pure: unit tested)
 *   systemd_bus.c    libsystemd's sd-bus, dlopen()ed on first use: the
 *                    Manager calls and the JobRemoved wait */
#ifndef CELLA_CGROUP_SYSTEMD_H
#define CELLA_CGROUP_SYSTEMD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

/* ---- the driver (systemd.c) ---- */

/* --systemd-cgroup was given and applies (the cgroupfs fallback did not
 * take over: CELLA_SYSTEMD_CGROUP_FALLBACK=cgroupfs without systemd). */
bool cg_systemd_wanted(void);
int cg_systemd_create(const char *cgroups_path, const char *id, struct cella_cgroup **out,
                      struct cella_error *err);
/* A handle from cg_systemd_create whose unit is not started yet. */
bool cg_systemd_pending(const struct cella_cgroup *cg);
/* Before the start: keep res for it. After (and for a handle rebuilt from
 * the state: update): set the unit's properties, then write the files. */
int cg_systemd_apply(const struct cella_cgroup *cg, const struct cella_resources *res,
                     struct cella_error *err);
/* Start the scope with pid in it, wait for the job, join the v1 hierarchies
 * systemd does not manage, write the kept limits. */
int cg_systemd_start(const struct cella_cgroup *cg, pid_t pid, struct cella_error *err);
/* Stop the unit (and reset it if it failed); a unit already gone is fine. */
int cg_systemd_stop(const struct cella_cgroup *cg, struct cella_error *err);
void cg_systemd_free(struct cg_systemd *sd);

/* ---- names (systemd_props.c) ---- */

struct cgsd_names {
        char *slice;    /* "kubepods-burstable-pod1.slice", "-.slice" for the root */
        char *unit;     /* "cri-containerd-abc.scope" */
        char *path;     /* below a hierarchy's root: "/kubepods.slice/.../cri-containerd-abc.scope" */
};

/* cgroupsPath "slice:prefix:name" (or empty: "system.slice:cella:<id>", as
 * runc's ":runc:<id>") -> names. */
int cgsd_names_parse(const char *cgroups_path, const char *id, struct cgsd_names *out,
                     struct cella_error *err);
void cgsd_names_clear(struct cgsd_names *n);

/* ---- unit properties (systemd_props.c) ---- */

enum cgsd_type {
        CGSD_STRING = 's',
        CGSD_BOOL = 'b',
        CGSD_U64 = 't',
        CGSD_BYTES = 'Y',       /* "ay": AllowedCPUs, AllowedMemoryNodes */
        CGSD_PIDS = 'U',        /* "au": PIDs */
        CGSD_DEVICES = 'D',     /* "a(ss)": DeviceAllow */
};

struct cgsd_device {
        char *path;             /* "/dev/char/1:3", "char-136", "block-*" */
        char perms[4];          /* "rwm" */
};

struct cgsd_prop {
        char *name;
        enum cgsd_type type;
        char *s;
        uint64_t u;             /* BOOL and U64 */
        unsigned char *bytes;   /* BYTES */
        uint32_t *pids;         /* PIDS */
        struct cgsd_device *devs;
        size_t n;               /* bytes, pids or devs */
};

struct cgsd_props {
        struct cgsd_prop *v;
        size_t n;
};

void cgsd_add_string(struct cgsd_props *p, const char *name, const char *value);
void cgsd_add_bool(struct cgsd_props *p, const char *name, bool value);
void cgsd_add_u64(struct cgsd_props *p, const char *name, uint64_t value);
void cgsd_add_pid(struct cgsd_props *p, const char *name, pid_t pid);
void cgsd_props_clear(struct cgsd_props *p);
/* "MemoryMax=67108864", "Delegate=yes", "AllowedCPUs=0-1",
 * "DeviceAllow=/dev/char/1:3 rwm,char-* m" (logs and tests). */
char *cgsd_prop_format(const struct cgsd_prop *p);
const struct cgsd_prop *cgsd_props_find(const struct cgsd_props *p, const char *name);  /* the last one */

/* The properties systemd has for res, as runc sets them (v2: MemoryMax,
 * MemoryLow, MemorySwapMax, CPUWeight, CPUQuotaPerSecUSec, TasksMax,
 * AllowedCPUs, the unified keys it knows; v1: MemoryLimit, CPUShares,
 * BlockIOWeight, ...; devices as DevicePolicy/DeviceAllow). version: the
 * systemd version (older ones lack some). res->cpu.quota may be rounded up
 * to what systemd can hold (whole percents), so that the file written
 * afterwards says the same. */
int cgsd_resource_props(struct cgsd_props *p, struct cella_resources *res, bool v2, int version,
                        struct cella_error *err);

/* ---- D-Bus (systemd_bus.c) ---- */

struct cgsd_bus;

/* Load libsystemd.so.0 (once). */
int cgsd_bus_load(struct cella_error *err);
/* The private socket /run/systemd/private (as root), else the system bus. */
int cgsd_bus_open(struct cgsd_bus **out, struct cella_error *err);
void cgsd_bus_close(struct cgsd_bus *b);
/* Manager.Version as a number ("252.39-1~deb12u2" -> 252), -1 unknown. */
int cgsd_bus_version(struct cgsd_bus *b);
/* StartTransientUnit(unit, "replace", props) and wait for its job. A unit
 * that exists (a failed leftover) is reset and the start tried once more. */
int cgsd_bus_start_unit(struct cgsd_bus *b, const char *unit, const struct cgsd_props *props,
                        struct cella_error *err);
/* StopUnit and wait; a unit that does not exist is not an error. Then
 * ResetFailedUnit, so a failed unit does not linger. */
int cgsd_bus_stop_unit(struct cgsd_bus *b, const char *unit, struct cella_error *err);
/* SetUnitProperties(unit, runtime=true, props). */
int cgsd_bus_set_properties(struct cgsd_bus *b, const char *unit, const struct cgsd_props *props,
                            struct cella_error *err);

#endif
