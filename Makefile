# Vigil build. `make` builds build/vigil (BPF objects and skeletons included);
# `make test` builds and runs every test; `make SANITIZE=1 ...` builds the same
# into build-san/ with ASan+UBSan; `make V=1` shows full commands.
.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

ifeq ($(SANITIZE),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SANFLAGS :=
endif

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2)
endif

# libbpf: sensor; jansson: JSON in; yaml-0.1: rules and manifests (with line/column marks);
# sqlite3: alert store and vulnerability DB; libpcre2-8: regex operator and secret rules;
# libarchive: image layers; libcrypto: digests and TLS; libmicrohttpd: admission webhook;
# libnats: the NATS JetStream client of the fleet (publisher, hub)
PKGS := libbpf jansson yaml-0.1 sqlite3 libpcre2-8 libarchive libcrypto libmicrohttpd libcurl libnats
# opened on first use (src/common/lazylib.h): their headers, not their libraries
LAZY_PKGS := libarchive libmicrohttpd libcurl
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	  -D_GNU_SOURCE -Iinclude -Isrc -I$(BUILD) $(SANFLAGS) \
	  $(shell pkg-config --cflags $(PKGS))
LDLIBS := $(shell pkg-config --libs $(filter-out $(LAZY_PKGS),$(PKGS))) -lelf -lz -lm
LDFLAGS += $(SANFLAGS)

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
	      -Iinclude -Isrc/bpf -I$(BUILD)

