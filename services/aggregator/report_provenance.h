/* Provenance of the office's draft (issue 13, part 2): where every item and every computed
 * figure of a compiled draft came from (unit, item key, revision, update id, commit time; the
 * months and values a year-to-date figure summed; the plan target of a percentage), which
 * items changed since the last compile with sources, which units sent nothing, and which
 * numbers were typed in the text where a computed figure belongs. Rendered into the draft's
 * JSON (always) and HTML (with --sources); a published version never carries any of it. */
#ifndef REPORT_PROVENANCE_H
#define REPORT_PROVENANCE_H

#include "report_assemble.h"
#include "report_db.h"

#include <stddef.h>

/* The typed-number rule. A word of an item's text or sub-item, as the unit wrote it (its
 * {placeholders} are computed, so they never count as typed), in the results (1.a) or the
 * limitations (1.b) (next tasks announce plans, which no indicator counts), is a typed number
 * when all three hold:
 *  1. stripped of the punctuation around it ( ( " ' before; , ; : . ) " ' ! ? after ), it is a
 *     number (digits, with '.' or ',' only between digits: 17, 1.250, 2,5) or a ratio N/M
 *     whose two sides are digits or placeholders, one of them at least typed (17/25,
 *     {ISO_KIEMTRA.ytd}/25); so "588/BC-SKHCN", "19/7/2018", "9001:2008" or "2017-2020" are
 *     neither;
 *  2. it is not a date: not a ratio M/YYYY with M from 1 to 12 (tháng 7/2018), and not right
 *     after the word "ngày", "tháng" or "năm";
 *  3. the words right after it begin with the measure of one of the agency's indicators (any
 *     comma-separated form of it: "đề tài" or "dự án" for "đề tài, dự án"): rule "measure";
 *     or with the head of an indicator's label (its first two words, "Cơ quan" of "Cơ quan
 *     hành chính được kiểm tra..."): rule "label". A ratio is also flagged when such a
 *     measure or label head begins within REPORT_TYPED_WINDOW_WORDS words before or after it.
 * Letters are compared without case (ASCII and the Vietnamese letters folded). Where several
 * indicators share the measure or head, the one named is the first whose plan target equals
 * the ratio's typed denominator (17/25 and a target of 25), else the first by code. */
#define REPORT_TYPED_WINDOW_WORDS 4

/* At most this many typed numbers, and this many changed items, are listed per compile (the
 * rest are counted): a month of thousands of items must not make a draft of megabytes. */
#define REPORT_PROVENANCE_LIST_MAX 200

/* At most this many items are listed per indicator and month under "indicators" (each month
 * keeps its full value and item_count): the per-paragraph figures list months only, so the
 * size of the sources grows with the items, never with items times figures. */
#define REPORT_PROVENANCE_ITEMS_PER_MONTH 50

typedef struct {
    size_t start, length;                 /* of the number, in bytes of the pattern */
    size_t context_start, context_length; /* a few words around it */
    const char *rule;                     /* "measure" or "label" */
    size_t indicator;                     /* index of the indicator it stands next to */
} report_typed_number_t;

/* Finds the typed numbers of one pattern (the rule above, steps 1 to 3) against the
 * indicators given, in the order they appear. Writes at most max into found and returns how
 * many there are (which may be more than max). */
size_t report_provenance_typed_numbers(const char *pattern,
                                       const report_compile_indicator_t *indicators,
                                       size_t indicator_count, report_typed_number_t *found,
                                       size_t max);

/* A new, empty provenance (aborts on out of memory, as report_util does). */
report_provenance_t *report_provenance_new(void);

/* Frees it; accepts NULL and sets *self_p to NULL. */
void report_provenance_destroy(report_provenance_t **self_p);

/* Reads what the database adds for the period of agency_code: the items changed since the
 * last compile with sources (and records this compile's item heads in compile_snapshots for
 * the next one), and every indicator value of the year to the month by month and by item.
 * 0, or -1 with the database's error left in db. */
int report_provenance_load(report_provenance_t *self, report_db_t *db, const char *agency_code,
                           int year, int month);

/* Completes it from the compile's input (the items' rows, the indicators' figures) and result
 * (the missing units): the sources of every item and of every figure it prints, and the typed
 * numbers. The input and the result stay the caller's. */
void report_provenance_take_input(report_provenance_t *self, const report_compile_input_t *in,
                                  const report_compiled_t *compiled);

/* Appends the sources of every item of the compile input, in its order, to the jansson array
 * into (the HTML rendering's notes come from them). */
struct json_t;
void report_provenance_item_sources(const report_provenance_t *self, struct json_t *into);

/* How many items changed since the last compile, and how many typed numbers were found. */
size_t report_provenance_changed_count(const report_provenance_t *self);
size_t report_provenance_typed_count(const report_provenance_t *self);

/* The draft as JSON (report_render_json) with, on every item, its "sources" object, and at the
 * top "missing_units", "changed_since_last_compile", "typed_numbers" and "indicators" (each
 * indicator's figures and its values month by month with the items they came from). A new
 * string the caller frees, or NULL when compiled has no sources. */
char *report_provenance_render_json(const report_compiled_t *compiled);

/* The draft as HTML (report_render_html) with every item's paragraphs showing their sources on
 * hover and click, and a block at the top with the missing units, the changed items and the
 * typed numbers (hidden in print). A new string the caller frees, or NULL when compiled has no
 * sources. */
char *report_provenance_render_html(const report_compiled_t *compiled);

#endif
