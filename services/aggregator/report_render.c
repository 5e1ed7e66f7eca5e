/* The four renderings of a compiled report_doc_t: plain text (the golden reference layout),
 * Markdown, a standalone printable HTML page (the layout table of docs/report-format.md) and
 * JSON. Renderers only lay the document out; every number and date in it was formatted by
 * the aggregator already. */
#define _POSIX_C_SOURCE 200809L

#include "report_doc.h"
#include "report_util.h"

#include <assert.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -------------------------------------------------------------------------------------------
 * The document itself */

report_doc_t *report_doc_new(void)
{
    return report_calloc(1, sizeof(report_doc_t));
}

static void s_strings_free(char **strings, size_t count)
{
    if (strings == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
}

static void s_items_free(report_item_t *items, size_t count)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        free(items[i].text);
        free(items[i].note);
        s_strings_free(items[i].sub_items, items[i].sub_item_count);
    }
    free(items);
}

void report_doc_destroy(report_doc_t **self_p)
{
    assert(self_p);
    report_doc_t *self = *self_p;
    if (self == NULL)
        return;
    free(self->parent_authority);
    free(self->agency_name);
    free(self->number_line);
    free(self->motto);
    free(self->motto_sub);
    free(self->place_date);
    free(self->doc_type);
    free(self->summary);
    free(self->intro);
    free(self->section1_heading);
    free(self->section1a_heading);
    free(self->section1a_intro);
    if (self->areas) {
        for (size_t i = 0; i < self->area_count; i++) {
            free(self->areas[i].lead_in);
            s_items_free(self->areas[i].items, self->areas[i].item_count);
        }
        free(self->areas);
    }
    free(self->section1b_heading);
    s_items_free(self->limitations, self->limitation_count);
    free(self->section2_heading);
    free(self->section2_intro);
    s_items_free(self->next_tasks, self->next_task_count);
    free(self->closing);
    free(self->recipients_heading);
    s_strings_free(self->recipients, self->recipient_count);
    free(self->signer_authority);
    free(self->signer_title);
    free(self->signer_name);
    free(self->agency_code);
    free(self->organ_id);
    free(self->doc_date);
    free(self);
    *self_p = NULL;
}

/* -------------------------------------------------------------------------------------------
 * Shared helpers. Every renderer writes to a memory stream: it grows as needed, and one error
 * check at the end covers every write, instead of a length check after each append. */

static bool s_is_set(const char *text)
{
    return text != NULL && text[0] != '\0';
}

static const char *s_or_empty(const char *text)
{
    return text ? text : "";
}

/* An area the units sent nothing for is left out, not printed empty. */
static bool s_area_is_printed(const report_area_t *area)
{
    return area->items != NULL && area->item_count > 0;
}

/* Closes the stream and hands over its buffer (a write to a memory stream fails only when it
 * runs out of memory, which aborts). */
static char *s_stream_finish(FILE *out, char **buffer_p)
{
    /* a memory stream fails only when it cannot grow */
    bool failed = ferror(out) != 0;
    if (fclose(out) != 0 || failed)
        report_out_of_memory(0);
    return *buffer_p;
}

typedef void(s_writer_fn)(FILE *out, const report_doc_t *doc);

static char *s_render(const report_doc_t *doc, s_writer_fn *writer)
{
    assert(doc);
    char *buffer = NULL;
    size_t size = 0;
    FILE *out = report_open_memstream(&buffer, &size);
    writer(out, doc);
    return s_stream_finish(out, &buffer);
}

/* -------------------------------------------------------------------------------------------
 * Plain text: the layout of the golden reference. Every paragraph, bullet included, is
 * followed by a blank line; only the recipients are one per line without blank lines. */

/* Prints a paragraph and its blank line; an empty paragraph prints nothing at all. */
static void s_text_paragraph(FILE *out, const char *prefix, const char *text)
{
    if (!s_is_set(text))
        return;
    fprintf(out, "%s%s\n\n", prefix, text);
}

/* Prints lines without blank lines between them, then one blank line if any was printed,
 * so a header column whose fields are all empty leaves no trace. */
static void s_text_block(FILE *out, const char *const *lines, size_t count)
{
    bool printed = false;
    for (size_t i = 0; i < count; i++) {
        if (s_is_set(lines[i])) {
            fprintf(out, "%s\n", lines[i]);
            printed = true;
        }
    }
    if (printed)
        fputc('\n', out);
}

