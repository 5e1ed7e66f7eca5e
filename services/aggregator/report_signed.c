/* Verifying a signed PDF: the bytes first (the published PDF must be its beginning), then
 * poppler's pdfsig on the signature, then the text of both files page by page. */
#define _GNU_SOURCE
#include "report_signed.h"
#include "report_process.h"
#include "report_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_OUTPUT_MAX (8u << 20) /* pdfsig's report, a text extraction */

/* The value after "  - KEY: " in pdfsig's report from `from` on, into out; false if none. */
static bool s_field(const char *from, const char *key, char *out, size_t size)
{
    char *needle = report_sprintf("- %s: ", key);
    const char *p = strstr(from, needle);
    size_t skip = strlen(needle);
    free(needle);
    if (!p)
        return false;
    p += skip;
    snprintf(out, size, "%.*s", (int)strcspn(p, "\n"), p);
    return true;
}

/* Reads pdfsig's report: every signature valid, the last one over the whole file, its
 * signer, time and certificate. 0 or -1 with err. */
static int s_report(const char *report, const char *nssdb, report_signature_t *sig,
                    report_error_t *err)
{
    const char *last = NULL;
    for (const char *p = strstr(report, "Signature #"); p; p = strstr(p + 1, "Signature #"))
        last = p;
    if (!last)
        return report_error_set(err, "not_signed", "the file holds no signature");
    for (const char *p = strstr(report, "Signature Validation: "); p;
         p = strstr(p + 1, "Signature Validation: "))
        if (strncmp(p + strlen("Signature Validation: "), "Signature is Valid.", 19) != 0)
            return report_error_set(err, "bad_signature",
                                    "a signature does not verify: %.*s (the file was altered "
                                    "after it was signed)",
                                    (int)strcspn(p, "\n"), p);
    if (!strstr(last, "- Total document signed"))
        return report_error_set(err, "appended",
                                "the last signature does not cover the whole file: something "
                                "was added after it");
    if (!s_field(last, "Signer full Distinguished Name", sig->signer, sizeof sig->signer))
        s_field(last, "Signer Certificate Common Name", sig->signer, sizeof sig->signer);
    s_field(last, "Signing Time", sig->signing_time, sizeof sig->signing_time);
    s_field(last, "Certificate Validation", sig->trust, sizeof sig->trust);
    sig->trusted = strcmp(sig->trust, "Certificate is Trusted.") == 0;
    if (*nssdb && !sig->trusted)
        return report_error_set(err, "untrusted", "the signer's certificate (%s): %s", sig->signer,
                                sig->trust);
    return 0;
}

/* pdftotext of path to a string (caller frees), NULL if it failed. */
static char *s_text(const char *path, int64_t timeout_ms)
{
    char *argv[] = {"pdftotext", "-enc", "UTF-8", (char *)path, "-", NULL};
    char *out = NULL;
    if (report_process_output(argv, timeout_ms, S_OUTPUT_MAX, &out) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* The signature (pdfsig) and the text of both files. */
static int s_tools(const char *dir, const char *nssdb, int64_t timeout_ms, report_signature_t *sig,
                   report_error_t *err)
{
    char *published = report_sprintf("%s/published.pdf", dir);
    char *signed_path = report_sprintf("%s/signed.pdf", dir);
    char *argv_nss[] = {"pdfsig", "-nssdir", (char *)nssdb, signed_path, NULL};
    char *argv[] = {"pdfsig", signed_path, NULL};
    char *report = NULL;
    int status = report_process_output(*nssdb ? argv_nss : argv, timeout_ms, S_OUTPUT_MAX, &report);
    /* pdfsig exits 2 for a file without signatures: its report says so */
    int rc = status < 0 || !report ? report_error_set(err, "verify", "pdfsig could not be run")
                                   : s_report(report, nssdb, sig, err);
    if (rc == 0) {
        char *a = s_text(published, timeout_ms), *b = s_text(signed_path, timeout_ms);
        if (!a || !b)
            rc = report_error_set(err, "verify", "pdftotext could not be run");
        else if (strcmp(a, b) != 0)
            rc = report_error_set(err, "content_mismatch",
                                  "the signed file's text differs from the published version's");
        free(a);
        free(b);
    }
    free(report);
    free(signed_path);
    free(published);
    return rc;
}

int report_signed_verify(const uint8_t *published, size_t published_size, const uint8_t *signed_pdf,
                         size_t signed_size, const char *nssdb, int64_t timeout_ms,
                         report_signature_t *sig, report_error_t *err)
{
    memset(sig, 0, sizeof *sig);
    if (signed_size == published_size && memcmp(signed_pdf, published, published_size) == 0)
        return report_error_set(err, "not_signed", "this is the published PDF, not signed");
    /* An incremental update leaves every byte before it as it was: a file rewritten by the
     * signing tool, or with a page changed, is not the published version any more. */
    if (signed_size <= published_size || memcmp(signed_pdf, published, published_size) != 0)
        return report_error_set(err, "content_mismatch",
                                "the file does not begin with the published PDF (%zu bytes): "
                                "sign it as an incremental update, changing nothing",
                                published_size);
    char *dir = report_process_tempdir("report-signed");
    if (!dir)
        return report_error_set(err, "verify", "cannot make a temporary directory: %s",
                                strerror(errno));
    char *a = report_sprintf("%s/published.pdf", dir), *b = report_sprintf("%s/signed.pdf", dir);
    int rc = report_process_write_file(a, published, published_size) == 0 &&
                     report_process_write_file(b, signed_pdf, signed_size) == 0
                 ? s_tools(dir, nssdb ? nssdb : "", timeout_ms, sig, err)
                 : report_error_set(err, "verify", "cannot write to %s: %s", dir, strerror(errno));
    const char *const names[] = {"published.pdf", "signed.pdf", NULL};
    report_process_cleanup(dir, names);
    free(a);
    free(b);
    free(dir);
    return rc;
}
