# caller-echo -- see README.md.
#   make          build build/caller-echo (nothing else: it installs nothing)
#   make deps     install the Debian packages that building and running need
#   make run      install what is missing, build, run on :8080 with a development secret
#   make test     install what is missing, build, then: unit tests (CMocka, ASan+UBSan),
#                 fuzz corpus replay, integration tests against the real binary, again
#                 against an ASan+UBSan build, a subset under valgrind memcheck, arm64
#   make unit     only the unit tests (the fast inner loop; `make deps-test` once first);
#                 make unit T=ring (or T="ring voice") builds and runs just those
#   make fuzz     run each libFuzzer harness for FUZZ_SECONDS (default 60) from its corpus
#   make testssl  TLS audit of the server with testssl.sh (manual; docs/security-audit.md)
#   make demo     one simulated Vonage call through the whole path (build/caller-sim)
#   make bench    load benchmark: caller-echo vs a plain lws echo (docs/benchmarks.md)
#   make clean
#   make CROSS=aarch64-linux-gnu-   cross-build into build/aarch64/ (scripts/setup-cross.sh first)
#   make test-arm64                 arm64 unit tests + a simulated call under qemu-user
#   make install                    PREFIX=/usr/local DESTDIR= (README "Deploy")
#
# CXXFLAGS, CPPFLAGS and LDFLAGS are yours (make CXXFLAGS=-O0 builds); the
# flags the code needs to compile at all are in REQ_FLAGS (-Isrc: the apps in
# src/apps/ and the simulator include src/'s headers by name).

# CROSS=aarch64-linux-gnu-: Debian's cross compiler and the :arm64 libraries
# (multiarch, scripts/setup-cross.sh); everything lands in build/aarch64/.
CROSS    ?=
ifneq ($(CROSS),)
CXX      := $(CROSS)g++
endif
CXXFLAGS ?= -O2 -g
NPROC    := $(shell nproc 2>/dev/null || echo 2)   # make test builds its parts in parallel
REQ_FLAGS := -std=c++17 -fno-exceptions -fno-rtti -D_GNU_SOURCE -MMD -MP -Isrc \
             -Wall -Wextra -Wshadow -Wformat=2 -Wno-missing-field-initializers
LDLIBS   := -lwebsockets -ljwt -lcjson -lhiredis -lssl -lcrypto
CXX_ALL   = $(CXX) $(REQ_FLAGS) $(CPPFLAGS) $(CXXFLAGS)

B := build
ifneq ($(CROSS),)
B := build/$(firstword $(subst -, ,$(CROSS)))
# no libwebsockets-dev:arm64 (see setup-cross.sh): the runtime library by file name
LDLIBS := $(subst -lwebsockets,-l:libwebsockets.so.17,$(LDLIBS))
endif

# sanitizers for the unit tests and the sanitizer server build
UT_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
ifneq ($(CROSS),)
# ASan's shadow memory does not map under qemu-user; UBSan does run there
UT_FLAGS := -O1 -g -fsanitize=undefined -fno-omit-frame-pointer
endif

