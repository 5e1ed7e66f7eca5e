/* The services and their service manager: report-collector started as systemd would start it
 * (NOTIFY_SOCKET, WATCHDOG_USEC), this test in the manager's place on an AF_UNIX datagram
 * socket: READY=1 once it serves, WATCHDOG=1 at half the interval, none while it is frozen,
 * STOPPING=1 on SIGTERM. Then report_service_serve in this process with a liveness check that
 * turns false: the pings stop and it ends. */
#define _GNU_SOURCE
#include "report_http.h"
#include "report_service.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int manager = -1;
static char socket_path[108];
static char log_path[64];
static pid_t service = -1;

static void setup(void)
{
    snprintf(socket_path, sizeof socket_path, "/tmp/report-notify-%d.sock", (int)getpid());
    snprintf(log_path, sizeof log_path, "/tmp/report-notify-%d.log", (int)getpid());
    unlink(socket_path);
    manager = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path);
    cr_assert_eq(bind(manager, (struct sockaddr *)&addr, sizeof addr), 0);
}

static void teardown(void)
{
    if (service > 0)
        test_program_stop(service, 10000);
    close(manager);
    unlink(socket_path);
    unlink(log_path);
}

TestSuite(notify, .init = setup, .fini = teardown, .timeout = 120);

/* Starts report-collector on loopback ports with the test keys, no settings file, and env. */
static void start(char *const env[])
{
    char *keys = report_sprintf("--keys-dir=%s", test_keys_dir());
    char *args[] = {
        "--config",          "",   "--endpoint",        "tcp://127.0.0.1:*", "--store-endpoint",
        "tcp://127.0.0.1:*", keys, "--metrics-address", "127.0.0.1:0",       NULL};
    service = test_program_start("report-collector", args, env, log_path);
    free(keys);
}

/* The next message of the service within timeout_ms, in buf; false if none came. */
static bool next_message(char *buf, size_t size, int timeout_ms)
{
    struct pollfd p = {.fd = manager, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1)
        return false;
    ssize_t n = recv(manager, buf, size - 1, 0);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    return true;
}

/* Waits up to timeout_ms for a message holding what; false if none did. Messages before it
 * are counted in *pings when they are WATCHDOG=1 (pings may be NULL). */
static bool wait_for(const char *what, int timeout_ms, int *pings)
{
    int64_t until = report_clock_ms() + timeout_ms;
    char buf[1024];
    for (int64_t left = timeout_ms; left > 0; left = until - report_clock_ms()) {
        if (!next_message(buf, sizeof buf, (int)left))
            return false;
        if (strstr(buf, what))
            return true;
        if (pings && strcmp(buf, "WATCHDOG=1") == 0)
            (*pings)++;
    }
    return false;
}

/* The WATCHDOG=1 messages received during ms (other messages ignored). */
static int pings_during(int ms)
{
    int pings = 0;
    wait_for("\x01never", ms, &pings);
    return pings;
}

Test(notify, ready_watchdog_and_stopping)
{
    char *env[] = {NULL, "WATCHDOG_USEC=400000", NULL};
    env[0] = report_sprintf("NOTIFY_SOCKET=%s", socket_path);
    start(env);
    char buf[1024];
    cr_assert(next_message(buf, sizeof buf, 15000), "nothing from the service (log %s)", log_path);
    cr_assert_str_eq(buf, "STATUS=starting", "the first message: %s", buf);
    cr_assert(wait_for("READY=1", 15000, NULL), "no READY=1 (log %s)", log_path);

    /* 400 ms interval: a ping every 200 ms, about 10 in 2 s */
    int pings = pings_during(2000);
    cr_assert_geq(pings, 7, "%d pings in 2 s", pings);
    cr_assert_leq(pings, 12, "%d pings in 2 s", pings);

    /* frozen, it pings no more: the manager would restart it */
    kill(service, SIGSTOP);
    pings_during(300); /* what was on the way */
    cr_assert_eq(pings_during(1500), 0, "pings from a stopped process");
    kill(service, SIGCONT);
    cr_assert_geq(pings_during(1000), 3);

    kill(service, SIGTERM);
    cr_assert(wait_for("STOPPING=1", 10000, NULL), "no STOPPING=1 on SIGTERM");
    cr_assert_eq(test_program_stop(service, 10000), 0, "exit status");
    service = -1;
    free(env[0]);
}

