/* Load driver of tests/bench/run.sh: many concurrent clients, each a DEALER with CURVE and the
 * key of its own unit, push realistic updates (300-2,000 bytes of Vietnamese text, 0-5
 * indicators, sub-items now and then) to a running collector for a fixed time, and time every
 * reply on the client side.
 *
 * Closed loop (--rate 0): each client keeps --window updates in flight; the rate is the most
 * the pipeline acknowledges. Open loop (--rate R): updates leave on a fixed schedule of R per
 * second in all, whatever the replies do, and a latency runs from the scheduled send time to
 * the reply, so queueing inside the pipeline (or in this process) is counted, not hidden by
 * back-pressure. Latencies go to an array per client and the percentiles are exact.
 *
 * Prints one line: "load: mode=... acked_per_s=N p50_ms=X p99_ms=X ...". Never part of the
 * pass/fail suite by itself; run.sh decides what to do with the figures. */
#define _GNU_SOURCE
#include "report_codec.h"
#include "report_config.h"
#include "report_keys.h"
#include "report_update.h"
#include "report_util.h"
#include "report_zap.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>
#include <uuid/uuid.h>
#include <zmq.h>

typedef struct {
    char *endpoint;
    char *server_key;
    char *unit_keys;
    char *unit_prefix;
    int64_t clients;
    int64_t window;
    int64_t seconds;
    int64_t rate;
    int64_t drain_seconds;
    int64_t max_pending;
    int64_t year;
    int64_t month;
    int64_t seed;
    bool timeline;
} s_config_t;

#define F(field) offsetof(s_config_t, field)
static const report_setting_t s_settings[] = {
    {"endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5570", F(endpoint), 0, 0,
     "the collector's unit endpoint"},
    {"server-key", REPORT_SETTING_STRING, "keys/server.pub", F(server_key), 0, 0,
     "the collector's public key (.pub)"},
    {"unit-keys", REPORT_SETTING_STRING, "keys/clients", F(unit_keys), 0, 0,
     "directory of the units' secret keys, UNIT.key"},
    {"unit-prefix", REPORT_SETTING_STRING, "BENCH_", F(unit_prefix), 0, 0,
     "client i (from 1) pushes as unit PREFIX%03d with key PREFIX%03d.key"},
    {"clients", REPORT_SETTING_INT, "16", F(clients), 1, 999, "concurrent clients, one unit each"},
    {"window", REPORT_SETTING_INT, "64", F(window), 1, 100000,
     "updates in flight per client (closed loop)"},
    {"seconds", REPORT_SETTING_INT, "10", F(seconds), 1, 86400, "how long updates are sent"},
    {"rate", REPORT_SETTING_INT, "0", F(rate), 0, 10000000,
     "0: closed loop; R: open loop, R updates/s in all on a fixed schedule"},
    {"drain-seconds", REPORT_SETTING_INT, "15", F(drain_seconds), 0, 3600,
     "after sending stops, wait this long at most for the last replies"},
    {"max-pending", REPORT_SETTING_INT, "20000", F(max_pending), 1, 10000000,
     "open loop: updates without a reply per client at most (past it a send is skipped, counted)"},
    {"year", REPORT_SETTING_INT, "2026", F(year), 2000, 2100, "period of the updates: year"},
    {"month", REPORT_SETTING_INT, "11", F(month), 1, 12, "period of the updates: month"},
    {"seed", REPORT_SETTING_INT, "1", F(seed), 0, INT64_MAX, "random seed of the content"},
    {"timeline", REPORT_SETTING_BOOL, "false", F(timeline), 0, 0,
     "also print, per second of send time, the replies and their slowest latency (timeline: "
     "lines)"},
    REPORT_SETTINGS_END};
#undef F

/* The catalogue of the seed (db/migrations/002_seed_caobang.sql): work areas and the
 * indicators of each. Every code here must exist there, or the store refuses the update. */
typedef struct {
    const char *area;
    const char *indicators[5];
} s_area_t;

static const s_area_t s_areas[] = {
    {"VBQPPL", {NULL}},
    {"NHIEM_VU", {"HD_TUVAN_NTMN", "DETAI_NGHIEMTHU", "DETAI_MOI", NULL}},
    {"SANG_KIEN", {"SANGKIEN_HOSO", NULL}},
    {"THANH_TRA", {"THANHTRA_CUOC", "THANHTRA_DOANHNGHIEP", "THANHTRA_KEHOACH", NULL}},
    {"TDC", {"ISO_KIEMTRA", "ISO_TOT", "ISO_CHUATOT", "GTCL_HUONGDAN", NULL}},
    {"THONG_TIN", {"PHONGSU", "TIN_BAI", NULL}},
    {"CONG_NGHE", {NULL}},
};
#define S_AREA_COUNT (sizeof s_areas / sizeof s_areas[0])