static void s_text_sub_items(FILE *out, const char *bullet, const report_item_t *item)
{
    if (item->sub_items == NULL)
        return;
    for (size_t i = 0; i < item->sub_item_count; i++)
        s_text_paragraph(out, bullet, item->sub_items[i]);
}

static void s_text_items(FILE *out, const char *bullet, const char *sub_bullet,
                         const report_item_t *items, size_t count)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        s_text_paragraph(out, bullet, items[i].text);
        s_text_sub_items(out, sub_bullet, &items[i]);
    }
}

/* One area of section 1.a. A single item joins its lead-in on one bullet ("- Về công tác
 * thanh tra: tổ chức …"); several items hang as "+ " bullets under the lead-in line. Third
 * level (sub-items of those) gets "  * ", indented so it cannot be taken for a new "+". */
static void s_text_area(FILE *out, const report_area_t *area)
{
    const report_item_t *items = area->items;
    if (!s_is_set(area->lead_in))
        s_text_items(out, "- ", "+ ", items, area->item_count);
    else if (area->item_count == 1) {
        if (s_is_set(items[0].text))
            fprintf(out, "- %s %s\n\n", area->lead_in, items[0].text);
        else
            fprintf(out, "- %s\n\n", area->lead_in);
        s_text_sub_items(out, "+ ", &items[0]);
    } else {
        fprintf(out, "- %s\n\n", area->lead_in);
        s_text_items(out, "+ ", "  * ", items, area->item_count);
    }
}

static void s_text_write(FILE *out, const report_doc_t *doc)
{
    /* The two header columns, left first. In the reference the number line is followed by a
     * blank line and then the place-date line, so each column is one block. */
    const char *left[] = {doc->parent_authority, doc->agency_name, doc->number_line};
    const char *right[] = {doc->motto, doc->motto_sub, doc->place_date};
    s_text_block(out, left, 3);
    s_text_block(out, right, 3);

    s_text_paragraph(out, "", doc->doc_type);
    s_text_paragraph(out, "", doc->summary);
    s_text_paragraph(out, "", doc->intro);
    s_text_paragraph(out, "", doc->section1_heading);
    s_text_paragraph(out, "", doc->section1a_heading);
    s_text_paragraph(out, "", doc->section1a_intro);
    for (size_t i = 0; doc->areas && i < doc->area_count; i++)
        if (s_area_is_printed(&doc->areas[i]))
            s_text_area(out, &doc->areas[i]);

    /* 1.b only exists when there is something to report under it; section 2 always does. */
    if (doc->limitations && doc->limitation_count > 0) {
        s_text_paragraph(out, "", doc->section1b_heading);
        s_text_items(out, "- ", "+ ", doc->limitations, doc->limitation_count);
    }
    s_text_paragraph(out, "", doc->section2_heading);
    s_text_paragraph(out, "", doc->section2_intro);
    s_text_items(out, "- ", "+ ", doc->next_tasks, doc->next_task_count);
    s_text_paragraph(out, "", doc->closing);

    size_t recipient_count = doc->recipients ? doc->recipient_count : 0;
    s_text_paragraph(out, "", doc->recipients_heading);
    for (size_t i = 0; i < recipient_count; i++)
        fprintf(out, "- %s%s\n", s_or_empty(doc->recipients[i]),
                i + 1 < recipient_count ? ";" : ".");
    if (recipient_count > 0)
        fputc('\n', out);

    if (s_is_set(doc->signer_authority))
        fprintf(out, "%s\n", doc->signer_authority);
    fprintf(out, "%s\n\n", s_or_empty(doc->signer_title));
    fprintf(out, "%s\n", s_or_empty(doc->signer_name));
}

char *report_render_text(const report_doc_t *doc)
{
    return s_render(doc, s_text_write);
}

/* -------------------------------------------------------------------------------------------
 * Markdown (CommonMark): headings for the document type and sections, tight lists for the
 * bullets. The text is escaped so that a '*' or '_' in a unit's item stays a character and
 * an item that happens to start with "1." or "-" does not turn into a list. */

