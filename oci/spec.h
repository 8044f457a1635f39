/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the OCI runtime-spec (1.2) config for Linux, as typed C structs.
 *
 * oci/spec_parse.c parses config.json (yajl) into these structs. Every field
 * is validated at parse time and every error names its JSON path, e.g.
 * "linux.namespaces[2].type: unknown namespace \"foo\"". Unknown keys are
 * ignored. Everything hangs off one struct cella_spec and is released by
 * cella_spec_free(). Strings are NUL-terminated; string vectors are
 * NULL-terminated *and* carry their count. */
#ifndef CELLA_SPEC_H
#define CELLA_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* Optional scalars: .set says whether the key was present. */
typedef struct { bool set; int64_t value; } cella_opt_i64;
typedef struct { bool set; uint64_t value; } cella_opt_u64;

struct cella_strv {
        char **v;   /* NULL-terminated; NULL when n == 0 */
        size_t n;
};

struct cella_kv {
        char *key;
        char *value;
};

struct cella_kv_list {
        struct cella_kv *v;
        size_t n;
};

struct cella_id_mapping {
        uint32_t container_id;
        uint32_t host_id;
        uint32_t size;
};

/* ---- process -------------------------------------------------------- */

struct cella_rlimit {
        int resource;            /* RLIMIT_* */
        char *type;              /* "RLIMIT_NOFILE" as written */
        uint64_t soft;
        uint64_t hard;
};

struct cella_user {
        uint32_t uid;
        uint32_t gid;
        cella_opt_u64 umask;
        uint32_t *additional_gids;
        size_t n_additional_gids;
};

/* Capability sets as bitmasks of CAP_* numbers (bit N = capability N).
 * .present is false when process.capabilities was absent. A set that is
 * absent inside a present capabilities object is 0. */
struct cella_capabilities {
        bool present;
        uint64_t bounding;
        uint64_t effective;
        uint64_t inheritable;
        uint64_t permitted;
        uint64_t ambient;
};

struct cella_process {
        bool terminal;
        bool has_console_size;
        uint32_t console_height;
        uint32_t console_width;
        struct cella_user user;
        struct cella_strv args;
        struct cella_strv env;
        char *cwd;                      /* "/" when absent */
        struct cella_capabilities capabilities;
        struct cella_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        cella_opt_i64 oom_score_adj;
        char *apparmor_profile;         /* NULL when absent */
        char *selinux_label;            /* NULL when absent */
};

/* ---- mounts --------------------------------------------------------- */

struct cella_mount {
        char *destination;
        char *type;                     /* NULL when absent */
        char *source;                   /* NULL when absent */
        struct cella_strv options;      /* as written */

        /* Derived from options by the parser: */
        unsigned long flags;            /* MS_* to set (MS_RDONLY, MS_NOSUID, MS_BIND, MS_REC...) */
        unsigned long clear_flags;      /* MS_* explicitly negated: rw, suid, dev, exec, atime... */
        unsigned long propagation;      /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (|MS_REC) */
        uint64_t attr_set;              /* MOUNT_ATTR_* for recursive options (rro, rnosuid, ...) */
        uint64_t attr_clr;
        bool bind;                      /* bind or rbind (or type "bind") */
        bool recursive_bind;            /* rbind */
        char *data;                     /* comma-joined options that are not flags, or NULL */
        struct cella_id_mapping *uid_mappings;  /* idmapped mounts (may be NULL) */
        size_t n_uid_mappings;
        struct cella_id_mapping *gid_mappings;
        size_t n_gid_mappings;
};

/* ---- hooks ---------------------------------------------------------- */

enum cella_hook_kind {
        CELLA_HOOK_PRESTART,
        CELLA_HOOK_CREATE_RUNTIME,
        CELLA_HOOK_CREATE_CONTAINER,
        CELLA_HOOK_START_CONTAINER,
        CELLA_HOOK_POSTSTART,
        CELLA_HOOK_POSTSTOP,
        CELLA_HOOK__COUNT
};

struct cella_hook {
        char *path;
        struct cella_strv args;
        struct cella_strv env;
        int timeout;                    /* seconds; 0 = none */
};

struct cella_hook_list {
        struct cella_hook *v;
        size_t n;
};

/* ---- linux ---------------------------------------------------------- */

enum cella_ns_type {
        CELLA_NS_PID,
        CELLA_NS_NET,
        CELLA_NS_IPC,
        CELLA_NS_UTS,
        CELLA_NS_MOUNT,
        CELLA_NS_USER,
        CELLA_NS_CGROUP,
        CELLA_NS_TIME,
        CELLA_NS__COUNT
};

