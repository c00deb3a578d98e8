/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lists of networks in policy files (the egress lists, the isolation allow
 * list): each item a CIDR, or a mapping with a CIDR and the ports it covers:
 *
 *   [169.254.169.254/32, "fd00::/8", {cidr: 10.0.0.0/8, ports: [5432, 6379]}]
 *
 * A bare address is a /32 (/128) network; no ports means every port.
 */
#ifndef VIGIL_NETLIST_H
#define VIGIL_NETLIST_H

#include <stddef.h>
#include <stdint.h>
#include "common/yaml.h"
#include "vigil/egress.h"

#define NETLIST_MAX_PORTS VG_EGRESS_MAX_PORTS

struct netlist_net {
	int family;       /* 4 or 6 */
	uint8_t addr[16]; /* network order */
	unsigned int len; /* prefix length */
	uint8_t verdict;  /* the caller's tag (allow, deny) */
	uint16_t ports[NETLIST_MAX_PORTS];
	unsigned int nports; /* 0: every port */
};

/* Parse "10.0.0.0/8", "fd00::/8" or "1.2.3.4". 0, or -1 if it is not one. */
int netlist_parse_cidr(const char *s, struct netlist_net *net);
/*
 * Append the networks of a YAML list (NULL: none) to *v (*n of them, at most
 * max in all), each tagged with verdict. 0, or -1 with "path:line:col: problem" in err.
 */
int netlist_parse(const char *path, const struct yaml_node *list, uint8_t verdict, struct netlist_net **v,
		  size_t *n, size_t max, char *err, size_t errlen);

#endif
