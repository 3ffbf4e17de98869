/* The ceiling for the Redis input: a bare hiredis loop doing what Sluice's reader and
 * acknowledger do, and nothing else. XREADGROUP COUNT n (no BLOCK) on one stream, then
 * one XACK with every id of the reply, until the stream is drained for this group.
 *
 *   rawloop HOST PORT STREAM GROUP [COUNT]
 *
 * Prints "raw: N entries in S s: R entries/s". The group is created at 0 first; use a
 * group of its own so Sluice's group is untouched. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT STREAM GROUP [COUNT]\n", argv[0]);
        return 2;
    }
    const char *stream = argv[3], *group = argv[4];
    const char *count = argc > 5 ? argv[5] : "1000";
    redisContext *c = redisConnect(argv[1], atoi(argv[2]));
    if (!c || c->err) {
        fprintf(stderr, "connect: %s\n", c ? c->errstr : "oom");
        return 1;
    }
    redisReply *r = redisCommand(c, "XGROUP CREATE %s %s 0", stream, group);
    freeReplyObject(r);
    size_t cap = 1 << 20;
    const char **argvAck = malloc(sizeof(char *) * (cap + 3));
    size_t *lens = malloc(sizeof(size_t) * (cap + 3));
    long total = 0;
    double start = now();
    for (;;) {
        const char *args[] = {"XREADGROUP", "GROUP", group, "raw", "COUNT", count, "STREAMS", stream, ">"};
        r = redisCommandArgv(c, 9, args, NULL);
        if (!r) {
            fprintf(stderr, "read: %s\n", c->errstr);
            return 1;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
            freeReplyObject(r);
            break;
        }
        redisReply *entries = r->element[0]->element[1];
        if (entries->elements == 0) {
            freeReplyObject(r);
            break;
        }
        argvAck[0] = "XACK";
        argvAck[1] = stream;
        argvAck[2] = group;
        lens[0] = 4;
        lens[1] = strlen(stream);
        lens[2] = strlen(group);
        size_t n = entries->elements;
        for (size_t i = 0; i < n; i++) {
            argvAck[3 + i] = entries->element[i]->element[0]->str;
            lens[3 + i] = entries->element[i]->element[0]->len;
        }
        redisReply *a = redisCommandArgv(c, (int)(n + 3), argvAck, lens);
        if (!a) {
            fprintf(stderr, "ack: %s\n", c->errstr);
            return 1;
        }
        freeReplyObject(a);
        total += (long)n;
        freeReplyObject(r);
    }
    double secs = now() - start;
    printf("raw: %ld entries in %.2f s: %.0f entries/s\n", total, secs, total / secs);
    redisFree(c);
    return 0;
}
