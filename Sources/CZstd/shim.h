#ifndef SLUICE_CZSTD_SHIM_H
#define SLUICE_CZSTD_SHIM_H
#include <zstd.h>
static inline int sluice_zstd_is_error(size_t code) { return ZSTD_isError(code) ? 1 : 0; }
#endif
