/* Construction and clean-up of the aggregator's domain types. */
#include "report_published.h"
#include "report_util.h"

#include <stdlib.h>
#include <string.h>

report_published_t *report_published_new(void)
{
    return report_calloc(1, sizeof(report_published_t));
}

void report_published_destroy(report_published_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_published_t *self = *self_p;
    free(self->agency_code);
    free(self->doc_date);
    free(self->text);
    free(self->html);
    free(self->json);
    free(self->markdown);
    free(self->sha256);
    free(self->pdf);
    free(self->signed_pdf);
    free(self->signer);
    free(self->signing_time);
    free(self);
    *self_p = NULL;
}

void report_control_request_clear(report_control_request_t *req)
{
    free(req->agency_code);
    free(req->format);
    free(req->date);
    free(req->basis);
    free(req->signed_pdf);
    free(req->action);
    free(req->subject);
    free(req->code);
    free(req->fields_json);
    free(req->reason);
    free(req->unit);
    memset(req, 0, sizeof *req);
}

void report_control_reply_clear(report_control_reply_t *reply)
{
    free(reply->error_code);
    free(reply->message);
    free(reply->body);
    free(reply->pdf);
    report_strv_free(reply->missing_units, reply->missing_count);
    report_strv_free(reply->warnings, reply->warning_count);
    report_strv_free(reply->findings, reply->finding_count);
    report_published_destroy(&reply->report);
    memset(reply, 0, sizeof *reply);
}

void report_catchup_request_clear(report_catchup_request_t *req)
{
    free(req->agency_code);
    memset(req, 0, sizeof *req);
}

void report_catchup_reply_clear(report_catchup_reply_t *reply)
{
    report_published_destroy(&reply->report);
    memset(reply, 0, sizeof *reply);
}