/* Sentences of the kind the units write (normalised to NFC at start). */
static const char *s_phrases[] = {
    "Tham mưu cho Lãnh đạo Sở ban hành kế hoạch triển khai nhiệm vụ khoa học và công nghệ năm",
    "phối hợp với Sở Tài chính thẩm định dự toán kinh phí các đề tài, dự án cấp tỉnh",
    "tổ chức hội đồng tư vấn xác định nhiệm vụ khoa học và công nghệ đặt hàng",
    "kiểm tra tiến độ thực hiện các đề tài chuyển tiếp tại huyện Trùng Khánh và Hà Quảng",
    "hướng dẫn các doanh nghiệp trên địa bàn tỉnh xây dựng hồ sơ đăng ký nhãn hiệu tập thể",
    "thanh tra việc chấp hành pháp luật về đo lường trong kinh doanh xăng dầu",
    "tuyên truyền, phổ biến kiến thức về tiêu chuẩn, đo lường, chất lượng tới người dân",
    "duy trì và cải tiến Hệ thống quản lý chất lượng theo Tiêu chuẩn quốc gia TCVN ISO 9001:2015",
    "đăng tin, bài trên Trang thông tin điện tử của Sở về kết quả ứng dụng tiến bộ kỹ thuật",
    "thẩm định hồ sơ đề nghị công nhận sáng kiến cấp tỉnh của các cơ quan, đơn vị",
    "tiếp nhận, xử lý đơn thư khiếu nại, tố cáo đúng quy định, không để tồn đọng kéo dài",
    "phối hợp với Đài Phát thanh - Truyền hình tỉnh xây dựng chuyên mục Khoa học với nhà nông",
    "rà soát, cập nhật cơ sở dữ liệu về tiềm lực khoa học và công nghệ của tỉnh Cao Bằng",
    "kiểm định, hiệu chuẩn phương tiện đo nhóm 2 phục vụ quản lý nhà nước về đo lường",
    "xây dựng dự thảo Quyết định sửa đổi, bổ sung quy định quản lý nhiệm vụ khoa học cấp tỉnh",
    "đánh giá, nghiệm thu kết quả thực hiện dự án nhân giống lúa Khẩu dựa Trùng Khánh",
    "hỗ trợ đổi mới công nghệ cho các hợp tác xã sản xuất miến dong, chè Phja Đén",
    "giám sát việc thực hiện kết luận thanh tra, kiến nghị xử lý sau thanh tra",
};
#define S_PHRASE_COUNT (sizeof s_phrases / sizeof s_phrases[0])

static const char *s_sub_phrases[] = {
    "Hội đồng tư vấn tuyển chọn tổ chức, cá nhân chủ trì nhiệm vụ",
    "Đoàn kiểm tra liên ngành về chất lượng hàng hóa dịp cuối năm",
    "Hướng dẫn xây dựng, áp dụng hệ thống quản lý chất lượng",
    "Tập huấn nghiệp vụ sở hữu trí tuệ cho cán bộ cấp huyện",
};
#define S_SUB_COUNT (sizeof s_sub_phrases / sizeof s_sub_phrases[0])

#define S_TEMPLATES 64
#define S_TEXT_MIN 300
#define S_TEXT_MAX 2000

/* xorshift64*: cheap and reproducible per client. */
static uint64_t s_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ULL;
}

static size_t s_pick(uint64_t *state, size_t n)
{
    return (size_t)(s_rand(state) % n);
}

static int64_t s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char *s_nfc(const char *s)
{
    utf8proc_uint8_t *nfc = utf8proc_NFC((const utf8proc_uint8_t *)s);
    char *copy = report_strdup(nfc ? (const char *)nfc : s);
    free(nfc);
    return copy;
}

/* Appends "{CODE}" placeholders of carried indicators so that the text refers to its numbers
 * the way the template's patterns do; only codes the update carries (all in the catalogue). */
