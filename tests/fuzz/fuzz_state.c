/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: state.json as `state`, `list` and `delete` read it
 * (state_read), then the OCI state JSON made from what was read. The input
 * is written to <tmp>/state.json of a private temp dir made once. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/error.h"
#include "runtime/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int dirfd_ = -1;
/* tmpfs: on ext4, close() after O_TRUNC flushes (auto_da_alloc), 5ms a run */
static char dir_[] = "/dev/shm/cella-fuzz-state.XXXXXX";

static void remove_dir(void)
{
        unlinkat(dirfd_, "state.json", 0);
        rmdir(dir_);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (dirfd_ < 0) {
                if (!mkdtemp(dir_))
                        abort();
                dirfd_ = open(dir_, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dirfd_ < 0)
                        abort();
                atexit(remove_dir);
        }
        int fd = openat(dirfd_, "state.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                abort();
        size_t off = 0;
        while (off < size) {
                ssize_t n = write(fd, data + off, size - off);
                if (n <= 0)
                        abort();
                off += (size_t)n;
        }
        close(fd);

        struct cella_error err = { 0 };
        struct cella_state st;
        if (state_read(dirfd_, "fuzz", &st, &err) == 0) {
                /* not state_status: it would signal or probe whatever pid the input names */
                free(state_to_oci_json(&st, CELLA_STATUS_STOPPED, true));
                free(state_to_oci_json(&st, CELLA_STATUS_RUNNING, false));
        }
        state_clear(&st);
        return 0;
}
