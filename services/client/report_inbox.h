/* The leadership's inbox: DIR/index.html, one page listing every report the subscriber has
 * received in DIR (number, date, period, version, signed or not, links to its PDF, HTML and
 * JSON), newest first, and for a version after the first what changed since the one before
 * it, word by word. Rebuilt from the files themselves, so it survives restarts and lists what
 * is really on disk. */
#ifndef REPORT_INBOX_H
#define REPORT_INBOX_H

#include "report_error.h"

#include <stddef.h>

/* Reads at most this many reports of DIR (the newest by period and version are kept). */
#define REPORT_INBOX_MAX 500

/* Rewrites dir/index.html (atomically). 0, or -1 with err. */
int report_inbox_write(const char *dir, report_error_t *err);

/* The word-level difference of two texts as HTML: common words as they are, removed words in
 * <del>, added ones in <ins>, all escaped; long unchanged runs are shortened to "…". The caller
 * frees it. */
char *report_inbox_diff_html(const char *before, const char *after);

#endif
