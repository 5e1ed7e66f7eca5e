/* Key files and keyrings. Reloading on change (directory mtime and entry count) is what makes
 * enrolment and revocation take effect without restarting a service. */
#define _GNU_SOURCE
#include "report_keys.h"
#include "report_log.h"
#include "report_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

bool report_keys_valid(const char *s)
{
    if (!s || strlen(s) != REPORT_Z85_KEY_LEN)
        return false;
    uint8_t raw[32];
    return zmq_z85_decode(raw, s) != NULL;
}

static int s_write(const char *path, const char *data, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    size_t len = strlen(data);
    ssize_t n = write(fd, data, len);
    int rc = (n == (ssize_t)len && fsync(fd) == 0) ? 0 : -1;
    close(fd);
    return rc;
}

int report_keys_generate(const char *stem, report_keypair_t *out)
{
    report_keypair_t pair;
    if (zmq_curve_keypair(pair.public_key, pair.secret_key) != 0)
        return -1;
    char *key_path = report_sprintf("%s.key", stem);
    char *pub_path = report_sprintf("%s.pub", stem);
    char *secret = report_sprintf("# CURVE secret key: keep it private\npublic %s\nsecret %s\n",
                                  pair.public_key, pair.secret_key);
    char *pub = report_sprintf("# CURVE public key\n%s\n", pair.public_key);
    int rc = s_write(key_path, secret, 0600);
    if (rc == 0)
        rc = chmod(key_path, 0600);
    if (rc == 0)
        rc = s_write(pub_path, pub, 0644);
    memset(secret, 0, strlen(secret));
    free(secret);
    free(pub);
    free(key_path);
    free(pub_path);
    if (rc == 0 && out)
        *out = pair;
    memset(&pair, 0, sizeof pair);
    return rc;
}

/* Reads the first 4 KiB of a file into buf. 0, or -1 with errno set (EIO for a read error). */
static int s_read(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, size - 1, f);
    bool failed = ferror(f);
    fclose(f);
    buf[n] = '\0';
    if (failed) {
        errno = EIO;
        return -1;
    }
    return 0;
}

/* Finds the key after `label ` on a line, or on the first non-comment line if label is "". */
static int s_find_key(const char *text, const char *label, char out[REPORT_Z85_KEY_LEN + 1])
{
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len && p[0] != '#') {
            const char *v = p;
            size_t llen = strlen(label);
            if (llen == 0 || (len > llen && strncmp(p, label, llen) == 0 && p[llen] == ' ')) {
                v = p + (llen ? llen + 1 : 0);
                if ((size_t)(p + len - v) >= REPORT_Z85_KEY_LEN) {
                    memcpy(out, v, REPORT_Z85_KEY_LEN);
                    out[REPORT_Z85_KEY_LEN] = '\0';
                    if (report_keys_valid(out))
                        return 0;
                }
                if (llen == 0)
                    return -1;
            }
        }
        p = eol ? eol + 1 : p + len;
    }
    return -1;
}

int report_keys_parse_pair(const char *text, report_keypair_t *out)
{
    return s_find_key(text, "public", out->public_key) == 0 &&
                   s_find_key(text, "secret", out->secret_key) == 0
               ? 0
               : -1;
}

int report_keys_parse_public(const char *text, char out[REPORT_Z85_KEY_LEN + 1])
{
    if (s_find_key(text, "public", out) == 0)
        return 0;
    return s_find_key(text, "", out);
}

int report_keys_load_pair(const char *path, report_keypair_t *out)
{
    char buf[4096];
    if (s_read(path, buf, sizeof buf) != 0)
        return -1;
    int rc = report_keys_parse_pair(buf, out);
    memset(buf, 0, sizeof buf);
    return rc;
}

/* Reads a public key file (or a .key file's public line). 0 or -1. */
static int s_load_public(const char *path, char out[REPORT_Z85_KEY_LEN + 1])
{
    char buf[4096];
    if (s_read(path, buf, sizeof buf) != 0)
        return -1;
    return report_keys_parse_public(buf, out);
}

typedef struct {
    char key[REPORT_Z85_KEY_LEN + 1];
    char *identity;
} s_entry_t;

struct report_keyring_t {
    char *dir;
    s_entry_t *entries;
    size_t count;
    struct timespec mtime;
    bool existed;
    bool retry; /* the last reload failed: reload at the next refresh whatever the mtime */
    int64_t checked_at;
    uint64_t reload_failures;
    report_ratelimit_t warn_limit;
};

