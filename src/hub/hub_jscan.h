/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A light scanner for the fields the hub indexes of an alert, action or loss
 * record (hub_msg.c), instead of building jansson's tree of the whole body:
 * one pass, no allocation, the wanted strings decoded into a buffer the caller
 * gives.
 *
 * It answers only when it is sure: HUB_JSCAN_OK means the body is one JSON
 * object that jansson (json_loadb with JSON_REJECT_DUPLICATES) accepts, and the
 * fields are what jansson's tree would give. Anything else, malformed input
 * included, is HUB_JSCAN_FALLBACK: the caller parses with jansson as before,
 * which accepts or refuses with its own reason. Falls back on purpose on what
 * is rare in records and costly to get exactly right: a "\u" escape anywhere, a
 * backslash in a key, a number with an exponent or longer than 15 characters,
 * an object of more than HUB_JSCAN_MAX_KEYS keys (duplicate keys are looked for
 * pairwise), nesting deeper than HUB_JSCAN_MAX_DEPTH, a body that is not an
 * object. The fuzzer tests/fuzz/fuzz_hub_jscan.c checks every answer against
 * jansson's.
 */
#ifndef VIGIL_HUB_JSCAN_H
#define VIGIL_HUB_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HUB_JSCAN_MAX_KEYS 32
#define HUB_JSCAN_MAX_DEPTH 64
#define HUB_JSCAN_MAX_FIELDS 16
#define HUB_JSCAN_MAX_PATH 4

enum hub_jscan_type { HUB_JT_ABSENT = 0, HUB_JT_STRING, HUB_JT_INTEGER, HUB_JT_OTHER };

/* One wanted value: a path of 1 to HUB_JSCAN_MAX_PATH object keys from the top (NULL after the last). */
struct hub_jscan_field {
	const char *path[HUB_JSCAN_MAX_PATH + 1];
	enum hub_jscan_type type; /* out */
	const char *str;          /* out, HUB_JT_STRING: decoded, NUL-terminated, in the caller's buffer */
	size_t len;
	int64_t integer;          /* out, HUB_JT_INTEGER */
};

enum hub_jscan_result { HUB_JSCAN_OK, HUB_JSCAN_FALLBACK };

/*
 * Scan body (len bytes, no NUL byte) for the nf fields (at most
 * HUB_JSCAN_MAX_FIELDS). buf: at least len + nf bytes, where the wanted strings
 * are decoded. Each path is given once (a second field of the same path stays
 * absent).
 */
enum hub_jscan_result hub_jscan(const char *body, size_t len, struct hub_jscan_field *f, int nf, char *buf,
				size_t buflen);

#endif
