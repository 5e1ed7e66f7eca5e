/* The office's draft as HTML with its sources: the report as report_render_html lays it out,
 * every item's paragraphs carrying a note (unit, item key, revision, update id, commit time,
 * and each figure's months or plan) shown on hover and, by a few lines of inline script, on a
 * click; a block at the top lists the units missing, the items changed since the last compile
 * and the numbers typed in the text. No external resource; the block is hidden in print. */
#define _GNU_SOURCE
#include "report_provenance.h"
#include "report_doc.h"
#include "report_util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* A figure's line of a note: "{ISO_KIEMTRA.ytd} = 17 = tháng 1: 2 + tháng 3: 6 ...". */
static void s_note_figure(FILE *out, const json_t *f)
{
    fprintf(out, "\n{%s} = %s", s_str(f, "placeholder"), s_str(f, "text"));
    const json_t *months = json_object_get(f, "months");
    size_t i;
    const json_t *m;
    if (json_array_size(months))
        fputs(" =", out);
    json_array_foreach(months, i, m)
    {
        fprintf(out, "%s tháng %lld: %g", i ? " +" : "",
                (long long)json_integer_value(json_object_get(m, "month")),
                json_number_value(json_object_get(m, "value")));
    }
    if (!json_array_size(months) && strcmp(s_str(f, "field"), "plan") != 0)
        fputs(" (không có giá trị nào)", out);
    if (json_object_get(f, "plan"))
        fprintf(out, "; kế hoạch năm: %g", json_number_value(json_object_get(f, "plan")));
}

/* The note of an item, from its sources: plain text (the renderer escapes it). */
static char *s_note(const json_t *s)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = report_open_memstream(&buf, &size);
    fprintf(out, "Nguồn: %s · mục %s · lần sửa %lld · update %s · ghi nhận %s", s_str(s, "unit"),
            s_str(s, "item_key"), (long long)json_integer_value(json_object_get(s, "revision")),
            s_str(s, "update_id"), s_str(s, "committed_at"));
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(s, "numbers"), i, f) s_note_figure(out, f);
    if (fclose(out) != 0)
        report_out_of_memory(0);
    return buf;
}

/* Sets (sources given) or clears (NULL) the notes of items. */
static void s_notes(report_item_t *items, size_t count, const json_t *sources)
{
    for (size_t i = 0; items && i < count; i++) {
        free(items[i].note);
        items[i].note = NULL;
        const json_t *s =
            sources && items[i].source ? json_array_get(sources, items[i].source - 1) : NULL;
        if (s)
            items[i].note = s_note(s);
    }
}

static void s_doc_notes(report_doc_t *doc, const json_t *sources)
{
    for (size_t i = 0; doc->areas && i < doc->area_count; i++)
        s_notes(doc->areas[i].items, doc->areas[i].item_count, sources);
    s_notes(doc->limitations, doc->limitation_count, sources);
    s_notes(doc->next_tasks, doc->next_task_count, sources);
}

static const char s_style[] =
    "<style>\n"
    ".src { cursor: help; }\n"
    ".src:hover, .src:focus { background: #fff3c4; outline: none; }\n"
    ".sources { font-family: sans-serif; font-size: 11pt; border: 1px solid #c90;\n"
    "  background: #fffbea; padding: 3mm 5mm; margin-bottom: 8mm; }\n"
    ".sources h2 { font-size: 13pt; margin: 0 0 2mm 0; text-align: left; }\n"
    ".sources p { font-size: 11pt; text-indent: 0; text-align: left; }\n"
    ".sources .none { color: #080; }\n"
    ".sources .flag { color: #b00; }\n"
    "#src-detail { position: fixed; left: 0; right: 0; bottom: 0; white-space: pre-wrap;\n"
    "  background: #ffe; border-top: 2px solid #c90; padding: 2mm 5mm; font: 10pt sans-serif; }\n"
    "@media print { .sources, #src-detail { display: none; } }\n"
    "</style>\n"
    "<script>\n"
    "function showSource(p) {\n"
    "  var d = document.getElementById('src-detail');\n"
    "  if (!d) return;\n"
    "  if (p) { d.textContent = p.title; d.hidden = false; } else { d.hidden = true; }\n"
    "}\n"
    "document.addEventListener('click', function (e) {\n"
    "  showSource(e.target.closest ? e.target.closest('.src') : null);\n"
    "});\n"
    "/* draft.html#src-N opens the sources of the compile's item N, as a click on it would */\n"
    "window.addEventListener('DOMContentLoaded', function () {\n"
    "  var m = /^#src-([0-9]+)$/.exec(location.hash);\n"
    "  if (m) showSource(document.querySelector('.src[data-item=\"' + m[1] + '\"]'));\n"
    "});\n"
    "</script>\n";

/* A list of the block: heading with its count, then one line per element (line writes one),
 * or the text for none. */
