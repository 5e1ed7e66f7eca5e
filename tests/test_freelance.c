/* Several collectors and several aggregators, as separate processes of the real binaries on
 * one real PostgreSQL database with the real CURVE keys: a client given a list of collectors
 * moves on to the next when one is killed, is down from the start or all are down (zguide's
 * Freelance pattern), reportctl push does the same from the command line, and a subscriber of
 * two aggregators keeps each version once when the one it talks to is killed. */
#define _GNU_SOURCE
#include "report_json.h"
#include "report_push.h"
#include "report_subscriber.h"
#include "report_util.h"
#include "test_support.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* --- services as child processes ------------------------------------------------------- */

enum { S_MAX_CHILDREN = 8 };
static pid_t children[S_MAX_CHILDREN];
static size_t child_count;
static test_db_t db;
static char work[256]; /* logs and the subscriber's directory */

static void teardown(void)
{
    for (size_t i = 0; i < child_count; i++) {
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
        }
    }
    child_count = 0;
    test_db_drop(&db);
    if (work[0]) {
        char *cmd = report_sprintf("rm -rf '%s'", work);
        int rc = system(cmd);
        (void)rc;
        free(cmd);
    }
}

TestSuite(freelance, .fini = teardown, .timeout = 240);

static void make_work_dir(void)
{
    snprintf(work, sizeof work, "/tmp/report-test-freelance-%d-%u", (int)getpid(),
             report_random(1000000));
    cr_assert_eq(mkdir(work, 0700), 0);
}

/* Starts build/bin/PROGRAM with argv (NULL-terminated, argv[0] included), stdout and stderr
 * to WORK/LOG; the child dies with the test. Returns its pid (index in children: *slot). */
static pid_t spawn(const char *program, const char *log, char *const argv[], size_t *slot)
{
    cr_assert_lt(child_count, S_MAX_CHILDREN);
    char *log_path = report_sprintf("%s/%s", work, log);
    pid_t pid = test_program_start(program, argv + 1, NULL, log_path);
    free(log_path);
    if (slot)
        *slot = child_count;
    children[child_count++] = pid;
    return pid;
}

/* Kills child slot with SIGKILL and reaps it. */
static void kill_child(size_t slot)
{
    kill(children[slot], SIGKILL);
    waitpid(children[slot], NULL, 0);
    children[slot] = 0;
}

static char *endpoint_of(int port)
{
    return report_sprintf("tcp://127.0.0.1:%d", port);
}

/* A collector on client_port, its stores on store_port. */
static void collector_start(int client_port, int store_port, const char *log, size_t *slot)
{
    char *ep = endpoint_of(client_port), *store_ep = endpoint_of(store_port);
    char *argv[] = {"report-collector",
                    "--endpoint",
                    ep,
                    "--store-endpoint",
                    store_ep,
                    "--keys-dir",
                    (char *)test_keys_dir(),
                    "--metrics-address",
                    "127.0.0.1:0",
                    "--store-timeout-ms",
                    "2000",
                    NULL};
    spawn("report-collector", log, argv, slot);
    free(ep);
    free(store_ep);
}

/* One store serving every collector of the comma-separated list collectors. */
static void store_start(const char *collectors)
{
    char *key = test_key_path("store");
    char *server = report_sprintf("%s/server.pub", test_keys_dir());
    char *argv[] = {"report-store",
                    "--db",
                    db.ingest_conninfo,
                    "--collectors",
                    (char *)collectors,
                    "--key",
                    key,
                    "--collector-key",
                    server,
                    "--metrics-address",
                    "127.0.0.1:0",
                    "--heartbeat-ms",
                    "100",
                    "--reconnect-max-ms",
                    "500",
                    "--writers",
                    "1",
                    NULL};
    spawn("report-store", "store.log", argv, NULL);
    free(key);
    free(server);
}

/* True once the collector at endpoint stores an update of THANH_TRA (collector, store and
 * database all up), within timeout_ms. */