/* Writes text as inline Markdown. A newline inside an item would end the list item it sits
 * in, so it becomes a space. At the start of a block, characters that would open a heading,
 * quote, list or thematic break are escaped too. */
static void s_md_text(FILE *out, const char *text, bool at_block_start)
{
    const char *p = s_or_empty(text);
    if (at_block_start) {
        size_t digits = strspn(p, "0123456789");
        if (digits > 0 && (p[digits] == '.' || p[digits] == ')')) {
            fwrite(p, 1, digits, out);
            fputc('\\', out);
            p += digits;
        } else if (*p == '+' || *p == '-' || *p == '=')
            fputc('\\', out);
    }
    for (; *p; p++) {
        if (strchr("\\`*_[]<>#|", *p))
            fputc('\\', out);
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, out);
    }
}

/* "prefix" + escaped text + "suffix", skipped entirely when text is empty. Only text that
 * opens the block itself needs the block-start escapes: "## 1. Kết quả" is a heading. */
static void s_md_block(FILE *out, const char *prefix, const char *text, const char *suffix)
{
    if (!s_is_set(text))
        return;
    fputs(prefix, out);
    s_md_text(out, text, prefix[0] == '\0');
    fputs(suffix, out);
}

static void s_md_list(FILE *out, const char *indent, const report_item_t *items, size_t count)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        fprintf(out, "%s- ", indent);
        s_md_text(out, items[i].text, true);
        fputc('\n', out);
        for (size_t j = 0; items[i].sub_items && j < items[i].sub_item_count; j++) {
            fprintf(out, "%s  - ", indent);
            s_md_text(out, items[i].sub_items[j], true);
            fputc('\n', out);
        }
    }
}

static void s_md_area(FILE *out, const report_area_t *area)
{
    const report_item_t *items = area->items;
    if (!s_is_set(area->lead_in)) {
        s_md_list(out, "", items, area->item_count);
        return;
    }
    fputs("- ", out);
    s_md_text(out, area->lead_in, true);
    if (area->item_count == 1) {
        if (s_is_set(items[0].text)) {
            fputc(' ', out);
            s_md_text(out, items[0].text, false);
        }
        fputc('\n', out);
        for (size_t j = 0; items[0].sub_items && j < items[0].sub_item_count; j++) {
            fputs("  - ", out);
            s_md_text(out, items[0].sub_items[j], true);
            fputc('\n', out);
        }
    } else {
        fputc('\n', out);
        s_md_list(out, "  ", items, area->item_count);
    }
}

/* Header lines end in two spaces, the hard line break every Markdown dialect knows. */
static void s_md_header_column(FILE *out, const char *const *lines, const char *const *styles,
                               size_t count)
{
    bool printed = false;
    for (size_t i = 0; i < count; i++) {
        if (!s_is_set(lines[i]))
            continue;
        if (printed)
            fputs("  \n", out);
        fputs(styles[i], out);
        s_md_text(out, lines[i], styles[i][0] == '\0');
        fputs(styles[i], out);
        printed = true;
    }
    if (printed)
        fputs("\n\n", out);
}

static void s_md_write(FILE *out, const report_doc_t *doc)
{
    const char *left[] = {doc->parent_authority, doc->agency_name, doc->number_line};
    const char *left_styles[] = {"", "**", ""};
    const char *right[] = {doc->motto, doc->motto_sub, doc->place_date};
    const char *right_styles[] = {"**", "**", "*"};
    s_md_header_column(out, left, left_styles, 3);
    s_md_header_column(out, right, right_styles, 3);

    s_md_block(out, "# ", doc->doc_type, "\n\n");
    s_md_block(out, "**", doc->summary, "**\n\n");
    s_md_block(out, "", doc->intro, "\n\n");
    s_md_block(out, "## ", doc->section1_heading, "\n\n");
    s_md_block(out, "### ", doc->section1a_heading, "\n\n");
    s_md_block(out, "", doc->section1a_intro, "\n\n");
    bool listed = false;
    for (size_t i = 0; doc->areas && i < doc->area_count; i++) {
        if (s_area_is_printed(&doc->areas[i])) {
            s_md_area(out, &doc->areas[i]);
            listed = true;
        }
    }
    if (listed)
        fputc('\n', out);

    if (doc->limitations && doc->limitation_count > 0) {
        s_md_block(out, "### ", doc->section1b_heading, "\n\n");
        s_md_list(out, "", doc->limitations, doc->limitation_count);
        fputc('\n', out);
    }
    s_md_block(out, "## ", doc->section2_heading, "\n\n");
    s_md_block(out, "", doc->section2_intro, "\n\n");
    if (doc->next_tasks && doc->next_task_count > 0) {
        s_md_list(out, "", doc->next_tasks, doc->next_task_count);
        fputc('\n', out);
    }
    s_md_block(out, "", doc->closing, "\n\n");

    size_t recipient_count = doc->recipients ? doc->recipient_count : 0;
    s_md_block(out, "***", doc->recipients_heading, "***\n\n");
    for (size_t i = 0; i < recipient_count; i++) {
        fputs("- ", out);
        s_md_text(out, doc->recipients[i], true);
        fputs(i + 1 < recipient_count ? ";\n" : ".\n", out);
    }
    if (recipient_count > 0)
        fputc('\n', out);

    s_md_block(out, "**", doc->signer_authority, "**  \n");
    s_md_block(out, "**", doc->signer_title, "**\n\n");
    s_md_block(out, "**", doc->signer_name, "**\n");
}

