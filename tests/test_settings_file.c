/* The settings file: its lines, its bounds and its place between the defaults and the
 * environment (report_settings_load on a table of its own), then a real service started with
 * a file, whose value it takes unless a flag overrides it. */
#define _GNU_SOURCE
#include "report_config.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    report_config_file_t config;
    int64_t window;
    char *db;
    char *name;
    bool plain;
} s_config_t;

#define F(field) offsetof(s_config_t, field)
static const report_setting_t s_table[] = {
    REPORT_CONFIG_FILE_SETTINGS(s_config_t, config, "/nonexistent/report-test.conf"),
    {"window", REPORT_SETTING_INT, "500", F(window), 1, 100000, "window"},
    {"db", REPORT_SETTING_STRING, "dbname=report", F(db), 0, 0, "conninfo"},
    {"name", REPORT_SETTING_STRING, "x", F(name), 0, 0, "name"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(plain), 0, 0, "plain"},
    REPORT_SETTINGS_END};
#undef F

static char dir[64];
static s_config_t cfg;
static char err[4096];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/report-settings-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    unsetenv("REPORT_CONFIG");
    unsetenv("REPORT_WINDOW");
    memset(&cfg, 0, sizeof cfg);
}

static void teardown(void)
{
    report_settings_free(s_table, &cfg);
    char *cmd = report_sprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", dir);
    free(cmd);
}

TestSuite(settings_file, .init = setup, .fini = teardown, .timeout = 60);

/* Writes text to DIR/name; returns its path (caller frees). */
static char *file(const char *name, const char *text, size_t size)
{
    char *path = report_sprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, size, f), size);
    fclose(f);
    return path;
}

/* report_settings_load with argv (NULL-ended, program name first), what it printed on stderr
 * in err. */
static int load(char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    report_settings_free(s_table, &cfg);
    char *out = report_sprintf("%s/stderr", dir);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, STDERR_FILENO);
    close(fd);
    char **positional = NULL;
    int count = 0;
    int rc = report_settings_load(s_table, &cfg, argc, argv, &positional, &count);
    free(positional);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char *text = test_read_file(out);
    snprintf(err, sizeof err, "%s", text ? text : "");
    free(text);
    free(out);
    return rc;
}

Test(settings_file, flag_beats_environment_beats_file_beats_default)
{
    char *path = file("a.conf", "window = 10\n", 12);
    cr_assert_eq(load((char *[]){"p", NULL}), 0, "%s", err);
    cr_assert_eq(cfg.window, 500, "a missing default file: the defaults hold");
    cr_assert_eq(load((char *[]){"p", "--config", path, NULL}), 0, "%s", err);
    cr_assert_eq(cfg.window, 10);
    setenv("REPORT_WINDOW", "20", 1);
    cr_assert_eq(load((char *[]){"p", "--config", path, NULL}), 0, "%s", err);
    cr_assert_eq(cfg.window, 20);
    cr_assert_eq(load((char *[]){"p", "--config", path, "--window", "30", NULL}), 0, "%s", err);
    cr_assert_eq(cfg.window, 30);
    unsetenv("REPORT_WINDOW");
    setenv("REPORT_CONFIG", path, 1); /* the file named by the environment */
    cr_assert_eq(load((char *[]){"p", NULL}), 0, "%s", err);
    cr_assert_eq(cfg.window, 10);
    cr_assert_str_eq(cfg.config.path, path);
    free(path);
}

Test(settings_file, comments_blank_lines_spaces_and_values_with_equals)
{
    const char *text = "# the store\n\n   \t\n  window\t=  42  \r\n"
                       "db = host=/run/postgresql dbname=report user=report_ingest\n"
                       "name =\n#window = 7\ninsecure-plain = yes";
    char *path = file("b.conf", text, strlen(text));
    cr_assert_eq(load((char *[]){"p", "--config", path, NULL}), 0, "%s", err);
    cr_assert_eq(cfg.window, 42);
    cr_assert_str_eq(cfg.db, "host=/run/postgresql dbname=report user=report_ingest");
    cr_assert_str_eq(cfg.name, "");
    cr_assert(cfg.plain);
    free(path);
}

/* Each bad file is refused, and the message names the file and the line: before, the file's
 * path, then after. */
static void refused(const char *text, size_t size, const char *before, const char *after)
{
    char *path = file("bad.conf", text, size);
    cr_assert_eq(load((char *[]){"p", "--config", path, NULL}), -1, "accepted: %s", text);
    char *want = report_sprintf("%s%s%s", before, path, after);
    cr_assert(strstr(err, want), "expected '%s' in: %s", want, err);
    free(want);
    free(path);
}

