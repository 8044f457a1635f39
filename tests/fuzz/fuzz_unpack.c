/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the layer unpacker (image_unpack_layer), fed the input
 * as a layer (any compression libarchive detects) into a fresh directory
 * <base>/root on /dev/shm. After each run it asserts that nothing landed
 * outside root: <base> holds only root/ and canary/, canary/ is empty, and
 * the fixed path /dev/shm/cella-fuzz-unpack-escape, which the seeds aim
 * absolute symlinks and hard links at, does not exist. An unpack error is
 * fine (the caller removes root); an escape, or a crash, is not.
 * Tar header checksums are recomputed first (tar_fixup.h). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/internal.h"
#include "base/util.h"
#include "tests/fuzz/shm_dir.h"
#include "tests/fuzz/tar_fixup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ESCAPE_PATH "/dev/shm/cella-fuzz-unpack-escape"

static char base[96];
static int base_fd = -1;

static void setup_once(void)
{
        base_fd = fuzz_shm_dir("unpack", base, sizeof base);
        if (base_fd < 0 || (mkdirat(base_fd, "canary", 0755) < 0 && errno != EEXIST))
                abort();
}

static void escaped(const char *what)
{
        fprintf(stderr, "fuzz_unpack: the layer wrote outside its directory: %s\n", what);
        abort();
}

/* Every entry of <base> must be root or canary, canary must be empty. */
static void check_contained(void)
{
        int fd = dup(base_fd);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d)
                abort();
        rewinddir(d);
        struct dirent *e;
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "root") &&
                    strcmp(e->d_name, "canary"))
                        escaped(e->d_name);
        closedir(d);
        fd = openat(base_fd, "canary", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d)
                escaped("canary replaced");
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                        escaped(e->d_name);
        closedir(d);
        struct stat st;
        if (fstatat(base_fd, "root", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                escaped("root replaced");
        if (lstat(ESCAPE_PATH, &st) == 0)
                escaped(ESCAPE_PATH);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (base_fd < 0)
                setup_once();
        image_rm_rf_at(base_fd, "root");
        if (mkdirat(base_fd, "root", 0755) < 0)
                abort();
        int root_fd = openat(base_fd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        unsigned char *copy = xmalloc(size + 1);
        memcpy(copy, data, size);
        tar_fixup(copy, size);
        int in = memfd_create("layer", MFD_CLOEXEC);
        ssize_t w = size ? write(in, copy, size) : 0;
        free(copy);
        if (root_fd < 0 || in < 0 || w != (ssize_t)size ||
            lseek(in, 0, SEEK_SET) != 0)
                abort();
        struct image_unpack_limits limits = { .max_entries = 1000, .max_bytes = 16 << 20 };
        struct image_unpack_stats stats = { 0 };
        struct cella_error err = { 0 };
        int r = image_unpack_layer(in, root_fd, &limits, NULL, &stats, &err);
        if (getenv("FUZZ_DEBUG"))
                fprintf(stderr, "%s: %llu entries\n", r < 0 ? err.msg : "unpacked", (unsigned long long)stats.entries);
        close(in);
        close(root_fd);
        check_contained();
        return 0;
}
