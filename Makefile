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

.PHONY: all help deps bpf addon ts generate check-generated test test-unit test-privileged demo bench bench-dataplane bench-throughput bench-control bench-failover bench-api lib clean

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

$(BUILD)/proc.o: native/src/proc.cc node_modules/.package-lock.json
	$(CXX) -std=c++17 $(ADDON_FLAGS) -c $< -o $@

$(ADDON): $(BUILD)/addon.o $(BUILD)/skel.o $(BUILD)/api.o $(BUILD)/proc.o
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

demo: all ## Two multihomed hosts in namespaces; path 1 fails, the stream moves to path 2 (ARGS='--ci --record FILE')
	$(NODE) dist/src/demo/demo.js $(ARGS)

bench-dataplane: all ## BPF_PROG_TEST_RUN cost of each program path (JSON)
	$(NODE) dist/bench/dataplane.js

bench-throughput: all ## TCP bulk through the namespace topology (JSON)
	$(NODE) dist/bench/throughput.js

bench-control: all ## Context setup time between two agents, establishments/s, HBA cost (JSON)
	$(NODE) dist/bench/control.js

bench-failover: all ## Application-visible pause on path failure per REAP profile (JSON; PROFILES=default,fast,standby RUNS=20)
	PROFILES=$(PROFILES) RUNS=$(RUNS) $(NODE) dist/bench/failover.js

API_CLIENT  := $(BUILD)/api_client

$(API_CLIENT): bench/api_client.c include/shim6/shim.h $(LIBSHIM6)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -Iinclude $< -o $@ -L$(BUILD) -lshim6 -Wl,-rpath,$(abspath $(BUILD))

bench-api: all $(API_CLIENT) ## RFC 6316 API from C: get/setsockopt latency, calls/s (1, 8 clients), event latency (JSON)
	$(NODE) dist/bench/api.js

clean: ## Remove build outputs
	rm -rf $(BUILD) dist

