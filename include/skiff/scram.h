/*
 * SCRAM (RFC 5802, RFC 7677; Kafka's KIP-84 and KIP-554): the key
 * derivation, the server side of the exchange, and the credential store.
 *
 * The store keeps, per user and mechanism, what Kafka's controller keeps:
 * salt, iteration count, StoredKey and ServerKey; never the password. It
 * lives in the file `scram-credentials` of the data directory (format in
 * docs/security.md), rewritten atomically on every change.
 */
#ifndef SKIFF_SCRAM_H
#define SKIFF_SCRAM_H

#include <stdbool.h>
#include <stddef.h>

#include "skiff/base64.h"
#include <stdint.h>

/* Kafka's ScramMechanism type codes (DescribeUserScramCredentials). */
#define SK_SCRAM_TYPE_SHA_256 1
#define SK_SCRAM_TYPE_SHA_512 2
/* Kafka's bounds on the iteration count (ScramMechanism.minIterations,
 * ScramControlManager.MAX_ITERATIONS). */
#define SK_SCRAM_MIN_ITERATIONS 4096
#define SK_SCRAM_MAX_ITERATIONS 16384
/* Largest digest (SHA-512), bytes; longest salt accepted. */
#define SK_SCRAM_MAX_KEY 64
#define SK_SCRAM_MAX_SALT 128

/* One user's credential for one mechanism. */
typedef struct sk_scram_cred {
    int32_t iterations;                   /* PBKDF2 iterations (SaltedPassword) */
    uint8_t salt[SK_SCRAM_MAX_SALT];      /* the user's salt */
    size_t salt_len;                      /* bytes of salt used */
    uint8_t stored_key[SK_SCRAM_MAX_KEY]; /* H(HMAC(SaltedPassword, "Client Key")) */
    uint8_t server_key[SK_SCRAM_MAX_KEY]; /* HMAC(SaltedPassword, "Server Key") */
} sk_scram_cred;

/* Digest length of mechanism type `type` (32 or 64), or 0 if unknown. */
size_t sk_scram_key_len(int type);
/* Kafka's name of a type ("SCRAM-SHA-256") or NULL; the type of a name or 0. */
const char *sk_scram_type_name(int type);
int sk_scram_type_of(const char *name);

/* Hi(password, salt, iterations) (PBKDF2 with HMAC-H) into `out`
 * (sk_scram_key_len bytes). Returns 0 or -1. */
int sk_scram_salted_password(int type, const char *password, size_t password_len, const uint8_t *salt, size_t salt_len,
                             int32_t iterations, uint8_t *out);
/* Fills cred's StoredKey and ServerKey from a salted password of
 * `salted_len` bytes (normally sk_scram_key_len; any length is an HMAC
 * key, as in Kafka's ScramFormatter). Returns 0 or -1. */
int sk_scram_keys(int type, const uint8_t *salted_password, size_t salted_len, sk_scram_cred *cred);

/* ---- Credential store --------------------------------------------------- */

typedef struct sk_scram_store sk_scram_store;

/* Opens the store of data directory `dir` (NULL: memory only, for tests),
 * loading its file if present. NULL with an error logged when the file is
 * unreadable or malformed. */
sk_scram_store *sk_scram_store_open(const char *dir);
void sk_scram_store_free(sk_scram_store *s);
/* The credential of `user` for `type`, or NULL. Valid until the next change. */
const sk_scram_cred *sk_scram_store_get(const sk_scram_store *s, const char *user, int type);
/* Sets (adds or replaces) a credential and rewrites the file. Returns 0, or
 * -1 (logged) when it cannot be saved; the store is unchanged then. */
int sk_scram_store_put(sk_scram_store *s, const char *user, int type, const sk_scram_cred *cred);
/* Removes a credential and rewrites the file. Returns 0, 1 when there was
 * none, -1 (logged) when it cannot be saved. */
int sk_scram_store_delete(sk_scram_store *s, const char *user, int type);
/* Calls fn for each stored credential, users in sorted order, then by type. */
void sk_scram_store_each(const sk_scram_store *s,
                         void (*fn)(const char *user, int type, const sk_scram_cred *cred, void *arg), void *arg);
/* Adds credentials from skiff.scram.users, the syntax of kafka-storage's
 * --add-scram, ';'-separated: SCRAM-SHA-256=[name=alice,password=alice-secret]
 * (optional iterations=N, salt=<base64>). A user already stored keeps its
 * stored credential unless the password differs. Returns NULL, or a static
 * reason. */
const char *sk_scram_store_bootstrap(sk_scram_store *s, const char *spec);

/* ---- Server exchange ---------------------------------------------------- */

/* The server side of one SCRAM exchange. */
typedef struct sk_scram_server sk_scram_server;

sk_scram_server *sk_scram_server_new(int type, const sk_scram_store *store);
void sk_scram_server_free(sk_scram_server *s);
/* One step: `in` is client-first-message, then client-final-message.
 * Returns 0 with the server's message in *out (malloc'd, *out_len bytes),
 * 1 when complete (server-final-message in *out), or -1 on failure with a
 * reason for the log in `why` (the client is told Kafka's generic
 * message). */
int sk_scram_server_step(sk_scram_server *s, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, char *why,
                         size_t why_len);
/* The authenticated user name (after completion; also after the first step,
 * for logs), or "". */
const char *sk_scram_server_user(const sk_scram_server *s);

#endif
