/* The PDF rendering: the document as a sequence of paragraphs, each laid out by pango at the
 * width of the text block and placed line by line on A4 pages, with the header at the top of
 * page 1 and the signature block at the end. */
#include "report_pdf.h"
#include "report_util.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Millimetres to points, the PDF's unit. */
#define S_MM(x) ((x)*72.0 / 25.4)

/* A4 and the margins of report-format.md. */
#define S_PAGE_W S_MM(210.0)
#define S_PAGE_H S_MM(297.0)
#define S_TOP S_MM(20.0)
#define S_BOTTOM S_MM(20.0)
#define S_LEFT S_MM(30.0)
#define S_RIGHT S_MM(15.0)
#define S_TEXT_W (S_PAGE_W - S_LEFT - S_RIGHT)
#define S_INDENT S_MM(12.7) /* first-line indent of body paragraphs */
#define S_SPACE_AFTER 6.0   /* between paragraphs, points */
#define S_HEADER_LEFT_W S_MM(72.0)
#define S_SIGN_GAP 70.0 /* room for the signature and the seal between title and name */

typedef enum {
    S_BODY,    /* justified, first-line indent */
    S_HEADING, /* bold, justified, first-line indent */
    S_TITLE,   /* bold, centred: BÁO CÁO and the summary line */
    S_CENTRED, /* a header line: centred in its column */
} s_kind_t;

typedef struct {
    s_kind_t kind;
    double size; /* points */
    PangoWeight weight;
    PangoStyle style;
} s_style_t;

static const s_style_t S_BODY_STYLE = {S_BODY, 14, PANGO_WEIGHT_NORMAL, PANGO_STYLE_NORMAL};
static const s_style_t S_HEADING_STYLE = {S_HEADING, 14, PANGO_WEIGHT_BOLD, PANGO_STYLE_NORMAL};
static const s_style_t S_TITLE_STYLE = {S_TITLE, 14, PANGO_WEIGHT_BOLD, PANGO_STYLE_NORMAL};

/* One line of a laid-out paragraph, in the layout's coordinates (points): its top and bottom,
 * its baseline and where it starts (indent, alignment). */
typedef struct {
    double top, bottom, baseline, x;
} s_line_t;

typedef struct {
    cairo_surface_t *surface;
    cairo_t *cr;
    PangoFontMap *fonts;
    double y; /* where the next paragraph starts on the current page */
    int page;
    report_error_t *err;
    bool failed;
} s_pdf_t;

/* --- the face --- */

/* Fails the rendering (once) with a "font" error saying what is missing. */
static void s_font_fail(s_pdf_t *p, const char *message)
{
    if (!p->failed)
        report_error_set(p->err, "font", "%s", message);
    p->failed = true;
}

/* The face must be installed (fontconfig would quietly substitute another) and hold every
 * character of text (pango would quietly take the missing ones from another face). */
static void s_font_check(s_pdf_t *p, PangoLayout *layout, const PangoFontDescription *desc,
                         const char *text)
{
    PangoContext *ctx = pango_layout_get_context(layout);
    PangoFont *font = pango_context_load_font(ctx, desc);
    PangoFontDescription *got = font ? pango_font_describe(font) : NULL;
    const char *family = got ? pango_font_description_get_family(got) : NULL;
    if (!family || g_ascii_strcasecmp(family, REPORT_PDF_FONT) != 0) {
        s_font_fail(p, "the face " REPORT_PDF_FONT " is not installed (Debian: fonts-liberation2)");
    } else {
        PangoCoverage *coverage = pango_font_get_coverage(font, pango_language_get_default());
        for (const char *c = text; *c && !p->failed; c = g_utf8_next_char(c)) {
            gunichar cp = g_utf8_get_char(c);
            if (cp >= 0x20 && pango_coverage_get(coverage, (int)cp) == PANGO_COVERAGE_NONE) {
                char message[128];
                snprintf(message, sizeof message,
                         "no glyph for U+%04X in " REPORT_PDF_FONT
                         " (Debian: fonts-liberation2, not 1.x)",
                         (unsigned)cp);
                s_font_fail(p, message);
            }
        }
        g_object_unref(coverage);
    }
    if (got)
        pango_font_description_free(got);
    if (font)
        g_object_unref(font);
}

