/* SPDX-License-Identifier: Apache-2.0 */
/* attach OBJ SECONDS: load a BPF object, attach its programs, hold them. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;

	if (argc != 3) {
		fputs("usage: attach OBJ SECONDS\n", stderr);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "attach: cannot load %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
	{
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "attach: cannot attach %s\n", bpf_program__name(prog));
			return 1;
		}
	}
	sleep(atoi(argv[2]));
	bpf_object__close(obj);
	return 0;
}
