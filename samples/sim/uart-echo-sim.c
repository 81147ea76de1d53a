/*
 * samples/sim/uart-echo-sim.c - the uart-echo firmware, unchanged, run on
 * the host against a simulated UART with the testing kit (ptio/sim.h).
 *
 *   uart-echo-sim [SEEDS]    feed samples/firmware/uart-echo.in to the
 *                            firmware SEEDS times (default 200), each
 *                            seed with other input timing, and compare
 *                            what it sends with uart-echo.expected
 *
 * The firmware's source is included as it is: its main() becomes
 * uart_echo_main(), and this file plays the board (src/port/board.h):
 * ptio_board_backend() is the port backend over the kit's simulated CPU,
 * ptio_board_uart() the driver stream of src/port/uart.c over a simulated
 * UART.  So the machine under test is byte for byte the one QEMU runs.
 *
 * The simulated UART has one interrupt line, as the boards' UARTs do.
 * While anything is in flight the line fires every BYTE_TICKS: the
 * transmitter finishes the byte it holds (it goes to the output) and
 * takes the next from the driver's TX ring, and the receiver delivers the
 * next input byte, if the seed says one has arrived and the driver has
 * room (otherwise the driver stalls the receiver and resumes it later).
 * The seed also picks the transmitter's speed, one to eight ticks a byte:
 * a slow one fills the TX ring, the task stops reading, the RX ring
 * fills and the driver's flow control is exercised.
 *
 * Divided into: the simulated UART, the board, a seed's run, main.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ptio.h>
#include <ptio/sim.h>

/* The firmware itself. */
#define main uart_echo_main
#include "firmware/uart-echo.c"
#undef main

#define BYTE_TICKS 1      /* one byte per tick each way */
#define OUT_MAX 4096

/* ---- The simulated UART ---------------------------------------------------- */

static struct {
	struct ptio_sim sim;
	struct ptio_sim_event ev[8];
	struct ptio_port_backend pb;
	struct ptio_port_ops ops;       /* the kit's, with a stall check */
	struct ptio_uart u;
	struct ptio_sim_irq irq;
	const uint8_t *in;
	size_t in_len, in_pos;
	ptio_tick next_rx;              /* when the next input byte arrives */
	bool rx_full, rx_irq, tx_busy, armed;
	unsigned tx_every, tx_phase;    /* a byte out every TX_EVERY ticks */
	uint8_t rx_reg, tx_reg;
	uint8_t out[OUT_MAX];
	size_t out_len;
	unsigned stalls;
} hw;

static void line_arm(void);

static void out_byte(uint8_t c)
{
	if (hw.out_len < OUT_MAX)
		hw.out[hw.out_len++] = c;
}

/* Hand the received byte to the driver, or stall if its ring is full. */
static void receive(void)
{
	if (!hw.rx_full || !hw.rx_irq)
		return;
	if (!ptio_uart_rx_room(&hw.u)) {
		hw.rx_irq = false;
		ptio_uart_rx_stall(&hw.u);
		hw.stalls++;
		return;
	}
	ptio_uart_rx_put(&hw.u, hw.rx_reg);
	hw.rx_full = false;
}

static void send_next(void)
{
	int c = ptio_uart_tx_take(&hw.u);

	hw.tx_busy = c >= 0;
	if (c >= 0)
		hw.tx_reg = (uint8_t)c;
}

/* The interrupt handler: a byte time has passed. */
static void uart_isr(void *arg)
{
	(void)arg;
	hw.armed = false;
	if (hw.tx_busy && ++hw.tx_phase >= hw.tx_every) {
		hw.tx_phase = 0;
		out_byte(hw.tx_reg);
		send_next();
	}
	if (!hw.rx_full && hw.in_pos < hw.in_len &&
	    ptio_tick_reached(ptio_sim_now(&hw.sim), hw.next_rx)) {
		hw.rx_reg = hw.in[hw.in_pos++];
		hw.rx_full = true;
		/* The seed decides the gap before the next byte: mostly
		 * back to back, sometimes a pause. */
		hw.next_rx = ptio_sim_now(&hw.sim) + BYTE_TICKS +
			     (ptio_sim_chance(&hw.sim, 20) ?
			      ptio_sim_below(&hw.sim, 50) : 0);
	}
	receive();
	line_arm();
}