/* A paragraph laid out at width in style. The caller unrefs it. */
static PangoLayout *s_layout(s_pdf_t *p, const s_style_t *style, const char *text, double width)
{
    PangoLayout *layout = pango_cairo_create_layout(p->cr);
    PangoFontDescription *desc = pango_font_description_new();
    pango_font_description_set_family(desc, REPORT_PDF_FONT);
    pango_font_description_set_absolute_size(desc, style->size * PANGO_SCALE);
    pango_font_description_set_weight(desc, style->weight);
    pango_font_description_set_style(desc, style->style);
    pango_layout_set_font_description(layout, desc);
    pango_layout_set_width(layout, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD);
    if (style->kind == S_BODY || style->kind == S_HEADING) {
        pango_layout_set_justify(layout, TRUE);
        pango_layout_set_indent(layout, (int)(S_INDENT * PANGO_SCALE));
    } else {
        pango_layout_set_alignment(layout, PANGO_ALIGN_CENTER);
    }
    pango_layout_set_text(layout, text, -1);
    s_font_check(p, layout, desc, text);
    pango_font_description_free(desc);
    return layout;
}

/* The lines of layout: count, and their extents into lines (n entries, caller frees). */
static s_line_t *s_lines(PangoLayout *layout, size_t *n)
{
    *n = (size_t)pango_layout_get_line_count(layout);
    s_line_t *lines = report_calloc(*n ? *n : 1, sizeof *lines);
    PangoLayoutIter *it = pango_layout_get_iter(layout);
    size_t i = 0;
    do {
        int y0, y1;
        PangoRectangle logical;
        pango_layout_iter_get_line_yrange(it, &y0, &y1);
        pango_layout_iter_get_line_extents(it, NULL, &logical);
        if (i < *n)
            lines[i++] = (s_line_t){(double)y0 / PANGO_SCALE, (double)y1 / PANGO_SCALE,
                                    (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE,
                                    (double)logical.x / PANGO_SCALE};
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
    return lines;
}

/* --- pages --- */

static void s_page_number(s_pdf_t *p)
{
    char number[16];
    snprintf(number, sizeof number, "%d", p->page);
    s_style_t style = {S_CENTRED, 13, PANGO_WEIGHT_NORMAL, PANGO_STYLE_NORMAL};
    PangoLayout *layout = s_layout(p, &style, number, S_TEXT_W);
    int w, h;
    pango_layout_get_size(layout, &w, &h);
    cairo_move_to(p->cr, S_LEFT, (S_TOP - (double)h / PANGO_SCALE) / 2.0);
    pango_cairo_show_layout(p->cr, layout);
    g_object_unref(layout);
}

static void s_new_page(s_pdf_t *p)
{
    cairo_show_page(p->cr);
    p->page++;
    p->y = S_TOP;
    s_page_number(p); /* from page 2 on */
}

/* Draws lines [from, to) of layout at x, their top at p->y, and moves p->y below them. Line
 * by line, so that a page holds only its own lines (also in the text a reader extracts). */
static void s_draw_lines(s_pdf_t *p, PangoLayout *layout, const s_line_t *lines, size_t from,
                         size_t to, double x)
{
    double origin = p->y - lines[from].top;
    for (size_t i = from; i < to; i++) {
        cairo_move_to(p->cr, x + lines[i].x, origin + lines[i].baseline);
        pango_cairo_show_layout_line(p->cr, pango_layout_get_line_readonly(layout, (int)i));
    }
    p->y += lines[to - 1].bottom - lines[from].top;
}

/* How many of the lines from first fit above the bottom margin, keeping at least two lines
 * of a paragraph on each page it is split across (no widow, no orphan): 0 means start it on
 * the next page. All the rest when they fit. */
static size_t s_lines_here(const s_pdf_t *p, const s_line_t *lines, size_t first, size_t n)
{
    double room = S_PAGE_H - S_BOTTOM - p->y;
    size_t fit = 0;
    while (first + fit < n && lines[first + fit].bottom - lines[first].top <= room)
        fit++;
    size_t left = n - first;
    if (fit == left)
        return fit;
    if (left - fit < 2) /* a widow: take one more line over */
        fit = left >= 2 ? left - 2 : 0;
    if (fit < 2) /* an orphan: the paragraph starts on the next page */
        fit = 0;
    if (fit == 0 && p->y <= S_TOP + 0.5) /* a page cannot hold two lines: never loop */
        fit = 1;
    return fit;
}

/* Places a paragraph of the text block, splitting it across pages as it must. */
static void s_paragraph(s_pdf_t *p, const s_style_t *style, const char *prefix, const char *text)
{
    if (!text || !*text)
        return;
    char *full = report_sprintf("%s%s", prefix, text);
    PangoLayout *layout = s_layout(p, style, full, S_TEXT_W);
    size_t n;
    s_line_t *lines = s_lines(layout, &n);
    for (size_t first = 0; first < n;) {
        size_t fit = s_lines_here(p, lines, first, n);
        if (fit == 0) {
            s_new_page(p);
            continue;
        }
        s_draw_lines(p, layout, lines, first, first + fit, S_LEFT);
        first += fit;
        if (first < n)
            s_new_page(p);
    }
    p->y += S_SPACE_AFTER;
    free(lines);
    g_object_unref(layout);
    free(full);
}

/* A heading is never the last line of a page: it moves on with the paragraph after it. */
static void s_heading(s_pdf_t *p, const char *text)
{
    if (!text || !*text)
        return;
    if (p->y + 3 * S_HEADING_STYLE.size * 1.2 > S_PAGE_H - S_BOTTOM)
        s_new_page(p);
    s_paragraph(p, &S_HEADING_STYLE, "", text);
}

/* --- the header --- */

/* One line centred in the column [x, x + width) at y, drawn when draw (else only measured);
 * returns its height, and its text's width in *text_w. */
static double s_centred(s_pdf_t *p, const s_style_t *style, const char *text, double x,
                        double width, double y, bool draw, double *text_w)
{
    PangoLayout *layout = s_layout(p, style, text ? text : "", width);
    if (draw) {
        cairo_move_to(p->cr, x, y);
        pango_cairo_show_layout(p->cr, layout);
    }
    int w, h;
    pango_layout_get_size(layout, &w, &h);
    /* the width of the text itself, not of the column */
    PangoRectangle line_logical;
    pango_layout_line_get_pixel_extents(pango_layout_get_line_readonly(layout, 0), NULL,
                                        &line_logical);
    if (text_w)
        *text_w = line_logical.width;
    g_object_unref(layout);
    return (double)h / PANGO_SCALE;
}

/* A rule of length centred under a column at y. */
static void s_rule(s_pdf_t *p, double x, double width, double length, double y)
{
    cairo_set_line_width(p->cr, 0.6);
    cairo_move_to(p->cr, x + (width - length) / 2.0, y);
    cairo_line_to(p->cr, x + (width + length) / 2.0, y);
    cairo_stroke(p->cr);
}

/* A header column: two lines, a rule under the second (rule_part of its width), and at row_y
 * the third line (number or place and date). Drawn in the order a reader takes it, so that
 * text extracted from the PDF comes in the text rendering's order. */
typedef struct {
    const char *lines[3];
    const s_style_t *styles[3];
    double x, width, rule_part;
} s_column_t;

/* The height of a column's first two lines. */
static double s_column_top(s_pdf_t *p, const s_column_t *c)
{
    double h = 0;
    for (int i = 0; i < 2; i++)
        h += s_centred(p, c->styles[i], c->lines[i], c->x, c->width, 0, false, NULL);
    return h;
}

static double s_column(s_pdf_t *p, const s_column_t *c, double row_y)
{
    double y = S_TOP, text_w = 0;
    for (int i = 0; i < 2; i++)
        y += s_centred(p, c->styles[i], c->lines[i], c->x, c->width, y, true, &text_w);
    s_rule(p, c->x, c->width, text_w * c->rule_part, y + 3.0);
    return s_centred(p, c->styles[2], c->lines[2], c->x, c->width, row_y, true, NULL);
}

static void s_header(s_pdf_t *p, const report_doc_t *doc)
{
    static const s_style_t upper = {S_CENTRED, 12.5, PANGO_WEIGHT_NORMAL, PANGO_STYLE_NORMAL};
    static const s_style_t upper_bold = {S_CENTRED, 12.5, PANGO_WEIGHT_BOLD, PANGO_STYLE_NORMAL};
    static const s_style_t motto_sub = {S_CENTRED, 13, PANGO_WEIGHT_BOLD, PANGO_STYLE_NORMAL};
    static const s_style_t number = {S_CENTRED, 13, PANGO_WEIGHT_NORMAL, PANGO_STYLE_NORMAL};
    static const s_style_t motto = {S_CENTRED, 12.5, PANGO_WEIGHT_BOLD, PANGO_STYLE_NORMAL};
    static const s_style_t date = {S_CENTRED, 13, PANGO_WEIGHT_NORMAL, PANGO_STYLE_ITALIC};
    /* the agency's rule is a third of its name; the motto's as long as the line */
    s_column_t left = {{doc->parent_authority, doc->agency_name, doc->number_line},
                       {&upper, &upper_bold, &number},
                       S_LEFT,
                       S_HEADER_LEFT_W,
                       1.0 / 3.0};
    s_column_t right = {{doc->motto, doc->motto_sub, doc->place_date},
                        {&motto, &motto_sub, &date},
                        S_LEFT + S_HEADER_LEFT_W,
                        S_TEXT_W - S_HEADER_LEFT_W,
                        1.0};
    double top_l = s_column_top(p, &left), top_r = s_column_top(p, &right);
    double row_y = S_TOP + (top_l > top_r ? top_l : top_r) + 8.0;
    double hl = s_column(p, &left, row_y);
    double hr = s_column(p, &right, row_y);
    p->y = row_y + (hl > hr ? hl : hr) + 18.0;
    s_paragraph(p, &S_TITLE_STYLE, "", doc->doc_type);
    p->y -= S_SPACE_AFTER;
    s_paragraph(p, &S_TITLE_STYLE, "", doc->summary);
    p->y += 6.0;
}

/* --- the body --- */

static void s_items(s_pdf_t *p, const char *bullet, const char *sub_bullet,
                    const report_item_t *items, size_t count)
{
    for (size_t i = 0; items && i < count; i++) {
        s_paragraph(p, &S_BODY_STYLE, bullet, items[i].text);
        for (size_t k = 0; items[i].sub_items && k < items[i].sub_item_count; k++)
            s_paragraph(p, &S_BODY_STYLE, sub_bullet, items[i].sub_items[k]);
    }
}

/* An area of section 1.a as the text rendering writes it: one item joins the lead-in, several
 * hang under it as "+ " bullets. */
static void s_area(s_pdf_t *p, const report_area_t *area)
{
    if (!area->items || area->item_count == 0)
        return;
    if (!area->lead_in || !*area->lead_in) {
        s_items(p, "- ", "+ ", area->items, area->item_count);
    } else if (area->item_count == 1) {
        const report_item_t *item = &area->items[0];
        char *joined = report_sprintf("%s%s%s", area->lead_in, item->text ? " " : "",
                                      item->text ? item->text : "");
        s_paragraph(p, &S_BODY_STYLE, "- ", joined);
        free(joined);
        for (size_t k = 0; item->sub_items && k < item->sub_item_count; k++)
            s_paragraph(p, &S_BODY_STYLE, "+ ", item->sub_items[k]);
    } else {
        s_paragraph(p, &S_BODY_STYLE, "- ", area->lead_in);
        s_items(p, "+ ", "* ", area->items, area->item_count);
    }
}

static void s_body(s_pdf_t *p, const report_doc_t *doc)
{
    s_paragraph(p, &S_BODY_STYLE, "", doc->intro);
    s_heading(p, doc->section1_heading);
    s_heading(p, doc->section1a_heading);
    s_paragraph(p, &S_BODY_STYLE, "", doc->section1a_intro);
    for (size_t i = 0; doc->areas && i < doc->area_count; i++)
        s_area(p, &doc->areas[i]);
    if (doc->limitations && doc->limitation_count > 0) {
        s_heading(p, doc->section1b_heading);
        s_items(p, "- ", "+ ", doc->limitations, doc->limitation_count);
    }
    s_heading(p, doc->section2_heading);
    s_paragraph(p, &S_BODY_STYLE, "", doc->section2_intro);
    s_items(p, "- ", "+ ", doc->next_tasks, doc->next_task_count);
}

/* --- the end: closing paragraph, recipients beside the signer --- */

/* The recipients column: "Nơi nhận:" and one line per recipient, left-aligned. Draws when
 * draw, else only measures; returns the height. */
static double s_recipients(s_pdf_t *p, const report_doc_t *doc, double y, bool draw)
{
    const s_style_t heading = {S_CENTRED, 12, PANGO_WEIGHT_BOLD, PANGO_STYLE_ITALIC};
    const s_style_t line = {S_CENTRED, 11, PANGO_WEIGHT_NORMAL, PANGO_STYLE_NORMAL};
    double top = y;
    size_t count = doc->recipients ? doc->recipient_count : 0;
    for (size_t i = 0; i <= count; i++) {
        char *text =
            i == 0 ? report_strdup(doc->recipients_heading ? doc->recipients_heading : "")
                   : report_sprintf("- %s%s", doc->recipients[i - 1] ? doc->recipients[i - 1] : "",
                                    i < count ? ";" : ".");
        PangoLayout *layout = s_layout(p, i == 0 ? &heading : &line, text, S_HEADER_LEFT_W);
        pango_layout_set_alignment(layout, PANGO_ALIGN_LEFT);
        int w, h;
        pango_layout_get_size(layout, &w, &h);
        if (draw) {
            cairo_move_to(p->cr, S_LEFT, y);
            pango_cairo_show_layout(p->cr, layout);
        }
        y += (double)h / PANGO_SCALE;
        g_object_unref(layout);
        free(text);
    }
    return y - top;
}

/* The signer's column: authority (KT. …), title, room for the signature and seal, name. */
static double s_signer(s_pdf_t *p, const report_doc_t *doc, double y, bool draw)
{
    const s_style_t bold = {S_CENTRED, 14, PANGO_WEIGHT_BOLD, PANGO_STYLE_NORMAL};
    double x = S_LEFT + S_HEADER_LEFT_W, w = S_TEXT_W - S_HEADER_LEFT_W, top = y;
    const char *lines[] = {doc->signer_authority, doc->signer_title, doc->signer_name};
    for (int i = 0; i < 3; i++) {
        if (!lines[i] || !*lines[i])
            continue;
        if (i == 2)
            y += S_SIGN_GAP;
        y += s_centred(p, &bold, lines[i], x, w, y, draw, NULL);
    }
    return y - top;
}

static void s_end(s_pdf_t *p, const report_doc_t *doc)
{
    /* the signature block goes with the closing paragraph: both on one page */
    double block = s_recipients(p, doc, 0, false);
    double signer = s_signer(p, doc, 0, false);
    if (signer > block)
        block = signer;
    PangoLayout *closing = s_layout(p, &S_BODY_STYLE, doc->closing ? doc->closing : "", S_TEXT_W);
    int w, h;
    pango_layout_get_size(closing, &w, &h);
    g_object_unref(closing);
    if (p->y + (double)h / PANGO_SCALE + S_SPACE_AFTER + block > S_PAGE_H - S_BOTTOM)
        s_new_page(p);
    s_paragraph(p, &S_BODY_STYLE, "", doc->closing);
    double y = p->y + 6.0;
    s_recipients(p, doc, y, true);
    s_signer(p, doc, y, true);
}

/* --- the file --- */

static cairo_status_t s_write(void *closure, const unsigned char *data, unsigned int length)
{
    report_buf_add(closure, (const char *)data, length);
    return CAIRO_STATUS_SUCCESS;
}

/* ASCII only: Ghostscript 10.0 cannot carry a non-ASCII DOCINFO string into the XMP of a
 * PDF/A and drops the whole DOCINFO; the codes say what the file is all the same. */
static void s_metadata(cairo_surface_t *surface, const report_doc_t *doc)
{
    char *title = report_sprintf("BC %s %04d-%02d%s%.0d", doc->agency_code ? doc->agency_code : "",
                                 doc->year, doc->month, doc->number > 0 ? " so " : "", doc->number);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR,
                                   doc->agency_code ? doc->agency_code : "");
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "sokhcn-report");
    free(title);
}

