/* SPDX-License-Identifier: Apache-2.0 */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct arena_chunk {
        struct arena_chunk *next;
        size_t used;
        size_t cap;
        alignas(max_align_t) unsigned char data[];
};

#define ARENA_ALIGN alignof(max_align_t)
#define ARENA_MIN_CHUNK 4096

static struct arena_chunk *chunk_new(size_t cap)
{
        struct arena_chunk *c = xmalloc(sizeof *c + cap);
        c->next = NULL;
        c->used = 0;
        c->cap = cap;
        return c;
}

void arena_init(struct arena *a, size_t first_chunk)
{
        a->head = NULL;
        a->next_size = first_chunk < ARENA_MIN_CHUNK ? ARENA_MIN_CHUNK : first_chunk;
}

void *arena_alloc(struct arena *a, size_t n)
{
        size_t need = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
        if (need < n)
                abort();
        struct arena_chunk *c = a->head;
        if (!c || c->cap - c->used < need) {
                size_t cap = a->next_size;
                if (cap < need)
                        cap = need;
                c = chunk_new(cap);
                /* Keep filling the fuller chunk when an oversized request
                 * gets its own; otherwise the new chunk becomes current. */
                if (a->head && cap == need) {
                        c->next = a->head->next;
                        a->head->next = c;
                } else {
                        c->next = a->head;
                        a->head = c;
                        a->next_size = cap * 2;
                }
        }
        void *p = c->data + c->used;
        c->used += need;
        memset(p, 0, n);
        return p;
}

void *arena_alloc_array(struct arena *a, size_t n, size_t size)
{
        if (size && n > SIZE_MAX / size)
                abort();
        return arena_alloc(a, n * size);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
        char *p = arena_alloc(a, n + 1);
        memcpy(p, s, n);
        p[n] = '\0';
        return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
        return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

void arena_release(struct arena *a)
{
        struct arena_chunk *c = a->head;
        while (c) {
                struct arena_chunk *next = c->next;
                free(c);
                c = next;
        }
        a->head = NULL;
}
