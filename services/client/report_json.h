/* Reading updates from the JSON push format (README, "Push file format"). */
#ifndef REPORT_JSON_H
#define REPORT_JSON_H

#include "report_update.h"

#include <stddef.h>

/* Parses a JSON document (one update object or an array of them). On success returns 0 and
 * a new array of new updates in *updates (free each with report_update_destroy, then the
 * array). On error returns -1 and describes it in err ("update 3: period: ..."). Strings are
 * taken as given: the collector validates and normalises them. */
int report_json_parse_updates(const char *json, size_t len, report_update_t ***updates,
                              size_t *count, char *err, size_t err_size);
/* Same for a file. */
int report_json_load_updates(const char *path, report_update_t ***updates, size_t *count, char *err,
                             size_t err_size);
/* Frees an array of updates. */
void report_updates_free(report_update_t **updates, size_t count);

#endif