struct cella_namespace {
        bool present;                   /* listed in linux.namespaces */
        char *path;                     /* join this one; NULL = create new */
};

struct cella_device {
        char *path;
        char type;                      /* 'c', 'b', 'u' or 'p' */
        int64_t major;
        int64_t minor;
        cella_opt_u64 file_mode;
        cella_opt_u64 uid;
        cella_opt_u64 gid;
};

struct cella_device_rule {
        bool allow;
        char type;                      /* 'a', 'c' or 'b' */
        int64_t major;                  /* -1 = any */
        int64_t minor;                  /* -1 = any */
        char access[4];                 /* subset of "rwm", "" = all */
};

struct cella_throttle_device {
        int64_t major;
        int64_t minor;
        uint64_t rate;
};

struct cella_weight_device {
        int64_t major;
        int64_t minor;
        cella_opt_u64 weight;
        cella_opt_u64 leaf_weight;
};

struct cella_hugepage_limit {
        char *page_size;                /* "2MB", "1GB" */
        uint64_t limit;
};

struct cella_net_priority {
        char *name;
        uint32_t priority;
};

struct cella_rdma_limit {
        char *device;
        cella_opt_u64 hca_handles;
        cella_opt_u64 hca_objects;
};

struct cella_resources {
        struct {
                cella_opt_i64 limit;
                cella_opt_i64 reservation;
                cella_opt_i64 swap;
                cella_opt_i64 kernel;
                cella_opt_i64 kernel_tcp;
                cella_opt_u64 swappiness;
                bool disable_oom_killer;
                bool use_hierarchy;
                bool check_before_update;
        } memory;
        struct {
                cella_opt_u64 shares;
                cella_opt_i64 quota;
                cella_opt_u64 period;
                cella_opt_u64 burst;
                cella_opt_i64 realtime_runtime;
                cella_opt_u64 realtime_period;
                char *cpus;                     /* NULL when absent */
                char *mems;                     /* NULL when absent */
                cella_opt_i64 idle;
        } cpu;
        struct {
                cella_opt_i64 limit;
        } pids;
        struct {
                cella_opt_u64 weight;
                cella_opt_u64 leaf_weight;
                struct cella_weight_device *weight_device;
                size_t n_weight_device;
                struct cella_throttle_device *throttle_read_bps;
                size_t n_throttle_read_bps;
                struct cella_throttle_device *throttle_write_bps;
                size_t n_throttle_write_bps;
                struct cella_throttle_device *throttle_read_iops;
                size_t n_throttle_read_iops;
                struct cella_throttle_device *throttle_write_iops;
                size_t n_throttle_write_iops;
        } block_io;
        struct cella_hugepage_limit *hugepage_limits;
        size_t n_hugepage_limits;
        struct {
                cella_opt_u64 class_id;
                struct cella_net_priority *priorities;
                size_t n_priorities;
        } network;
        struct cella_rdma_limit *rdma;
        size_t n_rdma;
        struct cella_kv_list unified;
        struct cella_device_rule *devices;
        size_t n_devices;
};

enum cella_seccomp_action {
        CELLA_SECCOMP_KILL,             /* SCMP_ACT_KILL (= kill thread) */
        CELLA_SECCOMP_KILL_PROCESS,
        CELLA_SECCOMP_KILL_THREAD,
        CELLA_SECCOMP_TRAP,
        CELLA_SECCOMP_ERRNO,
        CELLA_SECCOMP_TRACE,
        CELLA_SECCOMP_ALLOW,
        CELLA_SECCOMP_LOG,
        CELLA_SECCOMP_NOTIFY,
};

enum cella_seccomp_op {
        CELLA_SECCOMP_OP_NE,
        CELLA_SECCOMP_OP_LT,
        CELLA_SECCOMP_OP_LE,
        CELLA_SECCOMP_OP_EQ,
        CELLA_SECCOMP_OP_GE,
        CELLA_SECCOMP_OP_GT,
        CELLA_SECCOMP_OP_MASKED_EQ,
};

struct cella_seccomp_arg {
        uint32_t index;
        uint64_t value;
        uint64_t value_two;
        enum cella_seccomp_op op;
};

struct cella_seccomp_rule {
        struct cella_strv names;
        enum cella_seccomp_action action;
        cella_opt_u64 errno_ret;
        struct cella_seccomp_arg *args;
        size_t n_args;
};

