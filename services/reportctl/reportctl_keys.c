/* reportctl keygen, enrol and revoke: CURVE key pairs and the services' keys directory. */
#define _DEFAULT_SOURCE
#include "reportctl.h"
#include "report_keys.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *out;
    char *keys_dir;
    char *public_key;
} s_keys_config_t;

#define F(field) offsetof(s_keys_config_t, field)
const report_setting_t reportctl_keys_settings[] = {
    {"out", REPORT_SETTING_STRING, "", F(out), 0, 0, "keygen: write OUT.key and OUT.pub"},
    {"keys-dir", REPORT_SETTING_STRING, "keys", F(keys_dir), 0, 0,
     "enrol/revoke: the services' keys directory"},
    {"public", REPORT_SETTING_STRING, "", F(public_key), 0, 0,
     "enrol: the public key (.pub file or Z85)"},
    REPORT_SETTINGS_END};
#undef F

/* keygen --out PATH | enrol KIND NAME --public FILE | revoke KIND NAME */
int reportctl_keys(int argc, char **argv)
{
    s_keys_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(reportctl_keys_settings, &cfg, argc, argv, &args, &nargs);
    int exit_code = 2;
    report_error_t err = {"", ""};
    if (rc == 0 && strcmp(argv[0], "keygen") == 0 && *cfg.out && nargs == 0) {
        report_keypair_t pair;
        exit_code = report_keys_generate(cfg.out, &pair) == 0 ? 0 : 1;
        if (exit_code == 0)
            printf("%s.key (secret, mode 0600) and %s.pub written; public key %s\n", cfg.out,
                   cfg.out, pair.public_key);
        else
            report_error_set(&err, "io", "cannot write %s.key: %s", cfg.out, strerror(errno));
        memset(&pair, 0, sizeof pair);
    } else if (rc == 0 && strcmp(argv[0], "enrol") == 0 && nargs == 2) {
        char key[REPORT_Z85_KEY_LEN + 1] = "";
        if (report_keys_resolve_public(cfg.public_key, key) != 0)
            report_error_set(&err, "bad_key", "cannot read a public key from '%s'", cfg.public_key);
        exit_code = 1;
        if (!err.code[0] && report_keys_enrol(cfg.keys_dir, args[0], args[1], key, &err) == 0) {
            printf("enrolled %s %s with key %s in %s\n", args[0], args[1], key, cfg.keys_dir);
            exit_code = 0;
        }
    } else if (rc == 0 && strcmp(argv[0], "revoke") == 0 && nargs == 2) {
        exit_code = report_keys_revoke(cfg.keys_dir, args[0], args[1], &err) == 0 ? 0 : 1;
        if (exit_code == 0)
            printf("revoked %s %s (key moved to %s/revoked/)\n", args[0], args[1], cfg.keys_dir);
    } else if (rc != 1) {
        report_error_set(&err, "usage",
                         "usage: reportctl keygen --out PATH | enrol KIND NAME "
                         "--public FILE [--keys-dir DIR] | revoke KIND NAME "
                         "[--keys-dir DIR]");
    }
    if (err.code[0])
        fprintf(stderr, "reportctl %s: %s\n", argv[0], err.message);
    free(args);
    report_settings_free(reportctl_keys_settings, &cfg);
    return rc == 1 ? 0 : exit_code;
}
