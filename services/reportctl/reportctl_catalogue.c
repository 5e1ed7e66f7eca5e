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
    char *name, *label, *measure, *area, *lead_in, *target, *value, *agency;
    int64_t position, year;
    const char *field; /* catalogue template FIELD (an argument) */
    char **recipients; /* catalogue recipients TEXT...: the arguments after the action */
    int recipient_count;
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
    {"value", REPORT_SETTING_STRING, "", F(value), 0, 0, "template: the field's new text"},
    {"agency", REPORT_SETTING_STRING, "", F(agency), 0, 0,
     "template and recipients: the agency (default: the only one)"},
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
    if (cfg->field) { /* a template's text may be set empty (e.g. signer_authority) */
        json_object_set_new(o, "field", json_string(cfg->field));
        json_object_set_new(o, "value", json_string(cfg->value ? cfg->value : ""));
    }
    if (cfg->recipient_count > 0) {
        json_t *list = json_array();
        for (int i = 0; i < cfg->recipient_count; i++)
            json_array_append_new(list, json_string(cfg->recipients[i]));
        json_object_set_new(o, "recipients", list);
    }
    if (cfg->position > 0)
        json_object_set_new(o, "position", json_integer(cfg->position));
    if (cfg->year > 0)
        json_object_set_new(o, "year", json_integer(cfg->year));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static const char S_USAGE[] =
    "reportctl catalogue: give list [KIND] | add|rename|retire KIND CODE | target INDICATOR "
    "--year Y --target T | template FIELD --value TEXT | recipients TEXT... | audit [KIND "
    "[CODE]] | check\n";

/* ACTION [KIND [CODE]] as the request (template FIELD and recipients TEXT... set the
 * template's texts); 0, or -1 after saying what is missing. */
static int s_request(char **args, int nargs, s_catalogue_config_t *cfg,
                     report_control_request_t *req)
{
    const char *action = nargs > 0 ? args[0] : "";
    bool change = strcmp(action, "add") == 0 || strcmp(action, "rename") == 0 ||
                  strcmp(action, "retire") == 0;
    bool target = strcmp(action, "target") == 0, template = strcmp(action, "template") == 0;
    bool recipients = strcmp(action, "recipients") == 0;
    bool listing =
        strcmp(action, "list") == 0 || strcmp(action, "audit") == 0 || strcmp(action, "check") == 0;
    if ((change && nargs != 3) || ((target || template) && nargs != 2) ||
        (recipients && nargs < 2) || (listing && nargs > 3) ||
        (!change && !target && !template && !recipients && !listing)) {
        fputs(S_USAGE, stderr);
        return -1;
    }
    req->kind = REPORT_CONTROL_CATALOGUE;
    req->action = change || listing ? args[0] : target ? "add" : "set";
    req->subject = target ? "target" : change || listing ? (nargs > 1 ? args[1] : "") : args[0];
    req->code = target ? args[1] : change || listing ? (nargs > 2 ? args[2] : "") : cfg->agency;
    cfg->field = template ? args[1] : NULL;
    cfg->recipients = recipients ? args + 1 : NULL;
    cfg->recipient_count = recipients ? nargs - 1 : 0;
    return 0;
}

int reportctl_catalogue(int argc, char **argv)
{
    s_catalogue_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(reportctl_catalogue_settings, &cfg, argc, argv, &args, &nargs);
    report_control_request_t req = {0};
    if (rc == 0 && s_request(args, nargs, &cfg, &req) != 0)
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
