/* The metadata record and the edXML envelope, written with libxml2's xmlTextWriter from the
 * version's JSON rendering (the document's fields) and its PDFs. */
#define _GNU_SOURCE
#include "report_export.h"
#include "report_file.h"
#include "report_util.h"

#include <errno.h>
#include <jansson.h>
#include <libxml/xmlwriter.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_EDXML_NS "http://www.e-doc.vn/Schema/"
#define S_META_NS "urn:sokhcn-report:nd30-phuluc6:1"

/* The fields of the record (Phụ lục VI), each with its length in characters. */
typedef struct {
    char organ_id[64], code_number[32], code_notation[64], issued_date[16], date_iso[16];
    const char *organ_name, *type_name, *subject, *position, *competence, *full_name;
    char place[256];
    json_t *root; /* owns the strings above */
    const char *const *to;
    size_t to_count;
    int year, pages;
} s_record_t;

static size_t s_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static const char *s_json_text(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* "Số: 588/BC-SKHCN" into 588 and BC-SKHCN; "Cao Bằng, ngày …" into Cao Bằng. */
static void s_split_header(s_record_t *rec, json_t *header)
{
    const char *line = s_json_text(header, "number_line");
    const char *n = strncmp(line, "Số:", strlen("Số:")) == 0 ? line + strlen("Số:") : line;
    while (*n == ' ')
        n++;
    const char *slash = strchr(n, '/');
    snprintf(rec->code_number, sizeof rec->code_number, "%.*s",
             (int)(slash ? (size_t)(slash - n) : strlen(n)), n);
    snprintf(rec->code_notation, sizeof rec->code_notation, "%s", slash ? slash + 1 : "");
    const char *place_date = s_json_text(header, "place_date");
    snprintf(rec->place, sizeof rec->place, "%.*s", (int)strcspn(place_date, ","), place_date);
}

/* The record of r from its JSON rendering; 0, or -1 with err. */
static int s_record(const report_published_t *r, s_record_t *rec, report_error_t *err)
{
    memset(rec, 0, sizeof *rec);
    rec->root = r->json ? json_loads(r->json, 0, NULL) : NULL;
    if (!rec->root)
        return report_error_set(err, "io", "the version's JSON rendering does not parse");
    json_t *header = json_object_get(rec->root, "header"),
           *signer = json_object_get(rec->root, "signer");
    snprintf(rec->organ_id, sizeof rec->organ_id, "%s", s_json_text(rec->root, "organ_id"));
    if (!*rec->organ_id)
        return report_error_set(err, "no_organ_id",
                                "the agency's identifier (agencies.organ_id) is not set");
    s_split_header(rec, header);
    int y = 0, m = 0, d = 0;
    sscanf(s_json_text(rec->root, "doc_date"), "%d-%d-%d", &y, &m, &d);
    snprintf(rec->issued_date, sizeof rec->issued_date, "%02d/%02d/%04d", d, m, y);
    snprintf(rec->date_iso, sizeof rec->date_iso, "%04d-%02d-%02d", y, m, d);
    rec->year = y;
    rec->organ_name = s_json_text(header, "agency_name");
    rec->type_name = s_json_text(rec->root, "doc_type");
    rec->subject = s_json_text(rec->root, "summary");
    rec->competence = s_json_text(signer, "authority");
    rec->position = s_json_text(signer, "title");
    rec->full_name = s_json_text(signer, "name");
    rec->pages = r->pdf_pages;
    return 0;
}

/* Every field within its length (characters); -1 with err naming the first that is not. */
static int s_lengths(const s_record_t *rec, json_t *to, report_error_t *err)
{
    const struct {
        const char *name, *value;
        size_t max;
    } fields[] = {{"OrganId", rec->organ_id, 13},           {"CodeNumber", rec->code_number, 11},
                  {"CodeNotation", rec->code_notation, 30}, {"OrganName", rec->organ_name, 200},
                  {"TypeName", rec->type_name, 100},        {"Subject", rec->subject, 500},
                  {"Position", rec->position, 100},         {"Competence", rec->competence, 100},
                  {"FullName", rec->full_name, 50},         {"Place", rec->place, 100}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (s_chars(fields[i].value) > fields[i].max)
            return report_error_set(err, "too_long", "%s has %zu characters, at most %zu",
                                    fields[i].name, s_chars(fields[i].value), fields[i].max);
    size_t i;
    json_t *v;
    json_array_foreach(to, i, v)
    {
        if (s_chars(json_string_value(v) ? json_string_value(v) : "") > 200)
            return report_error_set(err, "too_long", "To/OrganName %zu is over 200 characters",
                                    i + 1);
    }
    return 0;
}

/* The recipients, without the archive line ("Lưu: …"), which is not a recipient. */
static bool s_is_recipient(const char *name)
{
    return name && *name && strncmp(name, "Lưu:", strlen("Lưu:")) != 0;
}

static void s_element(xmlTextWriterPtr w, const char *prefix, const char *name, const char *text)
{
    xmlTextWriterWriteElementNS(w, BAD_CAST prefix, BAD_CAST name, NULL, BAD_CAST text);
}

static void s_int_element(xmlTextWriterPtr w, const char *prefix, const char *name, int value)
{
    char text[16];
    snprintf(text, sizeof text, "%d", value);
    s_element(w, prefix, name, text);
}

static char *s_metadata(const s_record_t *rec, json_t *to)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = xmlNewTextWriterMemory(buf, 0);
    xmlTextWriterSetIndent(w, 1);
    xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
    xmlTextWriterStartElementNS(w, NULL, BAD_CAST "OutgoingDocument", BAD_CAST S_META_NS);
    s_element(w, NULL, "OrganId", rec->organ_id);
    s_int_element(w, NULL, "Year", rec->year);
    s_element(w, NULL, "CodeNumber", rec->code_number);
    s_element(w, NULL, "CodeNotation", rec->code_notation);
    s_element(w, NULL, "IssuedDate", rec->issued_date);
    s_element(w, NULL, "OrganName", rec->organ_name);
    s_element(w, NULL, "TypeName", rec->type_name);
    s_element(w, NULL, "Subject", rec->subject);
    s_element(w, NULL, "Language", "Tiếng Việt");
    s_int_element(w, NULL, "PageAmount", rec->pages);
    xmlTextWriterStartElement(w, BAD_CAST "SignerInfo");
    s_element(w, NULL, "Position", rec->position);
    s_element(w, NULL, "FullName", rec->full_name);
    xmlTextWriterEndElement(w);
    size_t i;
    json_t *v;
    json_array_foreach(to, i, v)
    {
        if (!s_is_recipient(json_string_value(v)))
            continue;
        xmlTextWriterStartElement(w, BAD_CAST "To");
        s_element(w, NULL, "OrganName", json_string_value(v));
        xmlTextWriterEndElement(w);
    }
    xmlTextWriterEndDocument(w);
    xmlFreeTextWriter(w);
    char *out = report_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return out;
}

static void s_edxml_header(xmlTextWriterPtr w, const s_record_t *rec, json_t *to)
{
    xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "edXMLHeader", NULL);
    xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "MessageHeader", NULL);
    xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "From", NULL);
    s_element(w, "edXML", "OrganId", rec->organ_id);
    s_element(w, "edXML", "OrganName", rec->organ_name);
    xmlTextWriterEndElement(w);
    size_t i;
    json_t *v;
    json_array_foreach(to, i, v)
    {
        if (!s_is_recipient(json_string_value(v)))
            continue;
        xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "To", NULL);
        s_element(w, "edXML", "OrganName", json_string_value(v));
        xmlTextWriterEndElement(w);
    }
    xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "Code", NULL);
    s_element(w, "edXML", "CodeNumber", rec->code_number);
    s_element(w, "edXML", "CodeNotation", rec->code_notation);
    xmlTextWriterEndElement(w);
    xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "PromulgationInfo", NULL);
    s_element(w, "edXML", "Place", rec->place);
    s_element(w, "edXML", "PromulgationDate", rec->date_iso);
    xmlTextWriterEndElement(w);
    xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "DocumentType", NULL);
    s_element(w, "edXML", "TypeName", rec->type_name);
    xmlTextWriterEndElement(w);
    s_element(w, "edXML", "Subject", rec->subject);
    xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "SignerInfo", NULL);
    s_element(w, "edXML", "Competence", rec->competence);
    s_element(w, "edXML", "Position", rec->position);
    s_element(w, "edXML", "FullName", rec->full_name);
    xmlTextWriterEndElement(w);
    xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "OtherInfo", NULL);
    s_int_element(w, "edXML", "PageAmount", rec->pages);
    xmlTextWriterEndElement(w);
    xmlTextWriterEndElement(w); /* MessageHeader */
    xmlTextWriterEndElement(w); /* edXMLHeader */
}

