# Orchestra: build, test, run, bench, install.
#   make run      install packages, build, start a conductor and two players
#                 on loopback and run an `all` job (make stop ends them)
#   make test     install packages, build, run every test
#   make bench    the benchmark (figures in build/bench.json)
#   make attacks  what a hostile peer can make the conductor hold
#                 (figures in build/attacks.json)
#   make install  DESTDIR=... PREFIX=...

CXX      ?= g++
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++17 -Wall -Wextra -I. -MMD -MP -DMSGPACK_NO_BOOST=1
LDLIBS   := -lzmq -lsqlite3 -lsodium -lsystemd -pthread
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
            python3-msgpack python3-pytest systemd strace

COMMON    := common/status.cc common/log.cc common/clock.cc common/text.cc \
             common/config_file.cc common/files.cc common/sqlite.cc \
             common/signal_fd.cc common/timers.cc common/systemd_notifier.cc
BROKER    := broker/states.cc broker/wire.cc broker/protocol.cc \
             broker/audience_protocol.cc broker/secret_key.cc \
             broker/curve_keys.cc broker/context.cc broker/endpoint.cc \
             broker/poller.cc broker/authenticator.cc
BROKER    += broker/audience_client.cc broker/json.cc broker/socket_monitor.cc \
             broker/connection.cc
CONDUCTOR := conductor/config.cc conductor/players_file.cc \
             conductor/scheduler.cc conductor/job_rules.cc \
             conductor/job_store.cc conductor/job_board.cc \
             conductor/player_registry.cc conductor/outbox.cc \
             conductor/player_channel.cc conductor/audience_channel.cc \
             conductor/audience_keys.cc conductor/audience_socket.cc \
             conductor/conductor.cc conductor/retention.cc conductor/trust.cc \
             conductor/wait_list.cc conductor/store_health.cc
PLAYER    := player/config.cc player/trusted_directory.cc player/score_file.cc \
             player/score_directory.cc player/output_capture.cc \
             player/child_process.cc player/posix_process_runner.cc \
             player/journal.cc player/session.cc player/task_board.cc \
             player/player.cc
TOOLS     := tools/main.cc tools/cli.cc tools/command_line.cc tools/usage.cc \
             tools/report.cc tools/table.cc tools/progress_line.cc

BENCH_LIMITS := tools/bench/limits.cc tools/bench/samples.cc \
                tools/bench/curve_probe.cc tools/bench/sqlite_probe.cc \
                tools/bench/spawn_probe.cc
BENCH_THROUGHPUT := tools/bench/throughput.cc tools/bench/job_pipeline.cc

UNIT_TESTS := $(filter-out test/e2e_%,$(wildcard test/*_test.cc)) test/fake_conductor.cc
E2E_TESTS  := $(wildcard test/e2e_*_test.cc) test/cluster.cc test/process.cc

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
	$(CXX) -o $@ $^ $(LDLIBS)
$(BIN)/orchestra-player: $(BUILD)/player/main.o $(BUILD)/libplayer.a \
                      $(BUILD)/libbroker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) -o $@ $^ $(LDLIBS)
$(BIN)/orchestra: $(BUILD)/tools/main.o $(BUILD)/libtools.a \
                 $(BUILD)/libbroker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) -o $@ $^ $(LDLIBS)
$(BIN)/orchestra-bench-latency: $(BUILD)/tools/bench/latency.o \
                               $(BUILD)/tools/bench/samples.o \
                               $(BUILD)/libbroker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) -o $@ $^ $(LDLIBS)
$(BIN)/orchestra-bench-throughput: $(call obj,$(BENCH_THROUGHPUT)) \
                                  $(BUILD)/libbroker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) -o $@ $^ $(LDLIBS)
$(BIN)/orchestra-bench-limits: $(call obj,$(BENCH_LIMITS)) \
                              $(BUILD)/libbroker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) -o $@ $^ $(LDLIBS)
BENCH_LOAD := tools/bench/load.cc tools/bench/fleet.cc \
              tools/bench/player_shard.cc tools/bench/conductor_process.cc \
              broker/sodium_memory.cc
$(BIN)/orchestra-bench-load: $(call obj,$(BENCH_LOAD)) \
                            $(BUILD)/libbroker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CXX) -o $@ $^ $(LDLIBS)
# The unit tests link broker/sodium_memory.o as the conductor does (its
# test checks that the whole process uses it).
$(BIN)/unit_tests: $(call obj,$(UNIT_TESTS)) $(BUILD)/tools/bench/samples.o \
                  $(BUILD)/broker/sodium_memory.o \
                  $(LIBS)
	@mkdir -p $(@D)
	$(CXX) -o $@ $^ $(GTEST) $(LDLIBS)
$(BIN)/e2e_tests: $(call obj,$(E2E_TESTS)) $(LIBS)
	@mkdir -p $(@D)
	$(CXX) -o $@ $^ $(GTEST) $(LDLIBS)

# Installs the Debian packages above that are missing (needs root or sudo).
deps:
	@missing=$$(for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

build-all: all $(BIN)/unit_tests $(BIN)/e2e_tests

JOBS ?= $(shell nproc)

test: deps
	$(MAKE) -j$(JOBS) build-all
	$(MAKE) unit-test e2e-test python-test

unit-test: $(BIN)/unit_tests
	$(BIN)/unit_tests

e2e-test: $(BIN)/e2e_tests all
	$(BIN)/e2e_tests

python-test: all
	@if ls test/python/test_*.py >/dev/null 2>&1; then \
	  $(PYTHON) -m pytest -q test/python; fi

run: deps
	$(MAKE) -j$(JOBS) all
	tools/run-cluster start

stop:
	@tools/run-cluster stop

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
	rm -rf build bin

format:
	clang-format -i */*.h */*.cc

.PHONY: all deps build-all test unit-test e2e-test python-test run stop \
        bench attacks soak install clean format
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
