/* reportctl catalogue: list, add, rename and retire units, work areas and indicators, set plan
 * targets, read the audit and check the enrolled unit keys against the catalogue, through the
 * aggregator's control socket with an operator's key (report_catalogue.c answers). */
#include "reportctl.h"
#include "report_push.h"
#include "report_log.h"
#include "report_service.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    reportctl_admin_t admin;
    char *name, *label, *measure, *area, *lead_in, *target;
    int64_t position, year;
} s_catalogue_config_t;

#define F(field) offsetof(s_catalogue_config_t, field)
const report_setting_t reportctl_catalogue_settings[] = {
    {"name", REPORT_SETTING_STRING, "", F(name), 0, 0, "unit or work area: its name"},
    {"label", REPORT_SETTING_STRING, "", F(label), 0, 0, "indicator: its label"},
    {"measure", REPORT_SETTING_STRING, "", F(measure), 0, 0,
     "indicator: its unit of measure (e.g. phương tiện)"},
    {"area", REPORT_SETTING_STRING, "", F(area), 0, 0, "indicator: the work area it belongs to"},
    {"lead-in", REPORT_SETTING_STRING, "", F(lead_in), 0, 0, "work area: its lead-in line"},
    {"position", REPORT_SETTING_INT, "0", F(position), 0, 100000,
     "unit or work area: its place in the order (0: last)"},
    {"year", REPORT_SETTING_INT, "0", F(year), 0, 2100, "target: the plan year"},
    {"target", REPORT_SETTING_STRING, "", F(target), 0, 0, "target: the year's plan (> 0)"},
    REPORT_SETTINGS_INCLUDE(reportctl_admin_settings, F(admin)),
    REPORT_SETTINGS_END};
#undef F

/* The values given, as the JSON object the aggregator takes (NULL only if out of memory). */
static char *s_fields(const s_catalogue_config_t *cfg)
{
    json_t *o = json_object();
    const struct {
        const char *key, *value;
    } strings[] = {{"name", cfg->name}, {"label", cfg->label},     {"measure", cfg->measure},
                   {"area", cfg->area}, {"lead_in", cfg->lead_in}, {"target", cfg->target}};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (strings[i].value && *strings[i].value)
            json_object_set_new(o, strings[i].key, json_string(strings[i].value));
    if (cfg->position > 0)
        json_object_set_new(o, "position", json_integer(cfg->position));
    if (cfg->year > 0)
        json_object_set_new(o, "year", json_integer(cfg->year));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* ACTION [KIND [CODE]] as the request; 0, or -1 after saying what is missing. */
static int s_request(char **args, int nargs, report_control_request_t *req)
{
    const char *action = nargs > 0 ? args[0] : "";
    bool change = strcmp(action, "add") == 0 || strcmp(action, "rename") == 0 ||
                  strcmp(action, "retire") == 0;
    bool target = strcmp(action, "target") == 0;
    bool listing =
        strcmp(action, "list") == 0 || strcmp(action, "audit") == 0 || strcmp(action, "check") == 0;
    if ((change && nargs != 3) || (target && nargs != 2) || (listing && nargs > 3) ||
        (!change && !target && !listing)) {
        fprintf(stderr, "reportctl catalogue: give list [KIND] | add|rename|retire KIND CODE | "
                        "target INDICATOR --year Y --target T | audit [KIND [CODE]] | check\n");
        return -1;
    }
    req->kind = REPORT_CONTROL_CATALOGUE;
    req->action = target ? "add" : args[0];
    req->subject = target ? "target" : nargs > 1 ? args[1] : "";
    req->code = target ? args[1] : nargs > 2 ? args[2] : "";
    return 0;
}

int reportctl_catalogue(int argc, char **argv)
{
    s_catalogue_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(reportctl_catalogue_settings, &cfg, argc, argv, &args, &nargs);
    report_control_request_t req = {0};
    if (rc == 0 && s_request(args, nargs, &req) != 0)
        rc = -1;
    char *fields = rc == 0 ? s_fields(&cfg) : NULL;
    req.fields_json = fields;
    int exit_code = rc == 1 ? 0 : 2;
    if (rc == 0)
        exit_code = reportctl_admin_call(&cfg.admin, argv[0], &req);
    else
        reportctl_usage(rc == 1 ? stdout : stderr);
    free(fields);
    free(args);
    report_settings_free(reportctl_catalogue_settings, &cfg);
    return exit_code;
}