# ---- install / uninstall ---------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=]: shim6d and shim6ctl launchers in
# $(BINDIR); the agent tree in $(PKGLIBDIR) laid out as the checkout (package.json,
# dist/src, build/shim6.node, node_modules: projectRoot() in src/native.ts finds
# package.json two levels above dist/src/native.js and the addon in build/);
# libshim6 with its soname, the header, shim6.pc, man pages, the systemd unit and
# an example configuration. Files are owned by whoever runs it.
SHIM6_VERSION  := $(shell sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' package.json | head -n1)
SOMAJOR        := 0
INSTALL        ?= install
BINDIR         ?= $(PREFIX)/bin
LIBDIR         ?= $(PREFIX)/lib
PKGLIBDIR      ?= $(LIBDIR)/shim6
PKGCONFIGDIR   ?= $(LIBDIR)/pkgconfig
INCLUDEDIR     ?= $(PREFIX)/include
MANDIR         ?= $(PREFIX)/share/man
DOCDIR         ?= $(PREFIX)/share/doc/shim6
SYSTEMDUNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
LIBSHIM6_REAL  := $(BUILD)/libshim6.so.$(SHIM6_VERSION)
MANPAGES       := man/shim6d.8 man/shim6ctl.8 man/shim6.7

.PHONY: install uninstall man test-install pack test-pack

# libshim6 as installed: soname libshim6.so.$(SOMAJOR) (build/libshim6.so keeps its own for LD_PRELOAD in the tree).
$(LIBSHIM6_REAL): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libshim6.so.$(SOMAJOR) -Wl,-z,defs -o $@ $^ -ldl

install: all $(LIBSHIM6_REAL) ## Install shim6d, shim6ctl, libshim6, header, shim6.pc, man pages, unit (PREFIX=/usr/local DESTDIR=)
	@test -n "$(SHIM6_VERSION)" || { echo "install: no version in package.json" >&2; exit 1; }
	@case "$(PKGLIBDIR)" in /*/shim6) ;; *) echo "PKGLIBDIR=$(PKGLIBDIR): must be an absolute path ending in /shim6" >&2; exit 1;; esac
	$(NODE) packaging/prod-deps.mjs > $(BUILD)/prod-deps.txt
	rm -rf $(DESTDIR)$(PKGLIBDIR)
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGLIBDIR)/build $(DESTDIR)$(PKGLIBDIR)/node_modules \
	  $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR)/shim6 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 0644 package.json $(DESTDIR)$(PKGLIBDIR)/package.json
	$(INSTALL) -m 0755 $(ADDON) $(DESTDIR)$(PKGLIBDIR)/build/shim6.node
	cd dist && find src -name '*.js' ! -path 'src/lab/*' ! -path 'src/demo/*' | sort | \
	  while read -r f; do $(INSTALL) -D -m 0644 "$$f" "$(DESTDIR)$(PKGLIBDIR)/dist/$$f" || exit 1; done
	while read -r p; do mkdir -p "$(DESTDIR)$(PKGLIBDIR)/$$(dirname "$$p")" && cp -R "$$p" "$(DESTDIR)$(PKGLIBDIR)/$$p" || exit 1; done < $(BUILD)/prod-deps.txt
	chmod -R u=rwX,go=rX $(DESTDIR)$(PKGLIBDIR)/node_modules
	rel=$$(realpath -m --relative-to='$(BINDIR)' '$(PKGLIBDIR)') && node_abs=$$(command -v $(NODE)) && \
	for t in shim6d:agent/main.js shim6ctl:cli/shim6ctl.js; do \
	  sed -e "s|@NAME@|$${t%%:*}|g" -e "s|@ENTRY@|$${t#*:}|g" -e "s|@PKGLIBREL@|$$rel|g" -e "s|@NODE@|$$node_abs|g" \
	    packaging/launcher.sh.in > $(DESTDIR)$(BINDIR)/.$${t%%:*}.tmp && \
	  chmod 0755 $(DESTDIR)$(BINDIR)/.$${t%%:*}.tmp && mv -f $(DESTDIR)$(BINDIR)/.$${t%%:*}.tmp $(DESTDIR)$(BINDIR)/$${t%%:*} || exit 1; \
	done
	$(INSTALL) -m 0755 $(LIBSHIM6_REAL) $(DESTDIR)$(LIBDIR)/libshim6.so.$(SHIM6_VERSION)
	ln -sfn libshim6.so.$(SHIM6_VERSION) $(DESTDIR)$(LIBDIR)/libshim6.so.$(SOMAJOR)
	ln -sfn libshim6.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libshim6.so
	$(INSTALL) -m 0644 include/shim6/shim.h $(DESTDIR)$(INCLUDEDIR)/shim6/shim.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(SHIM6_VERSION)|' \
	  packaging/shim6.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/shim6.pc && chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/shim6.pc
	$(INSTALL) -m 0644 man/shim6d.8 man/shim6ctl.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 man/shim6.7 $(DESTDIR)$(MANDIR)/man7/
	sed -e 's|/usr/local/bin/shim6d|$(BINDIR)/shim6d|' packaging/shim6d.service > $(DESTDIR)$(SYSTEMDUNITDIR)/shim6d.service && \
	  chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/shim6d.service
	$(INSTALL) -m 0644 packaging/shim6d.json.example $(DESTDIR)$(DOCDIR)/shim6d.json.example
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi
	@echo "installed under $(DESTDIR)$(PREFIX); configuration: /etc/shim6/shim6d.json (example in $(DOCDIR)); then: systemctl daemon-reload && systemctl enable --now shim6d"

uninstall: ## Remove what 'make install' installed (same PREFIX and DESTDIR)
	@case "$(PKGLIBDIR)" in /*/shim6) ;; *) echo "PKGLIBDIR=$(PKGLIBDIR): must be an absolute path ending in /shim6" >&2; exit 1;; esac
	rm -f $(DESTDIR)$(BINDIR)/shim6d $(DESTDIR)$(BINDIR)/shim6ctl
	rm -rf $(DESTDIR)$(PKGLIBDIR)
	rm -f $(DESTDIR)$(LIBDIR)/libshim6.so $(DESTDIR)$(LIBDIR)/libshim6.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libshim6.so.$(SHIM6_VERSION)
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/shim6.pc $(DESTDIR)$(INCLUDEDIR)/shim6/shim.h
	rm -f $(DESTDIR)$(MANDIR)/man8/shim6d.8 $(DESTDIR)$(MANDIR)/man8/shim6ctl.8 $(DESTDIR)$(MANDIR)/man7/shim6.7
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/shim6d.service $(DESTDIR)$(DOCDIR)/shim6d.json.example
	rmdir $(DESTDIR)$(INCLUDEDIR)/shim6 $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

man: ## Check that the man pages render without warnings (groff -ww)
	@for m in $(MANPAGES); do \
	  out=$$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z $$m 2>&1); \
	  if [ -n "$$out" ]; then echo "$$m:"; echo "$$out"; exit 1; fi; echo "$$m: ok"; \
	done

test-install: all ## make install into a temporary DESTDIR and check the tree (root)
	npx vitest run --project privileged test/netns/install.test.ts

# npm pack: the compiled TypeScript, BPF and addon sources, man pages; the
# package's install script (packaging/npm-build.mjs) builds the BPF object and
# the addon with the deps.sh toolchain where it is installed.
pack: ts ## npm pack: shim6-VERSION.tgz (npm install -g it; it builds its addon on install)
	npm pack

test-pack: all ## npm pack, install the tarball into a temporary prefix, run its binaries (root: load the data plane from it)
	npx vitest run --project privileged test/netns/pack.test.ts
