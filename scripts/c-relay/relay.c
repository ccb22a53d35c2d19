/*
 * The consume -> produce relay of `herald bench kafka-relay`, written directly against librdkafka's C API:
 * the reference for what the Swift binding's relay could reach on the same machine and librdkafka.
 *
 * One process starts librdkafka's mock cluster (one broker), seeds topic "in" with N records of 500 bytes
 * (distinct keys, one header) through an idempotent producer, then times:
 *   consume: a consumer-group member reading "in" from the first record to the last;
 *   relay:   a second group member reading "in" and producing every record (key, value, headers) to "out"
 *            with the same idempotent producer, committing every 100 ms, until every delivery report.
 * Producer settings are Herald's: enable.idempotence=true, linger.ms=5.
 *
 * Build and run: scripts/c-relay/run.sh [N]
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long delivered, failed;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "c-relay: %s: %s\n", what, detail);
    exit(1);
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char error[512];
    if (rd_kafka_conf_set(conf, name, value, error, sizeof error) != RD_KAFKA_CONF_OK) die(name, error);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    (void)rk, (void)opaque;
    if (message->err) failed++; else delivered++;
}

static rd_kafka_t *make(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
    char error[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, error, sizeof error);
    if (!rk) die("rd_kafka_new", error);
    return rk;
}

static rd_kafka_t *producer(const char *bootstrap) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "enable.idempotence", "true");
    set(conf, "linger.ms", "5");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    return make(RD_KAFKA_PRODUCER, conf);
}

static rd_kafka_t *consumer(const char *bootstrap, const char *group, const char *topic) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "group.id", group);
    set(conf, "enable.auto.commit", "false");
    set(conf, "auto.offset.reset", "earliest");
    rd_kafka_t *rk = make(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
    if (err) die("subscribe", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(topics);
    return rk;
}

/* Produces one record, serving delivery reports while the local queue is full. */
static void produce(rd_kafka_t *rk, const char *topic, const void *key, size_t key_len, const void *value,
                    size_t value_len, rd_kafka_headers_t *headers) {
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_KEY(key, key_len),
                                    RD_KAFKA_V_VALUE((void *)value, value_len),
                                    RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 1);
    if (err) die("produce", rd_kafka_err2str(err));
    rd_kafka_poll(rk, 0);
}

static void finish(rd_kafka_t *rk, long expected) {
    if (rd_kafka_flush(rk, 120000)) die("flush", "timed out");
    if (delivered != expected || failed) {
        fprintf(stderr, "c-relay: %ld delivered, %ld failed, %ld expected\n", delivered, failed, expected);
        exit(1);
    }
}

int main(int argc, char **argv) {
    long count = argc > 1 ? atol(argv[1]) : 1000000;
    const int size = 500;
    /* The mock broker keeps about 5 MB per partition: size the topics to hold every record. */
    int partitions = (int)(count * (size + 100) / 3000000 + 1);
    if (partitions < 4) partitions = 4;

    rd_kafka_conf_t *host_conf = rd_kafka_conf_new();
    set(host_conf, "log_level", "3");
    rd_kafka_t *host = make(RD_KAFKA_PRODUCER, host_conf);
    rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(host, 1);
    if (!cluster) die("mock cluster", "cannot start");
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
    if (rd_kafka_mock_topic_create(cluster, "in", partitions, 1) || rd_kafka_mock_topic_create(cluster, "out", partitions, 1))
        die("mock cluster", "cannot create topics");

    rd_kafka_t *out = producer(bootstrap);
    char *body = malloc(size);
    memset(body, 'x', size);
    double start = now();
    for (long i = 0; i < count; i++) {
        char key[32], id[32];
        int key_len = snprintf(key, sizeof key, "recipient-%ld", i);
        int id_len = snprintf(id, sizeof id, "event-%ld", i);
        rd_kafka_headers_t *headers = rd_kafka_headers_new(1);
        rd_kafka_header_add(headers, "ce_id", -1, id, id_len);
        produce(out, "in", key, (size_t)key_len, body, (size_t)size, headers);
    }
    finish(out, count);
    double seed = (double)count / (now() - start);

    rd_kafka_t *reader = consumer(bootstrap, "c-consume", "in");
    long read = 0;
    while (read < count) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(reader, 100);
        if (!message) continue;
        if (!message->err && read++ == 0) start = now();
        rd_kafka_message_destroy(message);
    }
    double consume = (double)count / (now() - start);
    rd_kafka_consumer_close(reader);
    rd_kafka_destroy(reader);

    delivered = 0;
    rd_kafka_t *relay = consumer(bootstrap, "c-relay", "in");
    double last_commit = 0;
    read = 0;
    while (read < count) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(relay, 100);
        if (!message) continue;
        if (!message->err) {
            if (read++ == 0) start = last_commit = now();
            rd_kafka_headers_t *headers = NULL, *copy = NULL;
            if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR)
                copy = rd_kafka_headers_copy(headers);
            produce(out, "out", message->key, message->key_len, message->payload, message->len, copy);
            if (now() - last_commit >= 0.1) {
                rd_kafka_commit(relay, NULL, 1);
                last_commit = now();
            }
        }
        rd_kafka_message_destroy(message);
    }
    finish(out, count);
    rd_kafka_commit(relay, NULL, 0);
    double relayed = (double)count / (now() - start);

    printf("records          %ld of %d bytes, %d partitions\n", count, size, partitions);
    printf("C produce (seed) %.0f/s\n", seed);
    printf("C consume        %.0f/s\n", consume);
    printf("C relay          %.0f/s (%.2f of the C consume rate)\n", relayed, relayed / consume);
    rd_kafka_consumer_close(relay);
    rd_kafka_destroy(relay);
    rd_kafka_destroy(out);
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(host);
    free(body);
    return 0;
}