int report_render_pdf(const report_doc_t *doc, uint8_t **pdf, size_t *size, int *pages,
                      report_error_t *err)
{
    *pdf = NULL;
    *size = 0;
    report_buf_t out;
    report_buf_init(&out);
    s_pdf_t p = {.page = 1, .err = err};
    p.surface = cairo_pdf_surface_create_for_stream(s_write, &out, S_PAGE_W, S_PAGE_H);
    cairo_pdf_surface_restrict_to_version(p.surface, CAIRO_PDF_VERSION_1_5);
    s_metadata(p.surface, doc);
    p.cr = cairo_create(p.surface);
    cairo_set_source_rgb(p.cr, 0, 0, 0);
    s_header(&p, doc);
    s_body(&p, doc);
    s_end(&p, doc);
    cairo_show_page(p.cr);
    cairo_destroy(p.cr);
    cairo_surface_finish(p.surface);
    cairo_status_t status = cairo_surface_status(p.surface);
    cairo_surface_destroy(p.surface);
    if (!p.failed && status != CAIRO_STATUS_SUCCESS)
        report_error_set(err, "render", "cairo: %s", cairo_status_to_string(status));
    if (p.failed || status != CAIRO_STATUS_SUCCESS) {
        report_buf_free(&out);
        return -1;
    }
    *size = out.len;
    *pdf = (uint8_t *)report_buf_take(&out);
    *pages = p.page;
    return 0;
}
