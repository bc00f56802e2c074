# Orchestra: build, test, run, bench, install.
#   make run      install packages, build, start a conductor and two players
#                 on loopback and run an `all` job (make stop ends them)
#   make test     install packages, build, run every test
#   make bench    the benchmark (figures in build/bench.json)
#   make attacks  what a hostile peer can make the conductor hold
#                 (figures in build/attacks.json)
#   make install  DESTDIR=... PREFIX=...
#   make test SANITIZE=1   every test under ASan and UBSan (build-san/)
#   make test SANITIZE=thread   every test under TSan (build-tsan/)
#   make fuzz     each fuzz target of test/fuzz/ for FUZZ_SECONDS (clang)

# SANITIZE=1 builds everything with AddressSanitizer and
# UndefinedBehaviorSanitizer (g++) in build-san/ and bin-san/; FUZZ=1 (set
# by `make fuzz`) builds the fuzz targets with clang's libFuzzer, ASan and
# UBSan in build-fuzz/ and bin-fuzz/. The plain build is never touched.
ifeq ($(SANITIZE),1)
CXXFLAGS ?= -O1 -g
# GCC warns of maybe-uninitialized values inside libstdc++'s <regex> when
# sanitizing (GCC bug 105562, a false positive); the plain build checks.
SANITIZER := -fsanitize=address,undefined -fno-omit-frame-pointer
SANITIZER_WARNINGS := -Wno-maybe-uninitialized
BUILD ?= build-san
BIN   ?= bin-san
endif
# SANITIZE=thread builds everything with ThreadSanitizer (g++) in build-tsan/
# and bin-tsan/.
ifeq ($(SANITIZE),thread)
CXXFLAGS ?= -O1 -g
SANITIZER := -fsanitize=thread
BUILD ?= build-tsan
BIN   ?= bin-tsan
endif
ifeq ($(FUZZ),1)
CXX      := clang++
CXXFLAGS ?= -O1 -g
SANITIZER := -fsanitize=fuzzer-no-link,address,undefined \
             -fno-omit-frame-pointer
BUILD ?= build-fuzz
BIN   ?= bin-fuzz
endif

CXX      ?= g++
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++17 -Wall -Wextra -I. -MMD -MP -DMSGPACK_NO_BOOST=1 \
            $(SANITIZER) $(SANITIZER_WARNINGS)
LDFLAGS  += $(SANITIZER)
LDLIBS   := -lzmq -lsqlite3 -ldqlite -lsodium -lsystemd -lmicrohttpd -pthread
GTEST    := -lgtest -lgtest_main
PREFIX   ?= /usr
DESTDIR  ?=
SYSCONFDIR ?= /etc
# Debian's own interpreter: it is the one that sees python3-zmq.
PYTHON   ?= /usr/bin/python3

# Debian 12 packages the build, the tests and `make run` need.
PACKAGES := g++ make pkg-config libzmq3-dev cppzmq-dev libmsgpack-cxx-dev \
            libsqlite3-dev sqlite3 libsodium-dev libsystemd-dev \
            nlohmann-json3-dev googletest libgtest-dev python3 python3-zmq \
            python3-msgpack python3-pytest systemd strace libmicrohttpd-dev \
            openssl chromium chromium-driver python3-selenium \
            python3-prometheus-client libdqlite-dev libraft-dev
# What `make fuzz` needs besides: clang and its libFuzzer runtime.
FUZZ_PACKAGES := clang libclang-rt-14-dev

COMMON    := common/status.cc common/log.cc common/clock.cc common/text.cc \
             common/config_file.cc common/files.cc common/sqlite.cc \
             common/signal_fd.cc common/timers.cc common/systemd_notifier.cc \
             common/flag_table.cc common/daemon.cc
BROKER    := broker/states.cc broker/rollout_limit.cc broker/wire.cc \
             broker/fields.cc broker/message_schema.cc broker/protocol.cc \
             broker/audience_protocol.cc broker/secret_key.cc \
             broker/curve_keys.cc broker/context.cc broker/endpoint.cc \
             broker/poller.cc broker/authenticator.cc
BROKER    += broker/audience_client.cc broker/json.cc broker/socket_monitor.cc \
             broker/connection.cc broker/listener_gate.cc broker/task_groups.cc \
             broker/endpoint_list.cc broker/cell_client.cc
