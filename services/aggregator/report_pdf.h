/* The PDF rendering of a report, the form an agency files and signs (Nghị định 30/2020):
 * pango lays the text out in Liberation Serif and cairo writes the PDF, fonts embedded and
 * subset, in the layout of report-format.md (A4, margins 20/20/30/15 mm, the two-column
 * header with its rules, bold centred title, justified 14 pt body with a first-line indent,
 * "Nơi nhận" beside the signer's block, page numbers from page 2 centred in the top margin,
 * no widow or orphan line, the signer's block never split from the closing paragraph).
 * report_pdf_archival then makes it PDF/A-2b with Ghostscript, so that the file opens the
 * same in twenty years. */
#ifndef REPORT_PDF_H
#define REPORT_PDF_H

#include "report_doc.h"
#include "report_error.h"

#include <stddef.h>
#include <stdint.h>

/* The face of every text: Liberation Serif (fonts-liberation2; version 1.x lacks ơ, ư and
 * ạ…ỹ), metric-compatible with Times New Roman. */
#define REPORT_PDF_FONT "Liberation Serif"

/* Renders doc. 0 with *pdf (malloc'd, the caller frees), *size and *pages, or -1 with err:
 * "font" when the face is not installed or lacks a character of the document (named in the
 * message: the PDF would otherwise show another face or a blank box), "render" when cairo
 * fails. */
int report_render_pdf(const report_doc_t *doc, uint8_t **pdf, size_t *size, int *pages,
                      report_error_t *err);

/* Rewrites a PDF as PDF/A-2b (XMP pdfaid:part 2, conformance B, an sRGB output intent, every
 * font embedded) with Ghostscript (gs_path, e.g. "gs"), killed after timeout_ms. 0 with
 * *out (malloc'd) and *out_size, or -1 with err ("pdfa": Ghostscript missing, failed or
 * timed out). */
int report_pdf_archival(const uint8_t *pdf, size_t size, const char *gs_path, int64_t timeout_ms,
                        uint8_t **out, size_t *out_size, report_error_t *err);

#endif
