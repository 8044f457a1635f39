/* shim/sha256.h — SHA-256 as 64 hex digits. */
#ifndef CELLA_SHIM_SHA256_H
#define CELLA_SHIM_SHA256_H

#include <stddef.h>
#include <stdint.h>

void shim_sha256_hex(const void *data, size_t len, char out[65]);

#endif
