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
#include "base/util.h"

/* ---- SHA-256 (FIPS 180-4), small and self-contained ------------------ */

struct sha256 {
        uint32_t h[8];
        uint64_t len;
        uint8_t buf[64];
        size_t fill;
};

static const uint32_t sha256_k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(struct sha256 *s, const uint8_t *p)
{
        uint32_t w[64];
        for (int i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
        for (int i = 16; i < 64; i++) {
                uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
        uint32_t e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
        for (int i = 0; i < 64; i++) {
                uint32_t t1 = h + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) + ((e & f) ^ (~e & g)) +
                              sha256_k[i] + w[i];
                uint32_t t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                h = g;
                g = f;
                f = e;
                e = d + t1;
                d = c;
                c = b;
                b = a;
                a = t1 + t2;
        }
        s->h[0] += a;
        s->h[1] += b;
        s->h[2] += c;
        s->h[3] += d;
        s->h[4] += e;
        s->h[5] += f;
        s->h[6] += g;
        s->h[7] += h;
}

static void sha256_init(struct sha256 *s)
{
        static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
        memcpy(s->h, iv, sizeof iv);
        s->len = 0;
        s->fill = 0;
}

static void sha256_update(struct sha256 *s, const void *data, size_t len)
{
        const uint8_t *p = data;
        s->len += len;
        while (len) {
                size_t n = 64 - s->fill < len ? 64 - s->fill : len;
                memcpy(s->buf + s->fill, p, n);
                s->fill += n;
                p += n;
                len -= n;
                if (s->fill == 64) {
                        sha256_block(s, s->buf);
                        s->fill = 0;
                }
        }
}

static void sha256_final_hex(struct sha256 *s, char out[65])
{
        uint64_t bits = s->len * 8;
        uint8_t pad = 0x80;
        sha256_update(s, &pad, 1);
        pad = 0;
        while (s->fill != 56)
                sha256_update(s, &pad, 1);
        uint8_t lenbuf[8];
        for (int i = 0; i < 8; i++)
                lenbuf[i] = (uint8_t)(bits >> (56 - 8 * i));
        sha256_update(s, lenbuf, 8);
        for (int i = 0; i < 8; i++)
                snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

void cella_sha256_hex(const void *data, size_t len, char out[65])
{
        struct sha256 s;
        sha256_init(&s);
        sha256_update(&s, data, len);
        sha256_final_hex(&s, out);
}

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
        struct sha256 s;
        sha256_init(&s);
        /* the NUL separates the prefix from the text unambiguously */
        sha256_update(&s, prefix, (size_t)n + 1);
        sha256_update(&s, source_json, strlen(source_json));
        sha256_final_hex(&s, key);
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
