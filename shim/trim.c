/* SPDX-License-Identifier: Apache-2.0 */
/* shim/trim.c — see trim.h. */
#include "trim.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* A mapping of a file that was never written here: text (r-xp), and
 * read-only data (r--p) without anonymous (copied-on-write) pages — the
 * relro segment, whose relocated pages are anonymous, is never dropped. */
struct mapping {
        unsigned long start, end;
        bool text, rodata;
};

static void drop(const struct mapping *m, unsigned long anon_kb)
{
        if (m->text || (m->rodata && anon_kb == 0))
                madvise((void *)m->start, m->end - m->start, MADV_DONTNEED);
}

void shim_trim(void)
{
        malloc_trim(0);
        FILE *f = fopen("/proc/self/smaps", "re");
        if (!f)
                return;
        char line[512];
        struct mapping m = { 0 };
        while (fgets(line, sizeof line, f)) {
                unsigned long start, end, kb;
                char perms[8];
                int path_at = 0;
                if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &path_at) >= 3 && path_at) {
                        bool file = line[path_at] == '/';
                        m = (struct mapping){ start, end, file && strcmp(perms, "r-xp") == 0,
                                              file && strcmp(perms, "r--p") == 0 };
                        continue;
                }
                /* each mapping's fields list "Anonymous:" once */
                if (sscanf(line, "Anonymous: %lu kB", &kb) == 1) {
                        drop(&m, kb);
                        m = (struct mapping){ 0 };
                }
        }
        fclose(f);
}
