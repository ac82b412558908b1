/* Reset and vector table for a Cortex-M3 (no vendor headers needed). */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void uart0_rx_irq(void);

void reset_handler(void) {
  uint32_t *src = &_sidata, *dst = &_sdata;
  while (dst < &_edata) *dst++ = *src++;
  for (dst = &_sbss; dst < &_ebss; dst++) *dst = 0;
  main();
  for (;;) {}
}

static void fault_handler(void) {
  for (;;) {}
}

static void unused_irq(void) {}

#define IRQS 32
typedef void (*vector)(void);

/* Core exceptions, then the external interrupts (UART0 RX is IRQ 0 on AN385). */
__attribute__((section(".vectors"), used)) static const vector vectors[16 + IRQS] = {
    (vector)(uintptr_t)&_estack,
    reset_handler,
    fault_handler, /* NMI */
    fault_handler, /* HardFault */
    fault_handler, /* MemManage */
    fault_handler, /* BusFault */
    fault_handler, /* UsageFault */
    0,
    0,
    0,
    0,
    unused_irq, /* SVCall */
    unused_irq, /* DebugMonitor */
    0,
    unused_irq,   /* PendSV */
    unused_irq,   /* SysTick */
    uart0_rx_irq, /* IRQ 0: UART0 RX */
    [17 ... 16 + IRQS - 1] = unused_irq,
};
