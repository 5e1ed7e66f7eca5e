/* CURVE keys in files, and keyrings of enrolled public keys.
 *
 * A public key file NAME.pub holds the 40-character Z85 public key on its first line that
 * is not a comment. A secret key file NAME.key (mode 0600) holds "public Z85" and
 * "secret Z85" lines. A keyring is a directory of .pub files, the file name (without .pub)
 * being the identity: the unit code, the recipient's or operator's name. */
#ifndef REPORT_KEYS_H
#define REPORT_KEYS_H

#include "report_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPORT_Z85_KEY_LEN 40

typedef struct {
    char public_key[REPORT_Z85_KEY_LEN + 1];
    char secret_key[REPORT_Z85_KEY_LEN + 1];
} report_keypair_t;

/* Generates a key pair and writes stem.key (0600) and stem.pub. 0 or -1 (errno kept). */
int report_keys_generate(const char *stem, report_keypair_t *out);
/* Reads a secret key file. 0 or -1. */
int report_keys_load_pair(const char *path, report_keypair_t *out);
/* The parsers behind the two above, on the text of a file (NUL-terminated; the loaders read
 * at most 4 KiB). 0 with valid keys in *out, or -1. */
int report_keys_parse_pair(const char *text, report_keypair_t *out);
int report_keys_parse_public(const char *text, char out[REPORT_Z85_KEY_LEN + 1]);
/* True if s is a well-formed Z85 CURVE key (40 characters that decode to 32 bytes). */
bool report_keys_valid(const char *s);

/* A public key given as a file (NAME.pub, or a .key file's public line) or as the 40-character
 * Z85 key itself; a readable file wins, since a 40-character path can be valid Z85 too.
 * 0 or -1. */
int report_keys_resolve_public(const char *path_or_key, char out[REPORT_Z85_KEY_LEN + 1]);

/* What a client needs to talk CURVE to a server: the server's public key and its own pair.
 * plain = true means no CURVE (development only). */
typedef struct {
    bool plain;
    char server_public[REPORT_Z85_KEY_LEN + 1];
    report_keypair_t client;
} report_client_keys_t;

/* Loads a client's key pair (key_path, a .key file) and the server's public key (server_path,
 * a .pub file, or the 40-character Z85 key itself). With insecure_plain, nothing is loaded
 * and out->plain is set. 0, or -1 with the problem written to err. */
int report_client_keys_load(const char *key_path, const char *server_path, bool insecure_plain,
                            report_client_keys_t *out, report_error_t *err);

/* Enrols a public key (Z85) as NAME of KIND ("unit", "recipient", "operator", "store") in
 * keys_dir/KINDs/NAME.pub, atomically. Services see it at their next handshake. 0, or -1 with
 * err filled. */
int report_keys_enrol(const char *keys_dir, const char *kind, const char *name,
                      const char *public_z85, report_error_t *err);
/* Revokes NAME of KIND: moves its file to keys_dir/revoked/ (kept for audit). Connections
 * already open are refused from their next message. 0, or -1 with err filled. */
int report_keys_revoke(const char *keys_dir, const char *kind, const char *name,
                       report_error_t *err);

typedef struct report_keyring_t report_keyring_t;

/* A keyring over dir (which may not exist yet: then it is empty). Loaded at once. */
report_keyring_t *report_keyring_new(const char *dir);
void report_keyring_destroy(report_keyring_t **self_p);
/* Reloads the directory if it changed since the last look (at most every 200 ms), or if the
 * last reload failed. The new keyring is built aside and replaces the old one only when it was
 * read completely: on an error (out of file descriptors, I/O) the old keys stay, a warning is
 * logged (rate-limited), the failure is counted and the reload is tried again. */
void report_keyring_refresh(report_keyring_t *self);
/* report_keyring_refresh, but only if the last reload failed: for a service's loop, so that a
 * failed reload is retried when no peer asks, while the 200 ms window stays free for the next
 * handshake to see an enrolment at once. */
void report_keyring_retry(report_keyring_t *self);
/* Reloads that failed and kept the previous keys (0 for NULL). */
uint64_t report_keyring_reload_failures(report_keyring_t *self);
/* The identity enrolled for a Z85 public key, or NULL. Valid until the next refresh. */
const char *report_keyring_identity(report_keyring_t *self, const char *z85);
/* The number of keys enrolled, and the identity of the i-th (in key order); NULL past the end.
 * Valid until the next refresh. */
size_t report_keyring_count(const report_keyring_t *self);
const char *report_keyring_identity_at(const report_keyring_t *self, size_t i);

#endif
