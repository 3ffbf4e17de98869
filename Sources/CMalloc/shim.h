#ifndef SLUICE_CMALLOC_SHIM_H
#define SLUICE_CMALLOC_SHIM_H
// glibc's malloc tuning (mallopt), which the Glibc Swift module does not export.
#include <malloc.h>
static inline int sluice_mallopt(int parameter, int value) { return mallopt(parameter, value); }
static const int SLUICE_M_MMAP_THRESHOLD = M_MMAP_THRESHOLD;
static const int SLUICE_M_TRIM_THRESHOLD = M_TRIM_THRESHOLD;
static const int SLUICE_M_TOP_PAD = M_TOP_PAD;
#endif