# --- what there is ---------------------------------------------------------------
.DEFAULT_GOAL := all   # (the deps.mk rule below comes first)
# Every src/*.cpp is a module, and every voice app src/apps/NAME.cpp
# (src/apps/list.h lists them for --app and the DTMF keys): a new one needs
# no line here.
MODULES := $(filter-out main,$(patsubst src/%.cpp,%,$(sort $(wildcard src/*.cpp)) $(sort $(wildcard src/apps/*.cpp))))
SRCS    := $(addprefix src/,$(addsuffix .cpp,$(MODULES))) src/main.cpp
OBJS    := $(patsubst src/%.cpp,$(B)/obj/%.o,$(SRCS))

# build/caller-sim plays Vonage against the server (sim/main.cpp says how)
SIM_MODULES := util url pctl wav ncco_check wsframe jwt_mint tls http_client audio ledger playback script check \
               engine report opts main
SIM_OBJS    := $(addprefix $(B)/sim/,$(addsuffix .o,$(SIM_MODULES)))
SIM_LDLIBS  := -lcurl   # the answer webhook request (sim/http_client.cpp); the server never links it

# Unit tests: tests/unit/test_NAME.cpp, one per pure module (sim/ modules as
# sim_NAME), built with sanitizers. Fuzz harnesses: tests/fuzz/fuzz_NAME.cpp.
# What each links, UT_DEPS_NAME and FZ_DEPS_NAME, is worked out from the
# sources' includes by scripts/code-map.py deps into $(B)/deps.mk, remade
# when a source changes (it needs python3, which `make deps-test` installs;
# the server alone does not).
UNIT_TESTS := $(patsubst tests/unit/test_%.cpp,%,$(sort $(wildcard tests/unit/test_*.cpp)))
UT_BINS    := $(addprefix $(B)/test/test_,$(UNIT_TESTS))
# make unit T=NAME: only those (as run.py --names does for the integration suite)
T          ?=
ifneq ($(filter-out $(UNIT_TESTS),$(T)),)
$(error T=$(T): no tests/unit/test_$(firstword $(filter-out $(UNIT_TESTS),$(T))).cpp (make print-unit-tests lists them))
endif
UT_RUN     := $(if $(T),$(addprefix $(B)/test/test_,$(T)),$(UT_BINS))
DEPS_MK    := $(B)/deps.mk
DEPS_SRCS  := $(wildcard src/*.cpp src/*.h src/apps/*.cpp src/apps/*.h sim/*.cpp sim/*.h \
                         tests/unit/*.cpp tests/unit/*.h tests/fuzz/*.cpp tests/fuzz/*.h)
$(DEPS_MK): scripts/code-map.py $(DEPS_SRCS)
	@mkdir -p $(dir $@)
	@if [ -x /usr/bin/python3 ]; then /usr/bin/python3 scripts/code-map.py deps >$@.tmp && mv $@.tmp $@; fi
-include $(DEPS_MK)

# libFuzzer harnesses (tests/fuzz/fuzz_<name>.cpp); this list is the one
# scripts/run-tests.sh and scripts/fuzz.sh are given
FUZZERS   := $(patsubst tests/fuzz/fuzz_%.cpp,%,$(sort $(wildcard tests/fuzz/fuzz_*.cpp)))
FUZZ_BINS := $(addprefix $(B)/fuzz/fuzz_,$(FUZZERS))
FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 60
FUZZ_ONLY    ?=
FUZZ_FLAGS   := -std=c++17 -O1 -g -Wall -Wextra -Wno-missing-field-initializers -fno-exceptions -fno-rtti \
                -D_GNU_SOURCE -MMD -MP -Isrc -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
export FUZZERS

.PHONY: all deps deps-test deps-fuzz deps-bench run test unit unit-bins test-bins integration clean certs docs \
        sim demo bench bench-bin fuzz fuzz-bins asan test-fuzz test-asan test-valgrind testssl install uninstall \
        arm64 test-arm64 print-fuzzers print-unit-tests
all: $(B)/caller-echo

# --- objects: one pattern rule per kind --------------------------------------
# $(call objects,OUT-DIR,SOURCE-DIR,COMPILE-COMMAND)
define objects
$(1)/%.o: $(2)/%.cpp
	@mkdir -p $$(dir $$@)
	$(3) -c -o $$@ $$<
endef
$(eval $(call objects,$(B)/obj,src,$$(CXX_ALL)))                                   # the server
$(eval $(call objects,$(B)/sim,sim,$$(CXX_ALL)))                                   # caller-sim
$(eval $(call objects,$(B)/asan/obj,src,$$(CXX_ALL) $$(UT_FLAGS)))                 # server, sanitized
$(eval $(call objects,$(B)/test,src,$$(CXX_ALL) $$(UT_FLAGS)))                     # modules under unit test
$(eval $(call objects,$(B)/test/sim,sim,$$(CXX_ALL) $$(UT_FLAGS)))
$(eval $(call objects,$(B)/test,tests/unit,$$(CXX_ALL) $$(UT_FLAGS) -Isim))        # the unit tests
$(eval $(call objects,$(B)/fuzz/obj,src,$$(FUZZ_CXX) $$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link))
$(eval $(call objects,$(B)/fuzz,tests/fuzz,$$(FUZZ_CXX) $$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link))

# keep objects: no "rm ..." after the summary line, and faster rebuilds
.SECONDARY:
.SECONDEXPANSION:

# --- programs -------------------------------------------------------------------
$(B)/caller-echo: $(OBJS)
	$(CXX_ALL) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# src/secret.cpp: both programs read --secret-file by the same rule
$(B)/caller-sim: $(SIM_OBJS) $(B)/obj/secret.o
	$(CXX_ALL) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(SIM_LDLIBS)
sim: $(B)/caller-sim

# the link list is $(DEPS_MK)'s; without one, say why rather than print a page of undefined symbols
$(B)/test/test_%: $(B)/test/test_%.o $$(addprefix $(B)/test/,$$(addsuffix .o,$$(UT_DEPS_$$*)))
	$(if $(filter UT_DEPS_$*,$(.VARIABLES)),,$(error $(DEPS_MK) has no UT_DEPS_$*: it needs /usr/bin/python3 (make deps-test)))
	$(CXX_ALL) $(UT_FLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka
unit-bins: $(UT_BINS)

# the same sources with ASan+UBSan; make test runs the integration suite on it
asan: $(B)/asan/caller-echo
$(B)/asan/caller-echo: $(patsubst src/%.cpp,$(B)/asan/obj/%.o,$(SRCS))
	$(CXX_ALL) $(UT_FLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# clang's libFuzzer; `make test` replays tests/fuzz/corpus/* and regressions/*
$(B)/fuzz/fuzz_%: $(B)/fuzz/fuzz_%.o $$(addprefix $(B)/fuzz/obj/,$$(addsuffix .o,$$(FZ_DEPS_$$*)))
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
fuzz-bins: $(FUZZ_BINS)
print-fuzzers:
	@echo $(FUZZERS)
print-unit-tests:
	@echo $(UNIT_TESTS)

# --- installing what is missing (never from plain `make`) ----------------------
deps:
	@scripts/deps.sh
deps-test:
	@scripts/deps.sh test
deps-fuzz:
	@scripts/deps.sh fuzz
deps-bench:
	@scripts/deps.sh bench

# --- running ----------------------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory $(B)/caller-echo
	@ARGS="$(ARGS)" scripts/run-dev.sh

demo: deps
	@$(MAKE) --no-print-directory $(B)/caller-echo $(B)/caller-sim
	@scripts/demo.sh

certs:
	@scripts/gen-certs.sh

# docs/options.md's table from the binary (tests/integration/test_docs.py checks it)
docs: $(B)/caller-echo
	@scripts/options-doc.sh $(B)/caller-echo docs/options.md

clean:
	rm -rf $(B)

# --- tests ----------------------------------------------------------------------
unit: $(UT_RUN)
	@scripts/run-tests.sh unit $(UT_RUN)

integration: $(B)/caller-echo $(B)/caller-sim
	@scripts/run-tests.sh integration

# everything `make test` runs; the arm64 part builds under build/aarch64/
test-bins: $(B)/caller-echo $(B)/caller-sim $(UT_BINS) $(FUZZ_BINS) $(B)/asan/caller-echo

test: deps-test
	@$(MAKE) --no-print-directory -j$(NPROC) test-bins arm64
	@scripts/run-tests.sh all $(UT_BINS)

# the parts of `make test` on their own
test-fuzz: $(FUZZ_BINS)
	@scripts/run-tests.sh fuzz
test-asan: $(B)/asan/caller-echo $(B)/caller-sim
	@scripts/run-tests.sh asan
test-valgrind: $(B)/caller-echo
	@scripts/run-tests.sh valgrind

fuzz: deps-fuzz
	@$(MAKE) --no-print-directory fuzz-bins
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh run $(or $(FUZZ_ONLY),$(FUZZERS))

testssl: $(B)/caller-echo
	@scripts/deps.sh testssl
	@scripts/testssl.sh

# --- benchmark (docs/benchmarks.md) ---------------------------------------------
bench-bin: $(B)/minimal-echo
$(B)/minimal-echo: bench/minimal-echo.cpp
	@mkdir -p $(dir $@)
	$(CXX_ALL) $(LDFLAGS) -o $@ $< -lwebsockets
bench: deps-bench
	@$(MAKE) --no-print-directory $(B)/caller-echo $(B)/caller-sim $(B)/minimal-echo
	@/usr/bin/python3 scripts/bench.py

# --- arm64 under qemu-user (README "Deploy", docs/deploy.md) -------------------
# `make arm64` installs the cross toolchain (scripts/setup-cross.sh) and
# cross-builds the server, simulator and unit tests into build/aarch64/;
# tests/integration/test_arm64.py runs those unit tests and simulated calls
# (amd64 caller-sim -> arm64 caller-echo) under qemu-aarch64-static.
ARM64_CROSS := aarch64-linux-gnu-
ifeq ($(CROSS),)
arm64:
	@scripts/setup-cross.sh
	@$(MAKE) --no-print-directory CROSS=$(ARM64_CROSS) all sim unit-bins
test-arm64: $(B)/caller-sim arm64
	@/usr/bin/python3 tests/integration/run.py test_arm64.py
endif

# --- install (README "Deploy") -----------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=/etc]
# Binaries, the systemd units (filled in with these paths), the low-port
# drop-in and example configs, and an environment file that is created
# once, mode 0600, and never overwritten (it holds the signature secret).
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR     := $(PREFIX)/bin
UNITDIR    := $(PREFIX)/lib/systemd/system
SHAREDIR   := $(PREFIX)/share/caller-echo
ENVFILE    := $(SYSCONFDIR)/caller-echo/caller-echo.env
UNIT_SED   := -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@ENVFILE@|$(ENVFILE)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

install: $(B)/caller-echo $(B)/caller-sim
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SHAREDIR)
	install -m 0755 $(B)/caller-echo $(B)/caller-sim $(DESTDIR)$(BINDIR)/
	install -m 0755 scripts/swap.sh $(DESTDIR)$(BINDIR)/caller-echo-swap
	sed $(UNIT_SED) -e '/^#@WORKER@/d' scripts/systemd/caller-echo.service.in \
		>$(DESTDIR)$(UNITDIR)/caller-echo.service
	sed $(UNIT_SED) -e 's/^#@WORKER@//' scripts/systemd/caller-echo.service.in \
		>$(DESTDIR)$(UNITDIR)/caller-echo@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/caller-echo.service $(DESTDIR)$(UNITDIR)/caller-echo@.service
	install -m 0644 scripts/systemd/low-port.conf scripts/nginx/caller-echo.conf \
		scripts/prometheus/prometheus.yml $(DESTDIR)$(SHAREDIR)/
	install -d -m 0755 $(DESTDIR)$(SHAREDIR)/fail2ban/filter.d $(DESTDIR)$(SHAREDIR)/fail2ban/jail.d
	install -m 0644 scripts/fail2ban/filter.d/caller-echo.conf $(DESTDIR)$(SHAREDIR)/fail2ban/filter.d/
	install -m 0644 scripts/fail2ban/jail.d/caller-echo.conf $(DESTDIR)$(SHAREDIR)/fail2ban/jail.d/
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/caller-echo $(DESTDIR)$(SYSCONFDIR)/sysctl.d
	install -m 0644 scripts/sysctl/60-caller-echo.conf $(DESTDIR)$(SYSCONFDIR)/sysctl.d/
	@if [ -e $(DESTDIR)$(ENVFILE) ]; then \
		echo "install: keeping existing $(DESTDIR)$(ENVFILE)"; \
	else \
		echo "install -m 0600 scripts/systemd/caller-echo.env $(DESTDIR)$(ENVFILE)"; \
		install -m 0600 scripts/systemd/caller-echo.env $(DESTDIR)$(ENVFILE); \
	fi

# leaves the environment file: it holds your secret
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/caller-echo $(DESTDIR)$(BINDIR)/caller-sim $(DESTDIR)$(BINDIR)/caller-echo-swap \
	      $(DESTDIR)$(SYSCONFDIR)/sysctl.d/60-caller-echo.conf \
	      $(DESTDIR)$(UNITDIR)/caller-echo.service $(DESTDIR)$(UNITDIR)/caller-echo@.service
	rm -rf $(DESTDIR)$(SHAREDIR)

-include $(wildcard $(B)/obj/*.d $(B)/obj/apps/*.d $(B)/sim/*.d $(B)/test/*.d $(B)/test/apps/*.d $(B)/test/sim/*.d \
                    $(B)/asan/obj/*.d $(B)/asan/obj/apps/*.d $(B)/fuzz/*.d $(B)/fuzz/obj/*.d $(B)/fuzz/obj/apps/*.d)
