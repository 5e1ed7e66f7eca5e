/* The CURVE options every command that talks to a service shares, and loading their keys. */
#include "reportctl.h"

#include <stddef.h>
#include <stdio.h>

#define F(field) offsetof(reportctl_curve_t, field)
const report_setting_t reportctl_curve_settings[] = {
    {"key", REPORT_SETTING_STRING, "", F(key), 0, 0, "your CURVE key pair (.key file)"},
    {"server-key", REPORT_SETTING_STRING, "keys/server.pub", F(server_key), 0, 0,
     "the server's CURVE public key (.pub file or Z85)"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(insecure_plain), 0, 0,
     "DEVELOPMENT ONLY: no CURVE"},
    {"log-level", REPORT_SETTING_STRING, "warn", F(log_level), 0, 0, "debug, info, warn or error"},
    REPORT_SETTINGS_END};
#undef F

int reportctl_curve_keys(const reportctl_curve_t *curve, const char *command,
                         report_client_keys_t *out)
{
    report_error_t err;
    if (report_client_keys_load(curve->key, curve->server_key, curve->insecure_plain, out, &err) ==
        0)
        return 0;
    fprintf(stderr, "reportctl %s: %s\n", command, err.message);
    return -1;
}
