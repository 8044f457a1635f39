/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the steps that turn a set-up process into the container's
 * process: rlimits, user, terminal, the executable, the final exec. Shared
 * by the container init and by `exec`. */
#ifndef CELLA_PROCESS_H
#define CELLA_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"

/* The request's stdio fds (cella_create_opts.stdio, cella_exec_opts.stdio)
 * become 0, 1 and 2; -1 is /dev/null. */
int process_take_stdio(const int *stdio, struct cella_error *err);

int process_set_rlimits(const struct cella_process *p, struct cella_error *err);

/* The stdio's owner (runc's fixStdioPermissions, for the pty and pipes),
 * setgroups (additionalGids), setresgid, setresuid */
int process_set_user(const struct cella_process *p, bool userns, struct cella_error *err);

/* A new pty from /dev/ptmx of the current root; sizes it from consoleSize. */
int process_open_pty(const struct cella_process *p, int *master, int *slave, struct cella_error *err);

/* Make slave the controlling terminal and fds 0, 1, 2. */
int process_take_terminal(int slave, struct cella_error *err);

/* runc's order for process.cwd: chdir while still root (before the
 * capabilities and the uid change), so a cwd only root may enter works;
 * when root is refused (a volume only the user may enter) *entered stays
 * false and the caller calls cwd_enter_inside_root after setuid. */
int process_chdir_as_root(const char *cwd, bool *entered, struct cella_error *err);

/* execvp's lookup with the container's PATH (from env). NULL + errno. */
char *process_find_executable(const char *name, char *const *env);

/* The error for a process_find_executable failure: a bare name is "not
 * found in $PATH", a path gets its own errno ("no such file"). */
int process_executable_error(const char *name, int errnum, struct cella_error *err);

/* Write process.oomScoreAdj (when set) for pid, from the runtime: it may
 * lower the value, which the process in a user namespace could not. */
int process_write_oom_score_adj(pid_t pid, const struct cella_process *p, struct cella_error *err);

/* Resolve user[:group] names against /etc/passwd and /etc/group of the
 * current root (the container's), without NSS. Numeric parts pass through.
 * Sets uid/gid (gid = the user's primary group unless :group is given). */
int process_resolve_user(const char *spec, uint32_t *uid, uint32_t *gid, struct cella_error *err);

/* Add HOME from the container's /etc/passwd (or "/") when env has none,
 * as runc does. *env is a malloc'd NULL-terminated vector. */
void process_env_ensure_home(char ***env, uint32_t uid);

/* Keep fds 3..3+preserve-1 open across execve and mark every fd above
 * close-on-exec (CVE-2024-21626: no fd of the runtime survives into the
 * container). Called before the seccomp filter goes in, so that a profile
 * need not allow fcntl or close_range. */
void process_fds_for_exec(int preserve);

/* execve and nothing else: the seccomp filter may already be in force.
 * Returns only on failure, -errno. */
int process_exec(const char *exe, char *const *args, char *const *env);

#endif
