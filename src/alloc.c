#include <stdlib.h>
#include "alloc.h"

/* Allocations left before the injected failure, or 0 for none. Worker
 * threads allocate too (trace and slot growth), hence atomics. */
static long fail_countdown = 0;

static int injected_failure(void) {
    if (__atomic_load_n(&fail_countdown, __ATOMIC_RELAXED) <= 0) return 0;
    return __atomic_sub_fetch(&fail_countdown, 1, __ATOMIC_RELAXED) == 0;
}

void *ms_malloc(size_t bytes) {
    return injected_failure() ? NULL : malloc(bytes);
}

void *ms_calloc(size_t count, size_t size) {
    return injected_failure() ? NULL : calloc(count, size);
}

void *ms_realloc(void *ptr, size_t bytes) {
    return injected_failure() ? NULL : realloc(ptr, bytes);
}

long ms_alloc_fail_after(long k) {
    return __atomic_exchange_n(&fail_countdown, k > 0 ? k : 0, __ATOMIC_RELAXED);
}