static bool collector_serves(const char *endpoint, const char *probe, int timeout_ms)
{
    int64_t end = report_clock_ms() + timeout_ms;
    report_update_t *u = test_update_new(probe);
    bool ok = false;
    while (!ok && report_clock_ms() < end) {
        test_peer_t peer;
        test_peer_open(&peer, endpoint);
        test_peer_send_update(&peer, u);
        report_reply_t r;
        ok = test_peer_recv(&peer, &r, 2000) == 0 &&
             (r.outcome == REPORT_OUTCOME_STORED || r.outcome == REPORT_OUTCOME_DUPLICATE);
        test_peer_close(&peer);
    }
    report_update_destroy(&u);
    return ok;
}

/* Two collectors (client ports *a and *b) and one store serving both, on a fresh database. */
static void two_collectors_start(int *a, int *b, size_t *slot_a)
{
    make_work_dir();
    test_db_create(&db);
    test_db_migrate(&db);
    *a = test_free_port();
    *b = test_free_port();
    int sa = test_free_port(), sb = test_free_port();
    collector_start(*a, sa, "collector-a.log", slot_a);
    collector_start(*b, sb, "collector-b.log", NULL);
    char *list = report_sprintf("tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", sa, sb);
    store_start(list);
    free(list);
    char *ea = endpoint_of(*a), *eb = endpoint_of(*b);
    cr_assert(collector_serves(ea, "probe-a", 30000), "collector A does not store");
    cr_assert(collector_serves(eb, "probe-b", 30000), "collector B does not store");
    free(ea);
    free(eb);
}

/* --- pushes -------------------------------------------------------------------------------- */

/* A push running in its own thread, with its client's failover count. */
typedef struct {
    report_client_config_t cfg;
    char endpoints[600];
    report_update_t **updates;
    size_t count;
    report_reply_t *replies;
    int rc;
    uint64_t failovers;
    int64_t ms;
    pthread_t thread;
} push_job_t;

static void *push_run(void *arg)
{
    push_job_t *job = arg;
    int64_t t0 = report_clock_ms();
    report_client_t *client = report_client_new_config(&job->cfg);
    job->rc = client ? report_client_push(client, job->updates, job->count, job->replies) : -1;
    job->failovers = report_client_failovers(client);
    report_client_destroy(&client);
    job->ms = report_clock_ms() - t0;
    return NULL;
}

static void push_job_init(push_job_t *job, const char *endpoints, report_update_t **updates,
                          size_t count, int64_t deadline_ms)
{
    memset(job, 0, sizeof *job);
    snprintf(job->endpoints, sizeof job->endpoints, "%s", endpoints);
    report_client_config_default(&job->cfg);
    job->cfg.endpoint = job->endpoints;
    job->cfg.keys = test_client_keys("THANH_TRA");
    job->cfg.timeout_ms = 1000;
    job->cfg.backoff_max_ms = 2000;
    job->cfg.deadline_ms = deadline_ms;
    job->updates = updates;
    job->count = count;
    job->replies = report_calloc(count, sizeof *job->replies);
}

/* Counts the outcomes; asserts none is other than STORED or DUPLICATE. */
static void assert_all_settled(const push_job_t *job, size_t *stored, size_t *duplicate)
{
    *stored = *duplicate = 0;
    for (size_t i = 0; i < job->count; i++) {
        const report_reply_t *r = &job->replies[i];
        cr_assert(r->outcome == REPORT_OUTCOME_STORED || r->outcome == REPORT_OUTCOME_DUPLICATE,
                  "update %zu: %s %s %s", i, report_outcome_name(r->outcome),
                  report_reason_name(r->reason), r->message);
        *stored += r->outcome == REPORT_OUTCOME_STORED;
        *duplicate += r->outcome == REPORT_OUTCOME_DUPLICATE;
    }
}

/* The database holds each update of prefix exactly once, count in all. */
static void assert_stored_once(const char *prefix, size_t count)
{
    char *sql = report_sprintf("SELECT count(*) || '/' || count(DISTINCT update_id) FROM updates "
                               "WHERE item_key LIKE '%s-%%'",
                               prefix);
    char expected[64];
    snprintf(expected, sizeof expected, "%zu/%zu", count, count);
    test_db_assert_value(&db, sql, expected);
    free(sql);
}

