# caller-echo -- see README.md.
#   make          build build/caller-echo (installs missing Debian packages first)
#   make run      build and run on :8080 with a development secret
#   make test     unit tests (CMocka, ASan+UBSan), fuzz corpus replay, integration tests
#                 against the real binary, again against an ASan+UBSan build, and a
#                 subset under valgrind memcheck
#   make fuzz     run each libFuzzer harness for FUZZ_SECONDS (default 60) from its corpus
#   make testssl  TLS audit of the server with testssl.sh (manual; docs/security-audit.md)
#   make demo     one simulated Vonage call through the whole path (build/caller-sim)
#   make bench    load benchmark: caller-echo vs a plain lws echo (docs/benchmarks.md)
#   make clean
#   make CROSS=aarch64-linux-gnu-   cross-build into build/aarch64/ (scripts/setup-cross.sh)
#   make test-arm64                 arm64 unit tests + a simulated call under qemu-user
#   make install                    PREFIX=/usr/local DESTDIR= (README "Deploy")

# CROSS=aarch64-linux-gnu-: Debian's cross compiler and the :arm64 libraries
# (multiarch, scripts/setup-cross.sh); everything lands in build/aarch64/.
CROSS    ?=
ifneq ($(CROSS),)
CXX      := $(CROSS)g++
endif
CXX      ?= g++
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++17 -Wall -Wextra -Wshadow -Wformat=2 -Wno-missing-field-initializers \
            -fno-exceptions -fno-rtti -D_GNU_SOURCE -MMD -MP
LDLIBS   := -lwebsockets -ljwt -lcjson -lssl -lcrypto

B := build
ifneq ($(CROSS),)
B := build/$(firstword $(subst -, ,$(CROSS)))
# no libwebsockets-dev:arm64 (see setup-cross.sh): the runtime library by file name
LDLIBS := $(subst -lwebsockets,-l:libwebsockets.so.17,$(LDLIBS))
endif
MODULES := config log ring audio_msg auth_jwt ncco host events stats stats_page metrics http ws_audio server secret addr guard replay block admin
SRCS := $(addprefix src/,$(addsuffix .cpp,$(MODULES))) src/main.cpp
OBJS := $(patsubst src/%.cpp,$(B)/obj/%.o,$(SRCS))

# Unit tests: one per pure module, built with sanitizers and linked against
# only the modules they need.
UNIT_TESTS := ring audio_msg auth_jwt ncco host events config stats stats_page metrics log ws_audio addr guard replay block admin
UT_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
ifneq ($(CROSS),)
# ASan's shadow memory does not map under qemu-user; UBSan does run there
UT_FLAGS := -O1 -g -fsanitize=undefined -fno-omit-frame-pointer
endif
UT_BINS := $(addprefix $(B)/test/test_,$(UNIT_TESTS))

.PHONY: all deps deps-test run test unit integration clean certs
all: $(B)/caller-echo

ifeq ($(CROSS),)
deps:
	@scripts/deps.sh
deps-test:
	@scripts/deps.sh test
else
deps deps-test:
	@scripts/setup-cross.sh
endif

