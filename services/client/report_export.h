/* Exports for the document management system, written by the subscriber beside a version's
 * files: the metadata record of an outgoing document (Nghị định 30/2020, Phụ lục VI) as XML,
 * and, once the version is signed, an edXML envelope (QCVN 102:2016) carrying the signed PDF.
 * Every field is checked against the length the decree gives it before anything is written:
 * a value that does not fit refuses the export (named in the error), it is never cut. The
 * schemas the tests validate them against are in docs/schema/. */
#ifndef REPORT_EXPORT_H
#define REPORT_EXPORT_H

#include "report_error.h"
#include "report_published.h"

/* Writes DIR/AGENCY-YYYY-MM-vN.metadata.xml for r, and with r->signed_pdf also
 * DIR/AGENCY-YYYY-MM-vN.edxml. 0, or -1 with err: "no_organ_id" (the agency's identifier in
 * the national document exchange is not set), "too_long" (a field past its length), "io". */
int report_export_write(const char *dir, const report_published_t *r, report_error_t *err);

#endif
