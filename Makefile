# shim6 — make help lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := all

ARCH        := $(shell uname -m)
CLANG       ?= clang
BPFTOOL     ?= bpftool
CXX         ?= g++
CC          ?= gcc
NODE        ?= node
NODE_INC    ?= $(shell $(NODE) -p "require('path').resolve(process.execPath, '../../include/node')")
BUILD       := build
BPF_CFLAGS  := -g -O2 -target bpf -Wall -Werror -I/usr/include/$(ARCH)-linux-gnu -MMD -MP
ADDON_FLAGS := -O2 -g -fPIC -Wall -Werror -MMD -MP -I$(NODE_INC) -Inode_modules/node-addon-api -I$(BUILD) \
               -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -fexceptions
PREFIX      ?= /usr/local

BPF_OBJ     := $(BUILD)/shim6.bpf.o
TEST_BPF    := $(BUILD)/blackhole.bpf.o
SKEL        := $(BUILD)/shim6.skel.h
ADDON       := $(BUILD)/shim6.node
TS_STAMP    := dist/.stamp
PROFILES    ?= default,fast,standby
RUNS        ?= 20

-include $(BUILD)/*.d

.PHONY: all help deps bpf addon ts generate check-generated test test-unit test-privileged demo bench bench-dataplane bench-throughput bench-control bench-failover lib clean

all: bpf addon lib ts ## Build everything: BPF object, skeleton, addon, libshim6, TypeScript

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[1m%-18s\033[0m %s\n", $$1, $$2}'

deps: ## Install the toolchain (Debian packages) and npm dependencies
	bash scripts/deps.sh
	npm ci --no-audit --no-fund

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

bpf: $(BPF_OBJ) $(TEST_BPF) ## Build the BPF objects

$(BPF_OBJ): bpf/shim6.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -MF $(BUILD)/shim6.bpf.d -MT $@ -c $< -o $@

$(TEST_BPF): bpf/blackhole.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -MF $(BUILD)/blackhole.bpf.d -MT $@ -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name shim6_bpf > $@.tmp && mv $@.tmp $@

addon: $(ADDON) ## Build the native addon (libbpf, tc, maps, ring buffer)

$(BUILD)/skel.o: native/src/skel.c $(SKEL)
	$(CC) -O2 -g -fPIC -Wall -Werror -MMD -MP -I$(BUILD) -c $< -o $@

$(BUILD)/addon.o: native/src/addon.cc node_modules/.package-lock.json
	$(CXX) -std=c++17 $(ADDON_FLAGS) -c $< -o $@

$(BUILD)/api.o: native/src/api.cc node_modules/.package-lock.json
	$(CXX) -std=c++17 $(ADDON_FLAGS) -c $< -o $@

$(ADDON): $(BUILD)/addon.o $(BUILD)/skel.o $(BUILD)/api.o
	$(CXX) -shared -o $@ $^ -lbpf -lelf -lz

$(BUILD):
	mkdir -p $(BUILD)

# libshim6: RFC 6316 SOL_SHIM for C programs (-lshim6 or LD_PRELOAD), include/shim6/shim.h.
LIBSHIM6    := $(BUILD)/libshim6.so
LIB_CFLAGS  := -std=gnu11 -O2 -g -fPIC -fvisibility=hidden -Wall -Wextra -Werror -MMD -MP -D_GNU_SOURCE -Iinclude -Ilib
LIB_OBJS    := $(BUILD)/libshim6-api.o $(BUILD)/libshim6-frame.o

lib: $(LIBSHIM6) ## Build libshim6.so (SOL_SHIM get/setsockopt, sendmsg/recvmsg; LD_PRELOAD interposer)

$(BUILD)/libshim6-api.o: lib/libshim6.c | $(BUILD)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(BUILD)/libshim6-frame.o: lib/shim6_frame.c | $(BUILD)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(LIBSHIM6): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libshim6.so -Wl,-z,defs -o $@ $^ -ldl

generate: $(BPF_OBJ) node_modules/.package-lock.json ## Regenerate src/generated/ from the object's BTF and the consts header
	$(NODE) scripts/gen-layout.mjs $(BPF_OBJ) bpf/shim6_consts.h > src/generated/layout.ts.tmp
	mv src/generated/layout.ts.tmp src/generated/layout.ts

check-generated: $(BPF_OBJ) node_modules/.package-lock.json ## Fail if src/generated/ drifted from the BPF object
	@$(NODE) scripts/gen-layout.mjs $(BPF_OBJ) bpf/shim6_consts.h | diff -u src/generated/layout.ts - \
	  || { echo "src/generated/layout.ts is stale: run 'make generate' and commit it" >&2; exit 1; }

ts: $(TS_STAMP) ## Compile the TypeScript

$(TS_STAMP): $(shell find src bench test/support -name '*.ts' 2>/dev/null) tsconfig.json node_modules/.package-lock.json
	npx tsc -p tsconfig.json
	@touch $@

test: all check-generated ## Run the whole test suite (unit, BPF test-run, network namespaces)
	npx vitest run

test-unit: node_modules/.package-lock.json ## Unit tests only (no privileges)
	npx vitest run --project unit

test-privileged: all ## BPF and namespace tests only (root)
	npx vitest run --project privileged

demo: all ## Two multihomed hosts in namespaces; path 1 fails, the stream moves to path 2
	$(NODE) dist/src/demo/demo.js $(ARGS)

bench-dataplane: all ## BPF_PROG_TEST_RUN cost of each program path (JSON)
	$(NODE) dist/bench/dataplane.js

bench-throughput: all ## TCP bulk through the namespace topology (JSON)
	$(NODE) dist/bench/throughput.js

bench-control: all ## Context setup time between two agents, establishments/s, HBA cost (JSON)
	$(NODE) dist/bench/control.js

bench-failover: all ## Application-visible pause on path failure per REAP profile (JSON; PROFILES=default,fast,standby RUNS=20)
	PROFILES=$(PROFILES) RUNS=$(RUNS) $(NODE) dist/bench/failover.js

clean: ## Remove build outputs
	rm -rf $(BUILD) dist
