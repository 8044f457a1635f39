/* SPDX-License-Identifier: Apache-2.0 */
#include "criu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"

/* Run criu with stdout captured into buf (for --version). */
static int capture(const char *criu, char *const argv[], char *buf, size_t size)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return -1;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(p[1], 1);
                dup2(null, 2);
                execv(criu, argv);
                _exit(127);
        }
        close(p[1]);
        size_t len = 0;
        ssize_t n;
        while (len + 1 < size && ((n = read(p[0], buf + len, size - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
                if (n > 0)
                        len += (size_t)n;
        buf[len] = '\0';
        close(p[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int version_of(const char *criu)
{
        char out[512];
        char *argv[] = { (char *)"criu", (char *)"--version", NULL };
        if (capture(criu, argv, out, sizeof out) != 0)
                return -1;
        const char *v = strstr(out, "Version: ");
        int major = 0, minor = 0, sub = 0;
        if (!v || sscanf(v, "Version: %d.%d.%d", &major, &minor, &sub) < 2)
                return -1;
        return major * 10000 + minor * 100 + sub;
}

static char *search_path(const char *name)
{
        const char *path = getenv("PATH");
        if (!path || !*path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        _cleanup_free_ char *copy = xstrdup(path);
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                char *cand = xasprintf("%s/%s", *d ? d : ".", name);
                if (access(cand, X_OK) == 0)
                        return cand;
                free(cand);
        }
        return NULL;
}

int criu_find(const char *explicit_path, char **path, int *version, struct cella_error *err)
{
        const char *env = getenv("CELLA_CRIU");
        char *cand = NULL;
        const char *how;
        if (explicit_path && *explicit_path) {
                cand = xstrdup(explicit_path);
                how = "--criu";
        } else if (env && *env) {
                cand = xstrdup(env);
                how = "$CELLA_CRIU";
        } else if (access(CELLA_CRIU_DEFAULT_PATH, X_OK) == 0) {
                cand = xstrdup(CELLA_CRIU_DEFAULT_PATH);
                how = "default";
        } else {
                cand = search_path("criu");
                how = "PATH";
        }
        if (!cand)
                return cella_error_msg(err, ENOENT,
                                       "criu not found (no --criu, $CELLA_CRIU, " CELLA_CRIU_DEFAULT_PATH
                                       " or criu in PATH): run `sh scripts/get-criu.sh` to install CRIU 4.x");
        if (access(cand, X_OK) < 0) {
                int e = errno;
                cella_error_msg(err, e, "criu %s (from %s): %s: run `sh scripts/get-criu.sh` or give --criu PATH",
                                cand, how, strerror(e));
                free(cand);
                return -1;
        }
        int v = version_of(cand);
        if (v < 0) {
                cella_error_msg(err, ENOEXEC, "criu %s (from %s) does not run or print its version (`%s --version`)",
                                cand, how, cand);
                free(cand);
                return -1;
        }
        if (v < CELLA_CRIU_MIN_VERSION) {
                cella_error_msg(err, ENOTSUP,
                                "criu %s (from %s) is version %d.%d.%d; cella needs >= 4.0 (older ones fail on this "
                                "kernel's vDSO): run `sh scripts/get-criu.sh` or give --criu PATH",
                                cand, how, v / 10000, v / 100 % 100, v % 100);
                free(cand);
                return -1;
        }
        *path = cand;
        if (version)
                *version = v;
        return 0;
}

int criu_run(const char *criu, char *const argv[], const int *keep_fds, int n_keep,
             const struct cella_cgroup *enter, struct cella_error *err)
{
        pid_t pid = fork();
        if (pid < 0)
                return cella_error_sys(err, "fork criu");
        if (pid == 0) {
                /* dup the fds above every target first: a keep fd may sit on a target number */
                int high[16];
                if (n_keep > 16)
                        n_keep = 16;
                for (int i = 0; i < n_keep; i++)
                        high[i] = fcntl(keep_fds[i], F_DUPFD_CLOEXEC, 100);
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                for (int i = 0; i < n_keep; i++)
                        if (high[i] >= 0)
                                dup2(high[i], 3 + i);   /* dup2 clears CLOEXEC on the copy */
                struct cella_error e = { 0 };
                if (enter && cgroup_enter(enter, getpid(), &e) < 0)
                        _exit(126);
                execv(criu, argv);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return cella_error_sys(err, "wait for criu");
        if (WIFEXITED(status)) {
                if (WEXITSTATUS(status) == 126)
                        return cella_error_msg(err, EIO, "criu: could not join the container's cgroup");
                if (WEXITSTATUS(status) == 127)
                        return cella_error_msg(err, ENOEXEC, "could not execute %s", criu);
                return WEXITSTATUS(status);
        }
        return 128 + WTERMSIG(status);
}

int criu_has_feature(const char *criu, const char *feature, struct cella_error *err)
{
        char out[4096];
        char *argv[] = { (char *)"criu", (char *)"check", (char *)"--feature", (char *)feature, NULL };
        int r = capture(criu, argv, out, sizeof out);
        if (r == 127)
                return cella_error_msg(err, ENOEXEC, "could not execute %s", criu);
        return r == 0;
}

char *criu_log_errors(const char *log_path)
{
        _cleanup_fclose_ FILE *f = fopen(log_path, "re");
        if (!f)
                return xstrdup("");
        char line[512];
        char last[3][512] = { "", "", "" };
        int n = 0;
        while (fgets(line, sizeof line, f)) {
                /* every run logs the RLIMIT_NOFILE one (no CAP_SYS_RESOURCE in the bounding set): noise */
                if (!strstr(line, "Error") || strstr(line, "RLIMIT_NOFILE"))
                        continue;
                line[strcspn(line, "\n")] = '\0';
                snprintf(last[n % 3], sizeof last[0], "%s", line);
                n++;
        }
        if (n == 0)
                return xstrdup("");
        int first = n > 3 ? n - 3 : 0;
        char *out = xstrdup("");
        for (int i = first; i < n; i++) {
                char *next = xasprintf("%s%s%s", out, *out ? "; " : "", last[i % 3]);
                free(out);
                out = next;
        }
        return out;
}