static void s_fill_text(report_buf_t *b, uint64_t *rng, char *const *phrases,
                        const report_update_t *u)
{
    size_t target = S_TEXT_MIN + s_pick(rng, S_TEXT_MAX - S_TEXT_MIN + 1);
    size_t k = 0;
    while (b->len < target) {
        char piece[400];
        const char *p = phrases[s_pick(rng, S_PHRASE_COUNT)];
        if (k < u->indicator_count)
            snprintf(piece, sizeof piece, "%s{%s} %s", b->len ? "; " : "", u->indicators[k++].code,
                     p);
        else
            snprintf(piece, sizeof piece, "%s%s", b->len ? ", " : "", p);
        if (b->len + strlen(piece) + 1 > S_TEXT_MAX)
            break;
        report_buf_adds(b, piece);
    }
    report_buf_adds(b, ".");
}

/* 0-5 distinct indicators: those of the area first, then any other of the catalogue. */
static void s_pick_indicators(report_update_t *u, uint64_t *rng, const s_area_t *area)
{
    size_t want = s_pick(rng, 6);
    if (!want)
        return;
    const char *pool[32];
    size_t n = 0;
    for (size_t i = 0; i < 5 && area->indicators[i]; i++)
        pool[n++] = area->indicators[i];
    size_t own = n;
    for (size_t a = 0; a < S_AREA_COUNT; a++)
        for (size_t i = 0; i < 5 && s_areas[a].indicators[i]; i++)
            if (&s_areas[a] != area)
                pool[n++] = s_areas[a].indicators[i];
    /* shuffle each part on its own: the area's codes stay first */
    for (size_t i = own; i > 1; i--) {
        size_t j = s_pick(rng, i);
        const char *t = pool[i - 1];
        pool[i - 1] = pool[j], pool[j] = t;
    }
    for (size_t i = n; i > own + 1; i--) {
        size_t j = own + s_pick(rng, i - own);
        const char *t = pool[i - 1];
        pool[i - 1] = pool[j], pool[j] = t;
    }
    u->indicators = report_calloc(want, sizeof *u->indicators);
    u->indicator_count = want;
    for (size_t i = 0; i < want; i++) {
        u->indicators[i].code = report_strdup(pool[i]);
        u->indicators[i].value = (double)(1 + s_pick(rng, 40));
    }
}

static report_update_t *s_template(uint64_t *rng, const char *unit, int year, int month,
                                   char *const *phrases, char *const *subs)
{
    report_update_t *u = report_update_new();
    const s_area_t *area = &s_areas[s_pick(rng, S_AREA_COUNT)];
    u->unit_code = report_strdup(unit);
    u->year = year;
    u->month = month;
    u->section = (report_section_t)(1 + s_pick(rng, 3));
    u->area_code = report_strdup(area->area);
    s_pick_indicators(u, rng, area);
    report_buf_t b;
    report_buf_init(&b);
    s_fill_text(&b, rng, phrases, u);
    u->text = report_buf_take(&b);
    if (s_pick(rng, 5) == 0) { /* sub-items now and then */
        u->sub_item_count = 1 + s_pick(rng, 3);
        u->sub_items = report_calloc(u->sub_item_count, sizeof *u->sub_items);
        for (size_t i = 0; i < u->sub_item_count; i++)
            u->sub_items[i] = report_strdup(subs[s_pick(rng, S_SUB_COUNT)]);
    }
    return u;
}

/* One client: its unit, socket, content and what it measured. */
typedef struct {
    const s_config_t *cfg;
    int index; /* from 1 */
    char unit[64];
    report_client_keys_t keys;
    pthread_barrier_t *barrier;
    const volatile int64_t *t0_us; /* set by main between the two barrier waits */
    char *const *phrases;
    char *const *subs;
    report_update_t *templates[S_TEMPLATES];
    char id_prefix[40]; /* the first 24 characters of every update id of this client */
    /* pending updates, by sequence number modulo capacity */
    int64_t *slot_seq;
    int64_t *slot_t_us;
    size_t capacity;
    size_t pending;
    /* results */
    uint32_t *lat_us;
    size_t lat_count, lat_cap;
    /* per second of send time since t0 (--timeline): replies and the slowest of them */
    uint32_t *sec_count, *sec_max_us;
    size_t sec_n;
    uint64_t sent, stored, stored_in_time, duplicate, rejected, busy, skipped, other;
    uint64_t payload_bytes;
    char first_reject[320];
    int failed;
} s_client_t;