CONDUCTOR := conductor/config.cc conductor/players_file.cc \
             conductor/glob.cc conductor/target.cc \
             conductor/scheduler.cc conductor/job_rules.cc \
             conductor/job_store.cc conductor/player_store.cc \
             conductor/store_writes.cc conductor/sqlite_engine.cc \
             conductor/store_thread.cc conductor/store_query.cc \
             conductor/store_reader.cc conductor/dqlite_engine.cc \
             conductor/cell.cc conductor/standby.cc conductor/report_query.cc \
             conductor/dqlite_client.cc \
             conductor/job_board.cc \
             conductor/player_registry.cc conductor/outbox.cc \
             conductor/player_channel.cc conductor/audience_channel.cc \
             conductor/audience_keys.cc conductor/audience_socket.cc \
             conductor/conductor.cc conductor/retention.cc conductor/trust.cc \
             conductor/wait_list.cc conductor/store_health.cc \
             conductor/descriptor_budget.cc conductor/descriptor_guard.cc \
             conductor/record_pager.cc conductor/core.cc \
             conductor/http_server.cc conductor/http_users.cc \
             conductor/web_site.cc conductor/process_stats.cc \
             conductor/metrics.cc \
             conductor/html_writer.cc \
             conductor/page_frame.cc conductor/finish_chart.cc \
             conductor/overview_page.cc conductor/job_page.cc \
             conductor/web_pages.cc conductor/web_assets.cc
PLAYER    := player/config.cc player/trusted_directory.cc player/score_file.cc \
             player/score_directory.cc player/output_capture.cc \
             player/child_process.cc player/posix_process_runner.cc \
             player/journal.cc player/session.cc player/conductor_list.cc \
             player/task_end.cc \
             player/task_cgroups.cc \
             player/task_board.cc player/player.cc
TOOLS     := tools/main.cc tools/cli.cc tools/command_line.cc tools/usage.cc \
             tools/report.cc tools/table.cc tools/progress_line.cc \
             tools/json_pages.cc tools/password.cc

BENCH_LIMITS := tools/bench/limits.cc tools/bench/samples.cc \
                tools/bench/curve_probe.cc tools/bench/sqlite_probe.cc \
                tools/bench/spawn_probe.cc
BENCH_THROUGHPUT := tools/bench/throughput.cc tools/bench/job_pipeline.cc