# Every module's sources, subfolders included (src/scan/*/), but the CLI and the
# kernel programs, which are built on their own.
LIB_SRC := $(sort $(filter-out src/cli/% src/bpf/%,$(shell find src -name '*.c' ! -name '*.bpf.c')))
CLI_SRC := $(wildcard src/cli/*.c)
BPF_SRC := $(wildcard src/bpf/*.bpf.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/default_rules.o
LIB_OBJ += $(BUILD)/console_assets.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
SKELS := $(BPF_SRC:src/bpf/%.bpf.c=$(BUILD)/%.skel.h)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOLS := $(BUILD)/tests/storm $(BUILD)/tests/int80 $(BUILD)/tests/mkcapture $(BUILD)/tests/evgen $(BUILD)/tests/attack \
	 $(BUILD)/tests/kvput

all: $(BUILD)/vigil

# Every x86-64 syscall name, so that a rule naming one we do not capture is told
# apart from a typo (src/engine/filter.c).
SYSCALL_HDR ?= /usr/include/x86_64-linux-gnu/asm/unistd_64.h
$(BUILD)/syscall_names.h: $(SYSCALL_HDR)
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q){ echo 'static const char *const syscall_names[] = {'; \
	  sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/\t"\1",/p' $< ; echo '};'; } > $@
$(BUILD)/src/engine/filter.o $(BUILD)/fuzz/obj/src/engine/filter.o: $(BUILD)/syscall_names.h

# Vigil's default rules are built into the binary, so `vigil run` needs no files.
RULE_FILES := $(sort $(wildcard rules/*.yaml))
$(BUILD)/default_rules.c: $(RULE_FILES) Makefile
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q){ echo '#include <stddef.h>'; i=0; for f in $(RULE_FILES); do \
	    echo "static const char r$$i[] = {"; od -An -v -tx1 $$f | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	    echo '0};'; i=$$((i+1)); done; \
	  echo 'const char *const default_rules_names[] = {'; for f in $(RULE_FILES); do echo "\"$$f\","; done; echo 'NULL};'; \
	  echo 'const char *const default_rules_texts[] = {'; i=0; for f in $(RULE_FILES); do echo "r$$i,"; i=$$((i+1)); done; echo 'NULL};'; \
	  echo 'const size_t default_rules_sizes[] = {'; i=0; for f in $(RULE_FILES); do echo "sizeof(r$$i) - 1,"; i=$$((i+1)); done; echo '0};'; \
	} > $@
$(BUILD)/default_rules.o: $(BUILD)/default_rules.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The web console's static files (web/console/) are built into the binary too (docs/console.md).
CONSOLE_FILES := $(sort $(wildcard web/console/*.html web/console/*.js web/console/*.css web/console/*.svg))
$(BUILD)/console_assets.c: $(CONSOLE_FILES) scripts/embed-assets Makefile
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)scripts/embed-assets $@ web/console $(CONSOLE_FILES)
$(BUILD)/console_assets.o: $(BUILD)/console_assets.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/vigil: $(CLI_OBJ) $(BUILD)/libvigil.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libvigil.a: $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# Kernel programs: vmlinux.h from the running kernel's BTF, then CO-RE objects
# and their skeletons.
$(BUILD)/vmlinux.h:
	$(call msg,BTF,$@)
	@mkdir -p $(@D)
	@test -r $(VMLINUX_BTF) || { echo "vigil: cannot build: $(VMLINUX_BTF) missing (kernel without BTF)" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(BUILD)/%.bpf.o: src/bpf/%.bpf.c $(BUILD)/vmlinux.h src/bpf/maps.h $(wildcard src/bpf/lib/*.h) $(wildcard include/vigil/*.h) include/vigil/events.def
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# Tests
$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libvigil.a
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) -lcmocka

# fwdsend drives a forwarder as the outbox does (tests/integration/test_forwarders.sh)
TOOLS += $(BUILD)/tests/fwdsend
$(BUILD)/tests/fwdsend: tests/tools/fwdsend.c $(BUILD)/libvigil.a
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)
$(BUILD)/tests/mkcapture $(BUILD)/tests/evgen $(BUILD)/tests/kvput: $(BUILD)/tests/%: tests/tools/%.c $(BUILD)/libvigil.a
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# the fleet tests' helper: captures at volume, NKey seeds, reading JetStream back
TOOLS += $(BUILD)/tests/fleet_tool
$(BUILD)/tests/fleet_tool: tests/tools/fleet_tool.c $(BUILD)/libvigil.a
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)
# pipe_probe: the outbox's pipelining against a stopped nats-server (test_fleet_pipeline.sh)
TOOLS += $(BUILD)/tests/pipe_probe
$(BUILD)/tests/pipe_probe: tests/tools/pipe_probe.c $(BUILD)/libvigil.a
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# close_race: publishers closed while their acks arrive (test_fleet_pipeline.sh)
TOOLS += $(BUILD)/tests/close_race
$(BUILD)/tests/close_race: tests/tools/close_race.c $(BUILD)/libvigil.a
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# static, so that it runs inside any container image
$(BUILD)/tests/attack: tests/tools/attack.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -static -o $@ $<

$(BUILD)/tests/%: tests/tools/%.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS)

tests: $(BUILD)/vigil $(UNIT_BIN) $(TOOLS) $(BUILD)/bench/fleetgen

# Benchmark helpers (bench/*.sh build what they need with `make bench-tools`).
$(BUILD)/bench/admission_load: bench/admission_load.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) -lssl -lcrypto -lpthread

$(BUILD)/bench/kill_latency: bench/kill_latency.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^

$(BUILD)/bench/replay_stages: bench/replay_stages.c $(BUILD)/libvigil.a
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/bench/fleet_publish_bench: bench/fleet_publish_bench.c $(BUILD)/libvigil.a
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# poses as many fleet nodes on NATS JetStream (the hub's tests and benchmarks)
$(BUILD)/bench/fleetgen: bench/fleetgen.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(shell pkg-config --libs libnats jansson)

$(BUILD)/bench/hub_fill: bench/hub_fill.c $(BUILD)/libvigil.a
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/bench/hub_apiload: bench/hub_apiload.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) -lcurl -lpthread

bench-tools: $(BUILD)/vigil $(BUILD)/bench/admission_load $(BUILD)/bench/kill_latency $(BUILD)/bench/replay_stages \
	$(BUILD)/bench/fleetgen $(BUILD)/bench/hub_fill $(BUILD)/bench/hub_apiload
bench-tools: $(BUILD)/bench/fleet_publish_bench $(BUILD)/tests/fleet_tool

$(BUILD)/bench/readtree: bench/readtree.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^

bench-tools: $(BUILD)/bench/readtree

test: tests
	$(Q)BUILD=$(BUILD) tests/run

# Everything CI runs: the suite on the normal build, again under ASan+UBSan,
# and a short run of every fuzzer.
check:
	$(MAKE) tests fuzz
	$(MAKE) SANITIZE=1 tests
	tests/run build build-san

# libFuzzer harnesses (clang), one per parser of untrusted input.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -Isrc -I$(BUILD) \
	       -fsanitize=fuzzer,address,undefined $(shell pkg-config --cflags $(PKGS))
# The library is compiled once for all harnesses (instrumented, not linked with the fuzzer main).
FUZZ_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o) $(BUILD)/default_rules.o
FUZZ_OBJ += $(BUILD)/console_assets.o
$(BUILD)/fuzz/obj/%.o: %.c | $(SKELS)
	$(call msg,FUZZCC,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(subst fuzzer$(comma),fuzzer-no-link$(comma),$(FUZZ_CFLAGS)) -MMD -MP -c -o $@ $<
$(BUILD)/fuzz/libvigil.a: $(FUZZ_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/libvigil.a
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_BIN)

clean:
	rm -rf build build-san

.PHONY: all tests test check fuzz clean bench-tools
comma := ,
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)

# `vigil flows` tests: flow reports and DNS answers fed through the library's API into a store
$(BUILD)/tests/flowgen: tests/tools/flowgen.c $(BUILD)/libvigil.a
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)
tests: $(BUILD)/tests/flowgen

# how soon a pull fetch returns when a message comes (docs/fleet.md, "Latency")
$(BUILD)/bench/fetch_probe: bench/fetch_probe.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(shell pkg-config --libs libnats) -lpthread

bench-tools: $(BUILD)/bench/fetch_probe

# the hub's pull fetch where libnats 3.4.1's overruns its array (tests/integration/test_hub_fetch.sh)
$(BUILD)/tests/hub_fetch_check: tests/tools/hub_fetch_check.c $(BUILD)/libvigil.a
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) -lpthread
tests: $(BUILD)/tests/hub_fetch_check