$(B)/caller-echo: $(OBJS)
	$(CXX) $(CXXFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(B)/obj/%.o: src/%.cpp | deps
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

# --- unit tests -------------------------------------------------------------
$(B)/test/%.o: src/%.cpp | deps-test
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(UT_FLAGS) -c -o $@ $<
$(B)/test/test_%.o: tests/unit/test_%.cpp | deps-test
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(UT_FLAGS) -Isrc -c -o $@ $<

# which modules each unit test links (log is a dependency of most)
UT_DEPS_ring     := ring
UT_DEPS_audio_msg := audio_msg ring
UT_DEPS_auth_jwt := auth_jwt log
UT_DEPS_ncco     := ncco
UT_DEPS_host     := host
UT_DEPS_events   := events
UT_DEPS_config   := config host log secret addr
UT_DEPS_stats    := stats auth_jwt block addr guard
UT_DEPS_log      := log
UT_DEPS_stats_page := stats_page stats auth_jwt block addr guard
UT_DEPS_metrics  := metrics stats auth_jwt block addr guard
UT_DEPS_addr     := addr
UT_DEPS_guard    := guard addr
UT_DEPS_replay   := replay
UT_DEPS_block    := block addr guard stats auth_jwt
UT_DEPS_admin    := admin addr events
# ws_audio reaches the app through server.cpp, which pulls in the rest
UT_DEPS_ws_audio := ws_audio audio_msg server http events ring stats stats_page metrics auth_jwt log ncco host config secret addr guard replay block admin

# keep objects: no "rm ..." after the summary line, and faster rebuilds
.SECONDARY:

.SECONDEXPANSION:
$(B)/test/test_%: $(B)/test/test_%.o $$(addprefix $(B)/test/,$$(addsuffix .o,$$(UT_DEPS_$$*)))
	$(CXX) $(CXXFLAGS) $(UT_FLAGS) -o $@ $^ $(LDLIBS) -lcmocka

unit: $(UT_BINS)
	@scripts/run-tests.sh unit $(UT_BINS)

integration: $(B)/caller-echo | deps-test
	@scripts/run-tests.sh integration

test: $(B)/caller-echo $(UT_BINS) | deps-test
	@scripts/run-tests.sh all $(UT_BINS)

# --- benchmark (docs/benchmarks.md) ---------------------------------------
.PHONY: bench bench-bin deps-bench
deps-bench:
	@scripts/deps.sh bench
bench-bin: $(B)/minimal-echo
$(B)/minimal-echo: bench/minimal-echo.cpp | deps
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -o $@ $< -lwebsockets
bench: $(B)/caller-echo $(B)/caller-sim $(B)/minimal-echo | deps-bench
	@/usr/bin/python3 scripts/bench.py

# --- running ----------------------------------------------------------------
certs:
	@scripts/gen-certs.sh

run: $(B)/caller-echo
	@ARGS="$(ARGS)" scripts/run-dev.sh

clean:
	rm -rf $(B)

-include $(OBJS:.o=.d) $(wildcard $(B)/test/*.d)

# --- caller-sim (sim/) ---------------------------------------------------------
# build/caller-sim plays Vonage against the server (sim/main.cpp says how).
# Not part of `all`: `make sim` builds it, `make test` needs it for
# tests/integration/test_sim.py, `make demo` places one call with it.
SIM_MODULES := util url pctl wav ncco_check wsframe jwt_mint tls http_client audio engine report opts main
SIM_OBJS := $(addprefix $(B)/sim/,$(addsuffix .o,$(SIM_MODULES)))

.PHONY: sim demo
sim: $(B)/caller-sim

# src/secret.cpp: both programs read --secret-file by the same rule
$(B)/caller-sim: $(SIM_OBJS) $(B)/obj/secret.o
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS)

$(B)/sim/%.o: CXXFLAGS += -Isrc
$(B)/sim/%.o: sim/%.cpp | deps
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

demo: $(B)/caller-echo $(B)/caller-sim
	@scripts/demo.sh

# CMocka tests of sim's pure modules, sanitizer builds under build/test/sim/.
# UT_BINS was already expanded in the prerequisites of `test` and `unit`
# above (recipes expand late and do see these), so both get them again here.
SIM_UT_BINS := $(B)/test/test_sim_wav $(B)/test/test_sim_ncco_check $(B)/test/test_sim_pctl \
               $(B)/test/test_sim_wsframe
UT_BINS += $(SIM_UT_BINS)

$(B)/test/sim/%.o: sim/%.cpp | deps-test
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(UT_FLAGS) -c -o $@ $<
$(B)/test/test_sim_%.o: CXXFLAGS += -Isim

$(B)/test/test_sim_wav: $(B)/test/test_sim_wav.o $(B)/test/sim/wav.o
	$(CXX) $(CXXFLAGS) $(UT_FLAGS) -o $@ $^ $(LDLIBS) -lcmocka
$(B)/test/test_sim_ncco_check: $(B)/test/test_sim_ncco_check.o $(B)/test/sim/ncco_check.o $(B)/test/sim/url.o
	$(CXX) $(CXXFLAGS) $(UT_FLAGS) -o $@ $^ $(LDLIBS) -lcmocka
$(B)/test/test_sim_pctl: $(B)/test/test_sim_pctl.o $(B)/test/sim/pctl.o
	$(CXX) $(CXXFLAGS) $(UT_FLAGS) -o $@ $^ $(LDLIBS) -lcmocka
$(B)/test/test_sim_wsframe: $(B)/test/test_sim_wsframe.o $(B)/test/sim/wsframe.o $(B)/test/sim/url.o
	$(CXX) $(CXXFLAGS) $(UT_FLAGS) -o $@ $^ $(LDLIBS) -lcmocka

unit: $(SIM_UT_BINS)
test: $(B)/caller-sim $(SIM_UT_BINS)

-include $(SIM_OBJS:.o=.d) $(wildcard $(B)/test/sim/*.d)

# --- install (README "Deploy") -------------------------------------------------
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

.PHONY: install uninstall
install: $(B)/caller-echo $(B)/caller-sim
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SHAREDIR)
	install -m 0755 $(B)/caller-echo $(B)/caller-sim $(DESTDIR)$(BINDIR)/
	sed $(UNIT_SED) -e '/^#@WORKER@/d' scripts/systemd/caller-echo.service.in \
		>$(DESTDIR)$(UNITDIR)/caller-echo.service
	sed $(UNIT_SED) -e 's/^#@WORKER@//' scripts/systemd/caller-echo.service.in \
		>$(DESTDIR)$(UNITDIR)/caller-echo@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/caller-echo.service $(DESTDIR)$(UNITDIR)/caller-echo@.service
	install -m 0644 scripts/systemd/low-port.conf scripts/nginx/caller-echo.conf \
		scripts/prometheus/prometheus.yml $(DESTDIR)$(SHAREDIR)/
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/caller-echo
	@if [ -e $(DESTDIR)$(ENVFILE) ]; then \
		echo "install: keeping existing $(DESTDIR)$(ENVFILE)"; \
	else \
		echo "install -m 0600 scripts/systemd/caller-echo.env $(DESTDIR)$(ENVFILE)"; \
		install -m 0600 scripts/systemd/caller-echo.env $(DESTDIR)$(ENVFILE); \
	fi

# leaves the environment file: it holds your secret
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/caller-echo $(DESTDIR)$(BINDIR)/caller-sim \
	      $(DESTDIR)$(UNITDIR)/caller-echo.service $(DESTDIR)$(UNITDIR)/caller-echo@.service
	rm -rf $(DESTDIR)$(SHAREDIR)

# --- arm64 under qemu-user (README "Deploy", docs/deploy.md) -------------------
# `make arm64` cross-builds the server, simulator and unit tests into
# build/aarch64/; tests/integration/test_arm64.py runs those unit tests and
# simulated calls (amd64 caller-sim -> arm64 caller-echo) under
# qemu-aarch64-static. `make test` includes it (about a minute on 2 cores);
# `make test-arm64` runs only that part.
ARM64_CROSS := aarch64-linux-gnu-
.PHONY: arm64 test-arm64 unit-bins
unit-bins: $(UT_BINS) $(SIM_UT_BINS)
ifeq ($(CROSS),)
arm64:
	@scripts/setup-cross.sh
	@$(MAKE) --no-print-directory CROSS=$(ARM64_CROSS) all sim unit-bins
test: arm64
test-arm64: $(B)/caller-sim arm64 | deps-test
	@/usr/bin/python3 tests/integration/run.py test_arm64.py
endif

# --- sanitizer build of the server (make test runs the integration suite on it) ---
# Same sources, built with ASan+UBSan; tests/integration/harness.py runs it when
# CALLER_ECHO_BIN points at it and fails a test whose server printed a report.
ASAN_OBJS := $(patsubst src/%.cpp,$(B)/asan/obj/%.o,$(SRCS))
.PHONY: asan
asan: $(B)/asan/caller-echo
$(B)/asan/caller-echo: $(ASAN_OBJS)
	$(CXX) $(CXXFLAGS) $(UT_FLAGS) -o $@ $^ $(LDLIBS)
$(B)/asan/obj/%.o: src/%.cpp | deps-test
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(UT_FLAGS) -c -o $@ $<

# --- fuzzing (tests/fuzz/, libFuzzer from clang + libclang-rt) ------------------
# Harnesses are built with clang, -fsanitize=fuzzer,address,undefined; the
# modules they test are rebuilt the same way under build/fuzz/obj/.
#   make fuzz                 each harness for FUZZ_SECONDS from its corpus
#   make fuzz FUZZ_SECONDS=600 FUZZ_ONLY=audio_msg
# `make test` replays tests/fuzz/corpus/* and tests/fuzz/regressions/* (scripts/fuzz.sh).
FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 60
FUZZ_ONLY    ?=
FUZZERS      := auth_jwt answer events audio_msg addr admin
FUZZ_BINS    := $(addprefix $(B)/fuzz/fuzz_,$(FUZZERS))
FUZZ_FLAGS   := -std=c++17 -O1 -g -Wall -Wextra -Wno-missing-field-initializers -fno-exceptions -fno-rtti -D_GNU_SOURCE -MMD -MP \
                -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FZ_DEPS_auth_jwt  := auth_jwt
FZ_DEPS_answer    := events host ncco
FZ_DEPS_events    := events
FZ_DEPS_audio_msg := audio_msg ring
FZ_DEPS_addr      := addr
FZ_DEPS_admin     := admin addr events
.PHONY: fuzz fuzz-bins deps-fuzz
deps-fuzz:
	@scripts/deps.sh fuzz
fuzz-bins: $(FUZZ_BINS)
$(B)/fuzz/obj/%.o: src/%.cpp | deps-test
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(B)/fuzz/fuzz_%.o: tests/fuzz/fuzz_%.cpp | deps-test
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -Isrc -c -o $@ $<
$(B)/fuzz/fuzz_%: $(B)/fuzz/fuzz_%.o $$(addprefix $(B)/fuzz/obj/,$$(addsuffix .o,$$(FZ_DEPS_$$*)))
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
fuzz: $(FUZZ_BINS) | deps-fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh run $(or $(FUZZ_ONLY),$(FUZZERS))

# make test's recipe (scripts/run-tests.sh all) uses these too; prerequisites
# above were expanded before they were defined. Not for CROSS builds: the
# fuzzers and the sanitizer server run on this machine only.
ifeq ($(CROSS),)
test: $(FUZZ_BINS) $(B)/asan/caller-echo
endif

# the parts of `make test` on their own
.PHONY: test-fuzz test-asan test-valgrind
test-fuzz: $(FUZZ_BINS)
	@scripts/run-tests.sh fuzz
test-asan: $(B)/asan/caller-echo $(B)/caller-sim | deps-test
	@scripts/run-tests.sh asan
test-valgrind: $(B)/caller-echo | deps-test
	@scripts/run-tests.sh valgrind

-include $(ASAN_OBJS:.o=.d) $(wildcard $(B)/fuzz/*.d $(B)/fuzz/obj/*.d)

# --- TLS audit (manual; docs/security-audit.md) ----------------------------------
.PHONY: testssl
testssl: $(B)/caller-echo
	@scripts/deps.sh testssl
	@scripts/testssl.sh
