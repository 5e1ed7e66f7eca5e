/* The peer a user would pick instead of our pipeline, measured the way tests/bench/run.sh
 * measures ours: C publishers (librabbitmq), one connection and channel each, publisher
 * confirms, persistent messages (delivery_mode 2) to one durable queue (classic or quorum),
 * a window of unconfirmed messages per publisher, for a fixed time. A message counts when its
 * Basic.Ack arrives (one ack may confirm many: `multiple`). Latency runs from the publish to
 * the ack, on the client side.
 *
 *   bench_rabbitmq --port 26210 --queue bench --type classic|quorum [--clients 16]
 *                  [--window 64] [--seconds 10] [--min-bytes 300] [--max-bytes 2000]
 *
 * Prints "rabbitmq: type=... confirmed_per_s=N ...". Built only when librabbitmq is found. */
#define _GNU_SOURCE
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

typedef struct {
    const char *host;
    int port;
    const char *queue;
    const char *type;
    int clients;
    int window;
    int seconds;
    int drain_seconds;
    int min_bytes;
    int max_bytes;
} s_config_t;

typedef struct {
    const s_config_t *cfg;
    int index;
    pthread_barrier_t *barrier;
    const volatile int64_t *t0_us;
    /* send time of each unconfirmed delivery tag, by tag modulo capacity (0: free) */
    uint64_t *slot_tag;
    int64_t *slot_t_us;
    size_t capacity;
    size_t pending;
    uint32_t *lat_us;
    size_t lat_count, lat_cap;
    uint64_t published, confirmed, confirmed_in_time, nacked, bytes;
    int failed;
} s_publisher_t;

/* Text of the same kind as our updates' (the size decides, the content barely matters). */
static const char s_text[] =
    "Tham mưu cho Lãnh đạo Sở ban hành kế hoạch triển khai nhiệm vụ khoa học và công nghệ năm, "
    "phối hợp với Sở Tài chính thẩm định dự toán kinh phí các đề tài, dự án cấp tỉnh, "
    "thanh tra việc chấp hành pháp luật về đo lường trong kinh doanh xăng dầu, "
    "tuyên truyền, phổ biến kiến thức về tiêu chuẩn, đo lường, chất lượng tới người dân, ";

static int64_t s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t s_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ULL;
}

static void *s_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        fprintf(stderr, "bench_rabbitmq: out of memory\n");
        abort();
    }
    return p;
}

/* 0 when the RPC reply is normal, else prints what went wrong. */
static int s_check(amqp_rpc_reply_t r, const char *what)
{
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return 0;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        fprintf(stderr, "bench_rabbitmq: %s: %s\n", what, amqp_error_string2(r.library_error));
    else
        fprintf(stderr, "bench_rabbitmq: %s: server error (method 0x%08x)\n", what,
                (unsigned)r.reply.id);
    return -1;
}

/* Opens a connection with channel 1. NULL on failure. */
static amqp_connection_state_t s_connect(const s_config_t *cfg)
{
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(conn);
    if (!sock || amqp_socket_open(sock, cfg->host, cfg->port) != AMQP_STATUS_OK) {
        fprintf(stderr, "bench_rabbitmq: cannot connect to %s:%d\n", cfg->host, cfg->port);
        amqp_destroy_connection(conn);
        return NULL;
    }
    if (s_check(amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"),
                "login") != 0) {
        amqp_destroy_connection(conn);
        return NULL;
    }
    amqp_channel_open(conn, 1);
    if (s_check(amqp_get_rpc_reply(conn), "channel.open") != 0) {
        amqp_destroy_connection(conn);
        return NULL;
    }
    return conn;
}

static void s_close(amqp_connection_state_t conn)
{
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
}

/* Declares the durable queue (x-queue-type classic or quorum). 0 or -1. */
static int s_declare(amqp_connection_state_t conn, const s_config_t *cfg)
{
    amqp_table_entry_t entry;
    entry.key = amqp_cstring_bytes("x-queue-type");
    entry.value.kind = AMQP_FIELD_KIND_UTF8;
    entry.value.value.bytes = amqp_cstring_bytes(cfg->type);
    amqp_table_t args = {1, &entry};
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(cfg->queue), 0, 1, 0, 0, args);
    return s_check(amqp_get_rpc_reply(conn), "queue.declare");
}

static void s_record(s_publisher_t *p, int64_t us)
{
    if (p->lat_count == p->lat_cap) {
        p->lat_cap = p->lat_cap ? p->lat_cap * 2 : 65536;
        uint32_t *grown = realloc(p->lat_us, p->lat_cap * sizeof *grown);
        if (!grown)
            abort();
        p->lat_us = grown;
    }
    p->lat_us[p->lat_count++] = us < 0 ? 0 : (uint32_t)us;
}

