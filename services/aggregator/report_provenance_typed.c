/* The typed-number rule of the office's draft (report_provenance.h): numbers a unit typed in
 * its text next to an indicator's measure or label, where a computed {placeholder} belongs.
 * Pure string work on one pattern, so a test drives every edge of the rule directly. */
#include "report_provenance.h"
#include "report_util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- letters without case --- */

/* The next code point of s (advancing *s), or the byte itself when s is not UTF-8 there. */
static uint32_t s_next_cp(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    uint32_t cp = p[0];
    size_t n = 1;
    if (p[0] >= 0xC0 && p[0] < 0xE0 && (p[1] & 0xC0) == 0x80) {
        cp = ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
        n = 2;
    } else if (p[0] >= 0xE0 && p[0] < 0xF0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
        cp = ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        n = 3;
    }
    *s += n;
    return cp;
}

/* The small letter of cp for ASCII and every letter of Vietnamese (NFC): Latin-1, Latin
 * Extended-A (Ă Đ Ĩ Ũ), Ơ and Ư, and Latin Extended Additional (Ạ ... Ỹ), where capitals
 * are one below their small letter. Anything else is left as it is. */
static uint32_t s_fold(uint32_t cp)
{
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7))
        return cp + 0x20;
    if ((cp >= 0x100 && cp <= 0x17F && cp % 2 == 0) || cp == 0x1A0 ||
        (cp >= 0x1EA0 && cp <= 0x1EF9 && cp % 2 == 0))
        return cp + 1;
    if (cp == 0x1AF)
        return 0x1B0;
    return cp;
}

static bool s_is_alnum_cp(uint32_t cp)
{
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           cp >= 0xC0;
}

/* True when text begins with phrase (without case) followed by the end or a character that
 * is not a letter or digit. */
static bool s_begins_with(const char *text, const char *phrase, size_t phrase_len)
{
    const char *t = text, *p = phrase, *end = phrase + phrase_len;
    if (phrase_len == 0)
        return false;
    while (p < end) {
        if (!*t || s_fold(s_next_cp(&t)) != s_fold(s_next_cp(&p)))
            return false;
    }
    const char *after = t;
    return !*after || !s_is_alnum_cp(s_next_cp(&after));
}

/* --- words --- */

typedef struct {
    size_t start, end;           /* the word, between whitespace */
    size_t core_start, core_end; /* without the punctuation around it */
} s_word_t;

static bool s_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void s_word_core(const char *text, s_word_t *w)
{
    w->core_start = w->start;
    w->core_end = w->end;
    while (w->core_start < w->core_end && strchr("(\"'", text[w->core_start]))
        w->core_start++;
    while (w->core_end > w->core_start && strchr(",;:.)\"'!?", text[w->core_end - 1]))
        w->core_end--;
}

/* The words of text; *count set. The caller frees the array. */
static s_word_t *s_words(const char *text, size_t *count)
{
    s_word_t *words = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; text[i];) {
        while (text[i] && s_space(text[i]))
            i++;
        if (!text[i])
            break;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            words = report_realloc(words, cap * sizeof *words);
        }
        s_word_t *w = &words[n++];
        w->start = i;
        while (text[i] && !s_space(text[i]))
            i++;
        w->end = i;
        s_word_core(text, w);
    }
    *count = n;
    return words;
}

/* --- numbers and ratios --- */

static bool s_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Digits with '.' or ',' only between digits; the length read, 0 when s does not start so. */
static size_t s_number_len(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (s_digit(s[i]) || ((s[i] == '.' || s[i] == ',') && i > 0 &&
                                         s_digit(s[i - 1]) && i + 1 < len && s_digit(s[i + 1]))))
        i++;
    return i;
}

/* A {placeholder}: its length, 0 when s does not start with one. */
static size_t s_placeholder_len(const char *s, size_t len)
{
    if (len < 3 || s[0] != '{')
        return 0;
    size_t i = 1;
    while (i < len && s[i] != '}' && (strchr("._", s[i]) || s_is_alnum_cp((unsigned char)s[i])))
        i++;
    return i < len && s[i] == '}' && i > 1 ? i + 1 : 0;
}

typedef enum { S_NOT_NUMBER, S_NUMBER, S_RATIO, S_MONTH_YEAR } s_kind_t;

/* What the core of a word is, by steps 1 and 2 of the rule (a ratio with no typed side is
 * not a number: it is computed). */
static s_kind_t s_kind(const char *s, size_t len)
{
    size_t a = s_number_len(s, len);
    if (a == len && a > 0)
        return S_NUMBER;
    size_t pa = a ? 0 : s_placeholder_len(s, len);
    size_t left = a ? a : pa;
    if (!left || left >= len || s[left] != '/')
        return S_NOT_NUMBER;
    const char *r = s + left + 1;
    size_t rlen = len - left - 1;
    size_t b = s_number_len(r, rlen);
    size_t pb = b ? 0 : s_placeholder_len(r, rlen);
    if ((b ? b : pb) != rlen || (pa && pb) || memchr(s, ',', a) || memchr(r, ',', b))
        return S_NOT_NUMBER;
    if (a && b == 4 && !memchr(s, '.', a) && a <= 2) {
        int m = 0;
        for (size_t i = 0; i < a; i++)
            m = m * 10 + (s[i] - '0');
        if (m >= 1 && m <= 12)
            return S_MONTH_YEAR;
    }
    return S_RATIO;
}