static long stored_so_far(const char *prefix)
{
    char *sql = report_sprintf("SELECT count(*) FROM updates WHERE item_key LIKE '%s-%%'", prefix);
    char *v = test_db_value(&db, sql);
    long n = v ? atol(v) : 0;
    free(v);
    free(sql);
    return n;
}

Test(freelance, the_first_collector_killed_mid_push_loses_nothing_and_stores_nothing_twice)
{
    int a, b;
    size_t slot_a;
    two_collectors_start(&a, &b, &slot_a);
    enum { N = 2000 };
    report_update_t **list = test_updates_new("fl", N);
    char *endpoints = report_sprintf("tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", a, b);
    push_job_t job;
    push_job_init(&job, endpoints, list, N, 120000);
    job.cfg.window = 20; /* a steady stream: the push lasts while the collector is killed */
    cr_assert_eq(pthread_create(&job.thread, NULL, push_run, &job), 0);
    int64_t end = report_clock_ms() + 60000;
    long before = 0;
    while ((before = stored_so_far("fl")) < N / 4 && report_clock_ms() < end)
        usleep(10 * 1000);
    cr_assert_geq(before, N / 4, "the push did not get going");
    cr_assert_lt(before, N, "the push ended before the collector was killed");
    kill_child(slot_a);
    int64_t killed = report_clock_ms();
    pthread_join(job.thread, NULL);
    size_t stored, duplicate;
    assert_all_settled(&job, &stored, &duplicate);
    cr_assert_eq(job.rc, 0);
    cr_assert_geq(job.failovers, 1, "the client never moved on");
    assert_stored_once("fl", N);
    fprintf(stderr,
            "collector A killed with %ld of %d stored; push of %d done in %lld ms (%lld ms after "
            "the kill): stored=%zu duplicate=%zu failovers=%llu\n",
            before, N, N, (long long)job.ms, (long long)(report_clock_ms() - killed), stored,
            duplicate, (unsigned long long)job.failovers);
    free(job.replies);
    free(endpoints);
    report_updates_free(list, N);
}

Test(freelance, the_first_collector_down_from_the_start_the_client_goes_to_the_second)
{
    int a, b;
    two_collectors_start(&a, &b, NULL);
    enum { N = 50 };
    report_update_t **list = test_updates_new("down", N);
    char *endpoints = report_sprintf("tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", test_free_port(), b);
    push_job_t job;
    push_job_init(&job, endpoints, list, N, 60000);
    push_run(&job);
    size_t stored, duplicate;
    assert_all_settled(&job, &stored, &duplicate);
    cr_assert_eq(stored, N);
    cr_assert_eq(job.failovers, 1, "moved on %llu times", (unsigned long long)job.failovers);
    /* refused at once, not after the answer timeout */
    cr_assert_lt(job.ms, job.cfg.timeout_ms, "took %lld ms", (long long)job.ms);
    assert_stored_once("down", N);
    fprintf(stderr, "first collector down: %d updates stored through the second in %lld ms\n", N,
            (long long)job.ms);
    free(job.replies);
    free(endpoints);
    report_updates_free(list, N);
}