char *report_render_markdown(const report_doc_t *doc)
{
    return s_render(doc, s_md_write);
}

/* -------------------------------------------------------------------------------------------
 * HTML: one standalone, printable A4 page following the layout table of report-format.md.
 * No script and no external resource, so the file prints the same offline, years later (the
 * office's draft with its sources adds its notes and a few lines of script around this:
 * report_provenance_html.c). */

void report_render_html_escape(FILE *out, const char *text)
{
    for (const char *p = s_or_empty(text); *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*p, out);
        }
    }
}

/* <tag class="css_class">text</tag> and a newline; nothing when text is empty. */
static void s_html_element(FILE *out, const char *tag, const char *css_class, const char *text)
{
    if (!s_is_set(text))
        return;
    if (s_is_set(css_class))
        fprintf(out, "<%s class=\"%s\">", tag, css_class);
    else
        fprintf(out, "<%s>", tag);
    report_render_html_escape(out, text);
    fprintf(out, "</%s>\n", tag);
}

/* "<p>", or for an item with a note (the office's draft with sources) a paragraph that shows
 * the note on hover and, with the draft's script, on a click. */
static void s_html_open(FILE *out, const report_item_t *item)
{
    if (!item || !item->note) {
        fputs("<p>", out);
        return;
    }
    fprintf(out, "<p class=\"src\" data-item=\"%zu\" tabindex=\"0\" title=\"", item->source);
    report_render_html_escape(out, item->note);
    fputs("\">", out);
}

/* A bullet paragraph: the dash or plus is text, as in the signed document, not a list
 * marker, so the paragraph keeps the body's justified first-line indent. */
static void s_html_bullet(FILE *out, const char *bullet, const char *text,
                          const report_item_t *item)
{
    s_html_open(out, item);
    fputs(bullet, out);
    report_render_html_escape(out, text);
    fputs("</p>\n", out);
}

static void s_html_items(FILE *out, const char *bullet, const char *sub_bullet,
                         const report_item_t *items, size_t count)
{
    for (size_t i = 0; items && i < count; i++) {
        s_html_bullet(out, bullet, items[i].text, &items[i]);
        for (size_t j = 0; items[i].sub_items && j < items[i].sub_item_count; j++)
            s_html_bullet(out, sub_bullet, items[i].sub_items[j], &items[i]);
    }
}

static void s_html_area(FILE *out, const report_area_t *area)
{
    const report_item_t *items = area->items;
    if (!s_is_set(area->lead_in))
        s_html_items(out, "- ", "+ ", items, area->item_count);
    else if (area->item_count == 1) {
        s_html_open(out, &items[0]);
        fputs("- ", out);
        report_render_html_escape(out, area->lead_in);
        if (s_is_set(items[0].text)) {
            fputc(' ', out);
            report_render_html_escape(out, items[0].text);
        }
        fputs("</p>\n", out);
        for (size_t j = 0; items[0].sub_items && j < items[0].sub_item_count; j++)
            s_html_bullet(out, "+ ", items[0].sub_items[j], &items[0]);
    } else {
        s_html_bullet(out, "- ", area->lead_in, NULL);
        s_html_items(out, "+ ", "* ", items, area->item_count);
    }
}

