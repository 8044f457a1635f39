/* SPDX-License-Identifier: Apache-2.0 */
/* cella: a bump allocator for data that lives and dies together.
 *
 * A parsed config is hundreds of small strings and arrays that are all
 * released at once; carving them out of a few large chunks makes parsing
 * cheaper and freeing a single short walk over the chunk list. */
#ifndef CELLA_ARENA_H
#define CELLA_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
        struct arena_chunk *head;
        size_t next_size;       /* size of the next chunk to allocate */
};

/* first_chunk: a size hint for the first chunk (0 = a small default). */
void arena_init(struct arena *a, size_t first_chunk);

/* Zeroed memory aligned for any type; aborts on allocation failure. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_alloc_array(struct arena *a, size_t n, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

void arena_release(struct arena *a);
/* a struct arena on the stack, released when it goes out of scope */
#define _cleanup_arena_ __attribute__((cleanup(arena_release)))

#endif
