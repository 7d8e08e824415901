/*
 * SHA-256 helpers the compiled modules share (_bulk.c, _private.c): big-endian integers,
 * tagged-hash states that absorbed their prefix once, and HMAC-SHA256 with its pads
 * precomputed. OpenSSL's SHA-256, the same library as Python's hashlib.
 */
#ifndef RESERVES_HASHING_H
#define RESERVES_HASHING_H

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init & co.: fast, stable, still in OpenSSL 3 */
#include <Python.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

static void put_u64(unsigned char *out, uint64_t value) {
    value = __builtin_bswap64(value); /* big-endian (x86-64 and arm64 are little-endian) */
    memcpy(out, &value, 8);
}

static uint64_t get_u64(const unsigned char *in) {
    uint64_t value;
    memcpy(&value, in, 8);
    return __builtin_bswap64(value);
}

/* A state that has absorbed `prefix` (the 64-byte tag prefix and the context). */
static void prefixed(SHA256_CTX *state, const Py_buffer *prefix) {
    SHA256_Init(state);
    SHA256_Update(state, prefix->buf, (size_t)prefix->len);
}

/* HMAC-SHA256 (RFC 2104) with the key's inner and outer pad states precomputed. */
typedef struct {
    SHA256_CTX inner, outer;
} hmac_state;

static void hmac_init(hmac_state *state, const unsigned char *key, size_t key_length, const unsigned char *label,
                      size_t label_length) {
    unsigned char pad[64];
    memset(pad, 0, sizeof pad);
    memcpy(pad, key, key_length); /* key_length <= 64: no pre-hashing (ours is 32 bytes) */
    for (int i = 0; i < 64; i++) pad[i] ^= 0x36;
    SHA256_Init(&state->inner);
    SHA256_Update(&state->inner, pad, 64);
    SHA256_Update(&state->inner, label, label_length);
    for (int i = 0; i < 64; i++) pad[i] ^= 0x36 ^ 0x5c;
    SHA256_Init(&state->outer);
    SHA256_Update(&state->outer, pad, 64);
}

static void hmac_finish(const hmac_state *state, const unsigned char *lp_id, size_t length, unsigned char *out) {
    SHA256_CTX inner = state->inner, outer = state->outer;
    unsigned char digest[32];
    SHA256_Update(&inner, lp_id, length);
    SHA256_Final(digest, &inner);
    SHA256_Update(&outer, digest, 32);
    SHA256_Final(out, &outer);
}

#endif
