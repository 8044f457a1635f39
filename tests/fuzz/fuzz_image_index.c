/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the image store's index parser (image/index.c). The
 * input is written as <store>/images.json of a store on /dev/shm (tmpfs:
 * the atomic writes' fsyncs cost nothing there), then read back by
 * image_list, looked up by a few references the way `run --image` and
 * `image rm` do, and, if it parsed, saved and reloaded so the writer sees
 * whatever the parser accepted. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/internal.h"
#include "tests/fuzz/shm_dir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct image_store *store;

static void open_store(void)
{
        char dir[96], store_dir[128];
        int fd = fuzz_shm_dir("index", dir, sizeof dir);
        close(fd);
        snprintf(store_dir, sizeof store_dir, "%s/store", dir);
        struct cella_error err = { 0 };
        if (image_store_open(store_dir, NULL, &store, &err) < 0) {
                fprintf(stderr, "fuzz_image_index: %s\n", err.msg);
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!store)
                open_store();
        int fd = openat(store->root_fd, "images.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, data, size) != (ssize_t)size)
                abort();
        close(fd);

        struct cella_error err = { 0 };
        struct image_list list;
        if (image_list(store, &list, &err) < 0)
                return 0;
        static const char *const refs[] = { "busybox", "busybox:latest", "library/alpine:3.19",
                                            "sha256:", "abcd", "0123456789abcdef", "" };
        for (size_t i = 0; i < sizeof refs / sizeof *refs; i++) {
                struct image_info *info = NULL;
                if (image_lookup(store, refs[i], &info, &err) == 0)
                        image_info_free(info);
        }
        if (list.n > 0 && list.v[0].n_names > 0) {
                struct image_info *info = NULL;
                if (image_lookup(store, list.v[0].names[0], &info, &err) == 0)
                        image_info_free(info);
        }
        if (image_index_save(store, &list, &err) == 0) {
                struct image_list again;
                if (image_list(store, &again, &err) < 0) {
                        fprintf(stderr, "fuzz_image_index: saved index does not reload: %s\n", err.msg);
                        abort();
                }
                if (again.n != list.n)
                        abort();
                image_list_clear(&again);
        }
        image_list_clear(&list);
        return 0;
}
