# caller-echo -- see README.md.
#   make          build build/caller-echo (installs missing Debian packages first)
#   make run      build and run on :8080 with a development secret
#   make test     unit tests (CMocka, ASan+UBSan) + integration tests against the real binary
#   make clean

CXX      ?= g++
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++17 -Wall -Wextra -Wshadow -Wformat=2 -Wno-missing-field-initializers \
            -fno-exceptions -fno-rtti -D_GNU_SOURCE -MMD -MP
LDLIBS   := -lwebsockets -ljwt -lcjson -lssl -lcrypto

B := build
MODULES := config log ring auth_jwt ncco host events stats http ws_audio server
SRCS := $(addprefix src/,$(addsuffix .cpp,$(MODULES))) src/main.cpp
OBJS := $(patsubst src/%.cpp,$(B)/obj/%.o,$(SRCS))

# Unit tests: one per pure module, built with sanitizers and linked against
# only the modules they need.
UNIT_TESTS := ring auth_jwt ncco host events config stats log
UT_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
UT_BINS := $(addprefix $(B)/test/test_,$(UNIT_TESTS))

.PHONY: all deps deps-test run test unit integration clean certs
all: $(B)/caller-echo

deps:
	@scripts/deps.sh
deps-test:
	@scripts/deps.sh test

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
UT_DEPS_auth_jwt := auth_jwt log
UT_DEPS_ncco     := ncco
UT_DEPS_host     := host
UT_DEPS_events   := events
UT_DEPS_config   := config host log
UT_DEPS_stats    := stats auth_jwt
UT_DEPS_log      := log

.SECONDEXPANSION:
$(B)/test/test_%: $(B)/test/test_%.o $$(addprefix $(B)/test/,$$(addsuffix .o,$$(UT_DEPS_$$*)))
	$(CXX) $(CXXFLAGS) $(UT_FLAGS) -o $@ $^ $(LDLIBS) -lcmocka

unit: $(UT_BINS)
	@scripts/run-tests.sh unit $(UT_BINS)

integration: $(B)/caller-echo | deps-test
	@scripts/run-tests.sh integration

test: $(B)/caller-echo $(UT_BINS) | deps-test
	@scripts/run-tests.sh all $(UT_BINS)

# --- running ----------------------------------------------------------------
certs:
	@scripts/gen-certs.sh

run: $(B)/caller-echo
	@ARGS="$(ARGS)" scripts/run-dev.sh

clean:
	rm -rf $(B)

-include $(OBJS:.o=.d) $(wildcard $(B)/test/*.d)
