/*
 * src/port/mps2-an385/mps2-an385.h - the registers this board support
 * uses (QEMU mps2-an385: Cortex-M3, 25 MHz, CMSDK APB UART) and the
 * handlers its files share.  Every address and bit here is from the
 * Cortex-M3 and CMSDK technical reference manuals.
 */
#ifndef PTIO_SRC_PORT_MPS2_AN385_H
#define PTIO_SRC_PORT_MPS2_AN385_H

#include <stdint.h>

#define MPS2_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define MPS2_CORE_HZ 25000000u

/* System control block and SysTick. */
#define MPS2_SCB_SHCSR 0xE000ED24u
#define MPS2_SHCSR_FAULTS_ENABLE (0x7u << 16) /* MemManage, Bus, Usage */
#define MPS2_SYST_CSR 0xE000E010u
#define MPS2_SYST_RVR 0xE000E014u
#define MPS2_SYST_CVR 0xE000E018u
#define MPS2_SYST_CSR_RUN 0x7u /* enable, interrupt, core clock */

/* NVIC: set-enable for external interrupts 0-31. */
#define MPS2_NVIC_ISER0 0xE000E100u

/* CMSDK APB UART0. */
#define MPS2_UART0 0x40004000u
#define MPS2_UART_DATA 0x00u
#define MPS2_UART_STATE 0x04u
#define MPS2_UART_CTRL 0x08u
#define MPS2_UART_INTSTATUS 0x0Cu /* write 1 to clear (INTCLEAR) */
#define MPS2_UART_BAUDDIV 0x10u
#define MPS2_UART_STATE_TXFULL 0x1u
#define MPS2_UART_STATE_RXFULL 0x2u
#define MPS2_UART_CTRL_TXEN 0x1u
#define MPS2_UART_CTRL_RXEN 0x2u
#define MPS2_UART_CTRL_TXIE 0x4u
#define MPS2_UART_CTRL_RXIE 0x8u
#define MPS2_UART_INT_TX 0x1u
#define MPS2_UART_INT_RX 0x2u
#define MPS2_UART0_RX_IRQ 0
#define MPS2_UART0_TX_IRQ 1

/* Handlers installed by startup.c, defined in board.c and cmsdk-uart.c. */
void ptio_mps2_systick_handler(void);
void ptio_mps2_uart0_rx_handler(void);
void ptio_mps2_uart0_tx_handler(void);

/* cmsdk-uart.c: set up UART0 (115200 baud, both interrupts) on PB. */
struct ptio_uart;
struct ptio_port_backend;
void ptio_mps2_uart0_init(struct ptio_uart *u, struct ptio_port_backend *pb);

#endif /* PTIO_SRC_PORT_MPS2_AN385_H */