Test(settings_file, bad_lines_are_refused_with_file_and_line)
{
    refused("window = 10\nnope = 1\n", 20, "config ", ":2: unknown setting 'nope'");
    refused("# x\nwindow 10\n", 14, "config ", ":2: not a 'name = value' line");
    refused(" = 10\n", 6, "config ", ":1: unknown setting ''");
    refused("\n\nwindow = 0\n", 13, "setting window (",
            ":3): '0' is not an integer in [1, 100000]");
    refused("window = 1e3\n", 13, "setting window (", ":1)");
    refused("insecure-plain = maybe\n", 23, "setting insecure-plain (",
            ":1): 'maybe' is not a boolean");
    refused("window = 1\nwindow = 2\n", 22, "config ", ":2: window is set twice");
    refused("config = /etc/passwd\n", 21, "config ", ":1: config is taken from the command line");
    refused("config-max-bytes = 9\n", 21, "config ", ":1: config-max-bytes is taken");
    refused("window = 1\0\n", 12, "config ", ": holds a NUL byte");
}

Test(settings_file, size_and_line_length_are_bounded_by_settings)
{
    char line[200];
    memset(line, '#', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    char *path = file("long.conf", line, sizeof line);
    cr_assert_eq(load((char *[]){"p", "--config", path, NULL}), 0, "4096 bytes by default");
    cr_assert_eq(load((char *[]){"p", "--config", path, "--config-max-line-bytes", "100", NULL}),
                 -1);
    char *want = report_sprintf("config %s:1: line longer than config-max-line-bytes (100)", path);
    cr_assert(strstr(err, want), "%s", err);
    free(want);
    cr_assert_eq(load((char *[]){"p", "--config", path, "--config-max-bytes", "199", NULL}), -1);
    cr_assert(strstr(err, "larger than config-max-bytes (199)"), "%s", err);
    cr_assert_eq(load((char *[]){"p", "--config", path, "--config-max-bytes", "200", NULL}), 0);
    free(path);
}

Test(settings_file, a_named_file_must_exist_the_default_need_not)
{
    char *missing = report_sprintf("%s/missing.conf", dir);
    cr_assert_eq(load((char *[]){"p", "--config", missing, NULL}), -1);
    cr_assert(strstr(err, "No such file"), "%s", err);
    setenv("REPORT_CONFIG", missing, 1);
    cr_assert_eq(load((char *[]){"p", NULL}), -1, "named by the environment");
    cr_assert_eq(load((char *[]){"p", "--config", "", NULL}), 0, "--config \"\": no file");
    unsetenv("REPORT_CONFIG");
    cr_assert_eq(load((char *[]){"p", "--config", dir, NULL}), -1, "a directory");
    free(missing);
    char *bad = file("bad.conf", "nope = 1\n", 9);
    cr_assert_eq(load((char *[]){"p", "--config", bad, "--help", NULL}), 1, "--help reads no file");
    free(bad);
}

/* --- a real service: report-collector with a settings file --- */

/* The collector's /metrics on port, or NULL once timeout_ms passed. */
static char *metrics(int port, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        char *answer = test_http_raw(port, "GET /metrics HTTP/1.0\r\n\r\n", 2000, NULL);
        if (answer && strstr(answer, " 200 "))
            return answer;
        free(answer);
        usleep(100 * 1000);
    }
    return NULL;
}

Test(settings_file, a_service_takes_its_file_and_a_flag_overrides_it, .timeout = 120)
{
    int port = test_free_port();
    char *text = report_sprintf("# report-collector, as /etc/report/collector.conf would be\n"
                                "endpoint = tcp://127.0.0.1:*\nstore-endpoint = tcp://127.0.0.1:*\n"
                                "keys-dir = %s\nmetrics-address = 127.0.0.1:%d\n"
                                "max-inflight = 77\n",
                                test_keys_dir(), port);
    char *path = file("collector.conf", text, strlen(text));
    char *log = report_sprintf("%s/collector.log", dir);
    pid_t pid =
        test_program_start("report-collector", (char *[]){"--config", path, NULL}, NULL, log);
    char *answer = metrics(port, 15000);
    cr_assert_not_null(answer, "the collector did not serve on the file's port (log %s)", log);
    cr_assert(strstr(answer, "\nreport_collector_updates_in_flight_limit 77\n"), "%s", answer);
    free(answer);
    cr_assert_eq(test_program_stop(pid, 10000), 0);

    pid = test_program_start("report-collector",
                             (char *[]){"--config", path, "--max-inflight", "55", NULL}, NULL, log);
    answer = metrics(port, 15000);
    cr_assert_not_null(answer, "the collector did not start again (log %s)", log);
    cr_assert(strstr(answer, "\nreport_collector_updates_in_flight_limit 55\n"), "%s", answer);
    free(answer);
    cr_assert_eq(test_program_stop(pid, 10000), 0);

    /* a bad line: the service refuses to start, naming the file and the line */
    char *bad = file("bad.conf", "max-inflight = 0\n", 17);
    pid = test_program_start("report-collector", (char *[]){"--config", bad, NULL}, NULL, log);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2);
    char *out = test_read_file(log);
    char *want = report_sprintf("setting max-inflight (%s:1)", bad);
    cr_assert(out && strstr(out, want), "%s", out);
    free(want);
    free(out);
    free(bad);
    free(log);
    free(path);
    free(text);
}