static void s_record(s_client_t *c, int64_t us)
{
    if (c->lat_count == c->lat_cap) {
        c->lat_cap = c->lat_cap ? c->lat_cap * 2 : 65536;
        c->lat_us = report_realloc(c->lat_us, c->lat_cap * sizeof *c->lat_us);
    }
    c->lat_us[c->lat_count++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Counts a reply in the second its update was sent in (--timeline). */
static void s_record_second(s_client_t *c, int64_t sent_us, int64_t us)
{
    if (!c->sec_n || sent_us < *c->t0_us)
        return;
    size_t sec = (size_t)((sent_us - *c->t0_us) / 1000000);
    if (sec >= c->sec_n)
        return;
    c->sec_count[sec]++;
    uint32_t v = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    if (v > c->sec_max_us[sec])
        c->sec_max_us[sec] = v;
}

/* Sends update number seq (a fresh id and item key on one of the templates); t_us is the time
 * its latency is measured from. 0, or -1 when the socket would block. */
static int s_send(void *sock, s_client_t *c, int64_t seq, int64_t t_us)
{
    report_update_t *u = c->templates[seq % S_TEMPLATES];
    free(u->update_id);
    free(u->item_key);
    u->update_id = report_sprintf("%s%012" PRIx64, c->id_prefix, (uint64_t)seq);
    u->item_key = report_sprintf("bench-%.8s-%" PRId64, c->id_prefix, seq);
    size_t size = 0;
    uint8_t *buf = report_update_encode(u, &size);
    int rc = zmq_send(sock, buf, size, ZMQ_DONTWAIT) < 0 ? -1 : 0;
    free(buf);
    if (rc == 0) {
        size_t slot = (size_t)seq % c->capacity;
        c->slot_seq[slot] = seq;
        c->slot_t_us[slot] = t_us;
        c->pending++;
        c->sent++;
        c->payload_bytes += size;
    }
    return rc;
}

/* Takes every reply waiting on the socket. */
static void s_receive(void *sock, s_client_t *c, int64_t t_end_us)
{
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        int64_t now = s_now_us();
        report_reply_t reply;
        int rc = report_reply_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &reply);
        zmq_msg_close(&msg);
        size_t plen = strlen(c->id_prefix);
        if (rc != 0 || strncmp(reply.update_id, c->id_prefix, plen) != 0) {
            c->other++;
            continue;
        }
        int64_t seq = (int64_t)strtoull(reply.update_id + plen, NULL, 16);
        size_t slot = (size_t)seq % c->capacity;
        if (c->slot_seq[slot] != seq) {
            c->other++; /* a second answer to the same update */
            continue;
        }
        c->slot_seq[slot] = -1;
        c->pending--;
        s_record(c, now - c->slot_t_us[slot]);
        s_record_second(c, c->slot_t_us[slot], now - c->slot_t_us[slot]);
        switch (reply.outcome) {
        case REPORT_OUTCOME_STORED:
            c->stored++;
            c->stored_in_time += now <= t_end_us;
            break;
        case REPORT_OUTCOME_DUPLICATE:
            c->duplicate++;
            break;
        case REPORT_OUTCOME_BUSY:
            c->busy++;
            break;
        default:
            if (!c->rejected++)
                snprintf(c->first_reject, sizeof c->first_reject, "%s %s: %s",
                         report_outcome_name(reply.outcome), report_reason_name(reply.reason),
                         reply.message);
            break;
        }
    }
}