/* True when the word before is "ngày", "tháng" or "năm" (the number is part of a date). */
static bool s_after_date_word(const char *text, const s_word_t *before)
{
    static const char *const words[] = {"ngày", "tháng", "năm"};
    size_t len = before->core_end - before->core_start;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strlen(words[i]) == len && s_begins_with(text + before->core_start, words[i], len))
            return true;
    return false;
}

/* --- measures and labels --- */

/* The length of the head of label: its first two words, without trailing punctuation. */
static size_t s_label_head_len(const char *label)
{
    size_t i = 0;
    for (int word = 0; word < 2; word++) {
        while (label[i] == ' ')
            i++;
        while (label[i] && label[i] != ' ')
            i++;
    }
    while (i > 0 && strchr(",;:.", label[i - 1]))
        i--;
    return i;
}

/* True when one comma-separated form of measure begins text. */
static bool s_begins_with_measure(const char *text, const char *measure)
{
    const char *form = measure;
    while (*form) {
        while (*form == ' ')
            form++;
        const char *end = strchr(form, ',');
        size_t len = end ? (size_t)(end - form) : strlen(form);
        while (len > 0 && form[len - 1] == ' ')
            len--;
        if (s_begins_with(text, form, len))
            return true;
        form = end ? end + 1 : form + strlen(form);
    }
    return false;
}

/* Whether indicator i's measure (pass 0) or label head (pass 1) begins text. */
static bool s_matches(const char *text, const report_compile_indicator_t *ind, int pass)
{
    if (pass == 0)
        return ind->measure && s_begins_with_measure(text, ind->measure);
    return ind->label && s_begins_with(text, ind->label, s_label_head_len(ind->label));
}

/* Whether text begins with an indicator's measure, else with a label head: the rule's name,
 * the indicator's index in *indicator; NULL when none. Several indicators share a measure
 * ("đơn vị"): the one whose plan target is the ratio's denominator (17/25 and a target of 25)
 * is named, else the first. denominator is 0 for a number or a computed denominator. */
static const char *s_next_to(const char *text, const report_compile_indicator_t *indicators,
                             size_t count, double denominator, size_t *indicator)
{
    static const char *const rules[] = {"measure", "label"};
    for (int pass = 0; pass < 2; pass++) {
        bool found = false;
        for (size_t i = 0; i < count; i++) {
            if (!s_matches(text, &indicators[i], pass))
                continue;
            if (!found)
                *indicator = i;
            found = true;
            if (denominator > 0 && indicators[i].has_plan && indicators[i].plan == denominator) {
                *indicator = i;
                break;
            }
        }
        if (found)
            return rules[pass];
    }
    return NULL;
}

/* --- the rule --- */

/* Step 3 for word k of kind kind: the words right after it, and for a ratio the window around
 * it. */
static const char *s_step3(const char *text, const s_word_t *words, size_t count, size_t k,
                           s_kind_t kind, const report_compile_indicator_t *indicators,
                           size_t indicator_count, size_t *indicator)
{
    double denominator = 0;
    if (kind == S_RATIO) {
        const char *slash =
            memchr(text + words[k].core_start, '/', words[k].core_end - words[k].core_start);
        if (slash && s_digit(slash[1]))
            denominator = strtod(slash + 1, NULL);
    }
    if (k + 1 < count) {
        const char *rule = s_next_to(text + words[k + 1].core_start, indicators, indicator_count,
                                     denominator, indicator);
        if (rule || kind != S_RATIO)
            return rule;
    }
    if (kind != S_RATIO)
        return NULL;
    size_t first = k > REPORT_TYPED_WINDOW_WORDS ? k - REPORT_TYPED_WINDOW_WORDS : 0;
    for (size_t j = first; j < count && j <= k + REPORT_TYPED_WINDOW_WORDS; j++) {
        if (j == k || j == k + 1)
            continue;
        const char *rule = s_next_to(text + words[j].core_start, indicators, indicator_count,
                                     denominator, indicator);
        if (rule)
            return rule;
    }
    return NULL;
}

size_t report_provenance_typed_numbers(const char *pattern,
                                       const report_compile_indicator_t *indicators,
                                       size_t indicator_count, report_typed_number_t *found,
                                       size_t max)
{
    size_t count = 0, n = 0;
    s_word_t *words = s_words(pattern ? pattern : "", &count);
    for (size_t k = 0; k < count; k++) {
        const s_word_t *w = &words[k];
        s_kind_t kind = s_kind(pattern + w->core_start, w->core_end - w->core_start);
        if (kind != S_NUMBER && kind != S_RATIO)
            continue;
        if (k > 0 && s_after_date_word(pattern, &words[k - 1]))
            continue;
        size_t indicator = 0;
        const char *rule =
            s_step3(pattern, words, count, k, kind, indicators, indicator_count, &indicator);
        if (!rule)
            continue;
        if (n < max) {
            size_t c0 = k >= 3 ? k - 3 : 0, c1 = k + 3 < count ? k + 3 : count - 1;
            found[n] = (report_typed_number_t){
                .start = w->core_start,
                .length = w->core_end - w->core_start,
                .context_start = words[c0].start,
                .context_length = words[c1].end - words[c0].start,
                .rule = rule,
                .indicator = indicator,
            };
        }
        n++;
    }
    free(words);
    return n;
}
