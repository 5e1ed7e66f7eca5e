/* reportctl migrate --db CONNINFO: applies the pending database migrations as the owner. */
#define _DEFAULT_SOURCE
#include "reportctl.h"
#include "report_db.h"
#include "report_service.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *db;
    char *log_level;
} s_migrate_config_t;

#define F(field) offsetof(s_migrate_config_t, field)
static const report_setting_t s_migrate_settings[] = {
    {"db", REPORT_SETTING_STRING, "dbname=report", F(db), 0, 0,
     "connection string of a superuser or the schema owner"},
    {"log-level", REPORT_SETTING_STRING, "info", F(log_level), 0, 0, "debug, info, warn or error"},
    REPORT_SETTINGS_END};
#undef F

/* migrate --db CONNINFO: applies the pending migrations (the services, connected as roles
 * without DDL rights, only check that none is pending). */
int reportctl_migrate(int argc, char **argv)
{
    s_migrate_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(s_migrate_settings, &cfg, argc, argv, &args, &nargs);
    free(args);
    if (rc != 0 || nargs != 0) {
        report_settings_usage(s_migrate_settings, rc == 1 ? stdout : stderr);
        report_settings_free(s_migrate_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    report_service_logging("reportctl", cfg.log_level);
    report_db_t *db = report_db_new(cfg.db);
    int exit_code = 1;
    if (report_db_connect(db) != 0)
        fprintf(stderr, "reportctl migrate: %s\n", report_db_error(db));
    else if (report_db_migrate(db) != 0)
        fprintf(stderr, "reportctl migrate: %s\n", report_db_error(db));
    else
        exit_code = 0;
    report_db_destroy(&db);
    report_settings_free(s_migrate_settings, &cfg);
    return exit_code;
}