static int s_cmp(const void *a, const void *b)
{
    return strcmp(((const s_entry_t *)a)->key, ((const s_entry_t *)b)->key);
}

static void s_entries_free(s_entry_t *entries, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(entries[i].identity);
    free(entries);
}

/* Reads one NAME.pub into the list. A file that vanished since readdir (revoked meanwhile)
 * or that holds no valid key is skipped; any other error fails the whole reload. */
static int s_load_file(const char *dir, const char *name, s_entry_t **entries, size_t *count)
{
    size_t len = strlen(name);
    char *path = report_sprintf("%s/%s", dir, name);
    char buf[4096];
    int rc = 0;
    if (s_read(path, buf, sizeof buf) != 0) {
        if (errno != ENOENT)
            rc = -1;
    } else {
        char key[REPORT_Z85_KEY_LEN + 1];
        if (s_find_key(buf, "public", key) == 0 || s_find_key(buf, "", key) == 0) {
            *entries = report_realloc(*entries, (*count + 1) * sizeof(s_entry_t));
            s_entry_t *en = &(*entries)[(*count)++];
            memcpy(en->key, key, sizeof key);
            en->identity = report_strndup(name, len - 4);
        } else {
            log_warn("ignoring malformed key file", "path=%s", report_logq(path));
        }
    }
    free(path);
    return rc;
}

/* Builds the keyring of the directory aside: 0 and the new list, or -1 (errno kept) and
 * nothing, so that a failure (EMFILE under a connection flood, EIO) never empties the
 * keyring in use. A directory that does not exist is an empty keyring, not a failure. */
static int s_load(const char *dir, s_entry_t **entries_out, size_t *count_out)
{
    s_entry_t *entries = NULL;
    size_t count = 0;
    *entries_out = NULL;
    *count_out = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            rc = errno ? -1 : 0;
            break;
        }
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".pub") != 0 || e->d_name[0] == '.')
            continue;
        if (s_load_file(dir, e->d_name, &entries, &count) != 0) {
            rc = -1;
            break;
        }
    }
    int saved = errno;
    closedir(d);
    if (rc != 0) {
        s_entries_free(entries, count);
        errno = saved;
        return -1;
    }
    qsort(entries, count, sizeof(s_entry_t), s_cmp);
    *entries_out = entries;
    *count_out = count;
    return 0;
}

report_keyring_t *report_keyring_new(const char *dir)
{
    report_keyring_t *self = report_calloc(1, sizeof *self);
    self->dir = report_strdup(dir);
    self->checked_at = -1000000;
    report_ratelimit_init(&self->warn_limit, 5, 10000);
    report_keyring_refresh(self);
    return self;
}