static void s_block_list(FILE *out, const char *css, const char *heading, const json_t *list,
                         const char *none, void (*line)(FILE *, const json_t *))
{
    size_t n = json_array_size(list);
    fprintf(out, "<div class=\"%s\"><b>", css);
    report_render_html_escape(out, heading);
    fprintf(out, " (%zu)</b>", n);
    if (n == 0) {
        fputs(": <span class=\"none\">", out);
        report_render_html_escape(out, none);
        fputs("</span></div>\n", out);
        return;
    }
    fputs("<ul>\n", out);
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        fputs("<li>", out);
        line(out, e);
        fputs("</li>\n", out);
    }
    fputs("</ul></div>\n", out);
}

static void s_missing_line(FILE *out, const json_t *e)
{
    report_render_html_escape(out, s_str(e, "unit"));
    fputs(" — ", out);
    report_render_html_escape(out, s_str(e, "name"));
}

static void s_changed_line(FILE *out, const json_t *e)
{
    const char *change = s_str(e, "change");
    const char *word = !strcmp(change, "new")         ? "mới"
                       : !strcmp(change, "withdrawn") ? "rút lại"
                                                      : "đã sửa";
    report_render_html_escape(out, s_str(e, "unit"));
    fputs(" · ", out);
    report_render_html_escape(out, s_str(e, "item_key"));
    fprintf(out, ": %s (%s), lần sửa %lld", word, change,
            (long long)json_integer_value(json_object_get(e, "revision")));
    const json_t *prev = json_object_get(e, "previous_revision");
    if (json_is_integer(prev))
        fprintf(out, " (trước: %lld)", (long long)json_integer_value(prev));
}

static void s_typed_line(FILE *out, const json_t *e)
{
    fputs("<span class=\"flag\">“", out);
    report_render_html_escape(out, s_str(e, "text"));
    fputs("”</span> — ", out);
    report_render_html_escape(out, s_str(e, "unit"));
    fputs(" · ", out);
    report_render_html_escape(out, s_str(e, "item_key"));
    fputs(": «", out);
    report_render_html_escape(out, s_str(e, "context"));
    fputs("» cạnh chỉ tiêu ", out);
    report_render_html_escape(out, s_str(e, "indicator"));
    fprintf(out, " (%s): một số liệu nên là {%s…}", s_str(e, "rule"), s_str(e, "indicator"));
}

/* The block at the top of the body, from the JSON rendering's fields. */
static void s_block(FILE *out, const json_t *root)
{
    const json_t *changed = json_object_get(root, "changed_since_last_compile");
    const char *since = s_str(changed, "last_compiled_at");
    fputs("<section class=\"sources\" id=\"sources\">\n<h2>Nguồn của bản dự thảo</h2>\n", out);
    s_block_list(out, "missing-units", "Đơn vị chưa gửi báo cáo",
                 json_object_get(root, "missing_units"), "tất cả đơn vị đã gửi", s_missing_line);
    char *heading = *since ? report_sprintf("Mục thay đổi từ lần tổng hợp trước, %s", since)
                           : report_strdup("Mục thay đổi: lần tổng hợp đầu tiên có nguồn");
    s_block_list(out, "changed-items", heading, json_object_get(changed, "items"),
                 "không có gì thay đổi", s_changed_line);
    free(heading);
    s_block_list(out, "typed-numbers", "Số gõ tay cạnh một chỉ tiêu",
                 json_object_get(root, "typed_numbers"), "không có", s_typed_line);
    fputs("<p>Di chuột hoặc bấm vào một đoạn để xem nguồn của đoạn và của từng số.</p>\n"
          "</section>\n<div id=\"src-detail\" hidden></div>\n",
          out);
}

/* html with extra inserted before the first occurrence of marker. */
static char *s_insert(char *html, const char *marker, const char *extra)
{
    char *at = strstr(html, marker);
    if (!at)
        return html;
    char *out = report_sprintf("%.*s%s%s", (int)(at - html), html, extra, at);
    free(html);
    return out;
}

char *report_provenance_render_html(const report_compiled_t *compiled)
{
    char *json = report_provenance_render_json(compiled);
    json_t *root = json ? json_loads(json, 0, NULL) : NULL;
    free(json);
    if (!root)
        return NULL;
    json_t *sources = json_array();
    /* the block shows what the JSON says; the notes come from the same trees */
    report_provenance_item_sources(compiled->sources, sources);
    s_doc_notes(compiled->doc, sources);
    char *html = report_render_html(compiled->doc);
    s_doc_notes(compiled->doc, NULL);
    json_decref(sources);
    char *block = NULL;
    size_t size = 0;
    FILE *out = report_open_memstream(&block, &size);
    s_block(out, root);
    if (fclose(out) != 0)
        report_out_of_memory(0);
    json_decref(root);
    html = s_insert(html, "</head>", s_style);
    html = s_insert(html, "<table class=\"header\">", block);
    free(block);
    return html;
}
