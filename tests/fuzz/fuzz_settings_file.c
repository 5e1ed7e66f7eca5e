/* libFuzzer target on the settings file (report_settings_load with --config): the input is
 * the file, handed over as a memfd. Whatever the input, no crash, leak or sanitizer report;
 * a file that loads leaves every number in its range, and one that does not was refused with
 * a message (on stderr, closed by -close_fd_mask). */
#define _GNU_SOURCE
#include "report_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    report_config_file_t config;
    char *endpoint;
    int64_t timeout_ms;
    int64_t window;
    bool plain;
    char *db;
} s_config_t;

#define F(field) offsetof(s_config_t, field)
static const report_setting_t s_table[] = {
    REPORT_CONFIG_FILE_SETTINGS(s_config_t, config, ""),
    {"endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5570", F(endpoint), 0, 0, "endpoint"},
    {"timeout-ms", REPORT_SETTING_INT, "5000", F(timeout_ms), 10, 3600000, "timeout"},
    {"window", REPORT_SETTING_INT, "500", F(window), 1, 100000, "window"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(plain), 0, 0, "plain"},
    {"db", REPORT_SETTING_STRING, "dbname=report", F(db), 0, 0, "conninfo"},
    REPORT_SETTINGS_END};
#undef F

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("settings", MFD_CLOEXEC);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
        abort(); /* out of descriptors or memory: nothing to fuzz */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    /* a small line bound, so that long lines are refused as often as they pass */
    char *argv[] = {"fuzz", "--config", path, "--config-max-line-bytes", "200", NULL};
    s_config_t cfg = {0};
    char **positional = NULL;
    int count = 0;
    int rc = report_settings_load(s_table, &cfg, 5, argv, &positional, &count);
    if (rc == 0 && (cfg.timeout_ms < 10 || cfg.timeout_ms > 3600000 || cfg.window < 1 ||
                    cfg.window > 100000 || !cfg.endpoint || !cfg.db || count != 0))
        abort();
    if (rc != 0 && rc != -1)
        abort();
    free(positional);
    report_settings_free(s_table, &cfg);
    close(fd);
    return 0;
}
