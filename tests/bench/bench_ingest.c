/* Ingest benchmark: real collector and stores (in this process, CURVE on), a real PostgreSQL,
 * C pipelined clients pushing N updates. Prints updates per second, the commit batches and
 * the process's peak memory. Run by deploy/bench.sh; never part of the pass/fail suite. */
#define _GNU_SOURCE
#include "report_push.h"
#include "report_collector.h"
#include "report_config.h"
#include "report_db.h"
#include "report_keys.h"
#include "report_log.h"
#include "report_store.h"
#include "report_json.h"
#include "report_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uuid/uuid.h>
#include <zmq.h>

typedef struct {
    char *db;
    int64_t updates;
    int64_t clients;
    int64_t window;
    int64_t stores;
    int64_t batch_max;
    int64_t batch_wait_ms;
} s_config_t;

#define F(field) offsetof(s_config_t, field)
static const report_setting_t s_settings[] = {
    {"db", REPORT_SETTING_STRING, "dbname=report", F(db), 0, 0,
     "superuser connection string of an empty database"},
    {"updates", REPORT_SETTING_INT, "100000", F(updates), 1, 100000000, "updates to push"},
    {"clients", REPORT_SETTING_INT, "4", F(clients), 1, 64, "concurrent clients"},
    {"window", REPORT_SETTING_INT, "500", F(window), 1, 100000, "updates in flight per client"},
    {"stores", REPORT_SETTING_INT, "1", F(stores), 1, 8, "stores"},
    {"batch-max", REPORT_SETTING_INT, "500", F(batch_max), 1, 100000, "store batch size"},
    {"batch-wait-ms", REPORT_SETTING_INT, "0", F(batch_wait_ms), 0, 60000, "store batch wait"},
    REPORT_SETTINGS_END};
#undef F

typedef struct {
    report_client_config_t cfg;
    report_update_t **updates;
    size_t count;
    int result;
} s_job_t;

static void *s_push(void *arg)
{
    s_job_t *job = arg;
    report_client_t *client = report_client_new_config(&job->cfg);
    report_reply_t *replies = report_calloc(job->count, sizeof *replies);
    job->result = report_client_push(client, job->updates, job->count, replies);
    free(replies);
    report_client_destroy(&client);
    return NULL;
}

