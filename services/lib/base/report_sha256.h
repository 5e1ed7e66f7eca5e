/* SHA-256 of a byte string as lower-case hex (OpenSSL's libcrypto). */
#ifndef REPORT_SHA256_H
#define REPORT_SHA256_H

#include <stddef.h>

/* Writes the 64 hex digits and a NUL into out (65 bytes). 0 or -1. */
int report_sha256_hex(const void *data, size_t len, char out[65]);

#endif