Test(freelance, a_frozen_collector_is_left_after_the_answer_timeout)
{
    /* SIGSTOP: the connection stays up (the kernel still accepts), nothing answers */
    int a, b;
    size_t slot_a;
    two_collectors_start(&a, &b, &slot_a);
    cr_assert_eq(kill(children[slot_a], SIGSTOP), 0);
    enum { N = 50 };
    report_update_t **list = test_updates_new("frozen", N);
    char *endpoints = report_sprintf("tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", a, b);
    push_job_t job;
    push_job_init(&job, endpoints, list, N, 60000);
    push_run(&job);
    size_t stored, duplicate;
    assert_all_settled(&job, &stored, &duplicate);
    cr_assert_eq(stored, N);
    cr_assert_eq(job.failovers, 1, "moved on %llu times", (unsigned long long)job.failovers);
    cr_assert_geq(job.ms, job.cfg.timeout_ms, "moved on before the timeout: %lld ms",
                  (long long)job.ms);
    cr_assert_lt(job.ms, job.cfg.timeout_ms + 3000, "took %lld ms", (long long)job.ms);
    assert_stored_once("frozen", N);
    fprintf(stderr, "first collector frozen: %d updates stored through the second in %lld ms\n", N,
            (long long)job.ms);
    free(job.replies);
    free(endpoints);
    report_updates_free(list, N);
}

Test(freelance, all_collectors_down_the_push_fails_clearly_at_its_deadline)
{
    enum { N = 5 };
    report_update_t **list = test_updates_new("none", N);
    char *endpoints =
        report_sprintf("tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", test_free_port(), test_free_port());
    push_job_t job;
    push_job_init(&job, endpoints, list, N, 3000);
    job.cfg.timeout_ms = 200;
    job.cfg.backoff_max_ms = 400;
    push_run(&job);
    cr_assert_eq(job.rc, REPORT_PUSH_UNKNOWN);
    for (size_t i = 0; i < N; i++) {
        cr_assert_eq(job.replies[i].outcome, REPORT_OUTCOME_NONE, "nothing may be claimed stored");
        cr_assert_eq(job.replies[i].reason, REPORT_REASON_unknown);
        cr_assert(strstr(job.replies[i].message, "no collector of 2 answered"), "%s",
                  job.replies[i].message);
    }
    cr_assert_geq(job.ms, 3000);
    cr_assert_lt(job.ms, 5000, "the push outlived its deadline: %lld ms", (long long)job.ms);
    /* round after round, each paused by the back-off: moves, but not a spin */
    cr_assert_geq(job.failovers, 2);
    cr_assert_leq(job.failovers, 40, "%llu moves in 3 s", (unsigned long long)job.failovers);
    fprintf(stderr, "all collectors down: UNKNOWN after %lld ms, %llu moves\n", (long long)job.ms,
            (unsigned long long)job.failovers);
    free(job.replies);
    free(endpoints);
    report_updates_free(list, N);
}

/* --- reportctl push with a list -------------------------------------------------------------- */

