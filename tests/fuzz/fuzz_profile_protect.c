/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: what a protecting profile reads (profile/profile_protect.c): a
 * resolv.conf's nameservers from any bytes, and exec and connect items
 * (NUL-terminated copies of the input) split into their parts; every part
 * found is within its bounds and what it claims to be.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "profile/profile_protect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ns[8][PROFILE_NS_LEN];
	size_t n = profile_nameservers((const char *)data, size, ns, 8);
	if (n > 8)
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		uint8_t bin[16];
		if (strlen(ns[i]) >= PROFILE_NS_LEN ||
		    (inet_pton(AF_INET, ns[i], bin) != 1 && inet_pton(AF_INET6, ns[i], bin) != 1))
			__builtin_trap();
	}
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	char path[256], name[64], host[128];
	uint16_t port = 0;
	if (profile_exec_program(s, path, sizeof(path), name, sizeof(name)) &&
	    (path[0] != '/' || strlen(path) >= sizeof(path) || strlen(name) >= sizeof(name)))
		__builtin_trap();
	if (profile_dest_split(s, host, sizeof(host), &port) && (port == 0 || !host[0] || strlen(host) >= sizeof(host)))
		__builtin_trap();
	free(s);
	return 0;
}