# The tests that run dqlite nodes in their own process get a binary of
# their own (cell_tests): under ASan, libdqlite 1.11.1 has crashed in
# VfsPoll when the same process had run the conductor's Core tests first.
CELL_TESTS := test/cell_test.cc test/dqlite_client_test.cc
UNIT_TESTS := $(filter-out test/e2e_% $(CELL_TESTS),$(wildcard test/*_test.cc)) \
              test/fake_conductor.cc test/wire_samples.cc
E2E_TESTS  := $(wildcard test/e2e_*_test.cc) test/cluster.cc test/cell_cluster.cc \
              test/process.cc \
              test/http_client.cc
# One fuzz target a file, test/fuzz/NAME_fuzz.cc, its corpus in
# test/fuzz/NAME/ (see the fuzz targets below).
FUZZ_TARGETS := $(patsubst test/fuzz/%_fuzz.cc,%,$(wildcard test/fuzz/*_fuzz.cc))

# BUILD and BIN may be overridden (make BUILD=build-x BIN=bin-x) so that two
# builds of one tree never write the same files.
BUILD ?= build
BIN   ?= bin
obj = $(patsubst %.cc,$(BUILD)/%.o,$(1))
LIBS := $(BUILD)/libtools.a $(BUILD)/libconductor.a $(BUILD)/libplayer.a \
        $(BUILD)/libbroker.a $(BUILD)/libcommon.a

all: $(BIN)/orchestra-conductor $(BIN)/orchestra-player $(BIN)/orchestra

$(BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@

# The tests' own code is compiled without optimization: optimizing it was
# most of the build's time (a test file takes 3.5 times as long at -O1 with
# the sanitizers, twice as long at -O2) for little of the tests' run time;
# the code under test keeps CXXFLAGS. Not for the fuzz build, whose targets
# run millions of times.
TEST_OPT ?= $(if $(filter 1,$(FUZZ)),,-O0)
$(BUILD)/test/%.o: test/%.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(TEST_OPT) -c $< -o $@

$(BUILD)/libcommon.a: $(call obj,$(COMMON))
	$(AR) rcs $@ $^
$(BUILD)/libbroker.a: $(call obj,$(BROKER))
	$(AR) rcs $@ $^
$(BUILD)/libconductor.a: $(call obj,$(CONDUCTOR))
	$(AR) rcs $@ $^
$(BUILD)/libplayer.a: $(call obj,$(PLAYER))
	$(AR) rcs $@ $^
$(BUILD)/libtools.a: $(call obj,$(filter-out tools/main.cc,$(TOOLS)))
	$(AR) rcs $@ $^

# broker/sodium_memory.cc replaces libsodium's guarded allocator with the
# plain heap (the reasons are in that file): linked into the conductor and
# the load bench only, never into a library.
$(BIN)/orchestra-conductor: $(BUILD)/conductor/main.o \
                         $(BUILD)/broker/sodium_memory.o $(BUILD)/libconductor.a \
                         $(BUILD)/libbroker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/orchestra-player: $(BUILD)/player/main.o $(BUILD)/libplayer.a \
                      $(BUILD)/libbroker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/orchestra: $(BUILD)/tools/main.o $(BUILD)/libtools.a \
                 $(BUILD)/libbroker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/orchestra-bench-latency: $(BUILD)/tools/bench/latency.o \
                               $(BUILD)/tools/bench/samples.o \
                               $(BUILD)/libbroker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/orchestra-bench-throughput: $(call obj,$(BENCH_THROUGHPUT)) \
                                  $(BUILD)/libbroker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/orchestra-bench-limits: $(call obj,$(BENCH_LIMITS)) \
                              $(BUILD)/libconductor.a $(BUILD)/libbroker.a \
                              $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)
BENCH_LOAD := tools/bench/load.cc tools/bench/fleet.cc \
              tools/bench/player_shard.cc tools/bench/conductor_process.cc \
              broker/sodium_memory.cc player/conductor_list.cc player/session.cc
$(BIN)/orchestra-bench-load: $(call obj,$(BENCH_LOAD)) \
                            $(BUILD)/libbroker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# The unit tests link broker/sodium_memory.o as the conductor does (its
# test checks that the whole process uses it).
$(BIN)/unit_tests: $(call obj,$(UNIT_TESTS)) $(BUILD)/tools/bench/samples.o \
                  $(BUILD)/broker/sodium_memory.o \
                  $(LIBS)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(GTEST) $(LDLIBS)
$(BIN)/cell_tests: $(call obj,$(CELL_TESTS)) $(LIBS)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(GTEST) $(LDLIBS)
$(BIN)/e2e_tests: $(call obj,$(E2E_TESTS)) $(LIBS)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(GTEST) $(LDLIBS)
# A fuzz target with its own main: libFuzzer's under FUZZ=1, else the
# replay driver that `make test` runs over the target's corpus.
ifeq ($(FUZZ),1)
FUZZ_MAIN :=
FUZZ_LDFLAGS := -fsanitize=fuzzer
else
FUZZ_MAIN := $(BUILD)/test/fuzz/replay_main.o
FUZZ_LDFLAGS :=
endif
FUZZ_BINS := $(addprefix $(BIN)/fuzz/,$(FUZZ_TARGETS))
.SECONDARY: $(call obj,$(wildcard test/fuzz/*.cc))  # kept, not intermediate
$(BIN)/fuzz/%: $(BUILD)/test/fuzz/%_fuzz.o $(FUZZ_MAIN) $(LIBS)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) $(FUZZ_LDFLAGS) -o $@ $^ $(LDLIBS)

# Installs the Debian packages named in $(1) that are missing (needs root
# or sudo).
define install-missing
	@missing=$$(for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi
endef
deps:
	$(call install-missing,$(PACKAGES))
fuzz-deps:
	$(call install-missing,$(PACKAGES) $(FUZZ_PACKAGES))

build-all: all $(BIN)/unit_tests $(BIN)/cell_tests $(BIN)/e2e_tests \
           $(FUZZ_BINS)

JOBS ?= $(shell nproc)

# Under SANITIZE=1 a sanitizer report ends the process that makes it with a
# failure; the e2e and Python harnesses also fail a test whose daemon's log
# holds one (a daemon killed with SIGKILL makes no leak check; one that
# exits does). LSan's suppressions are for code not ours (see the file).
ifeq ($(SANITIZE),1)
export ASAN_OPTIONS ?= halt_on_error=1:detect_leaks=1:check_initialization_order=1
export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS ?= suppressions=$(CURDIR)/test/lsan.supp:print_suppressions=0
endif
# Under SANITIZE=thread a data race or lock-order inversion ends the process
# that finds it with a failure. TSan's suppressions are for code not ours
# (see the file).
ifeq ($(SANITIZE),thread)
export TSAN_OPTIONS ?= halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/test/tsan.supp
endif

test: deps
	$(MAKE) -j$(JOBS) build-all
	$(MAKE) unit-test fuzz-replay e2e-test python-test

unit-test: $(BIN)/unit_tests $(BIN)/cell_tests
	$(BIN)/unit_tests
	$(BIN)/cell_tests

# Every file of each corpus of test/fuzz/ through its target (no clang).
fuzz-replay: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
	  $(BIN)/fuzz/$$t test/fuzz/$$t || exit 1; done

e2e-test: $(BIN)/e2e_tests all
	$(BIN)/e2e_tests

# The Python tests run this build's binaries (ORCHESTRA_BIN), and its
# `make install` the same build (ORCHESTRA_MAKE_VARS).
python-test: all
	@if ls test/python/test_*.py >/dev/null 2>&1; then \
	  ORCHESTRA_BIN=$(abspath $(BIN)) \
	  ORCHESTRA_MAKE_VARS="BUILD=$(BUILD) BIN=$(BIN) SANITIZE=$(SANITIZE)" \
	  $(PYTHON) -m pytest -q test/python; fi

# Each fuzz target built with clang's libFuzzer, ASan and UBSan, run for
# FUZZ_SECONDS on its corpus: new inputs go to build-fuzz/corpus/NAME/, a
# crash to build-fuzz/findings/NAME/ (add it to test/fuzz/NAME/ once fixed).
FUZZ_SECONDS ?= 60
fuzz: fuzz-deps
	$(MAKE) FUZZ=1 -j$(JOBS) fuzz-build
	$(MAKE) FUZZ=1 fuzz-run

fuzz-build: $(FUZZ_BINS)

# Writes the message targets' seeds, made by our own encoders, into
# test/fuzz/ (after a change of the protocol; commit what changed).
fuzz-seeds: $(BIN)/fuzz-seeds
	mkdir -p test/fuzz/player_message test/fuzz/audience_request \
	  test/fuzz/audience_reply
	$(BIN)/fuzz-seeds test/fuzz
$(BIN)/fuzz-seeds: $(BUILD)/test/fuzz/make_seeds.o $(BUILD)/libbroker.a \
                   $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz-run: $(FUZZ_BINS)
	@failed=; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(BUILD)/corpus/$$t $(BUILD)/findings/$$t; \
	  dict=; [ ! -f test/fuzz/$$t.dict ] || dict=-dict=test/fuzz/$$t.dict; \
	  echo "fuzz $$t: $(FUZZ_SECONDS) s, log in $(BUILD)/fuzz-$$t.log"; \
	  if $(BIN)/fuzz/$$t $$dict -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	       -print_final_stats=1 -artifact_prefix=$(BUILD)/findings/$$t/ \
	       $(BUILD)/corpus/$$t test/fuzz/$$t > $(BUILD)/fuzz-$$t.log 2>&1; \
	  then grep -E '^stat::number_of_executed_units' $(BUILD)/fuzz-$$t.log; \
	  else tail -40 $(BUILD)/fuzz-$$t.log; failed="$$failed $$t"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashed:$$failed"; exit 1; fi

# CELL=1: a cell of three conductors on dqlite instead (tools/run-cell).
RUN_SCRIPT := $(if $(CELL),tools/run-cell,tools/run-cluster)
run: deps
	$(MAKE) -j$(JOBS) all
	$(RUN_SCRIPT) start

stop:
	@$(RUN_SCRIPT) stop

# The benchmark: a table on stdout, the same figures in $(BUILD)/bench.json
# (see tools/bench/run-bench; orchestra-bench-load's figures go under
# "load").
BENCH_TOOLS := $(BIN)/orchestra-bench-limits $(BIN)/orchestra-bench-latency \
               $(BIN)/orchestra-bench-throughput $(BIN)/orchestra-bench-load
bench: deps
	$(MAKE) -j$(JOBS) all $(BENCH_TOOLS)
	BIN=$(BIN) BUILD=$(BUILD) tools/bench/run-bench

# Attacks on a real conductor (tools/bench/attacks.py): memory, CPU and
# service under each; a table on stdout, the figures in $(BUILD)/attacks.json.
attacks: all
	BIN=$(BIN) BUILD=$(BUILD) $(PYTHON) tools/bench/attacks.py all

# The cell's failover bench (tools/bench/cell-failover): KILLS (default
# 100) kill -9s of the active conductor of a three-node cell under load; a
# small report on stdout.
cell-failover: all
	BIN=$(BIN) BUILD=$(BUILD) $(PYTHON) tools/bench/cell-failover \
	  --kills $${KILLS:-100}

# A longer retention soak than `make test` runs: the database's size round
# after round of jobs (ROUNDS, JOBS a round) with a short retention.
soak: all $(BIN)/e2e_tests
	ORCHESTRA_SOAK_ROUNDS=$${ROUNDS:-12} ORCHESTRA_SOAK_JOBS=$${JOBS:-200} \
	  $(BIN)/e2e_tests \
	  --gtest_filter=DatabaseTest.RetentionKeepsTheDatabaseBoundedUnderLoad

# Binaries, systemd units, sample settings (never over existing ones), the
# scores, the Python client, docs: see tools/install.
install: all
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" \
	  BIN="$(BIN)" tools/install

clean:
	rm -rf build bin build-san bin-san build-tsan bin-tsan build-fuzz bin-fuzz

format:
	clang-format -i */*.h */*.cc test/fuzz/*.h test/fuzz/*.cc

.PHONY: all deps fuzz-deps build-all test unit-test fuzz-replay e2e-test \
        cell-failover \
        python-test fuzz fuzz-build fuzz-run fuzz-seeds run stop bench \
        attacks soak install clean format
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
