/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the sandbox's pure parts: the newc cpio writer (checked
 * against the format, entry by entry) and the VM sizing from the config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/spec.h"
#include "base/util.h"
#include "sandbox/internal.h"
#include "tests/unit/unit.h"

struct entry {
        char name[256];
        unsigned mode, size, rmaj, rmin;
        char data[64];
};

/* parse a newc archive; returns the number of entries (trailer excluded) or -1 */
static int parse_cpio(const char *buf, size_t len, struct entry *out, int max)
{
        size_t off = 0;
        int n = 0;
        while (off + 110 <= len) {
                if (memcmp(buf + off, "070701", 6) != 0)
                        return -1;
                unsigned f[13];
                for (int i = 0; i < 13; i++) {
                        char hex[9];
                        memcpy(hex, buf + off + 6 + 8 * i, 8);
                        hex[8] = 0;
                        f[i] = (unsigned)strtoul(hex, NULL, 16);
                }
                unsigned namesize = f[11], size = f[6];
                const char *name = buf + off + 110;
                if (off + 110 + namesize > len || name[namesize - 1] != 0)
                        return -1;
                size_t data = (off + 110 + namesize + 3) & ~(size_t)3;
                if (strcmp(name, "TRAILER!!!") == 0)
                        return n;
                if (n < max) {
                        snprintf(out[n].name, sizeof out[n].name, "%s", name);
                        out[n].mode = f[1];
                        out[n].size = size;
                        out[n].rmaj = f[9];
                        out[n].rmin = f[10];
                        snprintf(out[n].data, sizeof out[n].data, "%.*s", (int)(size < 63 ? size : 63), buf + data);
                }
                n++;
                off = (data + size + 3) & ~(size_t)3;
        }
        return -1;
}

static void test_cpio_entries_and_parents(void)
{
        char path[] = "/tmp/cella-unit-cpio.XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        if (fd < 0)
                return;
        unlink(path);
        struct cpio c;
        cpio_init(&c, fd);
        cpio_add_data(&c, "/a/b/file", 0644, "hello", 5);
        cpio_add_symlink(&c, "/a/link", "b/file");
        cpio_add_chardev(&c, "/dev/console", 0600, 5, 1);
        cpio_add_dir(&c, "/a");   /* already there: not repeated */
        struct cella_error err = { 0 };
        CHECK(cpio_finish(&c, &err) == 0);
        off_t len = lseek(fd, 0, SEEK_END);
        char *buf = xmalloc((size_t)len);
        CHECK(pread(fd, buf, (size_t)len, 0) == len);
        CHECK(len % 4 == 0);
        struct entry e[8];
        int n = parse_cpio(buf, (size_t)len, e, 8);
        CHECK(n == 6);
        if (n == 6) {
                CHECK_STREQ(e[0].name, "a");
                CHECK(S_ISDIR(e[0].mode));
                CHECK_STREQ(e[1].name, "a/b");
                CHECK_STREQ(e[2].name, "a/b/file");
                CHECK(e[2].mode == (S_IFREG | 0644) && e[2].size == 5);
                CHECK_STREQ(e[2].data, "hello");
                CHECK_STREQ(e[3].name, "a/link");
                CHECK(S_ISLNK(e[3].mode));
                CHECK_STREQ(e[3].data, "b/file");
                CHECK_STREQ(e[4].name, "dev");
                CHECK_STREQ(e[5].name, "dev/console");
                CHECK(S_ISCHR(e[5].mode) && e[5].rmaj == 5 && e[5].rmin == 1);
        }
        free(buf);
        close(fd);
}

static struct cella_spec *spec_with(const char *resources)
{
        char *json = xasprintf("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
                               "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
                               "\"linux\":{\"resources\":%s}}", resources);
        struct cella_spec *spec = NULL;
        struct cella_error err = { 0 };
        if (cella_spec_parse(json, strlen(json), "t", &spec, &err) < 0)
                fprintf(stderr, "  parse: %s\n", err.msg);
        free(json);
        return spec;
}

static void test_vm_sizing(void)
{
        struct cella_spec *s = spec_with("{}");
        CHECK(s && sandbox_mem_mb(s) == SANDBOX_MEM_DEFAULT_MB && sandbox_cpus(s) == 1);
        cella_spec_free(s);
        s = spec_with("{\"memory\":{\"limit\":33554432}}");   /* 32 MiB: at least the minimum */
        CHECK(s && sandbox_mem_mb(s) == SANDBOX_MEM_MIN_MB);
        cella_spec_free(s);
        s = spec_with("{\"memory\":{\"limit\":1073741824}}");   /* 1 GiB + overhead */
        CHECK(s && sandbox_mem_mb(s) == 1024 + SANDBOX_MEM_OVERHEAD_MB);
        cella_spec_free(s);
        s = spec_with("{\"cpu\":{\"quota\":150000,\"period\":100000}}");
        long host = sysconf(_SC_NPROCESSORS_ONLN);
        CHECK(s && sandbox_cpus(s) == (unsigned)(host >= 2 ? 2 : 1));
        cella_spec_free(s);
}

int main(void)
{
        RUN(test_cpio_entries_and_parents);
        RUN(test_vm_sizing);
        UNIT_EXIT();
}
