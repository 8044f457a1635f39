/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the one SHA-256 (see sha256.h). */
#include "sha256.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static const uint32_t K[64] = {
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

static void block(uint32_t h[8], const uint8_t *p)
{
        uint32_t w[64];
        for (int i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
                       p[4 * i + 3];
        for (int i = 16; i < 64; i++) {
                uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
        for (int i = 0; i < 64; i++) {
                uint32_t t1 = k + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
                uint32_t t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                k = g;
                g = f;
                f = e;
                e = d + t1;
                d = c;
                c = b;
                b = a;
                a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

/* ---- libcrypto, loaded on the first bulk digest ---------------------
 * Declared here by hand (OpenSSL 3's ABI) so building needs no headers. */
struct evp {
        void *(*ctx_new)(void);
        void (*ctx_free)(void *ctx);
        int (*init)(void *ctx, const void *md, void *engine);
        int (*update)(void *ctx, const void *data, size_t len);
        int (*final)(void *ctx, unsigned char *md, unsigned int *len);
        const void *(*sha256)(void);
};

static const struct evp *evp_get(void)
{
        /* one try per process: the answer does not change */
        static struct evp evp;
        static int state;       /* 0 untried, 1 loaded, -1 absent */
        if (state)
                return state > 0 ? &evp : NULL;
        state = -1;
        void *lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
        if (!lib)
                return NULL;
        *(void **)&evp.ctx_new = dlsym(lib, "EVP_MD_CTX_new");
        *(void **)&evp.ctx_free = dlsym(lib, "EVP_MD_CTX_free");
        *(void **)&evp.init = dlsym(lib, "EVP_DigestInit_ex");
        *(void **)&evp.update = dlsym(lib, "EVP_DigestUpdate");
        *(void **)&evp.final = dlsym(lib, "EVP_DigestFinal_ex");
        *(void **)&evp.sha256 = dlsym(lib, "EVP_sha256");
        if (!evp.ctx_new || !evp.ctx_free || !evp.init || !evp.update || !evp.final || !evp.sha256)
                return NULL;
        state = 1;
        return &evp;
}

bool cella_sha256_have_libcrypto(void)
{
        return evp_get() != NULL;
}

static void to_hex(const uint8_t *md, char out[CELLA_SHA256_HEX_LEN + 1])
{
        static const char digits[] = "0123456789abcdef";
        for (int i = 0; i < 32; i++) {
                out[2 * i] = digits[md[i] >> 4];
                out[2 * i + 1] = digits[md[i] & 15];
        }
        out[CELLA_SHA256_HEX_LEN] = '\0';
}

void cella_sha256_init(struct cella_sha256 *s, bool bulk)
{
        static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
        memcpy(s->h, iv, sizeof iv);
        s->len = 0;
        s->fill = 0;
        s->evp = NULL;
        const struct evp *e = bulk ? evp_get() : NULL;
        if (e && (s->evp = e->ctx_new()) && e->init(s->evp, e->sha256(), NULL) != 1) {
                e->ctx_free(s->evp);
                s->evp = NULL;  /* cella's own code then */
        }
}

void cella_sha256_update(struct cella_sha256 *s, const void *data, size_t len)
{
        if (s->evp) {
                evp_get()->update(s->evp, data, len);
                return;
        }
        const uint8_t *p = data;
        s->len += len;
        if (s->fill) {
                size_t n = 64 - s->fill < len ? 64 - s->fill : len;
                memcpy(s->buf + s->fill, p, n);
                s->fill += n;
                p += n;
                len -= n;
                if (s->fill < 64)
                        return;
                block(s->h, s->buf);
                s->fill = 0;
        }
        for (; len >= 64; p += 64, len -= 64)
                block(s->h, p);
        memcpy(s->buf, p, len);
        s->fill = len;
}

void cella_sha256_final_hex(struct cella_sha256 *s, char out[CELLA_SHA256_HEX_LEN + 1])
{
        uint8_t md[64];
        if (s->evp) {
                unsigned n = 0;
                evp_get()->final(s->evp, md, &n);
                cella_sha256_release(s);
                to_hex(md, out);
                return;
        }
        /* a 1 bit, zeros up to 56 bytes in the last block, the length in bits */
        uint64_t bits = s->len * 8;
        s->buf[s->fill++] = 0x80;
        if (s->fill > 56) {
                memset(s->buf + s->fill, 0, 64 - s->fill);
                block(s->h, s->buf);
                s->fill = 0;
        }
        memset(s->buf + s->fill, 0, 56 - s->fill);
        for (int i = 0; i < 8; i++)
                s->buf[63 - i] = (uint8_t)(bits >> (8 * i));
        block(s->h, s->buf);
        for (int i = 0; i < 8; i++) {
                md[4 * i] = (uint8_t)(s->h[i] >> 24);
                md[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
                md[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
                md[4 * i + 3] = (uint8_t)s->h[i];
        }
        to_hex(md, out);
}

void cella_sha256_release(struct cella_sha256 *s)
{
        if (s->evp) {
                evp_get()->ctx_free(s->evp);
                s->evp = NULL;
        }
}

void cella_sha256_hex(const void *data, size_t len, char out[CELLA_SHA256_HEX_LEN + 1])
{
        struct cella_sha256 s;
        cella_sha256_init(&s, len >= (1u << 20));
        cella_sha256_update(&s, data, len);
        cella_sha256_final_hex(&s, out);
}