static void *s_client_run(void *arg)
{
    s_client_t *c = arg;
    const s_config_t *cfg = c->cfg;
    void *zctx = zmq_ctx_new();
    void *sock = zmq_socket(zctx, ZMQ_DEALER);
    int linger = 0, hwm = (int)(c->capacity * 2 + 100);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    report_curve_client(sock, c->keys.server_public, &c->keys.client);
    zmq_connect(sock, cfg->endpoint);

    /* Warm-up: one update through the whole pipeline (handshake, key, catalogue). */
    int64_t seq = 0, deadline = s_now_us() + 30000000;
    s_send(sock, c, seq++, s_now_us());
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    while (c->pending && s_now_us() < deadline) {
        zmq_poll(&item, 1, 100);
        s_receive(sock, c, INT64_MAX);
    }
    if (c->pending || c->stored != 1) {
        fprintf(stderr, "bench_load: client %s: warm-up update not stored (%s)\n", c->unit,
                c->pending ? "no answer in 30 s" : c->first_reject);
        c->failed = 1;
    }
    c->sent = c->stored = c->stored_in_time = c->rejected = c->duplicate = c->busy = 0;
    c->lat_count = 0;
    c->payload_bytes = 0;
    pthread_barrier_wait(c->barrier);
    pthread_barrier_wait(c->barrier);

    int64_t t0 = *c->t0_us, t_end = t0 + cfg->seconds * 1000000;
    int64_t drain_end = t_end + cfg->drain_seconds * 1000000;
    /* open loop: this client's share of the rate, its first send offset by its index so the
     * clients do not fire together */
    double interval_us = cfg->rate ? 1e6 * (double)cfg->clients / (double)cfg->rate : 0;
    double next_us = (double)t0 + interval_us * (double)(c->index - 1) / (double)cfg->clients;
    for (;;) {
        int64_t now = s_now_us();
        if (c->failed || (now >= t_end && (!c->pending || now >= drain_end)))
            break;
        long timeout_ms = 100;
        if (now < t_end && !cfg->rate) {
            while (c->pending < (size_t)cfg->window && c->slot_seq[(size_t)seq % c->capacity] < 0 &&
                   s_send(sock, c, seq, now) == 0)
                seq++;
        } else if (now < t_end) {
            while (next_us <= (double)now && next_us < (double)t_end) {
                if (c->slot_seq[(size_t)seq % c->capacity] >= 0 ||
                    s_send(sock, c, seq, (int64_t)next_us) != 0)
                    c->skipped++;
                else
                    seq++;
                next_us += interval_us;
            }
            /* wake up at the next scheduled send (rounded up to the millisecond) */
            timeout_ms = (long)(((int64_t)next_us - now + 999) / 1000);
            if (timeout_ms < 0)
                timeout_ms = 0;
            if (timeout_ms > 100)
                timeout_ms = 100;
        }
        zmq_poll(&item, 1, timeout_ms);
        s_receive(sock, c, t_end);
    }
    zmq_close(sock);
    zmq_ctx_term(zctx);
    return NULL;
}

static int s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Exact percentile (nearest rank) of sorted values, in milliseconds. */
static double s_pct_ms(const uint32_t *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)v[rank - 1] / 1000.0;
}

static int s_client_init(s_client_t *c, const s_config_t *cfg, int index, char *const *phrases,
                         char *const *subs)
{
    c->cfg = cfg;
    c->index = index;
    c->phrases = phrases;
    c->subs = subs;
    snprintf(c->unit, sizeof c->unit, "%s%03d", cfg->unit_prefix, index);
    char *path = report_sprintf("%s/%s.key", cfg->unit_keys, c->unit);
    report_error_t err;
    int rc = report_client_keys_load(path, cfg->server_key, false, &c->keys, &err);
    if (rc != 0)
        fprintf(stderr, "bench_load: %s: %s\n", path, err.message);
    free(path);
    uuid_t id;
    uuid_generate_random(id);
    char text[37];
    uuid_unparse_lower(id, text);
    snprintf(c->id_prefix, sizeof c->id_prefix, "%.24s", text);
    uint64_t rng = (uint64_t)cfg->seed * 1000003u + (uint64_t)index * 7919u + 1;
    for (size_t i = 0; i < S_TEMPLATES; i++)
        c->templates[i] = s_template(&rng, c->unit, (int)cfg->year, (int)cfg->month, phrases, subs);
    c->capacity = cfg->rate ? (size_t)cfg->max_pending : (size_t)cfg->window * 4;
    c->slot_seq = report_malloc(c->capacity * sizeof *c->slot_seq);
    c->slot_t_us = report_calloc(c->capacity, sizeof *c->slot_t_us);
    if (cfg->timeline) {
        c->sec_n = (size_t)(cfg->seconds + 1);
        c->sec_count = report_calloc(c->sec_n, sizeof *c->sec_count);
        c->sec_max_us = report_calloc(c->sec_n, sizeof *c->sec_max_us);
    }
    for (size_t i = 0; i < c->capacity; i++)
        c->slot_seq[i] = -1;
    return rc;
}

static void s_client_free(s_client_t *c)
{
    for (size_t i = 0; i < S_TEMPLATES; i++)
        report_update_destroy(&c->templates[i]);
    free(c->slot_seq);
    free(c->slot_t_us);
    free(c->lat_us);
    free(c->sec_count);
    free(c->sec_max_us);
}

/* Sums the clients, sorts their latencies and prints the load: line. 0 when something was
 * stored and nothing refused. */