struct cella_seccomp {
        bool present;
        enum cella_seccomp_action default_action;
        cella_opt_u64 default_errno_ret;
        struct cella_strv architectures;        /* "SCMP_ARCH_X86_64", ... */
        struct cella_strv flags;                /* "SECCOMP_FILTER_FLAG_LOG", ... */
        char *listener_path;
        char *listener_metadata;
        struct cella_seccomp_rule *syscalls;
        size_t n_syscalls;
        char *source_json;      /* the raw "seccomp" object text, a cache key */
};

struct cella_time_offset {
        bool set;
        int64_t secs;
        uint32_t nanosecs;
};

struct cella_linux {
        struct cella_namespace namespaces[CELLA_NS__COUNT];
        struct cella_id_mapping *uid_mappings;
        size_t n_uid_mappings;
        struct cella_id_mapping *gid_mappings;
        size_t n_gid_mappings;
        struct cella_device *devices;
        size_t n_devices;
        char *cgroups_path;             /* NULL when absent */
        bool has_resources;
        struct cella_resources resources;
        struct cella_kv_list sysctl;
        struct cella_seccomp seccomp;
        char *rootfs_propagation;       /* NULL when absent */
        unsigned long rootfs_propagation_flags; /* MS_* derived, 0 when absent */
        struct cella_strv masked_paths;
        struct cella_strv readonly_paths;
        char *mount_label;
        bool has_personality;
        unsigned long personality;      /* PER_LINUX or PER_LINUX32 (| flags) */
        struct cella_time_offset time_monotonic;
        struct cella_time_offset time_boottime;
};

/* ---- the whole config ----------------------------------------------- */

/* The io.cella.* annotations, found and checked once by the parser (the
 * values point into the spec's annotations). */
#define CELLA_SANDBOX_ANNOTATION "io.cella.sandbox"         /* "vm" | "none" */
enum cella_sandbox_kind {
        CELLA_SANDBOX_NONE,
        CELLA_SANDBOX_VM,
};
/* Networking for plain bundles (values may be NULL); netns/ turns them
 * into its options (cella_net_opts_from_annotations) */
#define CELLA_NET_ANNOTATION_MODE "io.cella.net.mode"       /* none|host|bridge|ns:PATH */
#define CELLA_NET_ANNOTATION_PORTS "io.cella.net.ports"     /* "8080:80,5353:53/udp" */
#define CELLA_NET_ANNOTATION_SUBNET "io.cella.net.subnet"   /* "10.88.0.0/16" */
#define CELLA_NET_ANNOTATION_NAT "io.cella.net.nat"         /* "true" | "false" */
struct cella_net_annotations {
        const char *mode, *ports, *subnet, *nat;
};
struct cella_io_cella {
        enum cella_sandbox_kind sandbox;
        struct cella_net_annotations net;
};

struct cella_spec {
        char *oci_version;
        char *root_path;                /* as written (may be relative to the bundle) */
        bool root_readonly;
        bool has_process;
        struct cella_process process;
        char *hostname;                 /* NULL when absent */
        char *domainname;               /* NULL when absent */
        struct cella_mount *mounts;
        size_t n_mounts;
        struct cella_hook_list hooks[CELLA_HOOK__COUNT];
        struct cella_kv_list annotations;
        struct cella_io_cella io_cella;     /* the io.cella.* annotations, typed */
        struct cella_linux linux_;
};

/* Parse a config from memory. `source` names it in errors ("config.json").
 * On success *out owns everything; free with cella_spec_free(). */
int cella_spec_parse(const char *json, size_t len, const char *source,
                     struct cella_spec **out, struct cella_error *err);

/* Read and parse a file. Errors name the file. */
int cella_spec_load_file(const char *path, struct cella_spec **out, struct cella_error *err);

/* Read dirfd/name and parse it; errors name it as source ("config.json"). */
int cella_spec_load_at(int dirfd, const char *name, const char *source, struct cella_spec **out,
                       struct cella_error *err);

void cella_spec_free(struct cella_spec *spec);
static inline void cella_spec_freep(struct cella_spec **spec)
{
        cella_spec_free(*spec);
}
#define _cleanup_spec_ __attribute__((cleanup(cella_spec_freep)))

/* A process JSON (runc exec --process FILE). */
int cella_process_parse(const char *json, size_t len, const char *source,
                        struct cella_process **out, struct cella_error *err);
