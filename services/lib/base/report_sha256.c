/* SHA-256 through OpenSSL's EVP interface. */
#include "report_sha256.h"
#include "report_util.h"

#include <openssl/evp.h>

int report_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
        return -1;
    report_hex_write(out, md, 32);
    out[64] = '\0';
    return 0;
}