static int s_summarise(const s_config_t *cfg, s_client_t *clients, size_t n, double seconds)
{
    uint64_t sent = 0, stored = 0, in_time = 0, dup = 0, rej = 0, busy = 0, skipped = 0;
    uint64_t other = 0, bytes = 0, unanswered = 0;
    size_t lat_n = 0;
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        s_client_t *c = &clients[i];
        sent += c->sent, stored += c->stored, in_time += c->stored_in_time;
        dup += c->duplicate, rej += c->rejected, busy += c->busy, skipped += c->skipped;
        other += c->other, bytes += c->payload_bytes, unanswered += c->pending;
        lat_n += c->lat_count;
        failed |= c->failed;
        if (c->rejected)
            fprintf(stderr, "bench_load: %s: %" PRIu64 " refused, first: %s\n", c->unit,
                    c->rejected, c->first_reject);
    }
    uint32_t *lat = report_malloc((lat_n ? lat_n : 1) * sizeof *lat);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(lat + k, clients[i].lat_us, clients[i].lat_count * sizeof *lat);
        k += clients[i].lat_count;
    }
    qsort(lat, lat_n, sizeof *lat, s_cmp_u32);
    for (size_t sec = 0; cfg->timeline && sec < clients[0].sec_n; sec++) {
        uint64_t count = 0;
        uint32_t max = 0;
        for (size_t i = 0; i < n; i++) {
            count += clients[i].sec_count[sec];
            if (clients[i].sec_max_us[sec] > max)
                max = clients[i].sec_max_us[sec];
        }
        printf("timeline: second=%zu replies=%" PRIu64 " max_ms=%.1f\n", sec, count,
               (double)max / 1000.0);
    }
    printf("load: mode=%s clients=%zu window=%lld rate=%lld seconds=%.1f sent=%" PRIu64
           " stored=%" PRIu64 " duplicate=%" PRIu64 " refused=%" PRIu64 " busy=%" PRIu64
           " unanswered=%" PRIu64 " skipped=%" PRIu64 " other=%" PRIu64
           " acked_per_s=%.0f sent_per_s=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f"
           " p999_ms=%.2f max_ms=%.2f mean_update_bytes=%.0f\n",
           cfg->rate ? "open" : "closed", n, (long long)cfg->window, (long long)cfg->rate, seconds,
           sent, stored, dup, rej, busy, unanswered, skipped, other, (double)in_time / seconds,
           (double)sent / seconds, s_pct_ms(lat, lat_n, 50), s_pct_ms(lat, lat_n, 90),
           s_pct_ms(lat, lat_n, 99), s_pct_ms(lat, lat_n, 99.9),
           lat_n ? (double)lat[lat_n - 1] / 1000.0 : 0, sent ? (double)bytes / (double)sent : 0);
    fflush(stdout);
    free(lat);
    return failed || !stored || rej ? 1 : 0;
}

int main(int argc, char **argv)
{
    s_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    if (report_settings_load(s_settings, &cfg, argc, argv, &args, &nargs) != 0 || nargs) {
        report_settings_usage(s_settings, stderr);
        free(args);
        return 2;
    }
    free(args);
    char *phrases[S_PHRASE_COUNT], *subs[S_SUB_COUNT];
    for (size_t i = 0; i < S_PHRASE_COUNT; i++)
        phrases[i] = s_nfc(s_phrases[i]);
    for (size_t i = 0; i < S_SUB_COUNT; i++)
        subs[i] = s_nfc(s_sub_phrases[i]);

    size_t n = (size_t)cfg.clients;
    s_client_t *clients = report_calloc(n, sizeof *clients);
    pthread_t *threads = report_calloc(n, sizeof *threads);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
    volatile int64_t t0 = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rc |= s_client_init(&clients[i], &cfg, (int)i + 1, phrases, subs);
        clients[i].barrier = &barrier;
        clients[i].t0_us = &t0;
    }
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            pthread_create(&threads[i], NULL, s_client_run, &clients[i]);
        pthread_barrier_wait(&barrier); /* every client warmed up */
        t0 = s_now_us() + 10000;
        pthread_barrier_wait(&barrier);
        for (size_t i = 0; i < n; i++)
            pthread_join(threads[i], NULL);
        rc = s_summarise(&cfg, clients, n, (double)cfg.seconds);
    }
    for (size_t i = 0; i < n; i++)
        s_client_free(&clients[i]);
    pthread_barrier_destroy(&barrier);
    free(clients);
    free(threads);
    for (size_t i = 0; i < S_PHRASE_COUNT; i++)
        free(phrases[i]);
    for (size_t i = 0; i < S_SUB_COUNT; i++)
        free(subs[i]);
    report_settings_free(s_settings, &cfg);
    return rc;
}