/* Settles delivery tag `tag` (or every tag up to it when multiple). */
static void s_confirm(s_publisher_t *p, uint64_t tag, int multiple, int ack, int64_t now,
                      int64_t t_end)
{
    uint64_t first = multiple ? (tag >= p->capacity ? tag - p->capacity + 1 : 1) : tag;
    for (uint64_t t = first; t <= tag; t++) {
        size_t slot = (size_t)(t % p->capacity);
        if (p->slot_tag[slot] != t)
            continue;
        p->slot_tag[slot] = 0;
        p->pending--;
        if (!ack) {
            p->nacked++;
            continue;
        }
        p->confirmed++;
        p->confirmed_in_time += now <= t_end;
        s_record(p, now - p->slot_t_us[slot]);
    }
}

/* Reads the frames waiting (up to timeout_us for the first). -1 when the connection failed. */
static int s_read_acks(amqp_connection_state_t conn, s_publisher_t *p, int64_t timeout_us,
                       int64_t t_end)
{
    for (int n = 0;; n++) {
        amqp_frame_t frame;
        struct timeval tv = {0, 0};
        if (n == 0) {
            tv.tv_sec = (time_t)(timeout_us / 1000000);
            tv.tv_usec = (suseconds_t)(timeout_us % 1000000);
        }
        if (n > 0 && !amqp_frames_enqueued(conn) && !amqp_data_in_buffer(conn))
            return 0;
        int rc = amqp_simple_wait_frame_noblock(conn, &frame, &tv);
        if (rc == AMQP_STATUS_TIMEOUT)
            return 0;
        if (rc != AMQP_STATUS_OK) {
            fprintf(stderr, "bench_rabbitmq: reading frames: %s\n", amqp_error_string2(rc));
            return -1;
        }
        if (frame.frame_type != AMQP_FRAME_METHOD)
            continue;
        int64_t now = s_now_us();
        if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *a = frame.payload.method.decoded;
            s_confirm(p, a->delivery_tag, a->multiple, 1, now, t_end);
        } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            amqp_basic_nack_t *a = frame.payload.method.decoded;
            s_confirm(p, a->delivery_tag, a->multiple, 0, now, t_end);
        } else if (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
                   frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
            fprintf(stderr, "bench_rabbitmq: the server closed the channel\n");
            return -1;
        }
    }
}

static void *s_publisher_run(void *arg)
{
    s_publisher_t *p = arg;
    const s_config_t *cfg = p->cfg;
    amqp_connection_state_t conn = s_connect(cfg);
    if (conn) {
        amqp_confirm_select(conn, 1);
        if (s_check(amqp_get_rpc_reply(conn), "confirm.select") != 0) {
            s_close(conn);
            conn = NULL;
        }
    }
    p->failed = !conn;
    pthread_barrier_wait(p->barrier);
    pthread_barrier_wait(p->barrier);
    if (!conn)
        return NULL;

    /* bodies: a slice of the text repeated, sizes uniform in [min, max] */
    size_t max = (size_t)cfg->max_bytes;
    char *body = s_xmalloc(max);
    for (size_t i = 0; i < max; i++)
        body[i] = s_text[i % (sizeof s_text - 1)];
    uint64_t rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(p->index + 1);
    amqp_basic_properties_t props;
    memset(&props, 0, sizeof props);
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    props.delivery_mode = 2; /* persistent */
    props.content_type = amqp_cstring_bytes("text/plain");

    int64_t t0 = *p->t0_us, t_end = t0 + (int64_t)cfg->seconds * 1000000;
    int64_t drain_end = t_end + (int64_t)cfg->drain_seconds * 1000000;
    uint64_t tag = 0;
    for (;;) {
        int64_t now = s_now_us();
        if (now >= t_end && (!p->pending || now >= drain_end))
            break;
        while (now < t_end && p->pending < (size_t)cfg->window &&
               !p->slot_tag[(tag + 1) % p->capacity]) {
            size_t size = (size_t)cfg->min_bytes +
                          (size_t)(s_rand(&rng) % (uint64_t)(cfg->max_bytes - cfg->min_bytes + 1));
            amqp_bytes_t b = {size, body};
            if (amqp_basic_publish(conn, 1, amqp_empty_bytes, amqp_cstring_bytes(cfg->queue), 0, 0,
                                   &props, b) != AMQP_STATUS_OK) {
                p->failed = 1;
                break;
            }
            tag++;
            p->slot_tag[tag % p->capacity] = tag;
            p->slot_t_us[tag % p->capacity] = s_now_us();
            p->pending++;
            p->published++;
            p->bytes += size;
        }
        if (p->failed || s_read_acks(conn, p, 100000, t_end) != 0) {
            p->failed = 1;
            break;
        }
        amqp_maybe_release_buffers(conn);
    }
    free(body);
    s_close(conn);
    return NULL;
}

static int s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static double s_pct_ms(const uint32_t *v, size_t n, double pct)
{
    if (!n)
        return 0;
    size_t rank = (size_t)(pct / 100.0 * (double)n + 0.999999);
    rank = rank < 1 ? 1 : rank > n ? n : rank;
    return (double)v[rank - 1] / 1000.0;
}

static int s_usage(void)
{
    fprintf(stderr, "usage: bench_rabbitmq --port N --queue NAME --type classic|quorum "
                    "[--host H] [--clients N] [--window N] [--seconds N] [--drain-seconds N] "
                    "[--min-bytes N] [--max-bytes N]\n");
    return 2;
}

