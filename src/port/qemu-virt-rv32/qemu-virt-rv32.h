/*
 * src/port/qemu-virt-rv32/qemu-virt-rv32.h - the registers this board
 * support uses on QEMU's RISC-V `virt` machine (rv32imac, machine mode
 * only): the CLINT timer, the PLIC, the ns16550 UART0 and the test
 * device that ends the emulation.
 */
#ifndef PTIO_SRC_PORT_QEMU_VIRT_RV32_H
#define PTIO_SRC_PORT_QEMU_VIRT_RV32_H

#include <stdint.h>

#define RV_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define RV_REG8(addr) (*(volatile uint8_t *)(uintptr_t)(addr))

/* CLINT: a 64-bit mtime counting at 10 MHz and hart 0's mtimecmp. */
#define RV_MTIME 0x0200BFF8u
#define RV_MTIMECMP 0x02004000u
#define RV_MTIME_HZ 10000000u
#define RV_MTIME_PER_TICK (RV_MTIME_HZ / 1000u) /* 1 ms ticks */

/* PLIC, context 0 = hart 0 in machine mode. */
#define RV_PLIC_PRIORITY(irq) (0x0C000000u + 4u * (irq))
#define RV_PLIC_ENABLE0 0x0C002000u
#define RV_PLIC_THRESHOLD0 0x0C200000u
#define RV_PLIC_CLAIM0 0x0C200004u
#define RV_UART0_IRQ 10u

/* ns16550 UART0 (byte registers). */
#define RV_UART0 0x10000000u
#define RV_UART_RBR 0u /* read */
#define RV_UART_THR 0u /* write */
#define RV_UART_IER 1u
#define RV_UART_IIR 2u /* read */
#define RV_UART_FCR 2u /* write */
#define RV_UART_LCR 3u
#define RV_UART_MCR 4u
#define RV_UART_LSR 5u
#define RV_UART_IER_RDI 0x01u  /* received data available */
#define RV_UART_IER_THRI 0x02u /* transmit holding register empty */
#define RV_UART_IIR_NONE 0x01u /* no interrupt pending */
#define RV_UART_IIR_ID 0x0Eu
#define RV_UART_IIR_THRI 0x02u
#define RV_UART_LSR_DR 0x01u
#define RV_UART_LSR_THRE 0x20u

/* The SiFive test device: 0x5555 passes, (status << 16) | 0x3333 fails. */
#define RV_TEST 0x00100000u

/* Machine-mode CSR bits. */
#define RV_MSTATUS_MIE 0x8u
#define RV_MIE_MTIE 0x80u
#define RV_MIE_MEIE 0x800u
#define RV_MCAUSE_INTERRUPT 0x80000000u
#define RV_IRQ_MTIMER 7u
#define RV_IRQ_MEXT 11u

/* ns16550.c: set up UART0 on PB and serve its interrupt. */
struct ptio_uart;
struct ptio_port_backend;
void ptio_rv32_uart0_init(struct ptio_uart *u, struct ptio_port_backend *pb);
void ptio_rv32_uart0_handler(void);

/* board.c: the timer interrupt. */
void ptio_rv32_timer_handler(void);

#endif /* PTIO_SRC_PORT_QEMU_VIRT_RV32_H */