int main(int argc, char **argv)
{
    s_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    if (report_settings_load(s_settings, &cfg, argc, argv, &args, &nargs) != 0) {
        report_settings_usage(s_settings, stderr);
        return 2;
    }
    free(args);
    report_log_set_level("warn");
    report_db_t *admin = report_db_new(cfg.db);
    if (report_db_connect(admin) != 0 || report_db_migrate(admin) != 0) {
        fprintf(stderr, "database: %s\n", report_db_error(admin));
        return 1;
    }
    report_db_destroy(&admin);

    char keys[] = "/tmp/bench-keys-XXXXXX";
    if (!mkdtemp(keys))
        return 1;
    char *stem = report_sprintf("%s/server", keys);
    report_keypair_t server, unit, store;
    report_error_t err;
    report_keys_generate(stem, &server);
    free(stem);
    zmq_curve_keypair(unit.public_key, unit.secret_key);
    stem = report_sprintf("%s/store", keys);
    report_keys_generate(stem, &store);
    free(stem);
    report_keys_enrol(keys, "unit", "THANH_TRA", unit.public_key, &err);
    report_keys_enrol(keys, "store", "store", store.public_key, &err);

    report_collector_config_t ccfg;
    report_collector_config_default(&ccfg);
    ccfg.endpoint = "tcp://127.0.0.1:*";
    ccfg.store_endpoint = "tcp://127.0.0.1:*";
    ccfg.server.keys_dir = keys;
    ccfg.max_inflight = cfg.clients * cfg.window + 100;
    ccfg.max_inflight_per_client = cfg.window + 10;
    report_collector_t *collector = report_collector_start(&ccfg);
    char *ingest = report_sprintf("%s user=report_ingest", cfg.db);
    char *store_key = report_sprintf("%s/store.key", keys);
    char *server_pub = report_sprintf("%s/server.pub", keys);
    report_store_t *stores[8];
    for (int i = 0; i < cfg.stores; i++) {
        report_store_config_t scfg;
        report_store_config_default(&scfg);
        scfg.db = ingest;
        scfg.collectors = (char *)report_collector_store_endpoint(collector);
        scfg.key = store_key;
        scfg.collector_key = server_pub;
        scfg.batch_max = cfg.batch_max;
        scfg.batch_wait_ms = cfg.batch_wait_ms;
        scfg.heartbeat_ms = 100;
        stores[i] = report_store_start(&scfg);
    }
    report_collector_stats_t *cst = report_malloc(sizeof *cst);
    do {
        usleep(20000);
        report_collector_stats(collector, cst);
    } while (cst->stores < (uint64_t)cfg.stores);

    size_t n = (size_t)cfg.updates;
    report_update_t **list = report_calloc(n, sizeof *list);
    for (size_t i = 0; i < n; i++) {
        report_update_t *u = report_update_new();
        uuid_t id;
        uuid_generate_random(id);
        u->update_id = report_malloc(37);
        uuid_unparse_lower(id, u->update_id);
        u->unit_code = report_strdup("THANH_TRA");
        u->year = 2018;
        u->month = 7;
        u->section = REPORT_SECTION_RESULT;
        u->area_code = report_strdup("THANH_TRA");
        u->item_key = report_sprintf("bench-%zu", i);
        u->text = report_strdup("tổ chức triển khai {THANHTRA_CUOC} cuộc thanh tra chuyên đề về "
                                "đo lường trong hoạt động kinh doanh xăng dầu");
        u->indicator_count = 1;
        u->indicators = report_calloc(1, sizeof(report_indicator_value_t));
        u->indicators[0].code = report_strdup("THANHTRA_CUOC");
        u->indicators[0].value = 1;
        list[i] = u;
    }
    s_job_t *jobs = report_calloc((size_t)cfg.clients, sizeof *jobs);
    pthread_t *threads = report_calloc((size_t)cfg.clients, sizeof *threads);
    size_t per = n / (size_t)cfg.clients;
    int64_t t0 = report_clock_ms();
    for (int i = 0; i < cfg.clients; i++) {
        report_client_config_default(&jobs[i].cfg);
        jobs[i].cfg.endpoint = report_collector_endpoint(collector);
        jobs[i].cfg.window = cfg.window;
        jobs[i].cfg.timeout_ms = 60000;
        memcpy(jobs[i].cfg.keys.server_public, server.public_key, sizeof server.public_key);
        jobs[i].cfg.keys.client = unit;
        jobs[i].updates = list + (size_t)i * per;
        jobs[i].count = i == cfg.clients - 1 ? n - (size_t)i * per : per;
        pthread_create(&threads[i], NULL, s_push, &jobs[i]);
    }
    int failed = 0;
    for (int i = 0; i < cfg.clients; i++) {
        pthread_join(threads[i], NULL);
        failed |= jobs[i].result;
    }
    double seconds = (double)(report_clock_ms() - t0) / 1000.0;
    report_collector_stats(collector, cst);
    uint64_t batches = 0, stored = 0;
    for (int i = 0; i < cfg.stores; i++) {
        report_store_stats_t st;
        report_store_stats(stores[i], &st);
        batches += st.batches;
        stored += st.stored;
    }
    /* Reply latency percentile from the histogram: the first bucket bound reaching it. */
    double p50 = 0, p99 = 0;
    uint64_t acc = 0;
    for (size_t b = 0; b < cst->reply_seconds.bucket_count; b++) {
        acc += cst->reply_seconds.counts[b];
        if (!p50 && acc * 2 >= cst->reply_seconds.count)
            p50 = cst->reply_seconds.bounds[b];
        if (!p99 && acc * 100 >= cst->reply_seconds.count * 99)
            p99 = cst->reply_seconds.bounds[b];
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("updates=%zu stored=%llu clients=%lld window=%lld stores=%lld batch_max=%lld "
           "seconds=%.2f updates_per_second=%.0f batches=%llu mean_batch=%.1f "
           "reply_p50_le_seconds=%g reply_p99_le_seconds=%g peak_rss_mib=%.1f result=%s\n",
           n, (unsigned long long)stored, (long long)cfg.clients, (long long)cfg.window,
           (long long)cfg.stores, (long long)cfg.batch_max, seconds, (double)n / seconds,
           (unsigned long long)batches, batches ? (double)stored / (double)batches : 0, p50, p99,
           (double)ru.ru_maxrss / 1024.0, failed ? "SOME-NOT-STORED" : "all-stored");
    for (int i = 0; i < cfg.stores; i++)
        report_store_stop(&stores[i]);
    report_collector_stop(&collector);
    report_updates_free(list, n);
    free(jobs);
    free(threads);
    free(cst);
    free(ingest);
    free(store_key);
    free(server_pub);
    char *rm = report_sprintf("rm -rf '%s'", keys);
    int rc = system(rm);
    (void)rc;
    free(rm);
    report_settings_free(s_settings, &cfg);
    return failed;
}
