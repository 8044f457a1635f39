/* SPDX-License-Identifier: Apache-2.0 */
/* cella: a cache of compiled seccomp programs.
 *
 * libseccomp needs milliseconds to turn a 400-syscall profile into BPF, on
 * every container start. The BPF depends only on the profile text, the
 * libseccomp build (its syscall tables), the native architecture (always
 * in the filter and in its -ENOSYS stub) and cella's own additions (the
 * stub: the format version in the key), so we key the program by a
 * SHA-256 of exactly those and keep it under
 * cache_dir/<key>.bpf. A cryptographic hash matters: configs come from
 * users, and a collision would hand one container another's filter.
 * Entries are written atomically (temp + fsync + rename) and checked for a
 * sane size on read; anything odd is a miss and gets recompiled. */
#include "security_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileutil.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/util.h"

/* ---- the cache ---------------------------------------------------------- */

void seccomp_cache_key(const char *source_json, char key[SECCOMP_CACHE_KEY_LEN])
{
        const struct scmp_version *v = seccomp_version();
        char prefix[128];
        /* v3: programs carry the -ENOSYS stub (seccomp_enosys.c), built for
         * the native architecture; a v2 program without it is never reused */
        int n = snprintf(prefix, sizeof prefix, "cella-seccomp-bpf-v3 libseccomp=%u.%u.%u api=%u arch=%u",
                         v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0, seccomp_api_get(),
                         seccomp_arch_native());
        struct cella_sha256 s;
        cella_sha256_init(&s, false);
        /* the NUL separates the prefix from the text unambiguously */
        cella_sha256_update(&s, prefix, (size_t)n + 1);
        cella_sha256_update(&s, source_json, strlen(source_json));
        cella_sha256_final_hex(&s, key);
}

int seccomp_cache_read(const char *cache_dir, const char *key, struct sock_filter **insns,
                       size_t *n_insns)
{
        _cleanup_free_ char *path = xasprintf("%s/%s.bpf", cache_dir, key);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return 0;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
            st.st_size % sizeof(struct sock_filter) != 0 ||
            (size_t)st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
                log_debug("seccomp cache: ignoring unusable entry %s", path);
                return 0;
        }
        size_t size = (size_t)st.st_size;
        _cleanup_free_ struct sock_filter *buf = xmalloc(size);
        size_t got = 0;
        while (got < size) {
                ssize_t r = read(fd, (char *)buf + got, size - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) {
                        log_debug("seccomp cache: short read of %s", path);
                        return 0;
                }
                got += (size_t)r;
        }
        *insns = steal_pointer(&buf);
        *n_insns = size / sizeof(struct sock_filter);
        return 1;
}

void seccomp_cache_write(const char *cache_dir, const char *key, const struct sock_filter *insns,
                         size_t n_insns)
{
        struct cella_error merr = { 0 };
        if (mkdir(cache_dir, 0700) < 0 && errno != EEXIST && mkdir_p(cache_dir, 0700, &merr) < 0) {
                log_debug("seccomp cache: %s", merr.msg);
                return;
        }
        _cleanup_free_ char *tmp = xasprintf("%s/.%s.XXXXXX", cache_dir, key);
        _cleanup_free_ char *path = xasprintf("%s/%s.bpf", cache_dir, key);
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                log_debug("seccomp cache: mkostemp %s: %s", tmp, strerror(errno));
                return;
        }
        const char *p = (const char *)insns;
        size_t left = n_insns * sizeof *insns;
        while (left) {
                ssize_t r = write(fd, p, left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        goto fail;
                p += r;
                left -= (size_t)r;
        }
        if (fsync(fd) < 0 || rename(tmp, path) < 0)
                goto fail;
        return;
fail:
        log_debug("seccomp cache: writing %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
}
