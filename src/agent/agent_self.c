/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent describes itself to the state (state/agent_self.h) so that rules
 * see acts against it: its binary, its rule and policy files, its alert store,
 * its BPF objects and where isolation pins them.
 */
#include <limits.h>
#include <unistd.h>
#include "agent/agent_int.h"
#include "common/log.h"
#include "common/pseudofs.h"
#include "respond/isolate.h"

struct vg_agent_self *agent_self_describe(const struct agent_config *c)
{
	struct vg_agent_self *s = agent_self_new(ISOLATE_PIN_DIR, PSEUDOFS_BPFFS);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = 0;
		agent_self_add_file(s, "binary", exe);
	}
	for (size_t i = 0; i < c->nrule_paths; i++)
		agent_self_add_file(s, "rules", c->rule_paths[i]);
	if (c->rpolicy_path)
		agent_self_add_file(s, "config", c->rpolicy_path);
	if (c->egress_path)
		agent_self_add_file(s, "config", c->egress_path);
	if (c->files_path)
		agent_self_add_file(s, "config", c->files_path);
	if (c->store_path)
		agent_self_add_file(s, "store", c->store_path);
	size_t nbpf = agent_self_scan_bpf(s);
	vg_debug("tamper watch: pid %u, %zu files, %zu BPF objects, pins below %s", s->pid, s->nfiles, nbpf,
		 s->pin_dir);
	return s;
}
