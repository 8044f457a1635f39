/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup module: helpers shared by the files of cgroup/ only (not a public API).
 *
 * Calls inside cgroup/ go one way, top to bottom (no file calls a file
 * above it):
 *   cgroup.c, join.c, sub.c   the public face: create, enter, apply,
 *                             destroy; each picks the driver (cgroupfs or
 *                             systemd) and calls down
 *   systemd.c                 the systemd driver (systemd.h): unit
 *                             properties over D-Bus, then cg_fs_apply
 *   systemd_bus.c, _props.c   sd-bus; names and properties (pure)
 *   apply.c                   cg_fs_apply: each group of limits to v1.c or v2.c
 *   v1.c, v2.c, ebpf_devices.c  the writers of one controller's files
 *   lifecycle.c, stats.c      freezer, pids, kill; statistics (public, over
 *                             the handle)
 *   handle.c                  placement (cg_logical_path), cg_locate,
 *                             cgroup_dir_for, cgroup_from_dirs, cg_enter_dirs
 *   fs.c, convert.c, host.c   file reads/writes and helpers of more than one
 *                             writer; value conversions; the host's mounts */
#ifndef CELLA_CGROUP_INTERNAL_H
#define CELLA_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cgroup.h"

/* ---- the host's cgroup mounts (detected once) ---- */

struct cg_mount {
        char *controllers;      /* "memory", "cpu,cpuacct", "name=systemd"; "" = cgroup2 */
        char *mountpoint;
        char *root;             /* mountinfo "root" field: "/" unless cgroupns/bind */
};

struct cg_host {
        enum cella_cgroup_mode mode;
        struct cg_mount *v1;
        size_t n_v1;
        struct cg_mount *v2;    /* NULL when no cgroup2 mount */
};

int cg_host_get(const struct cg_host **out, struct cella_error *err);
/* Parse a mountinfo text (tests feed fixtures). *out is malloc'd. */
int cg_host_parse_mountinfo(const char *text, struct cg_host *out, struct cella_error *err);
void cg_host_clear(struct cg_host *h);

/* Does a comma-separated controller list contain ctrl? */
bool cg_list_has(const char *list, const char *ctrl);

/* The container's cgroup relative to a hierarchy root, following the
 * placement rules of cgroup.h; own = this process's cgroup there. */
int cg_logical_path(const char *cgroups_path, const char *id, const char *own, char **out,
                    struct cella_error *err);
/* mountpoint + logical, with duplicate and trailing slashes squeezed. malloc'd. */
char *cg_host_path(const char *mountpoint, const char *logical);
/* Where an empty or relative cgroupsPath starts, given this process's cgroup
 * own in a hierarchy: own itself, or on a pure v2 host its parent (runc's
 * fs2). malloc'd. */
char *cg_relative_base(enum cella_cgroup_mode mode, const char *own);

/* ---- files ---- */

int cg_read(const char *dir, const char *file, char **out, struct cella_error *err);
int cg_write(const char *dir, const char *file, const char *value, struct cella_error *err);
int cg_writef(const char *dir, const char *file, struct cella_error *err, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
bool cg_exists(const char *dir, const char *file);
/* A number or "max" (= UINT64_MAX). */
int cg_read_u64(const char *dir, const char *file, uint64_t *v, struct cella_error *err);
/* "key value" lines: the value of key, or -ENOENT. */
int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *v);

/* ---- CPU / memory-node lists: "0-3,7" ---- */

#define CG_LIST_MAX 8192
/* Sets bits[i] for each listed i. Returns -1 on syntax error or an index
 * >= CG_LIST_MAX. bits has CG_LIST_MAX/8 bytes. */
int cg_list_parse(const char *s, unsigned char *bits);
static inline bool cg_bit(const unsigned char *bits, unsigned i)
{
        return i < CG_LIST_MAX && (bits[i / 8] >> (i % 8)) & 1;
}

/* ---- where a controller lives for a given cgroup ---- */

struct cg_loc {
        const char *dir;        /* NULL = controller not available */
        bool v2;                /* dir is in the cgroup2 hierarchy */
};
struct cg_loc cg_locate(const struct cella_cgroup *cg, const char *controller);

/* Write pid into cgroup.procs of every directory (only the cgroup2 one
 * with unified_only). */
int cg_enter_dirs(const struct cella_cgroup *cg, pid_t pid, bool unified_only, struct cella_error *err);

/* ---- writers ---- */

/* The limits of res written as cgroupfs files (apply.c), whichever driver
 * made the cgroup; cgroup_apply (cgroup.c) is the public entry. */
int cg_fs_apply(const struct cella_cgroup *cg, const struct cella_resources *res, struct cella_error *err);
int cg_v1_apply(const char *ctrl, const char *dir, const struct cella_resources *res,
                struct cella_error *err);
int cg_v2_apply(const char *ctrl, const char *dir, const struct cella_resources *res,
                struct cella_error *err);
/* fs.c: rdma.max (same file and format on v1 and v2); a new v1 cpuset
 * directory's cpus and mems copied down from its parent. */
int cg_rdma_max(const char *dir, const struct cella_resources *res, struct cella_error *err);
int cg_v1_cpuset_inherit(const char *mountpoint, const char *path, struct cella_error *err);

/* Conversions, convert.c (also unit tested). */
uint64_t cg_shares_to_weight(uint64_t shares);
uint64_t cg_blkio_to_io_weight(uint64_t weight);
int cg_swap_to_v2(int64_t swap, int64_t limit, int64_t *out, struct cella_error *err);
/* "2MB" -> 2097152; 0 on error. */
uint64_t cg_pagesize_bytes(const char *s);

/* ---- v2 device filter ---- */

struct bpf_insn;
/* Build the program for rules (last matching rule wins, default deny).
 * *insns is malloc'd. */
int cg_devices_build(const struct cella_device_rule *rules, size_t n, struct bpf_insn **insns,
                     size_t *n_insns, struct cella_error *err);
/* Load it and attach to dir, replacing programs a previous apply attached. */
int cg_devices_attach(const char *dir, const struct cella_device_rule *rules, size_t n,
                      struct cella_error *err);

#endif
