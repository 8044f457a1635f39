/* SPDX-License-Identifier: Apache-2.0 */
/* Replay driver: feeds every file named on the command line (directories:
 * every regular file in them) to LLVMFuzzerTestOneInput once, so `make check`
 * runs the corpora and the crash regressions through a sanitizer build
 * without libFuzzer. A crash is ASan's report and a non-zero exit. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        if (!f) {
                perror(path);
                return -1;
        }
        size_t cap = 4096, len = 0;
        uint8_t *buf = malloc(cap);
        size_t n;
        while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
                len += n;
                if (len == cap) {
                        cap *= 2;
                        uint8_t *nb = realloc(buf, cap);
                        if (!nb) {
                                free(buf);
                                buf = NULL;
                        }
                        buf = nb;
                }
        }
        fclose(f);
        if (!buf) {
                fprintf(stderr, "%s: out of memory\n", path);
                return -1;
        }
        /* an exact-size copy, so ASan sees reads one past the input */
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, buf, len);
        free(buf);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
        return 0;
}

static int replay_path(const char *path, size_t *count)
{
        struct stat sb;
        if (stat(path, &sb) < 0) {
                perror(path);
                return -1;
        }
        if (!S_ISDIR(sb.st_mode)) {
                (*count)++;
                return replay_file(path);
        }
        struct dirent **names;
        int n = scandir(path, &names, NULL, alphasort);
        if (n < 0) {
                perror(path);
                return -1;
        }
        int r = 0;
        for (int i = 0; i < n; i++) {
                if (names[i]->d_name[0] != '.' && r == 0) {
                        char *p;
                        if (asprintf(&p, "%s/%s", path, names[i]->d_name) < 0)
                                return -1;
                        if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
                                (*count)++;
                                r = replay_file(p);
                        }
                        free(p);
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int main(int argc, char **argv)
{
        size_t count = 0;
        for (int i = 1; i < argc; i++)
                if (replay_path(argv[i], &count) < 0)
                        return 1;
        fprintf(stderr, "replayed %zu inputs\n", count);
        return 0;
}
