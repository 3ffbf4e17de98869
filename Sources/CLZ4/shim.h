#ifndef SLUICE_CLZ4_SHIM_H
#define SLUICE_CLZ4_SHIM_H
#include <lz4.h>
static inline int sluice_lz4_compress_bound(int n) { return LZ4_COMPRESSBOUND(n); }
#endif