void report_keyring_destroy(report_keyring_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_keyring_t *self = *self_p;
    s_entries_free(self->entries, self->count);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

void report_keyring_refresh(report_keyring_t *self)
{
    int64_t now = report_clock_ms();
    if (now - self->checked_at < 200)
        return;
    self->checked_at = now;
    struct stat st;
    bool exists = stat(self->dir, &st) == 0;
    /* A directory's mtime changes when an entry is added, removed or renamed: exactly
     * what enrolment and revocation do. Rewriting a file in place is not seen: enrol writes
     * a new file and renames it. */
    if (!self->retry && exists == self->existed &&
        (!exists ||
         (st.st_mtim.tv_sec == self->mtime.tv_sec && st.st_mtim.tv_nsec == self->mtime.tv_nsec)))
        return;
    s_entry_t *entries;
    size_t count;
    if (s_load(self->dir, &entries, &count) != 0) {
        /* Keep the keys we have: refusing every unit because the process is out of file
         * descriptors for a moment is worse than honouring a revocation a little late. */
        int err = errno;
        self->reload_failures++;
        self->retry = true;
        uint64_t suppressed;
        if (report_ratelimit_allow(&self->warn_limit, &suppressed))
            log_warn("keyring reload failed, keeping the previous keys",
                     "dir=%s error=%s "
                     "keys=%zu failures=%llu suppressed=%llu",
                     report_logq(self->dir), report_logq(strerror(err)), self->count,
                     (unsigned long long)self->reload_failures, (unsigned long long)suppressed);
        return;
    }
    size_t before = self->count;
    s_entries_free(self->entries, self->count);
    self->entries = entries;
    self->count = count;
    self->retry = false;
    self->existed = exists;
    if (exists)
        self->mtime = st.st_mtim;
    log_info("keyring loaded", "dir=%s keys=%zu before=%zu", report_logq(self->dir), self->count,
             before);
}

void report_keyring_retry(report_keyring_t *self)
{
    if (self && self->retry)
        report_keyring_refresh(self);
}

uint64_t report_keyring_reload_failures(report_keyring_t *self)
{
    return self ? self->reload_failures : 0;
}

const char *report_keyring_identity(report_keyring_t *self, const char *z85)
{
    if (!z85 || strlen(z85) != REPORT_Z85_KEY_LEN)
        return NULL;
    s_entry_t key;
    memcpy(key.key, z85, sizeof key.key);
    s_entry_t *hit = bsearch(&key, self->entries, self->count, sizeof(s_entry_t), s_cmp);
    return hit ? hit->identity : NULL;
}

size_t report_keyring_count(const report_keyring_t *self)
{
    return self ? self->count : 0;
}

const char *report_keyring_identity_at(const report_keyring_t *self, size_t i)
{
    return self && i < self->count ? self->entries[i].identity : NULL;
}

int report_keys_resolve_public(const char *path_or_key, char out[REPORT_Z85_KEY_LEN + 1])
{
    /* The file first: a path of 40 characters is often valid Z85 too ("/tmp/…/server.pub"). */
    if (s_load_public(path_or_key, out) == 0)
        return 0;
    if (report_keys_valid(path_or_key)) {
        memcpy(out, path_or_key, REPORT_Z85_KEY_LEN + 1);
        return 0;
    }
    return -1;
}

int report_client_keys_load(const char *key_path, const char *server_path, bool insecure_plain,
                            report_client_keys_t *out, report_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (insecure_plain) {
        out->plain = true;
        return 0;
    }
    if (!key_path || !*key_path || report_keys_load_pair(key_path, &out->client) != 0) {
        return report_error_set(err, "bad_key_pair",
                                "cannot read the client key pair '%s' (make one with reportctl "
                                "keygen; or --insecure-plain for development)",
                                key_path ? key_path : "");
    }
    if (!server_path || report_keys_resolve_public(server_path, out->server_public) != 0) {
        return report_error_set(err, "bad_server_key", "cannot read the server public key '%s'",
                                server_path ? server_path : "");
    }
    return 0;
}

static bool s_kind_ok(const char *kind)
{
    return kind && (!strcmp(kind, "unit") || !strcmp(kind, "recipient") ||
                    !strcmp(kind, "operator") || !strcmp(kind, "store"));
}

static bool s_name_ok(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++) {
        char c = name[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || (c == '.' && n > 0)))
            return false;
    }
    return n >= 1 && n <= 64;
}

int report_keys_enrol(const char *keys_dir, const char *kind, const char *name,
                      const char *public_z85, report_error_t *err)
{
    if (!s_kind_ok(kind) || !s_name_ok(name) || !report_keys_valid(public_z85)) {
        return report_error_set(err, "usage",
                                "need a kind (unit, recipient, operator, store), a name of "
                                "A-Z a-z 0-9 _ - . and a valid public key");
    }
    char *dir = report_sprintf("%s/%ss", keys_dir, kind);
    mkdir(keys_dir, 0755);
    mkdir(dir, 0755);
    char *tmp = report_sprintf("%s/.%s.pub.tmp", dir, name);
    char *path = report_sprintf("%s/%s.pub", dir, name);
    char *body = report_sprintf("# %s %s\n%s\n", kind, name, public_z85);
    int rc = s_write(tmp, body, 0644);
    if (rc == 0)
        rc = rename(tmp, path);
    if (rc != 0) {
        report_error_set(err, "io", "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(body);
    free(tmp);
    free(path);
    free(dir);
    return rc;
}

int report_keys_revoke(const char *keys_dir, const char *kind, const char *name,
                       report_error_t *err)
{
    if (!s_kind_ok(kind) || !s_name_ok(name)) {
        return report_error_set(err, "usage",
                                "need a kind (unit, recipient, operator, store) and a name");
    }
    char *path = report_sprintf("%s/%ss/%s.pub", keys_dir, kind, name);
    char *revoked = report_sprintf("%s/revoked", keys_dir);
    mkdir(revoked, 0755);
    char *dest = report_sprintf("%s/%s-%s-%lld.pub", revoked, kind, name,
                                (long long)(report_wall_ms() / 1000));
    int rc = rename(path, dest);
    if (rc != 0)
        report_error_set(err, errno == ENOENT ? "not_enrolled" : "io", "cannot revoke %s %s: %s",
                         kind, name, strerror(errno));
    free(path);
    free(revoked);
    free(dest);
    return rc;
}
