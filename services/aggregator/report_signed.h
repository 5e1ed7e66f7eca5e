/* Taking back the signed PDF. The agency signs the published PDF/A with its own token and tool
 * (an incremental update: the signature is appended, nothing before it changes); the
 * aggregator accepts the signed file only if it is that: the published PDF byte for byte,
 * then a signature that poppler's pdfsig finds valid and covering the whole file, and the
 * same text on the same pages. */
#ifndef REPORT_SIGNED_H
#define REPORT_SIGNED_H

#include "report_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char signer[256];      /* the certificate's subject, "CN=…,O=…,C=VN" */
    char signing_time[64]; /* as the signature states it */
    bool trusted;          /* the certificate chains to a CA of the NSS database */
    char trust[160];       /* pdfsig's word on the certificate */
} report_signature_t;

/* Verifies signed (signed_size bytes) against published. nssdb: an NSS database directory
 * holding the agency's CA ("" = none: the certificate is recorded, not required to be
 * trusted; with one, an untrusted certificate is refused). 0 with *sig, or -1 with err:
 *   not_signed        no signature in the file
 *   content_mismatch  the file does not begin with the published PDF (rewritten, or a page
 *                     changed), or its text differs from it page by page
 *   bad_signature     a signature that does not verify (the file was altered after signing)
 *   appended          something was added after the last signature
 *   untrusted         the certificate does not chain to the NSS database's CA
 *   verify            pdfsig or pdftotext could not be run (timeout_ms each) */
int report_signed_verify(const uint8_t *published, size_t published_size, const uint8_t *signed_pdf,
                         size_t signed_size, const char *nssdb, int64_t timeout_ms,
                         report_signature_t *sig, report_error_t *err);

#endif