static int s_parse(s_config_t *cfg, int argc, char **argv)
{
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            return -1;
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--host"))
            cfg->host = v;
        else if (!strcmp(k, "--port"))
            cfg->port = atoi(v);
        else if (!strcmp(k, "--queue"))
            cfg->queue = v;
        else if (!strcmp(k, "--type"))
            cfg->type = v;
        else if (!strcmp(k, "--clients"))
            cfg->clients = atoi(v);
        else if (!strcmp(k, "--window"))
            cfg->window = atoi(v);
        else if (!strcmp(k, "--seconds"))
            cfg->seconds = atoi(v);
        else if (!strcmp(k, "--drain-seconds"))
            cfg->drain_seconds = atoi(v);
        else if (!strcmp(k, "--min-bytes"))
            cfg->min_bytes = atoi(v);
        else if (!strcmp(k, "--max-bytes"))
            cfg->max_bytes = atoi(v);
        else
            return -1;
    }
    if (cfg->port <= 0 || cfg->clients < 1 || cfg->clients > 1000 || cfg->window < 1 ||
        cfg->seconds < 1 || cfg->min_bytes < 1 || cfg->max_bytes < cfg->min_bytes ||
        (strcmp(cfg->type, "classic") && strcmp(cfg->type, "quorum")))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    s_config_t cfg = {"127.0.0.1", 0, "bench", "classic", 16, 64, 10, 15, 300, 2000};
    if (s_parse(&cfg, argc, argv) != 0)
        return s_usage();
    amqp_connection_state_t admin = s_connect(&cfg);
    if (!admin || s_declare(admin, &cfg) != 0)
        return 1;
    amqp_queue_purge(admin, 1, amqp_cstring_bytes(cfg.queue));
    s_check(amqp_get_rpc_reply(admin), "queue.purge");

    size_t n = (size_t)cfg.clients;
    s_publisher_t *pubs = calloc(n, sizeof *pubs);
    pthread_t *threads = calloc(n, sizeof *threads);
    if (!pubs || !threads)
        abort();
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
    volatile int64_t t0 = 0;
    for (size_t i = 0; i < n; i++) {
        pubs[i].cfg = &cfg;
        pubs[i].index = (int)i;
        pubs[i].barrier = &barrier;
        pubs[i].t0_us = &t0;
        pubs[i].capacity = (size_t)cfg.window * 4;
        pubs[i].slot_tag = calloc(pubs[i].capacity, sizeof *pubs[i].slot_tag);
        pubs[i].slot_t_us = calloc(pubs[i].capacity, sizeof *pubs[i].slot_t_us);
        if (!pubs[i].slot_tag || !pubs[i].slot_t_us)
            abort();
        pthread_create(&threads[i], NULL, s_publisher_run, &pubs[i]);
    }
    pthread_barrier_wait(&barrier);
    t0 = s_now_us() + 10000;
    pthread_barrier_wait(&barrier);
    uint64_t published = 0, confirmed = 0, in_time = 0, nacked = 0, bytes = 0, unconfirmed = 0;
    size_t lat_n = 0;
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        published += pubs[i].published, confirmed += pubs[i].confirmed;
        in_time += pubs[i].confirmed_in_time, nacked += pubs[i].nacked;
        bytes += pubs[i].bytes, unconfirmed += pubs[i].pending;
        lat_n += pubs[i].lat_count;
        failed |= pubs[i].failed;
    }
    uint32_t *lat = s_xmalloc((lat_n ? lat_n : 1) * sizeof *lat);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (pubs[i].lat_count)
            memcpy(lat + k, pubs[i].lat_us, pubs[i].lat_count * sizeof *lat);
        k += pubs[i].lat_count;
        free(pubs[i].lat_us);
        free(pubs[i].slot_tag);
        free(pubs[i].slot_t_us);
    }
    qsort(lat, lat_n, sizeof *lat, s_cmp_u32);
    printf("rabbitmq: type=%s clients=%d window=%d seconds=%d published=%" PRIu64
           " confirmed=%" PRIu64 " nacked=%" PRIu64 " unconfirmed=%" PRIu64
           " confirmed_per_s=%.0f p50_ms=%.2f p99_ms=%.2f mean_message_bytes=%.0f%s\n",
           cfg.type, cfg.clients, cfg.window, cfg.seconds, published, confirmed, nacked,
           unconfirmed, (double)in_time / cfg.seconds, s_pct_ms(lat, lat_n, 50),
           s_pct_ms(lat, lat_n, 99), published ? (double)bytes / (double)published : 0,
           failed ? " FAILED" : "");
    free(lat);
    amqp_queue_delete(admin, 1, amqp_cstring_bytes(cfg.queue), 0, 0);
    s_check(amqp_get_rpc_reply(admin), "queue.delete");
    s_close(admin);
    pthread_barrier_destroy(&barrier);
    free(pubs);
    free(threads);
    return failed || !confirmed ? 1 : 0;
}
