/*
 * UUIDs as Kafka uses them (topic ids, cluster id, directory ids): 16 random
 * bytes, shown as 22 characters of unpadded URL-safe base64 (Kafka's
 * Uuid.toString).
 */
#ifndef SKIFF_UUID_H
#define SKIFF_UUID_H

#include <stdbool.h>
#include <stdint.h>

#define SK_UUID_STR_LEN 22

/* Fills `out` with a random version-4 UUID that is not the zero UUID and whose
 * base64 form does not start with '-' (Kafka avoids those so ids can be given
 * on a command line). Returns 0, or -1 if no randomness was available. */
int sk_uuid_random(uint8_t out[16]);
/* Writes the 22-character base64url form plus NUL into `out`. */
void sk_uuid_to_string(const uint8_t id[16], char out[SK_UUID_STR_LEN + 1]);
/* Parses the 22-character form; returns 0, or -1 when malformed. */
int sk_uuid_from_string(const char *s, uint8_t out[16]);
/* True for the all-zero UUID (Kafka's Uuid.ZERO_UUID: "no id"). */
bool sk_uuid_is_zero(const uint8_t id[16]);

#endif
