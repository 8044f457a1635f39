/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the one SHA-256 (FIPS 180-4), as 64 lowercase hex digits.
 *
 * Every digest cella makes goes through here: image blobs and layers
 * (image/), the seccomp program cache key (runtime/), the shim's socket
 * name (shim/). The code is cella's own; a context begun with bulk = true
 * hands the work to libcrypto's EVP SHA-256 when libcrypto.so.3 can be
 * dlopen()ed (about twenty times faster with the CPU's SHA instructions,
 * which matters for a layer of hundreds of megabytes), and falls back to
 * cella's own code when it cannot. Both give the same digest; nothing
 * that is not bulk ever loads libcrypto, so a container start never maps it. */
#ifndef CELLA_SHA256_H
#define CELLA_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CELLA_SHA256_HEX_LEN 64

struct cella_sha256 {
        uint32_t h[8];
        uint64_t len;
        uint8_t buf[64];
        size_t fill;
        void *evp;              /* libcrypto's EVP_MD_CTX when bulk, else NULL */
};

/* Begin a digest. bulk: large data, worth libcrypto (when present). */
void cella_sha256_init(struct cella_sha256 *s, bool bulk);
void cella_sha256_update(struct cella_sha256 *s, const void *data, size_t len);
/* Finish: out gets CELLA_SHA256_HEX_LEN digits and a NUL. Releases s. */
void cella_sha256_final_hex(struct cella_sha256 *s, char out[CELLA_SHA256_HEX_LEN + 1]);
/* Release a digest that will not be finished (safe after final, or twice). */
void cella_sha256_release(struct cella_sha256 *s);

/* One buffer at once (bulk from 1 MiB up). */
void cella_sha256_hex(const void *data, size_t len, char out[CELLA_SHA256_HEX_LEN + 1]);

/* Does the bulk path use libcrypto here? (for tests and `cella version`) */
bool cella_sha256_have_libcrypto(void);

#endif
