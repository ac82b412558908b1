# Verilator builds of the RTL (included by ../Makefile).
#
#   make rtl-board [RTL_DESIGN=legacy|framed] [RTL_CPB=234] [RTL_CONTEXTS=256] [RTL_OUT=dir]
#        RTL_OUT/atomik-rtl-<design>-<cpb>: the design behind a PTY
#        (RTL_CONTEXTS: framed only)
#   make rtl-test [RTL_TEST_CPB=16]   the RTL unit tests (UART, both dialects,
#        golden vectors, differential against the C device core), and the
#        testbench of each stage of the framed design (iverilog, rtl/tb/)
#
# Every register of the design is reset, so X values are resolved for speed
# (--x-assign/--x-initial fast).
# RTL_CPB is the design's clocks per bit: 234 is 115200 baud from the
# 27 MHz crystal of a Tang Nano 9K; tests use a small value to run fast.

VERILATOR ?= verilator
IVERILOG ?= iverilog
RTL_DESIGN ?= legacy
RTL_CPB ?= 234
RTL_OUT ?= $(BUILD)/rtl
RTL_UART := rtl/uart_rx.v rtl/uart_tx.v
RTL_CONTEXTS ?= 256
RTL_SOURCES_legacy := rtl/atomik_legacy.v $(RTL_UART)
RTL_FRAMED_STAGES := rtl/atomik_frame_rx.v rtl/atomik_exec.v rtl/atomik_replay.v rtl/atomik_reply_tx.v
RTL_SOURCES_framed := rtl/atomik_framed.v $(RTL_FRAMED_STAGES) rtl/atomik_protocol.vh rtl/atomik_stages.vh $(RTL_UART)
RTL_PARAMS_legacy :=
RTL_PARAMS_framed := -GCONTEXTS=$(RTL_CONTEXTS) -CFLAGS -DATOMIK_RTL_BOOT_ID
# The C device core's limits, so that both answer alike in the tests.
RTL_GOLDEN := -GCONTEXTS=16 -GMAX_OPS=256 -GMAX_PAYLOAD=2304 -GREPLAY_DEPTH=16 -GSLOT_BITS=11 -GRING_BITS=13 -GNAME_LEN=6 -GNAME='"golden"'
RTL_SIM := rtl/sim/line.h rtl/rtl.mk
RTL_CHECKS := rtl/sim/checks.h test/golden_fields.h
VERILATE = $(VERILATOR) --cc --exe --build -j 2 -Wall --prefix Vdesign --x-assign fast --x-initial fast \
  -GCLKS_PER_BIT=$(1) -CFLAGS "-std=c++17 -DCLKS_PER_BIT=$(1) -I$(CURDIR)/rtl/sim -I$(CURDIR)/boards/host -I$(CURDIR)/core -I$(CURDIR)/test -I$(CURDIR)/../native -Wall -Wextra" \
  -MAKEFLAGS "OPT_FAST=-O3 OPT_SLOW=-O3 OPT_GLOBAL=-O3"

RTL_BOARD := $(RTL_OUT)/atomik-rtl-$(RTL_DESIGN)-$(RTL_CPB)
.PHONY: rtl-board rtl-test
rtl-board: $(RTL_BOARD)
$(RTL_BOARD): $(RTL_SOURCES_$(RTL_DESIGN)) $(RTL_SIM) rtl/sim/board.cpp boards/host/pty.c boards/host/pty.h
	@mkdir -p $(RTL_OUT)
	$(call VERILATE,$(RTL_CPB)) --top-module atomik_$(RTL_DESIGN) $(RTL_PARAMS_$(RTL_DESIGN)) -Irtl -Mdir $(RTL_OUT)/obj-$(RTL_DESIGN)-$(RTL_CPB) \
	  -o $(abspath $@) $(filter %.v,$(RTL_SOURCES_$(RTL_DESIGN))) $(abspath rtl/sim/board.cpp boards/host/pty.c)

RTL_TEST_CPB ?= 16
RTL_TEST_LEGACY := $(BUILD)/rtl/test-legacy-$(RTL_TEST_CPB)
RTL_TEST_FRAMED := $(BUILD)/rtl/test-framed-$(RTL_TEST_CPB)
RTL_STAGES := frame_rx exec replay reply_tx
RTL_STAGE_TESTS := $(RTL_STAGES:%=$(BUILD)/rtl/tb_%)
rtl-test: $(RTL_TEST_LEGACY) $(RTL_TEST_FRAMED) $(RTL_STAGE_TESTS)
	./$(RTL_TEST_LEGACY) golden-vectors.json
	./$(RTL_TEST_FRAMED) golden-vectors.json
	@for t in $(RTL_STAGES); do echo "RTL stage atomik_$$t (iverilog)"; vvp -n $(BUILD)/rtl/tb_$$t | grep -v '^VCD' || exit 1; done
# Each stage's testbench with the stage (the executor's with the replay cache it drives).
RTL_TB_DEPS_exec := rtl/atomik_replay.v
$(BUILD)/rtl/tb_%: rtl/tb/tb_%.v rtl/tb/tb.vh rtl/atomik_%.v rtl/atomik_protocol.vh rtl/atomik_stages.vh rtl/atomik_replay.v
	@mkdir -p $(BUILD)/rtl
	$(IVERILOG) -g2005 -Wall -Irtl -Irtl/tb -o $@ rtl/tb/tb_$*.v rtl/atomik_$*.v $(RTL_TB_DEPS_$*)
$(RTL_TEST_LEGACY): $(RTL_SOURCES_legacy) $(RTL_SIM) rtl/sim/test_legacy.cpp $(RTL_CHECKS) $(CORE) core/device.h
	@mkdir -p $(BUILD)/rtl
	$(call VERILATE,$(RTL_TEST_CPB)) --top-module atomik_legacy -Mdir $(BUILD)/rtl/obj-test-legacy-$(RTL_TEST_CPB) \
	  -o $(abspath $@) $(RTL_SOURCES_legacy) $(abspath rtl/sim/test_legacy.cpp $(CORE))
$(RTL_TEST_FRAMED): $(RTL_SOURCES_framed) $(RTL_SIM) rtl/sim/test_framed.cpp $(RTL_CHECKS) $(CORE) core/device.h
	@mkdir -p $(BUILD)/rtl
	$(call VERILATE,$(RTL_TEST_CPB)) --top-module atomik_framed $(RTL_GOLDEN) -Irtl -Mdir $(BUILD)/rtl/obj-test-framed-$(RTL_TEST_CPB) \
	  -o $(abspath $@) $(filter %.v,$(RTL_SOURCES_framed)) $(abspath rtl/sim/test_framed.cpp $(CORE))
