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
# libarchive: image layers; libcrypto: digests and TLS; libmicrohttpd: admission webhook
PKGS := libbpf jansson yaml-0.1 sqlite3 libpcre2-8 libarchive libcrypto libmicrohttpd
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	  -D_GNU_SOURCE -Iinclude -Isrc -I$(BUILD) $(SANFLAGS) \
	  $(shell pkg-config --cflags $(PKGS))
LDLIBS := $(shell pkg-config --libs $(PKGS)) -lelf -lz -lm
LDFLAGS += $(SANFLAGS)

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
	      -Iinclude -Isrc/bpf -I$(BUILD)

LIB_SRC := $(wildcard src/common/*.c src/sensor/*.c src/state/*.c src/output/*.c \
	   src/engine/*.c src/respond/*.c src/scan/*.c src/policy/*.c src/admission/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
BPF_SRC := $(wildcard src/bpf/*.bpf.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
SKELS := $(BPF_SRC:src/bpf/%.bpf.c=$(BUILD)/%.skel.h)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOLS := $(BUILD)/tests/storm $(BUILD)/tests/int80 $(BUILD)/tests/mkcapture

all: $(BUILD)/vigil

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

$(BUILD)/%.bpf.o: src/bpf/%.bpf.c $(BUILD)/vmlinux.h src/bpf/maps.h include/vigil/event.h include/vigil/events.def
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

$(BUILD)/tests/mkcapture: tests/tools/mkcapture.c $(BUILD)/libvigil.a
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: tests/tools/%.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS)

tests: $(BUILD)/vigil $(UNIT_BIN) $(TOOLS)

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
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) | $(SKELS)
	$(call msg,FUZZ,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_BIN)

clean:
	rm -rf build build-san

.PHONY: all tests test check fuzz clean
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