/* Sizes and styles are those of the layout table (Nghị định 30/2020/NĐ-CP, Phụ lục I). */
static const char s_html_style[] =
    "<style>\n"
    "/* Page numbers from page 2 on, centred in the top margin. Page-margin boxes are printed\n"
    "   by WeasyPrint, Prince, Paged.js and Chromium 131+; other browsers ignore them and\n"
    "   print no number. */\n"
    "@page {\n"
    "  size: A4;\n"
    "  margin: 20mm 15mm 20mm 30mm;\n"
    "  @top-center {\n"
    "    content: counter(page);\n"
    "    font-family: \"Times New Roman\", \"Liberation Serif\", serif;\n"
    "    font-size: 13pt;\n"
    "  }\n"
    "}\n"
    "@page :first {\n"
    "  @top-center { content: none; }\n"
    "}\n"
    "html { background: #fff; }\n"
    "body {\n"
    "  font-family: \"Times New Roman\", \"Liberation Serif\", serif;\n"
    "  font-size: 14pt;\n"
    "  line-height: 1.3;\n"
    "  color: #000;\n"
    "  margin: 0;\n"
    "}\n"
    "/* On screen, show the A4 text block; in print the @page margins do that. */\n"
    "@media screen {\n"
    "  body { max-width: 165mm; margin: 20mm auto; padding: 0 15mm 0 30mm; }\n"
    "}\n"
    "table.header, table.footer { width: 100%; border-collapse: collapse; border: none; }\n"
    "table.header td, table.footer td { border: none; padding: 0; vertical-align: top; }\n"
    "/* No fixed column widths: each column gets at least its longest line (the agency name\n"
    "   and the motto fit on one line each on A4) and a long agency name wraps by itself. */\n"
    "table.header td { text-align: center; }\n"
    ".parent-authority { font-size: 13pt; text-transform: uppercase; }\n"
    ".agency { font-size: 13pt; font-weight: bold; text-transform: uppercase; }\n"
    "/* The rule under the agency: a third of the name's width, centred under it. */\n"
    ".agency span { display: inline-block; }\n"
    ".agency span::after {\n"
    "  content: \"\"; display: block; width: 33%; margin: 2pt auto 0;\n"
    "  border-top: 1px solid #000;\n"
    "}\n"
    ".number { font-size: 13pt; white-space: pre-wrap; padding-top: 6pt; }\n"
    ".motto { font-size: 12pt; font-weight: bold; text-transform: uppercase; }\n"
    "/* The rule under the motto: exactly as long as the line. */\n"
    ".motto-sub { font-size: 14pt; font-weight: bold; }\n"
    ".motto-sub span { display: inline-block; border-bottom: 1px solid #000; }\n"
    ".place-date { font-size: 14pt; font-style: italic; padding-top: 6pt; }\n"
    "h1.doc-type, p.summary {\n"
    "  font-size: 14pt; font-weight: bold; text-align: center; text-indent: 0;\n"
    "}\n"
    "h1.doc-type { text-transform: uppercase; margin: 18pt 0 0; }\n"
    "p.summary { margin: 0 0 12pt; }\n"
    "p, h2, h3 {\n"
    "  font-size: 14pt; text-align: justify; text-indent: 1.27cm; margin: 0 0 6pt;\n"
    "}\n"
    "h2, h3 { font-weight: bold; }\n"
    "table.footer { margin-top: 12pt; page-break-inside: avoid; break-inside: avoid; }\n"
    "table.footer td.recipients { width: 50%; font-size: 11pt; }\n"
    ".recipients-heading { font-size: 12pt; font-weight: bold; font-style: italic; }\n"
    "table.footer td.signer { width: 50%; text-align: center; font-size: 14pt;\n"
    "  font-weight: bold; }\n"
    ".signer-title { text-transform: uppercase; }\n"
    ".signature-space { height: 25mm; }\n"
    "</style>\n";

