/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * Kafka's record batch v2 (it covers the bytes from the attributes field to
 * the end of the batch; see record.h).
 *
 * sk_crc32c picks, once per process, the SSE4.2 `crc32` instruction when the
 * CPU has it (checked at run time) and a table-driven (slicing-by-8) routine
 * otherwise. Both paths are exported so tests can check each one.
 *
 * The `crc` argument chains calls the way zlib's crc32 does: start with 0 and
 * pass the previous result to continue over more bytes. The check value of
 * the ASCII string "123456789" is 0xE3069283.
 */
#ifndef SKIFF_CRC32C_H
#define SKIFF_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC-32C of `len` bytes at `data`, continuing from `crc` (0 to start). */
uint32_t sk_crc32c(uint32_t crc, const void *data, size_t len);

/* The table-driven routine; always available. Same contract as sk_crc32c. */
uint32_t sk_crc32c_sw(uint32_t crc, const void *data, size_t len);

/* The SSE4.2 routine. Call only when sk_crc32c_hw_available() is true (on
 * other CPUs or architectures it falls back to sk_crc32c_sw). */
uint32_t sk_crc32c_hw(uint32_t crc, const void *data, size_t len);

/* True when this CPU has the SSE4.2 crc32 instruction. */
bool sk_crc32c_hw_available(void);

#endif
