/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the image fuzz targets: a scratch directory
 * /dev/shm/cella-fuzz-<what>.<pid> (tmpfs: their fsyncs cost nothing).
 * A normal exit (the replay driver) removes it; libFuzzer ends a run with
 * _Exit, so each start also removes the directories of its kind whose
 * process is gone. */
#ifndef CELLA_FUZZ_SHM_DIR_H
#define CELLA_FUZZ_SHM_DIR_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/internal.h"

static char fuzz_shm_name[80];

static void fuzz_shm_remove(void)
{
        int shm = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (shm >= 0) {
                image_rm_rf_at(shm, fuzz_shm_name);
                close(shm);
        }
}

/* Makes the directory, puts its path in path, returns an fd on it. */
static int fuzz_shm_dir(const char *what, char *path, size_t len)
{
        char prefix[64];
        snprintf(prefix, sizeof prefix, "cella-fuzz-%s.", what);
        int shm = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = shm >= 0 ? fdopendir(dup(shm)) : NULL;
        struct dirent *e;
        while (d && (e = readdir(d))) {
                if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
                        continue;
                long pid = strtol(e->d_name + strlen(prefix), NULL, 10);
                if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
                        image_rm_rf_at(shm, e->d_name);
        }
        if (d)
                closedir(d);
        if (shm >= 0)
                close(shm);
        snprintf(fuzz_shm_name, sizeof fuzz_shm_name, "%s%d", prefix, (int)getpid());
        snprintf(path, len, "/dev/shm/%s", fuzz_shm_name);
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                abort();
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        atexit(fuzz_shm_remove);
        return fd;
}

#endif
