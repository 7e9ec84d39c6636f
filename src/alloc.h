/* The allocator of the pure C core: malloc, calloc and realloc behind one
 * test hook. Tests make the k-th allocation from now fail (through an
 * internal .Call, r_test.c) to check that every failure path leaves a
 * valid state; in normal use the hook costs one relaxed atomic load. */
#ifndef MICROSCOPES_ALLOC_H
#define MICROSCOPES_ALLOC_H

#include <stddef.h>

void *ms_malloc(size_t bytes);
void *ms_calloc(size_t count, size_t size);
void *ms_realloc(void *ptr, size_t bytes);

/* Makes the k-th allocation from now return NULL (k >= 1), once; k = 0
 * turns the hook off. Returns how many allocations were left before the
 * injected failure when the call was made (0 when none was pending). */
long ms_alloc_fail_after(long k);

#endif
