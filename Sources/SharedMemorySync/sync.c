#include "SharedMemorySync.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <sched.h>
#include <unistd.h>

enum { SPIN_MICROSECONDS = 200 };
#define SPIN_SECONDS (SPIN_MICROSECONDS * 1e-6)

static int reached(const uint32_t *flag, uint32_t target) { return (int32_t)(ddp_flag_load(flag) - target) >= 0; }

void ddp_flag_publish(uint32_t *flag, uint32_t value) {
    __atomic_store_n(flag, value, __ATOMIC_RELEASE);
    /* Not FUTEX_PRIVATE_FLAG: the waiter may be another process mapping the same page. */
    syscall(SYS_futex, flag, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int ddp_flag_wait(const uint32_t *flag, uint32_t target, int timeout_ms) {
    /* Spin first, up to SPIN_SECONDS: the other rank is usually about to publish, and waking a
     * thread that sleeps in the kernel takes tens of microseconds in a VM (GAN 2x1: exposed
     * communication 2.9% -> 2.5% with 200 us, samples/s even). sched_yield gives the core to
     * a rank that shares it (more ranks than cores) and returns at once otherwise. */
    const double until = seconds_now() + SPIN_SECONDS;
    do {
        for (int i = 0; i < 64; i++) {
            if (reached(flag, target)) return 1;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
        sched_yield();
    } while (seconds_now() < until);
    double deadline = seconds_now() + timeout_ms * 1e-3;
    for (;;) {
        uint32_t seen = ddp_flag_load(flag);
        if ((int32_t)(seen - target) >= 0) return 1;
        double left = deadline - seconds_now();
        if (left <= 0) return 0;
        struct timespec wait = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
        /* Sleeps only while the flag still holds `seen`; a publication in between returns EAGAIN. */
        syscall(SYS_futex, flag, FUTEX_WAIT, seen, &wait, NULL, 0);
    }
}

/* A non-finite average makes `seen` NaN (inf - inf, NaN - NaN), and NaN stays. */
static int average_pair_scalar(float *a, float *b, long from, long to, float inverse, int into_a, int into_b) {
    float seen = 0;
    for (long i = from; i < to; i++) {
        const float average = (a[i] + b[i]) * inverse;
        seen += average - average;
        if (into_a) a[i] = average;
        if (into_b) b[i] = average;
    }
    return seen == seen;
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f"))) static int average_pair16(float *a, float *b, long n, float inverse, int into_a, int into_b) {
    const __m512 scale = _mm512_set1_ps(inverse);
    __m512 seen = _mm512_setzero_ps();
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 average = _mm512_mul_ps(_mm512_add_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)), scale);
        seen = _mm512_add_ps(seen, _mm512_sub_ps(average, average));
        if (into_a) _mm512_storeu_ps(a + i, average);
        if (into_b) _mm512_storeu_ps(b + i, average);
    }
    const int finite = _mm512_cmp_ps_mask(seen, seen, _CMP_UNORD_Q) == 0;
    return average_pair_scalar(a, b, i, n, inverse, into_a, into_b) && finite;
}
#endif

int ddp_average_pair(float *a, float *b, long n, float inverse, int into_a, int into_b) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) return average_pair16(a, b, n, inverse, into_a, into_b);
#endif
    return average_pair_scalar(a, b, 0, n, inverse, into_a, into_b);
}
