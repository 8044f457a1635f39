/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the fuzz targets that feed tar streams: libarchive drops a
 * header whose checksum is wrong, so almost every mutation of a tar would
 * die there and never reach the unpacker. tar_fixup walks the headers of an
 * uncompressed tar in place and rewrites each one's checksum, so mutated
 * names, types, modes, link targets and sizes get through. Compressed or
 * non-tar input is left alone (its own format checks apply). */
#ifndef CELLA_FUZZ_TAR_FIXUP_H
#define CELLA_FUZZ_TAR_FIXUP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t tar_octal(const unsigned char *p, size_t n)
{
        uint64_t v = 0;
        for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
                v = (v << 3) | (uint64_t)(p[i] - '0');
        return v;
}

static void tar_fixup(unsigned char *buf, size_t len)
{
        if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
                return;
        size_t off = 0;
        while (len - off >= 512 && off < len) {
                unsigned char *h = buf + off;
                bool zero = true;
                for (int i = 0; i < 512 && zero; i++)
                        zero = h[i] == 0;
                if (zero)
                        break;
                unsigned sum = 0;
                memset(h + 148, ' ', 8);
                for (int i = 0; i < 512; i++)
                        sum += h[i];
                char field[8];
                snprintf(field, sizeof field, "%06o", sum & 0777777);
                memcpy(h + 148, field, 7);
                h[155] = ' ';
                uint64_t size = h[124] & 0x80 ? 0 : tar_octal(h + 124, 12);
                uint64_t blocks = (size + 511) / 512;
                /* stop at a size past the end (the tail stays as it is) */
                if (blocks > (len - off) / 512)
                        break;
                off += 512 + (size_t)blocks * 512;
        }
}

#endif
