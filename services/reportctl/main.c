/* reportctl: the command line of the reporting pipeline, one file per command
 * (reportctl_*.c); this file holds the command table, the usage and the dispatch.
 *   reportctl push FILE.json...        send updates, one line per update with its outcome
 *   reportctl compile YYYY-MM          print the draft report (not published)
 *   reportctl publish YYYY-MM --number N --date YYYY-MM-DD [--basis TEXT]
 *   reportctl subscribe --out DIR      receive published reports, catching up first */
#include "reportctl.h"
#include "report_service.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;                /* the command's lines of the usage */
    const report_setting_t *options; /* printed under options_title, or NULL */
    const char *options_title;
} s_command_t;

static const s_command_t s_commands[] = {
    {"push", reportctl_push,
     "  push FILE.json...   send updates to a collector; one line per update;\n"
     "                      exit 0 if all were STORED or DUPLICATE, 1 if some were\n"
     "                      REJECTED, 75 if some are UNKNOWN (not confirmed by\n"
     "                      the deadline: re-run the same file, it is safe)\n",
     reportctl_push_settings, "push options:"},
    {"compile", reportctl_compile,
     "  compile YYYY-MM     print the draft of the period's report; the units that\n"
     "                      have pushed nothing are listed on stderr\n",
     reportctl_report_settings, "compile and publish options:"},
    {"publish", reportctl_publish,
     "  publish YYYY-MM --number N --date YYYY-MM-DD [--basis TEXT] [--force]\n"
     "                      freeze the report as a new version and send it (refused\n"
     "                      with the format check's findings unless --force)\n",
     NULL, NULL},
    {"check", reportctl_check,
     "  check YYYY-MM [--number N --date YYYY-MM-DD]\n"
     "                      the format check (Nghị định 30/2020) of the draft: one\n"
     "                      line per finding; exit 0 if none, 1 if some\n",
     NULL, NULL},
    {"attach-signed", reportctl_attach_signed,
     "  attach-signed YYYY-MM --version N SIGNED.pdf\n"
     "                      take back the published PDF signed by the agency: verified\n"
     "                      (signature, content unchanged) and sent to subscribers\n",
     NULL, NULL},
    {"subscribe", reportctl_subscribe,
     "  subscribe --out DIR receive published reports (catching up first)\n",
     reportctl_subscribe_settings, "subscribe options:"},
    {"migrate", reportctl_migrate,
     "  migrate --db CONNINFO  apply pending database migrations (as the owner)\n", NULL, NULL},
    {"status", reportctl_status,
     "  status [--watch]    one screen for the whole pipeline, from the services'\n"
     "                      metrics endpoints; exit 3 if a service is down\n"
     "  status --period YYYY-MM  the reporting rate of a period: each unit on time,\n"
     "                      late or missing (asked of the aggregator)\n",
     reportctl_status_settings, "status options:"},
    {"desk", reportctl_desk,
     "  desk --key UNIT.key serve the unit's desk on 127.0.0.1 (a web page to report\n"
     "                      the month: items, figures, preview, send); prints its URL\n",
     reportctl_desk_settings, "desk options:"},
    {"catalogue", reportctl_catalogue,
     "  catalogue list [KIND] | add|rename|retire KIND CODE | target INDICATOR --year Y\n"
     "            --target T | audit [KIND [CODE]] | check\n"
     "                      the catalogue (KIND: unit, area, indicator), audited, with an\n"
     "                      operator's key; check: unit keys against active units\n",
     reportctl_catalogue_settings, "catalogue options:"},
    {"dead-letters", reportctl_dead_letters,
     "  dead-letters list | show ID | replay [ID] [--reason R] [--unit U]\n"
     "                      refused input; replay one kept whole (or all that match) as\n"
     "                      the unit it came from, recorded as the operator's act\n",
     reportctl_dead_letters_settings, "dead-letters options:"},
    {"keygen", reportctl_keys,
     "  keygen --out PATH   make a CURVE key pair: PATH.key (secret), PATH.pub\n",
     reportctl_keys_settings, "keygen, enrol and revoke options:"},
    {"enrol", reportctl_keys,
     "  enrol KIND NAME --public FILE   enrol a unit (NAME = unit code), recipient,\n"
     "                      operator or store in --keys-dir (no restart needed)\n",
     NULL, NULL},
    {"revoke", reportctl_keys, "  revoke KIND NAME    revoke it (moved to KEYS/revoked/)\n", NULL,
     NULL},
};
#define S_COMMAND_COUNT (sizeof s_commands / sizeof s_commands[0])

void reportctl_usage(FILE *out)
{
    fprintf(out, "usage: reportctl COMMAND [options] [args]\ncommands:\n");
    for (size_t i = 0; i < S_COMMAND_COUNT; i++)
        fputs(s_commands[i].help, out);
    for (size_t i = 0; i < S_COMMAND_COUNT; i++) {
        if (!s_commands[i].options)
            continue;
        fprintf(out, "%s\n", s_commands[i].options_title);
        report_settings_usage(s_commands[i].options, out);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        reportctl_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    report_service_setup();
    for (size_t i = 0; i < S_COMMAND_COUNT; i++)
        if (strcmp(argv[1], s_commands[i].name) == 0)
            return s_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "reportctl: unknown command '%s'\n", argv[1]);
    reportctl_usage(stderr);
    return 2;
}
