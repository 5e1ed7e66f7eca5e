/* Construction, destruction and naming of the ingest domain types. */
#include "report_update.h"
#include "report_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

report_update_t *report_update_new(void)
{
    return report_calloc(1, sizeof(report_update_t));
}

void report_update_destroy(report_update_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_update_t *self = *self_p;
    free(self->update_id);
    free(self->unit_code);
    free(self->area_code);
    free(self->item_key);
    free(self->text);
    report_strv_free(self->sub_items, self->sub_item_count);
    for (size_t i = 0; i < self->indicator_count; i++)
        free(self->indicators[i].code);
    free(self->indicators);
    free(self);
    *self_p = NULL;
}

static const char *s_section_names[] = {NULL, "result", "limitation", "next_task"};

const char *report_section_name(report_section_t section)
{
    if (section < REPORT_SECTION_RESULT || section > REPORT_SECTION_NEXT_TASK)
        return NULL;
    return s_section_names[section];
}

report_section_t report_section_parse(const char *name)
{
    for (int i = REPORT_SECTION_RESULT; i <= REPORT_SECTION_NEXT_TASK; i++)
        if (name && strcmp(name, s_section_names[i]) == 0)
            return (report_section_t)i;
    return REPORT_SECTION_NONE;
}

#define REPORT_REASON_NAME(name) #name,
static const char *const s_reason_names[] = {REPORT_REASONS(REPORT_REASON_NAME)};
#undef REPORT_REASON_NAME

const char *report_reason_name(report_reason_t reason)
{
    if (reason == REPORT_REASON_none)
        return "";
    return (unsigned)reason < REPORT_REASON_COUNT ? s_reason_names[reason] : "other";
}

report_reason_t report_reason_parse(const char *name)
{
    if (!name || !*name)
        return REPORT_REASON_none;
    for (int i = REPORT_REASON_none + 1; i < REPORT_REASON_COUNT; i++)
        if (strcmp(name, s_reason_names[i]) == 0)
            return (report_reason_t)i;
    return REPORT_REASON_other;
}

const char *report_outcome_name(report_outcome_t outcome)
{
    switch (outcome) {
    case REPORT_OUTCOME_STORED:
        return "STORED";
    case REPORT_OUTCOME_DUPLICATE:
        return "DUPLICATE";
    case REPORT_OUTCOME_REJECTED:
        return "REJECTED";
    case REPORT_OUTCOME_BUSY:
        return "BUSY";
    default:
        return "UNKNOWN";
    }
}

void report_reply_set(report_reply_t *reply, const char *update_id, report_outcome_t outcome,
                      report_reason_t reason, const char *fmt, ...)
{
    memset(reply, 0, sizeof *reply);
    snprintf(reply->update_id, sizeof reply->update_id, "%s", update_id ? update_id : "");
    reply->outcome = outcome;
    reply->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reply->message, sizeof reply->message, fmt, ap);
    va_end(ap);
}
