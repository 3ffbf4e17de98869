/* The ceiling for any librdkafka consumer of the mock cluster on this machine: a bare
 * consumer in a new group drains TOPIC from the earliest offset and counts records and
 * bytes, doing nothing else (no parsing, no commits). Used by benchmarks/kafka/run.sh
 * (ONLY=raw), next to Sluice and ClickHouse's Kafka engine.
 *
 *   rawconsume BROKERS TOPIC EVENTS [property=value ...]
 *
 * Extra librdkafka properties reproduce Sluice's consumer settings, to tell a setting's
 * cost from the cost of Sluice's own path.
 */
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: rawconsume BROKERS TOPIC EVENTS [property=value ...]\n"); return 2; }
    long want = atol(argv[3]);
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *settings[][2] = {
        {"bootstrap.servers", argv[1]}, {"group.id", "g_raw"}, {"auto.offset.reset", "earliest"},
        {"enable.auto.commit", "false"}, {"enable.partition.eof", "false"},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "%s: %s\n", settings[i][0], err);
            return 1;
        }
    }
    for (int i = 4; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) { fprintf(stderr, "%s: expected property=value\n", argv[i]); return 2; }
        *eq = 0;
        if (rd_kafka_conf_set(conf, argv[i], eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "%s: %s\n", argv[i], err);
            return 1;
        }
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", err); return 1; }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, argv[2], RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    long got = 0, bytes = 0;
    double start = 0, deadline = now() + 300;
    while (got < want && now() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (!m->err) {
            if (got == 0) start = now();
            got++;
            bytes += (long)m->len;
        }
        rd_kafka_message_destroy(m);
    }
    double seconds = now() - start;
    printf("raw-consumer %ld records (%ld bytes) in %.2f s = %.0f records/s\n", got, bytes, seconds, got / seconds);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got == want ? 0 : 1;
}