/* Keep the line firing while a byte is in flight either way. */
static void line_arm(void)
{
	uint32_t delay = BYTE_TICKS;

	if (hw.armed || (!hw.tx_busy && hw.in_pos == hw.in_len))
		return;
	if (!hw.tx_busy && !hw.rx_full) {
		int32_t d = ptio_tick_diff(hw.next_rx, ptio_sim_now(&hw.sim));

		delay = d > BYTE_TICKS ? (uint32_t)d : BYTE_TICKS;
	}
	hw.armed = ptio_sim_irq_raise(&hw.irq, delay) == 0;
}

/* The driver hooks (src/port/uart.h), called with interrupts masked. */
static void hw_tx_start(struct ptio_uart *u)
{
	(void)u;
	send_next();
	line_arm();
}

static void hw_rx_resume(struct ptio_uart *u)
{
	(void)u;
	hw.rx_irq = true;
	receive();
	line_arm();
}

static void hw_putc_polled(struct ptio_uart *u, uint8_t c)
{
	(void)u;
	if (hw.tx_busy)
		out_byte(hw.tx_reg);
	hw.tx_busy = false;
	out_byte(c);
}

static const struct ptio_uart_hw hw_hooks = {
	.tx_start = hw_tx_start,
	.rx_resume = hw_rx_resume,
	.putc_polled = hw_putc_polled,
};

/* ---- The board ----------------------------------------------------------------- */

/* The kit's idle hook, failing the run where a board would hang. */
static void board_idle(ptio_tick now, uint32_t timeout)
{
	ptio_sim_port_ops(&hw.sim)->idle(now, timeout);
	if (ptio_sim_stalled(&hw.sim)) {
		fprintf(stderr, "uart-echo-sim: the firmware waits for ever\n");
		exit(1);
	}
}

struct ptio_backend *ptio_board_backend(void)
{
	return &hw.pb.base;
}

struct ptio_uart *ptio_board_uart(void)
{
	return &hw.u;
}

static void board_init(uint32_t seed, const uint8_t *in, size_t len)
{
	memset(&hw, 0, sizeof(hw));
	ptio_sim_init(&hw.sim, 0, seed, hw.ev, 8);
	hw.ops = *ptio_sim_port_ops(&hw.sim);
	hw.ops.idle = board_idle;
	ptio_port_backend_init(&hw.pb, &hw.ops);
	ptio_uart_init(&hw.u, &hw.pb, &hw_hooks);
	ptio_sim_irq_init(&hw.irq, &hw.sim, uart_isr, NULL);
	hw.in = in;
	hw.in_len = len;
	hw.rx_irq = true;
	hw.next_rx = ptio_sim_below(&hw.sim, 100);
	hw.tx_every = 1 + ptio_sim_below(&hw.sim, 8);
	line_arm();
}

/* ---- A seed's run --------------------------------------------------------------- */

static uint8_t input[1024], expected[1024];
static size_t input_len, expected_len;
static unsigned long total_stalls;

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static int run_seed(uint32_t seed, void *ctx)
{
	int status;

	(void)ctx;
	board_init(seed, input, input_len);
	status = uart_echo_main();
	total_stalls += hw.stalls;
	if (status != 0 || hw.out_len != expected_len ||
	    memcmp(hw.out, expected, expected_len) != 0) {
		fprintf(stderr, "uart-echo-sim: status %d, output:\n%.*s",
			status, (int)hw.out_len, (const char *)hw.out);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ptio_sim_seeds s;

	input_len = slurp(UART_ECHO_DIR "/uart-echo.in", input, sizeof(input));
	expected_len = slurp(UART_ECHO_DIR "/uart-echo.expected", expected,
			     sizeof(expected));
	ptio_sim_seeds_init(&s, argc > 1 ? (uint32_t)atoi(argv[1]) : 200,
			    getenv("PTIO_SIM_SEED"), NULL);
	if (ptio_sim_seeds_run(&s, run_seed, NULL) != 0) {
		fprintf(stderr, "uart-echo-sim: %s\n", s.message);
		return 1;
	}
	printf("uart-echo-sim: %lu seeds, output as expected; the receiver "
	       "stalled %lu times\n", (unsigned long)s.ran, total_stalls);
	return 0;
}