void cella_process_free(struct cella_process *p);
static inline void cella_process_freep(struct cella_process **p)
{
        cella_process_free(*p);
}
#define _cleanup_process_ __attribute__((cleanup(cella_process_freep)))

/* A linux.resources object alone (runc update --resources FILE). */
int cella_resources_parse(const char *json, size_t len, const char *source,
                          struct cella_resources **out, struct cella_error *err);
void cella_resources_free(struct cella_resources *r);

/* What a generated config may differ in. Zeroed = `cella spec`. */
struct cella_spec_mount_request {
        const char *source;             /* host path (bind) */
        const char *destination;
        bool readonly;
};

struct cella_spec_defaults {
        bool rootless;                  /* user ns mapping uid/gid to 0, no netns, no limits */
        uid_t rootless_uid;
        gid_t rootless_gid;
        const char *const *args;        /* NULL-terminated; NULL = {"sh"} */
        const char *const *env;         /* NULL = PATH=...,TERM=xterm */
        const char *cwd;                /* NULL = "/" */
        uint32_t uid, gid;              /* process.user */
        const uint32_t *additional_gids;
        size_t n_additional_gids;
        bool terminal;
        const char *const *capabilities; /* NULL-terminated "CAP_X" names; NULL = runc's default set */
        const char *hostname;           /* NULL = "cella" */
        const char *root_path;          /* NULL = "rootfs" */
        bool root_readonly;
        bool no_network_namespace;      /* share the host's network (--net host) */
        bool no_seccomp;                /* leave out the default seccomp profile */
        const struct cella_spec_mount_request *mounts;  /* extra bind mounts (volumes) */
        size_t n_mounts;
        int64_t memory_limit;           /* 0 = none */
        int64_t cpu_quota;              /* 0 = none; with cpu_period */
        uint64_t cpu_period;
        int64_t pids_limit;             /* 0 = none */
        const struct cella_kv *annotations;
        size_t n_annotations;
};

/* The default config built in memory (oci/spec_build.c), in the same
 * arena box the parser fills: free with cella_spec_free(). d == NULL gives
 * the plain `cella spec` config (as runc's, plus the default seccomp
 * profile of cella_default_seccomp_json()); d->rootless gives `cella spec
 * --rootless`; `run --image` fills d from the image and its flags. The
 * io.cella.* annotations are typed by the parser's own step and the
 * parser's cross checks run, so *out is what cella_spec_parse() would give
 * for cella_spec_write_json()'s text of it. */
int cella_spec_default_build(const struct cella_spec_defaults *d, struct cella_spec **out,
                             struct cella_error *err);

/* A spec as config.json text (malloc'd, tab-indented as `runc spec`;
 * oci/spec_write.c). It writes what the builder sets and the plain fields
 * beside them (domainname, consoleSize, umask, oomScoreAdj, LSM labels,
 * sysctl, cgroupsPath, the scalar cgroup limits, idmapped mounts...); a
 * spec with hooks, linux.devices, personality, timeOffsets or blockIO,
 * hugepage, network or rdma limits fails with ENOTSUP naming the field,
 * rather than being written without it. Capabilities are written by name
 * in alphabetical order (runc's default set is in that order). */
int cella_spec_write_json(const struct cella_spec *spec, char **out, struct cella_error *err);

/* Build + write: the default config as text (malloc'd), NULL if building
 * failed (which the default tables never make it do). */
char *cella_spec_default_json(const struct cella_spec_defaults *d);

/* Lookups shared with the rest of the runtime. */
const char *cella_ns_type_name(enum cella_ns_type t);      /* "pid", "network", ... */
int cella_ns_clone_flag(enum cella_ns_type t);              /* CLONE_NEWPID, ... */
const char *cella_hook_kind_name(enum cella_hook_kind k);   /* "prestart", "createRuntime", ... */
int cella_capability_from_name(const char *name);          /* "CAP_CHOWN" -> 0; -1 unknown */
const char *cella_capability_name(int cap);                /* 0 -> "CAP_CHOWN"; NULL unknown */
int cella_capability_last(void);                            /* highest CAP_* this build knows */
/* "CAP_CHOWN CAP_KILL" (or "none") for a mask of CAP_* bits: for trace
 * lines; a static buffer, one use per statement. */
const char *cella_capability_list(uint64_t mask);

/* The default seccomp profile of `cella spec` (as strict as Docker's
 * default), as the JSON text of a linux.seccomp object, or NULL when this
 * build has none. Static storage. (oci/seccomp_profile.c) */
const char *cella_default_seccomp_json(void);

#endif
