/* The aggregator's side of the units' desk (`reportctl desk`): on the desk endpoint (a ROUTER
 * in the ZAP domain "units", so a peer is a unit by its enrolled key) it answers what a unit
 * may see: the catalogue of the unit's agency (work areas, indicators with their labels,
 * measures, this year's plan and the figures the report prints), the unit's own items of a
 * period with their state, and the preview of a paragraph filled by the report's own
 * formatting code. A unit never sees another unit's items: every query takes the unit of the
 * key, never one named in the request. */
#ifndef REPORT_DESK_H
#define REPORT_DESK_H

#include "report_db.h"

#include <stddef.h>
#include <stdint.h>

/* The most figures a preview request may carry (an item names a few indicators). */
#define REPORT_DESK_MAX_VALUES 64

/* Answers one request (data, size: an encoded DeskRequest) of unit (the key's unit) from db;
 * returns the encoded DeskReply (caller frees) and its size. A request that is malformed or
 * out of bounds is answered ok=false with a code (bad_request, bad_period, unknown_unit,
 * database) and *refused set; nothing in it can make this fail otherwise. */
uint8_t *report_desk_answer(report_db_t *db, const char *unit, const uint8_t *data, size_t size,
                            size_t *reply_size, int *refused);

#endif
