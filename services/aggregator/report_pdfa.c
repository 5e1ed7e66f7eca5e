/* PDF/A-2b by Ghostscript: the PDF goes to a private temporary directory with a PDFA_def.ps
 * that names the sRGB output intent, gs rewrites it, and a child that runs past its time is
 * killed. */
#define _GNU_SOURCE
#include "report_pdf.h"
#include "report_file.h"
#include "report_log.h"
#include "report_process.h"
#include "report_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* sRGB profiles Debian installs (ghostscript ships the first, colord the second). */
static const char *const S_ICC_PROFILES[] = {
    "/usr/share/color/icc/ghostscript/srgb.icc",
    "/usr/share/ghostscript/iccprofiles/srgb.icc",
    "/usr/share/color/icc/colord/sRGB.icc",
};

/* Ghostscript's PDFA_def.ps with the profile's path: the output intent a PDF/A must carry. */
static const char S_PDFA_DEF[] =
    "%%!\n"
    "/ICCProfile (%s) def\n"
    "[/_objdef {icc_PDFA} /type /stream /OBJ pdfmark\n"
    "[{icc_PDFA} <</N 3>> /PUT pdfmark\n"
    "[{icc_PDFA} ICCProfile (r) file /PUT pdfmark\n"
    "[/_objdef {OutputIntent_PDFA} /type /dict /OBJ pdfmark\n"
    "[{OutputIntent_PDFA} <<\n"
    "  /Type /OutputIntent /S /GTS_PDFA1 /DestOutputProfile {icc_PDFA}\n"
    "  /OutputConditionIdentifier (sRGB)\n"
    ">> /PUT pdfmark\n"
    "[{Catalog} <</OutputIntents [ {OutputIntent_PDFA} ]>> /PUT pdfmark\n";

static const char *s_icc_profile(void)
{
    for (size_t i = 0; i < sizeof S_ICC_PROFILES / sizeof S_ICC_PROFILES[0]; i++)
        if (access(S_ICC_PROFILES[i], R_OK) == 0)
            return S_ICC_PROFILES[i];
    return NULL;
}

/* Rewrites dir/in.pdf as dir/out.pdf; 0 or -1 with err. */
static int s_ghostscript(const char *dir, const char *gs_path, int64_t timeout_ms,
                         report_error_t *err)
{
    const char *icc = s_icc_profile();
    if (!icc)
        return report_error_set(err, "pdfa", "no sRGB ICC profile (Debian: ghostscript)");
    char *def = report_sprintf("%s/PDFA_def.ps", dir);
    char *def_text = report_sprintf(S_PDFA_DEF, icc);
    char *in = report_sprintf("%s/in.pdf", dir);
    char *output = report_sprintf("-sOutputFile=%s/out.pdf", dir);
    char *permit = report_sprintf("--permit-file-read=%s", icc);
    int rc = report_process_write_file(def, def_text, strlen(def_text));
    if (rc == 0) {
        char *argv[] = {(char *)gs_path,
                        "-q",
                        "-dSAFER",
                        permit,
                        "-dBATCH",
                        "-dNOPAUSE",
                        "-dPDFA=2",
                        "-dPDFACompatibilityPolicy=1",
                        "-sColorConversionStrategy=RGB",
                        "-sProcessColorModel=DeviceRGB",
                        "-sDEVICE=pdfwrite",
                        output,
                        def,
                        in,
                        NULL};
        rc = report_process_run(argv, NULL, timeout_ms);
        if (rc != 0)
            report_error_set(err, "pdfa", "%s %s (PDF/A-2b)", gs_path,
                             rc < 0 ? "did not run or ran past its time" : "failed");
    } else {
        report_error_set(err, "pdfa", "cannot write %s: %s", def, strerror(errno));
    }
    free(permit);
    free(output);
    free(in);
    free(def_text);
    free(def);
    return rc == 0 ? 0 : -1;
}

int report_pdf_archival(const uint8_t *pdf, size_t size, const char *gs_path, int64_t timeout_ms,
                        uint8_t **out, size_t *out_size, report_error_t *err)
{
    *out = NULL;
    *out_size = 0;
    char *dir = report_process_tempdir("report-pdfa");
    if (!dir)
        return report_error_set(err, "pdfa", "cannot make a temporary directory: %s",
                                strerror(errno));
    char *in = report_sprintf("%s/in.pdf", dir);
    char *result = report_sprintf("%s/out.pdf", dir);
    int rc = report_process_write_file(in, pdf, size);
    if (rc != 0)
        report_error_set(err, "pdfa", "cannot write %s: %s", in, strerror(errno));
    else
        rc = s_ghostscript(dir, gs_path, timeout_ms, err);
    if (rc == 0) {
        *out = (uint8_t *)report_file_read(result, SIZE_MAX, out_size);
        if (!*out || *out_size == 0) {
            free(*out);
            *out = NULL;
            rc = report_error_set(err, "pdfa", "%s wrote nothing", gs_path);
        }
    }
    const char *const names[] = {"in.pdf", "out.pdf", "PDFA_def.ps", NULL};
    report_process_cleanup(dir, names);
    free(result);
    free(in);
    free(dir);
    return rc;
}