static void s_html_write(FILE *out, const report_doc_t *doc)
{
    fputs("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n", out);
    fputs("<title>", out);
    report_render_html_escape(out, doc->doc_type);
    if (s_is_set(doc->doc_type) && s_is_set(doc->summary))
        fputs(" - ", out);
    report_render_html_escape(out, doc->summary);
    fputs("</title>\n", out);
    fputs(s_html_style, out);
    fputs("</head>\n<body>\n", out);

    /* Two rows, so that "Số: …" and the place-date line share a baseline as on the form. */
    fputs("<table class=\"header\">\n<tr>\n<td class=\"left\">\n", out);
    s_html_element(out, "div", "parent-authority", doc->parent_authority);
    if (s_is_set(doc->agency_name)) {
        fputs("<div class=\"agency\"><span>", out);
        report_render_html_escape(out, doc->agency_name);
        fputs("</span></div>\n", out);
    }
    fputs("</td>\n<td class=\"right\">\n", out);
    s_html_element(out, "div", "motto", doc->motto);
    if (s_is_set(doc->motto_sub)) {
        fputs("<div class=\"motto-sub\"><span>", out);
        report_render_html_escape(out, doc->motto_sub);
        fputs("</span></div>\n", out);
    }
    fputs("</td>\n</tr>\n<tr>\n<td class=\"left\">\n", out);
    s_html_element(out, "div", "number", doc->number_line);
    fputs("</td>\n<td class=\"right\">\n", out);
    s_html_element(out, "div", "place-date", doc->place_date);
    fputs("</td>\n</tr>\n</table>\n", out);

    s_html_element(out, "h1", "doc-type", doc->doc_type);
    s_html_element(out, "p", "summary", doc->summary);
    s_html_element(out, "p", NULL, doc->intro);
    s_html_element(out, "h2", NULL, doc->section1_heading);
    s_html_element(out, "h3", NULL, doc->section1a_heading);
    s_html_element(out, "p", NULL, doc->section1a_intro);
    for (size_t i = 0; doc->areas && i < doc->area_count; i++)
        if (s_area_is_printed(&doc->areas[i]))
            s_html_area(out, &doc->areas[i]);
    if (doc->limitations && doc->limitation_count > 0) {
        s_html_element(out, "h3", NULL, doc->section1b_heading);
        s_html_items(out, "- ", "+ ", doc->limitations, doc->limitation_count);
    }
    s_html_element(out, "h2", NULL, doc->section2_heading);
    s_html_element(out, "p", NULL, doc->section2_intro);
    s_html_items(out, "- ", "+ ", doc->next_tasks, doc->next_task_count);
    s_html_element(out, "p", NULL, doc->closing);

    fputs("<table class=\"footer\">\n<tr>\n<td class=\"recipients\">\n", out);
    s_html_element(out, "div", "recipients-heading", doc->recipients_heading);
    size_t recipient_count = doc->recipients ? doc->recipient_count : 0;
    for (size_t i = 0; i < recipient_count; i++) {
        fputs("<div>- ", out);
        report_render_html_escape(out, doc->recipients[i]);
        fputs(i + 1 < recipient_count ? ";</div>\n" : ".</div>\n", out);
    }
    fputs("</td>\n<td class=\"signer\">\n", out);
    s_html_element(out, "div", "signer-title", doc->signer_authority);
    s_html_element(out, "div", "signer-title", doc->signer_title);
    fputs("<div class=\"signature-space\"></div>\n", out);
    s_html_element(out, "div", "signer-name", doc->signer_name);
    fputs("</td>\n</tr>\n</table>\n</body>\n</html>\n", out);
}

char *report_render_html(const report_doc_t *doc)
{
    return s_render(doc, s_html_write);
}

/* -------------------------------------------------------------------------------------------
 * JSON: the whole document and its metadata, for archives and other systems, built as a
 * jansson tree (members in the order set) and written with a 2-space indent. UTF-8 passes
 * through unchanged: the strings were validated as UTF-8 on the way in. */

/* A JSON string of text ("" for NULL; jansson refuses invalid UTF-8, which cannot reach us). */
static json_t *s_json_str(const char *text)
{
    json_t *v = json_string(s_or_empty(text));
    return v ? v : json_string("");
}

static json_t *s_json_items(const report_item_t *items, size_t count)
{
    json_t *list = json_array();
    for (size_t i = 0; items && i < count; i++) {
        json_t *subs = json_array();
        for (size_t j = 0; items[i].sub_items && j < items[i].sub_item_count; j++)
            json_array_append_new(subs, s_json_str(items[i].sub_items[j]));
        json_t *item = json_object();
        json_object_set_new(item, "text", s_json_str(items[i].text));
        json_object_set_new(item, "sub_items", subs);
        json_array_append_new(list, item);
    }
    return list;
}

