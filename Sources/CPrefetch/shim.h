#ifndef SLUICE_CPREFETCH_SHIM_H
#define SLUICE_CPREFETCH_SHIM_H
// A cache prefetch hint, which Swift has no spelling for. Used where a loop knows the
// addresses of its next random reads (dedup table slots) before it needs them.
static inline void sluice_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
#endif
