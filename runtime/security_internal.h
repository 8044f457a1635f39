/* SPDX-License-Identifier: Apache-2.0 */
/* cella: internals shared by the security_*.c / seccomp_*.c files and
 * their unit test. Not a public interface: other modules use security.h. */
#ifndef CELLA_SECURITY_INTERNAL_H
#define CELLA_SECURITY_INTERNAL_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/spec.h"

struct cella_seccomp_filter {
        struct sock_filter *insns;      /* the BPF program libseccomp generated */
        size_t n_insns;
        unsigned int load_flags;        /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
        bool has_notify;                /* some rule uses SCMP_ACT_NOTIFY */
        bool from_cache;                /* insns were read from cache_dir */
};

/* The -ENOSYS stub (seccomp_enosys.c) for a filter over these
 * architectures (libseccomp tokens; the native one included): written to
 * out (room for SECCOMP_STUB_MAX instructions), *n_out = 0 when the profile
 * needs none. It goes in front of libseccomp's program. */
#define SECCOMP_MAX_ARCHES 32
#define SECCOMP_STUB_MAX 256
int seccomp_enosys_stub(const struct cella_seccomp *sc, const uint32_t *arches, size_t n_arches,
                        struct sock_filter *out, size_t *n_out, struct cella_error *err);

/* Cache of compiled programs: key is a hex SHA-256 (65 bytes with NUL). */
#define SECCOMP_CACHE_KEY_LEN 65
void seccomp_cache_key(const char *source_json, char key[SECCOMP_CACHE_KEY_LEN]);
/* 1 = hit (*insns malloc'd), 0 = miss or unusable entry; never fails. */
int seccomp_cache_read(const char *cache_dir, const char *key, struct sock_filter **insns,
                       size_t *n_insns);
/* Best effort: failures are logged at debug level and otherwise ignored,
 * since the cache only saves time. */
void seccomp_cache_write(const char *cache_dir, const char *key, const struct sock_filter *insns,
                         size_t n_insns);

#endif
