# Verilator builds of the RTL (included by ../Makefile).
#
#   make rtl-board [RTL_DESIGN=legacy] [RTL_CPB=234] [RTL_OUT=dir]
#        RTL_OUT/atomik-rtl-<design>-<cpb>: the design behind a PTY
#   make rtl-test [RTL_TEST_CPB=16]   the RTL unit tests (UART, dialect, golden
#        vectors, differential against the C device core)
#
# Every register of the design is reset, so X values are resolved for speed
# (--x-assign/--x-initial fast).
# RTL_CPB is the design's clocks per bit: 234 is 115200 baud from the
# 27 MHz crystal of a Tang Nano 9K; tests use a small value to run fast.

VERILATOR ?= verilator
RTL_DESIGN ?= legacy
RTL_CPB ?= 234
RTL_OUT ?= $(BUILD)/rtl
RTL_UART := rtl/uart_rx.v rtl/uart_tx.v
RTL_SOURCES_legacy := rtl/atomik_legacy.v $(RTL_UART)
RTL_SIM := rtl/sim/line.h rtl/rtl.mk
VERILATE = $(VERILATOR) --cc --exe --build -j 2 -Wall --prefix Vdesign --x-assign fast --x-initial fast \
  -GCLKS_PER_BIT=$(1) -CFLAGS "-std=c++17 -DCLKS_PER_BIT=$(1) -I$(CURDIR)/rtl/sim -I$(CURDIR)/boards/host -I$(CURDIR)/core -I$(CURDIR)/test -I$(CURDIR)/../native -Wall -Wextra" \
  -MAKEFLAGS "OPT_FAST=-O3 OPT_SLOW=-O3 OPT_GLOBAL=-O3"

RTL_BOARD := $(RTL_OUT)/atomik-rtl-$(RTL_DESIGN)-$(RTL_CPB)
.PHONY: rtl-board rtl-test
rtl-board: $(RTL_BOARD)
$(RTL_BOARD): $(RTL_SOURCES_$(RTL_DESIGN)) $(RTL_SIM) rtl/sim/board.cpp boards/host/pty.c boards/host/pty.h
	@mkdir -p $(RTL_OUT)
	$(call VERILATE,$(RTL_CPB)) --top-module atomik_$(RTL_DESIGN) -Mdir $(RTL_OUT)/obj-$(RTL_DESIGN)-$(RTL_CPB) \
	  -o $(abspath $@) $(RTL_SOURCES_$(RTL_DESIGN)) $(abspath rtl/sim/board.cpp boards/host/pty.c)

RTL_TEST_CPB ?= 16
RTL_TEST_LEGACY := $(BUILD)/rtl/test-legacy-$(RTL_TEST_CPB)
rtl-test: $(RTL_TEST_LEGACY)
	./$(RTL_TEST_LEGACY) golden-vectors.json
$(RTL_TEST_LEGACY): $(RTL_SOURCES_legacy) $(RTL_SIM) rtl/sim/test_legacy.cpp test/golden_fields.h $(CORE) core/device.h
	@mkdir -p $(BUILD)/rtl
	$(call VERILATE,$(RTL_TEST_CPB)) --top-module atomik_legacy -Mdir $(BUILD)/rtl/obj-test-legacy-$(RTL_TEST_CPB) \
	  -o $(abspath $@) $(RTL_SOURCES_legacy) $(abspath rtl/sim/test_legacy.cpp $(CORE))
