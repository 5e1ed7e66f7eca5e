/* libFuzzer target on the key-file parsers (report_keys_parse_pair, _parse_public): the text
 * of a .key or .pub file, as the services read every file of their keyrings and reportctl
 * reads the files it is given. Whatever the input, no crash or sanitizer report; a key found
 * is a valid 40-character Z85 key. */
#include "report_keys.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4095)
        size = 4095; /* the loaders read at most 4 KiB */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    report_keypair_t pair;
    if (report_keys_parse_pair(text, &pair) == 0 &&
        (!report_keys_valid(pair.public_key) || !report_keys_valid(pair.secret_key)))
        abort();
    char key[REPORT_Z85_KEY_LEN + 1];
    if (report_keys_parse_public(text, key) == 0 && !report_keys_valid(key))
        abort();
    free(text);
    return 0;
}
