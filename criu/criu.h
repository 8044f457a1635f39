/* SPDX-License-Identifier: Apache-2.0 */
/* cella: finding and running the CRIU binary (its command line, not the
 * swrk RPC: see docs/migration.md for why). */
#ifndef CELLA_CRIU_H
#define CELLA_CRIU_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "base/error.h"

#define CELLA_CRIU_MIN_VERSION 40000    /* 3.17 cannot parse the vDSO of kernels >= 6.18 */
#define CELLA_CRIU_DEFAULT_PATH "/opt/cella-criu/criu"

/* The CRIU to use: explicit (--criu), then $CELLA_CRIU, then
 * /opt/cella-criu/criu, then "criu" in PATH. Checks `criu --version`
 * (*version = major*10000 + minor*100 + sublevel). *path is malloc'd. */
int criu_find(const char *explicit_path, char **path, int *version, struct cella_error *err);

/* Run criu with argv (argv[0] is ignored; argv is NULL-terminated). Its
 * stdio is /dev/null; keep_fds (n_keep entries) are dup'd to fds 3.. in
 * the child, in order, for --inherit-fd. When enter is set, the child joins
 * that cgroup first, so what CRIU restores is born in it. Returns criu's
 * exit status (0 = success) or -1 when it could not be run. */
int criu_run(const char *criu, char *const argv[], const int *keep_fds, int n_keep,
             const struct cella_cgroup *enter, struct cella_error *err);

/* 1 when `criu check --feature NAME` succeeds, 0 when not, -1 on failure to run. */
int criu_has_feature(const char *criu, const char *feature, struct cella_error *err);

/* The last lines of a CRIU log that say Error, for a message (malloc'd, "" when none). */
char *criu_log_errors(const char *log_path);

#endif