Test(notify, no_watchdog_for_another_process_and_none_outside_systemd)
{
    /* WATCHDOG_PID names another process: the interval is not this one's */
    char *env[] = {NULL, "WATCHDOG_USEC=200000", "WATCHDOG_PID=1", NULL};
    env[0] = report_sprintf("NOTIFY_SOCKET=%s", socket_path);
    start(env);
    cr_assert(wait_for("READY=1", 15000, NULL), "no READY=1 (log %s)", log_path);
    cr_assert_eq(pings_during(1000), 0);
    cr_assert_eq(test_program_stop(service, 10000), 0);
    service = -1;
    free(env[0]);

    /* no NOTIFY_SOCKET: the service serves and stops as ever, and nothing is sent */
    char buf[1024];
    while (next_message(buf, sizeof buf, 0))
        ; /* what the first one said as it stopped */
    start((char *[]){"WATCHDOG_USEC=200000", NULL});
    cr_assert_not(next_message(buf, sizeof buf, 3000), "sent without NOTIFY_SOCKET: %s", buf);
    char *log = test_read_file(log_path);
    cr_assert(log && strstr(log, "msg=starting"), "%s", log);
    free(log);
    cr_assert_eq(test_program_stop(service, 10000), 0);
    service = -1;
}

/* --- report_service_serve in this process: a liveness check that fails --- */

static atomic_bool healthy = true;

static bool check_alive(void *arg)
{
    (void)arg;
    return atomic_load(&healthy);
}

static void no_metrics(const void *view, report_buf_t *out)
{
    (void)view;
    (void)out;
}

static void no_sample(const void *view, report_sample_t *sample)
{
    (void)view;
    sample->queue_name = "none";
}

static bool always_ready(const void *view, char *why, size_t size)
{
    (void)view;
    (void)why;
    (void)size;
    return true;
}

static void *serve_thread(void *http)
{
    return (void *)(intptr_t)report_service_serve(http, check_alive, NULL);
}

Test(notify, a_failing_liveness_check_stops_the_pings_and_the_service)
{
    setenv("NOTIFY_SOCKET", socket_path, 1);
    setenv("WATCHDOG_USEC", "200000", 1);
    report_http_config_t cfg;
    report_http_config_default(&cfg);
    cfg.address = "127.0.0.1:0";
    report_http_handlers_t handlers = {"test",       no_metrics, no_sample, NULL,
                                       always_ready, NULL,       0,         NULL};
    report_http_t *http = report_http_start(&cfg, &handlers);
    cr_assert_not_null(http);
    pthread_t thread;
    cr_assert_eq(pthread_create(&thread, NULL, serve_thread, http), 0);
    cr_assert(wait_for("READY=1", 5000, NULL));
    cr_assert_geq(pings_during(1000), 6, "a ping every 100 ms while alive");

    atomic_store(&healthy, false); /* the service's thread has ended by itself */
    char buf[1024];
    cr_assert(next_message(buf, sizeof buf, 2000));
    if (strcmp(buf, "WATCHDOG=1") == 0) /* one on its way as the check turned */
        cr_assert(next_message(buf, sizeof buf, 2000));
    cr_assert_str_eq(buf, "STOPPING=1\nSTATUS=stopping: the service failed");
    void *rc = NULL;
    pthread_join(thread, &rc);
    cr_assert_eq((intptr_t)rc, 1, "serve returns 1 when the service died");
    cr_assert_eq(pings_during(500), 0, "pings after the check failed");
}
