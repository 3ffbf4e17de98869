#ifndef SLUICE_CHIREDIS_SHIM_H
#define SLUICE_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>

/* redisCommand is variadic; Sluice only uses the Argv forms, which Swift can
   call directly. These helpers read reply fields without unions or macros. */
static inline redisReply *sluice_redis_reply_element(const redisReply *r, size_t i) { return r->element[i]; }
static inline int sluice_redis_context_error(const redisContext *c) { return c->err; }
static inline const char *sluice_redis_context_errstr(const redisContext *c) { return c->errstr; }
static inline int sluice_redis_context_fd(const redisContext *c) { return c->fd; }
#endif