/* Writes the updates as a push file under work; caller frees the path. */
static char *push_file_write(report_update_t *const *list, size_t count)
{
    char *path = report_sprintf("%s/push.json", work);
    test_push_file_write(path, list, count);
    return path;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

Test(freelance, reportctl_push_takes_a_list_and_refuses_a_bad_one_before_sending)
{
    int a, b;
    two_collectors_start(&a, &b, NULL);
    enum { N = 5 };
    report_update_t **list = test_updates_new("cli", N);
    char *file = push_file_write(list, N);
    const char *bin = getenv("REPORT_BIN_DIR");
    char *key = test_key_path("THANH_TRA");
    char *base = report_sprintf("'%s/reportctl' push --key '%s' --server-key '%s/server.pub' "
                                "--timeout-ms 500",
                                bin ? bin : "build/bin", key, test_keys_dir());
    int down = test_free_port();
    char *cmd = report_sprintf("%s --endpoint 'tcp://127.0.0.1:%d, tcp://127.0.0.1:%d' '%s'", base,
                               down, a, file);
    char *out;
    int status = test_run_all(&out, "%s", cmd);
    cr_assert_eq(status, 0, "%s\n%s", cmd, out);
    cr_assert_eq(count_of(out, "\nSTORED ") + (strncmp(out, "STORED ", 7) == 0), N, "%s", out);
    cr_assert(strstr(out, "collector failovers: 1"), "%s", out);
    char *moved = report_sprintf("collector not answering, moving on\" from=tcp://127.0.0.1:%d "
                                 "to=tcp://127.0.0.1:%d reason=connection_failed",
                                 down, a);
    cr_assert(strstr(out, moved), "%s\n%s", moved, out);
    assert_stored_once("cli", N);
    free(moved);
    free(out);
    free(cmd);
    /* an empty element, a malformed endpoint, a list past its bound: exit 2, nothing sent */
    char many[2048] = "";
    for (int i = 0; i <= REPORT_ENDPOINTS_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%stcp://127.0.0.1:%d",
                 i ? "," : "", a);
    const char *bad[][2] = {{"tcp://127.0.0.1:1,,tcp://127.0.0.1:2", "endpoint 2 of the list is "
                                                                     "empty"},
                            {"tcp://127.0.0.1", "endpoint 1 'tcp://127.0.0.1' is not"},
                            {"tcp://127.0.0.1:70000", "is not tcp://HOST:PORT"},
                            {many, "more than 16 endpoints"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cmd = report_sprintf("%s --endpoint '%s' '%s'", base, bad[i][0], file);
        status = test_run_all(&out, "%s", cmd);
        cr_assert_eq(status, 2, "%s\n%s", cmd, out);
        cr_assert(strstr(out, "bad_endpoint") && strstr(out, bad[i][1]) &&
                      strstr(out, "nothing was sent"),
                  "%s", out);
        free(out);
        free(cmd);
    }
    assert_stored_once("cli", N);
    free(base);
    free(key);
    free(file);
    report_updates_free(list, N);
}

/* --- endpoint lists alone ---------------------------------------------------------------- */

Test(freelance, endpoint_lists_are_checked_when_set_up)
{
    report_endpoints_t eps;
    report_error_t err;
    cr_assert_eq(
        report_endpoints_parse(" tcp://a.example:5570 ,tcp://[::1]:5570,ipc:///run/c", &eps, &err),
        0, "%s", err.message);
    cr_assert_eq(eps.count, 3);
    cr_assert_str_eq(eps.endpoint[0], "tcp://a.example:5570");
    cr_assert_str_eq(eps.endpoint[1], "tcp://[::1]:5570");
    const char *bad[] = {
        "",          ",",          "tcp://a:1,", "tcp://a:1,,tcp://b:2", "tcp://:5570", "tcp://a",
        "tcp://a:0", "tcp://a:x1", "udp://a:1",  "tcp://a b:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(report_endpoints_parse(bad[i], &eps, &err), -1, "'%s' accepted", bad[i]);
        cr_assert_str_eq(err.code, "bad_endpoint");
    }
    char list[4096] = "";
    for (int i = 0; i < REPORT_ENDPOINTS_MAX; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%stcp://h:%d", i ? "," : "",
                 1000 + i);
    cr_assert_eq(report_endpoints_parse(list, &eps, &err), 0, "%s", err.message);
    cr_assert_eq(eps.count, REPORT_ENDPOINTS_MAX);
    strcat(list, ",tcp://h:9");
    cr_assert_eq(report_endpoints_parse(list, &eps, &err), -1);
    cr_assert(strstr(err.message, "more than 16"), "%s", err.message);
    /* the push client and the subscriber refuse them before any socket is made */
    report_client_config_t cc;
    report_client_config_default(&cc);
    cc.endpoint = "tcp://127.0.0.1:1,,tcp://127.0.0.1:2";
    cr_assert_null(report_client_new_config(&cc));
    report_subscriber_config_t sc;
    report_subscriber_config_default(&sc);
    sc.out_dir = "/nonexistent/never-made";
    sc.catchup_endpoint = "tcp://127.0.0.1:1,tcp://127.0.0.1";
    report_endpoints_t pubs;
    cr_assert_eq(report_subscriber_endpoints_check(&sc, &pubs, &eps, &err), -1);
    cr_assert(strstr(err.message, "catchup-endpoint: endpoint 2"), "%s", err.message);
    volatile sig_atomic_t stop = 0;
    cr_assert_eq(report_subscriber_run(&sc, &stop), -1);
}

/* --- a subscriber of two aggregators ------------------------------------------------------- */

typedef struct {
    int control, publish, catchup;
    size_t slot;
} aggregator_ports_t;

static void aggregator_start(aggregator_ports_t *p, const char *log, const char *name)
{
    p->control = test_free_port();
    p->publish = test_free_port();
    p->catchup = test_free_port();
    char *c = endpoint_of(p->control), *pub = endpoint_of(p->publish),
         *up = endpoint_of(p->catchup);
    char *argv[] = {"report-aggregator",
                    "--db",
                    db.reporter_conninfo,
                    "--control-endpoint",
                    c,
                    "--publish-endpoint",
                    pub,
                    "--catchup-endpoint",
                    up,
                    "--keys-dir",
                    (char *)test_keys_dir(),
                    "--metrics-address",
                    "127.0.0.1:0",
                    "--instance-name",
                    (char *)name,
                    "--leader-check-ms",
                    "200",
                    NULL};
    spawn("report-aggregator", log, argv, &p->slot);
    free(c);
    free(pub);
    free(up);
}

/* reportctl publish 2018-07 through the aggregator whose control port is given; asked again
 * while it answers not_leader (a standby about to take over), for up to 15 s. */
static void publish(int control, int number, const char *date)
{
    const char *bin = getenv("REPORT_BIN_DIR");
    char *key = test_key_path("office");
    char *cmd =
        report_sprintf("'%s/reportctl' publish 2018-07 --number %d --date %s --force "
                       "--control-endpoint tcp://127.0.0.1:%d --key '%s' --server-key "
                       "'%s/server.pub' --timeout-ms 60000",
                       bin ? bin : "build/bin", number, date, control, key, test_keys_dir());
    char *out;
    int status;
    int64_t end = report_clock_ms() + 15000;
    while ((status = test_run_all(&out, "%s", cmd)) != 0 && strstr(out, "not_leader") &&
           report_clock_ms() < end) {
        free(out);
        usleep(200 * 1000);
    }
    cr_assert_eq(status, 0, "%s\n%s", cmd, out);
    cr_assert(strstr(out, "published "), "%s", out);
    free(out);
    free(cmd);
    free(key);
}

/* Polls until path exists or timeout_ms passes. */
static bool wait_file(const char *path, int timeout_ms)
{
    int64_t end = report_clock_ms() + timeout_ms;
    while (access(path, F_OK) != 0 && report_clock_ms() < end)
        usleep(50 * 1000);
    return access(path, F_OK) == 0;
}

/* The number of files in dir whose name ends with suffix. */
static size_t files_ending(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    size_t n = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        size_t len = strlen(e->d_name);
        n += len > strlen(suffix) && strcmp(e->d_name + len - strlen(suffix), suffix) == 0;
    }
    closedir(d);
    return n;
}

/* Pushes the July 2018 sample (every unit with its own key) through the collectors a, b. */
static void push_july(int a, int b)
{
    char *path = test_repo_path("deploy/sample/2018-07.json");
    report_update_t **list;
    size_t n;
    char err[256];
    cr_assert_eq(report_json_load_updates(path, &list, &n, err, sizeof err), 0, "%s", err);
    free(path);
    report_client_config_t cc;
    report_client_config_default(&cc);
    char *endpoints = report_sprintf("tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", a, b);
    cc.endpoint = endpoints;
    cc.keys = test_client_keys("THANH_TRA"); /* its server key; each unit's pair from the dir */
    char *unit_keys = report_sprintf("%s/clients", test_keys_dir());
    report_reply_t *replies = report_calloc(n, sizeof *replies);
    cr_assert_eq(report_client_push_by_unit(&cc, unit_keys, list, n, replies), 0);
    free(replies);
    free(unit_keys);
    report_updates_free(list, n);
    free(endpoints);
}

/* The inbox holds versions 1 and 2 once each, and its state is the last publication's. */
static void assert_inbox_once(const char *inbox)
{
    cr_assert_eq(files_ending(inbox, ".txt"), 2, "a version saved twice or missing");
    char *state_path = report_sprintf("%s/.last-seq", inbox);
    char *state = test_read_file(state_path);
    char *seq = test_db_value(&db, "SELECT max(seq) FROM published_reports");
    cr_assert_not_null(state);
    cr_assert_eq(strtoull(state, NULL, 10), strtoull(seq, NULL, 10));
    char *index_path = report_sprintf("%s/index.html", inbox);
    char *index = test_read_file(index_path);
    cr_assert_not_null(index);
    cr_assert_eq(count_of(index, "SKHCN-2018-07-v1.html\""), 1, "%s", index);
    cr_assert_eq(count_of(index, "SKHCN-2018-07-v2.html\""), 1, "%s", index);
    free(index);
    free(index_path);
    free(seq);
    free(state);
    free(state_path);
}

Test(freelance, a_subscriber_of_two_aggregators_keeps_each_version_once_when_one_is_killed)
{
    int a, b;
    two_collectors_start(&a, &b, NULL);
    push_july(a, b);
    aggregator_ports_t agg_a, agg_b;
    /* A leads (started first, and leading before B starts); B stands by */
    aggregator_start(&agg_a, "aggregator-a.log", "agg-a");
    cr_assert(test_db_wait_value(&db, "SELECT holder FROM aggregator_leader", "agg-a", 20000));
    aggregator_start(&agg_b, "aggregator-b.log", "agg-b");
    char *inbox = report_sprintf("%s/inbox", work);
    char *leader = test_key_path("leader");
    char *pubs =
        report_sprintf("tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", agg_a.publish, agg_b.publish);
    char *catchups =
        report_sprintf("tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", agg_a.catchup, agg_b.catchup);
    char *server = report_sprintf("%s/server.pub", test_keys_dir());
    char *argv[] = {"reportctl",
                    "subscribe",
                    "--out",
                    inbox,
                    "--publish-endpoint",
                    pubs,
                    "--catchup-endpoint",
                    catchups,
                    "--key",
                    leader,
                    "--server-key",
                    server,
                    "--count",
                    "2",
                    "--catchup-timeout-ms",
                    "1000",
                    "--catchup-interval-ms",
                    "3000",
                    "--deadline-ms",
                    "120000",
                    "--log-level",
                    "info",
                    NULL};
    size_t sub_slot;
    pid_t sub = spawn("reportctl", "subscriber.log", argv, &sub_slot);
    sleep(1); /* subscribed to both PUBs before the first publication */

    publish(agg_a.control, 588, "2018-07-19");
    char *v1 = report_sprintf("%s/SKHCN-2018-07-v1.txt", inbox);
    cr_assert(wait_file(v1, 30000), "version 1 not received");
    kill_child(agg_a.slot); /* the leader: B takes over, and publishes */
    publish(agg_b.control, 589, "2018-07-20");
    test_db_assert_value(&db, "SELECT holder FROM aggregator_leader", "agg-b");
    int status = 0;
    int64_t end = report_clock_ms() + 60000;
    pid_t reaped = 0;
    while ((reaped = waitpid(sub, &status, WNOHANG)) == 0 && report_clock_ms() < end)
        usleep(50 * 1000);
    if (reaped == sub)
        children[sub_slot] = 0;
    char *log_path = report_sprintf("%s/subscriber.log", work);
    char *log = test_read_file(log_path);
    cr_assert(reaped == sub && WIFEXITED(status) && WEXITSTATUS(status) == 0, "subscriber: %s",
              log);
    cr_assert_eq(count_of(log, "received SKHCN 2018-07 version=1 "), 1, "%s", log);
    cr_assert_eq(count_of(log, "received SKHCN 2018-07 version=2 "), 1, "%s", log);
    cr_assert_eq(count_of(log, "received "), 2, "%s", log);
    cr_assert(strstr(log, "aggregator not answering, moving on"), "%s", log);
    assert_inbox_once(inbox);
    free(log);
    free(log_path);
    free(v1);
    free(server);
    free(catchups);
    free(pubs);
    free(leader);
    free(inbox);
}
