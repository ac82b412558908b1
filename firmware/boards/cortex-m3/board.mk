# Cortex-M3 image for QEMU mps2-an385 (included by firmware/Makefile).
M3_CC := arm-none-eabi-gcc
M3_DIR := boards/cortex-m3
M3_FLAGS := -mcpu=cortex-m3 -mthumb -O2 -g -std=c99 -ffreestanding -fno-builtin -nostdlib \
	-ffunction-sections -fdata-sections -Wall -Wextra $(INCLUDES)
M3_SRC := $(M3_DIR)/startup.c $(M3_DIR)/main.c $(M3_DIR)/libc.c $(CORE)

cortex-m3: $(BUILD)/atomik-cortex-m3.elf
$(BUILD)/atomik-cortex-m3.elf: $(M3_SRC) core/device.h $(M3_DIR)/link.ld
	@mkdir -p $(BUILD)
	$(M3_CC) $(M3_FLAGS) -T $(M3_DIR)/link.ld -Wl,--gc-sections -o $@ $(M3_SRC) -lgcc
	arm-none-eabi-size $@
