/*
 * Cortex-M3 board (QEMU mps2-an385): the device core on the CMSDK APB
 * UART0. Received bytes are queued by the RX interrupt; the main loop feeds
 * them to the core and sleeps with WFI when there is nothing to do.
 */
#include <stdint.h>

#include "device.h"

#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x00))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x04))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x08))
#define UART_INTCLEAR (*(volatile uint32_t *)(UART0_BASE + 0x0C))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10))
#define STATE_TX_FULL 0x1u
#define STATE_RX_FULL 0x2u
#define CTRL_TX_EN 0x1u
#define CTRL_RX_EN 0x2u
#define CTRL_RX_INT 0x8u
#define INT_RX 0x2u
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)

#define CONTEXTS 256
#define RING 8192u /* more than the host keeps in flight (6 KiB) */

static uint64_t reference[CONTEXTS], accumulator[CONTEXTS];
static atomik_device device;
static volatile uint8_t ring[RING];
static volatile uint32_t ring_head, ring_tail; /* written by the IRQ / by main */
static volatile uint32_t overruns;

void uart0_rx_irq(void) {
  /* Clear first: a byte that lands after the loop raises the interrupt again. */
  UART_INTCLEAR = INT_RX;
  while (UART_STATE & STATE_RX_FULL) {
    uint8_t b = (uint8_t)UART_DATA;
    if (ring_head - ring_tail < RING) {
      ring[ring_head % RING] = b;
      ring_head++;
    } else {
      overruns++; /* the protocol's retransmission recovers the frame */
    }
  }
}

static void uart_tx(void *user, const uint8_t *data, size_t len) {
  (void)user;
  for (size_t i = 0; i < len; i++) {
    while (UART_STATE & STATE_TX_FULL) {}
    UART_DATA = data[i];
  }
}

int main(void) {
  UART_BAUDDIV = 16;
  UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT;
  (void)UART_DATA; /* QEMU may hold input until DATA has been read once */
  NVIC_ISER0 = 1u << 0;
  /* Boot id 0 (unknown): the emulated MPS2 AN385 has no RNG, QEMU clears its
     RAM and its timers start alike on every boot, so nothing here can tell
     boots apart. Hosts rely on the session (0 after a reboot) instead. */
  atomik_device_init(&device, reference, accumulator, CONTEXTS, "cortex-m3", uart_tx, 0, 0);
  for (;;) {
    __asm volatile("cpsid i" ::: "memory");
    if (ring_head == ring_tail) __asm volatile("wfi"); /* a pending IRQ still wakes it */
    __asm volatile("cpsie i" ::: "memory");
    uint8_t chunk[64];
    size_t n = 0;
    while (ring_tail != ring_head && n < sizeof chunk) {
      chunk[n++] = ring[ring_tail % RING];
      ring_tail++;
    }
    if (n) atomik_device_feed(&device, chunk, n);
  }
}
