/* libFuzzer target on the settings parser (report_settings_load): every program's command
 * line (and, by the same code, its REPORT_* environment). The input is split at newlines into
 * arguments. Whatever the input, no crash, leak or sanitizer report; a load that succeeds
 * leaves every number in its range and every positional argument one of the arguments. */
#define _POSIX_C_SOURCE 200809L
#include "report_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

typedef struct {
    char *endpoint;
    int64_t timeout_ms;
    int64_t window;
    bool plain;
    char *key;
} s_config_t;

#define F(field) offsetof(s_config_t, field)
static const report_setting_t s_table[] = {
    {"endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5570", F(endpoint), 0, 0, "endpoint"},
    {"timeout-ms", REPORT_SETTING_INT, "5000", F(timeout_ms), 10, 3600000, "timeout"},
    {"window", REPORT_SETTING_INT, "500", F(window), 1, 100000, "window"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(plain), 0, 0, "plain"},
    {"key", REPORT_SETTING_STRING, "", F(key), 0, 0, "key"},
    REPORT_SETTINGS_END};
#undef F

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* the environment must not change what an input does */
    for (const report_setting_t *s = s_table; s->name; s++) {
        char env[64] = "REPORT_";
        size_t o = strlen(env);
        for (const char *p = s->name; *p; p++)
            env[o++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        env[o] = '\0';
        unsetenv(env);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { MAX_ARGS = 64 };
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *argv[MAX_ARGS + 1] = {"fuzz"};
    int argc = 1;
    for (char *p = copy; argc < MAX_ARGS;) {
        argv[argc++] = p;
        char *nl = memchr(p, '\n', (size_t)(copy + size - p));
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    argv[argc] = NULL;
    s_config_t cfg = {0};
    char **positional = NULL;
    int count = 0;
    int rc = report_settings_load(s_table, &cfg, argc, argv, &positional, &count);
    if (rc == 0) {
        if (cfg.timeout_ms < 10 || cfg.timeout_ms > 3600000 || cfg.window < 1 ||
            cfg.window > 100000 || !cfg.endpoint || !cfg.key || count < 0 || count >= argc)
            abort();
        for (int i = 0; i < count; i++) {
            bool found = false;
            for (int j = 1; j < argc && !found; j++)
                found = positional[i] == argv[j];
            if (!found)
                abort();
        }
    }
    free(positional);
    report_settings_free(s_table, &cfg);
    free(copy);
    return 0;
}
