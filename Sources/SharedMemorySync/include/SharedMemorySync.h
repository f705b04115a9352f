/* Flags in memory shared between processes (or threads), for the intra-node gradient
 * allreduce: a rank publishes a step number with release ordering and wakes whoever waits on
 * that word; a waiter spins briefly, then sleeps in the kernel (a futex on a shared mapping
 * works across processes), so a waiting thread does not take the core from the rank's
 * compute thread. Swift has no atomics on raw memory in the toolchain's own libraries, and
 * cannot call the variadic syscall(2). */
#ifndef SHARED_MEMORY_SYNC_H
#define SHARED_MEMORY_SYNC_H

#include <stdint.h>

/* The flag's value, with acquire ordering: what was written before its publication is visible. */
static inline uint32_t ddp_flag_load(const uint32_t *flag) { return __atomic_load_n(flag, __ATOMIC_ACQUIRE); }

/* Stores `value` with release ordering and wakes every thread waiting on the flag. */
void ddp_flag_publish(uint32_t *flag, uint32_t value);

/* Waits until the flag has reached `target` (in wrap-around order: (int32_t)(flag - target) >= 0).
 * Returns 1 when it has, 0 when `timeout_ms` passed first. */
int ddp_flag_wait(const uint32_t *flag, uint32_t target, int timeout_ms);

/* (a[i] + b[i]) * inverse for i < n, stored into a[i] when `into_a` and into b[i] when `into_b`:
 * two ranks' gradients averaged in place, in 16 AVX-512 lanes where the CPU has them (the same
 * bits either way: no fused operations). Returns whether every average is finite, checked on
 * the way at no extra pass over memory. */
int ddp_average_pair(float *a, float *b, long n, float inverse, int into_a, int into_b);

#endif
