// The processor's hint for a thread that waits by watching memory: x86's `pause` (a yield on
// ARM). Without it a watching loop takes the core's execution units from whatever runs on the
// core's other hardware thread — which, on a virtual machine whose two processors are the two
// threads of one core, is the thread the watcher waits for.

#ifndef FLUXION_SPIN_H
#define FLUXION_SPIN_H

/// One turn of a loop that waits for another thread.
static inline void fluxion_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