static json_t *s_json_header(const report_doc_t *doc)
{
    json_t *h = json_object();
    json_object_set_new(h, "parent_authority", s_json_str(doc->parent_authority));
    json_object_set_new(h, "agency_name", s_json_str(doc->agency_name));
    json_object_set_new(h, "number_line", s_json_str(doc->number_line));
    json_object_set_new(h, "motto", s_json_str(doc->motto));
    json_object_set_new(h, "motto_sub", s_json_str(doc->motto_sub));
    json_object_set_new(h, "place_date", s_json_str(doc->place_date));
    return h;
}

static json_t *s_json_sections(const report_doc_t *doc)
{
    json_t *areas = json_array();
    for (size_t i = 0; doc->areas && i < doc->area_count; i++) {
        if (!s_area_is_printed(&doc->areas[i]))
            continue;
        json_t *area = json_object();
        json_object_set_new(area, "lead_in", s_json_str(doc->areas[i].lead_in));
        json_object_set_new(area, "items",
                            s_json_items(doc->areas[i].items, doc->areas[i].item_count));
        json_array_append_new(areas, area);
    }
    json_t *plan = json_object();
    json_object_set_new(plan, "heading", s_json_str(doc->section1a_heading));
    json_object_set_new(plan, "intro", s_json_str(doc->section1a_intro));
    json_object_set_new(plan, "areas", areas);
    json_t *limits = json_object();
    json_object_set_new(limits, "heading", s_json_str(doc->section1b_heading));
    json_object_set_new(limits, "items", s_json_items(doc->limitations, doc->limitation_count));
    json_t *results = json_object();
    json_object_set_new(results, "heading", s_json_str(doc->section1_heading));
    json_object_set_new(results, "plan_tasks", plan);
    json_object_set_new(results, "limitations", limits);
    json_t *next = json_object();
    json_object_set_new(next, "heading", s_json_str(doc->section2_heading));
    json_object_set_new(next, "intro", s_json_str(doc->section2_intro));
    json_object_set_new(next, "items", s_json_items(doc->next_tasks, doc->next_task_count));
    json_t *sections = json_object();
    json_object_set_new(sections, "results", results);
    json_object_set_new(sections, "next_tasks", next);
    return sections;
}

char *report_render_json(const report_doc_t *doc)
{
    json_t *root = json_object();
    json_object_set_new(root, "agency_code", s_json_str(doc->agency_code));
    json_object_set_new(root, "organ_id", s_json_str(doc->organ_id));
    json_object_set_new(root, "year", json_integer(doc->year));
    json_object_set_new(root, "month", json_integer(doc->month));
    json_object_set_new(root, "number", json_integer(doc->number));
    json_object_set_new(root, "version", json_integer(doc->version));
    json_object_set_new(root, "doc_date", s_json_str(doc->doc_date));
    json_object_set_new(root, "header", s_json_header(doc));
    json_object_set_new(root, "doc_type", s_json_str(doc->doc_type));
    json_object_set_new(root, "summary", s_json_str(doc->summary));
    json_object_set_new(root, "intro", s_json_str(doc->intro));
    json_object_set_new(root, "sections", s_json_sections(doc));
    json_object_set_new(root, "closing", s_json_str(doc->closing));
    json_object_set_new(root, "recipients_heading", s_json_str(doc->recipients_heading));
    json_t *recipients = json_array();
    for (size_t i = 0; doc->recipients && i < doc->recipient_count; i++)
        json_array_append_new(recipients, s_json_str(doc->recipients[i]));
    json_object_set_new(root, "recipients", recipients);
    json_t *signer = json_object();
    json_object_set_new(signer, "authority", s_json_str(doc->signer_authority));
    json_object_set_new(signer, "title", s_json_str(doc->signer_title));
    json_object_set_new(signer, "name", s_json_str(doc->signer_name));
    json_object_set_new(root, "signer", signer);
    char *body = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!body)
        return NULL;
    char *out = report_sprintf("%s\n", body); /* a text file ends with a newline */
    free(body);
    return out;
}
