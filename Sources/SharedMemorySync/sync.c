#include "SharedMemorySync.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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
    /* A short spin first: the other rank is usually about to publish (a few microseconds). */
    for (int i = 0; i < 256; i++) {
        if (reached(flag, target)) return 1;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
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