static char *s_edxml(const s_record_t *rec, json_t *to, const report_published_t *r,
                     const char *attachment_name)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = xmlNewTextWriterMemory(buf, 0);
    xmlTextWriterSetIndent(w, 1);
    xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
    xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "edXMLEnvelope", BAD_CAST S_EDXML_NS);
    s_edxml_header(w, rec, to);
    xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "edXMLBody", NULL);
    xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "Attachment", NULL);
    s_element(w, "edXML", "ContentType", "application/pdf");
    s_element(w, "edXML", "AttachmentName", attachment_name);
    xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST "Data", NULL);
    xmlTextWriterWriteBase64(w, (const char *)r->signed_pdf, 0, (int)r->signed_size);
    xmlTextWriterEndElement(w);
    xmlTextWriterEndElement(w); /* Attachment */
    xmlTextWriterEndElement(w); /* edXMLBody */
    xmlTextWriterEndDocument(w);
    xmlFreeTextWriter(w);
    char *out = report_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return out;
}

/* dir/name, written whole or not at all. */
static int s_write(const char *dir, const char *name, const char *text, report_error_t *err)
{
    char *path = report_sprintf("%s/%s", dir, name);
    int rc = report_file_replace(path, text, strlen(text));
    if (rc != 0)
        report_error_set(err, "io", "cannot write %s: %s", path, strerror(errno));
    free(path);
    return rc;
}

int report_export_write(const char *dir, const report_published_t *r, report_error_t *err)
{
    s_record_t rec;
    int rc = s_record(r, &rec, err);
    json_t *to = rec.root ? json_object_get(rec.root, "recipients") : NULL;
    if (rc == 0)
        rc = s_lengths(&rec, to, err);
    char *stem = report_sprintf("%s-%04d-%02d-v%d", r->agency_code, r->year, r->month, r->version);
    if (rc == 0 && !r->signed_pdf) {
        char *xml = s_metadata(&rec, to);
        char *name = report_sprintf("%s.metadata.xml", stem);
        rc = s_write(dir, name, xml, err);
        free(name);
        free(xml);
    } else if (rc == 0) {
        char *attachment = report_sprintf("%s.signed.pdf", stem);
        char *xml = s_edxml(&rec, to, r, attachment);
        char *name = report_sprintf("%s.edxml", stem);
        rc = s_write(dir, name, xml, err);
        free(name);
        free(xml);
        free(attachment);
    }
    free(stem);
    json_decref(rec.root);
    return rc;
}
