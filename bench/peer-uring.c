/*
 * bench/peer-uring.c - an echo server on io_uring (liburing), for
 * bench/run.
 *
 *   peer-uring [--port N] [--host ADDR] [--report-at N]
 *
 * (the options, the reports and the exit status are peer.h's).  Written
 * the way liburing's examples write a completion-based server: one
 * multishot accept on the listener, one multishot recv per connection
 * that picks its buffer from a provided-buffer ring, and one send per
 * received chunk straight from that buffer, which goes back to the ring
 * once the send completes.  A connection costs no user memory at all:
 * its whole state is the descriptor, carried in the requests' user data,
 * and the kernel's armed recv.  The process waits and submits in one
 * io_uring_enter per batch, so system calls per message fall below one
 * when several connections are busy.  Signals arrive the same way: they
 * stay blocked and a read on a signalfd completes when one comes.  (Not
 * a signal mask given to io_uring_enter: valgrind 3.19 aborts when a
 * signal interrupts that, and bench/run counts this server under
 * callgrind.)
 *
 * If the kernel refuses io_uring (too old, disabled by sysctl, filtered
 * by seccomp) the server says so and exits with PEER_UNAVAILABLE, which
 * bench/run reports as "unavailable" rather than as a failure.
 *
 * One limit, acceptable for a ping-pong: the sends of one connection are
 * not chained, so a client that sent again before its echo came back,
 * onto a socket whose send buffer was full, could see io_uring finish two
 * sends out of order.  bench/echo-pingpong never has two messages in
 * flight on a connection.
 *
 * Divided into: the ring and its buffers, requests, completions, and the
 * loop with main.
 */
#include "peer.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- The ring and its buffers ------------------------------------------- */

#define RING_ENTRIES 4096       /* submission queue entries */
#define NBUFS 2048              /* provided buffers (a power of two) */
#define BUF_SIZE 4096
#define BGID 1                  /* the buffer group of the ring */

static struct io_uring ring;
static struct io_uring_buf_ring *buf_ring;
static uint8_t *bufs;           /* NBUFS * BUF_SIZE bytes */

/* The send in progress from each buffer: its length and how much of it
 * is sent (a short send is resubmitted from there). */
static struct {
	unsigned len;
	unsigned off;
} sending[NBUFS];

static uint8_t *buf_of(unsigned bid)
{
	return bufs + (size_t)bid * BUF_SIZE;
}

/* Hand buffer BID back to the kernel. */
static void buf_recycle(unsigned bid)
{
	io_uring_buf_ring_add(buf_ring, buf_of(bid), BUF_SIZE,
			      (unsigned short)bid,
			      io_uring_buf_ring_mask(NBUFS), 0);
	io_uring_buf_ring_advance(buf_ring, 1);
}

/* Map the buffers and the ring that lists them, register the ring as
 * buffer group BGID, and provide every buffer.  0, or -errno. */
static int bufs_setup(void)
{
	struct io_uring_buf_reg reg;
	size_t ring_bytes = NBUFS * sizeof(struct io_uring_buf);
	unsigned bid;
	int r;

	/* mmap, not malloc: page-aligned as the kernel wants, and outside
	 * the heap that the report counts.  MAP_POPULATE: the buffers are
	 * used in turn, and their first touch must not be counted as page
	 * faults per message. */
	buf_ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	bufs = mmap(NULL, (size_t)NBUFS * BUF_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf_ring == MAP_FAILED || bufs == MAP_FAILED)
		return -ENOMEM;
	memset(&reg, 0, sizeof reg);
	reg.ring_addr = (unsigned long)(uintptr_t)buf_ring;
	reg.ring_entries = NBUFS;
	reg.bgid = BGID;
	r = io_uring_register_buf_ring(&ring, &reg, 0);
	if (r < 0)
		return r;
	io_uring_buf_ring_init(buf_ring);
	for (bid = 0; bid < NBUFS; bid++)
		io_uring_buf_ring_add(buf_ring, buf_of(bid), BUF_SIZE,
				      (unsigned short)bid,
				      io_uring_buf_ring_mask(NBUFS),
				      (int)bid);
	io_uring_buf_ring_advance(buf_ring, NBUFS);
	return 0;
}

/* ---- Requests ---------------------------------------------------------------
 *
 * A request's user data says what it was: its kind in the low byte, the
 * descriptor above it, and for a send the buffer above that.
 */

enum kind { ACCEPT = 1, RECV = 2, SEND = 3, SIGNAL = 4 };

static uint64_t ud_make(enum kind k, int fd, unsigned bid)
{
	return (uint64_t)k | (uint64_t)(uint32_t)fd << 8 | (uint64_t)bid << 40;
}

static enum kind ud_kind(uint64_t ud)
{
	return (enum kind)(ud & 0xff);
}

static int ud_fd(uint64_t ud)
{
	return (int)(uint32_t)(ud >> 8);
}

static unsigned ud_bid(uint64_t ud)
{
	return (unsigned)(ud >> 40);
}

/* A free submission entry, submitting what is queued if there is none. */
static struct io_uring_sqe *sqe_get(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (sqe == NULL) {
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
	}
	return sqe;
}

static void arm_accept(int listener)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_multishot_accept(sqe, listener, NULL, NULL,
				       SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, ud_make(ACCEPT, listener, 0));
}

static void arm_recv(int fd)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, ud_make(RECV, fd, 0));
}

/* Where the signalfd's reads put the signal that came. */
static struct signalfd_siginfo siginfo;

/* Read the next signal from the signalfd SFD. */
static void arm_signal(int sfd)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_read(sqe, sfd, &siginfo, sizeof siginfo, 0);
	io_uring_sqe_set_data64(sqe, ud_make(SIGNAL, sfd, 0));
}

/* Send what is left of buffer BID on FD. */
static void send_rest(int fd, unsigned bid)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_send(sqe, fd, buf_of(bid) + sending[bid].off,
			   sending[bid].len - sending[bid].off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ud_make(SEND, fd, bid));
}

/* ---- Completions ------------------------------------------------------------ */

static void conn_close(int fd, int err)
{
	close(fd);
	peer_conn_closed(err);
}

static void on_accept(const struct io_uring_cqe *cqe, int listener)
{
	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm_accept(listener);  /* the multishot accept ended */
	if (cqe->res < 0) {
		if (cqe->res != -ECONNABORTED)
			fprintf(stderr, "peer-uring: accept: %s\n",
				strerror(-cqe->res));
		return;
	}
	peer_conn_opened(0);
	arm_recv(cqe->res);
}

static void on_recv(const struct io_uring_cqe *cqe, int fd)
{
	unsigned bid;

	if (cqe->res > 0) {
		bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		sending[bid].len = (unsigned)cqe->res;
		sending[bid].off = 0;
		send_rest(fd, bid);
		if (!(cqe->flags & IORING_CQE_F_MORE))
			arm_recv(fd);
	} else if (cqe->res == -ENOBUFS) {
		/* Every buffer is in a send: the recv stopped.  Arm it
		 * again; the sends give buffers back as they complete. */
		arm_recv(fd);
	} else if (cqe->res == -EINVAL) {
		/* This kernel has provided-buffer rings but not multishot
		 * recv (before 6.0). */
		fprintf(stderr, "peer-uring: multishot recv refused: %s\n",
			strerror(-cqe->res));
		_exit(PEER_UNAVAILABLE);
	} else {
		conn_close(fd, cqe->res == 0 ? 0 : -cqe->res);
	}
}

static void on_send(const struct io_uring_cqe *cqe, int fd)
{
	unsigned bid = ud_bid(cqe->user_data);

	/* A failed send (the client went away) just gives the buffer back:
	 * the recv sees the same end and closes the connection. */
	if (cqe->res > 0) {
		sending[bid].off += (unsigned)cqe->res;
		if (sending[bid].off < sending[bid].len) {
			send_rest(fd, bid);
			return;
		}
	}
	buf_recycle(bid);
}

static void on_signal(const struct io_uring_cqe *cqe, int sfd)
{
	if (cqe->res == (int)sizeof siginfo) {
		if (siginfo.ssi_signo == SIGUSR1)
			peer_report_requested = 1;
		else
			peer_stop_requested = 1;
	}
	arm_signal(sfd);
}

static void on_cqe(const struct io_uring_cqe *cqe, int listener)
{
	int fd = ud_fd(cqe->user_data);

	switch (ud_kind(cqe->user_data)) {
	case ACCEPT:
		on_accept(cqe, listener);
		break;
	case RECV:
		on_recv(cqe, fd);
		break;
	case SEND:
		on_send(cqe, fd);
		break;
	case SIGNAL:
		on_signal(cqe, fd);
		break;
	}
}

/* ---- The loop and main ------------------------------------------------------ */

static int unavailable(const char *what, int err)
{
	fprintf(stderr, "peer-uring: io_uring unavailable here (%s: %s)\n",
		what, strerror(-err));
	return PEER_UNAVAILABLE;
}

int main(int argc, char **argv)
{
	struct io_uring_cqe *cqe;
	sigset_t signals;
	unsigned head, seen;
	int listener, sfd, r;

	peer_setup("uring", argc, argv);
	peer_signals_block(&signals, NULL);
	sfd = signalfd(-1, &signals, SFD_CLOEXEC);
	if (sfd < 0) {
		perror("peer-uring: signalfd");
		return 1;
	}
	r = io_uring_queue_init(RING_ENTRIES, &ring, 0);
	if (r < 0)
		return unavailable("io_uring_queue_init", r);
	r = bufs_setup();
	if (r < 0)
		return unavailable("provided-buffer ring", r);
	listener = peer_listen();
	if (listener < 0 || peer_print_port(listener) < 0)
		return 1;
	peer_heap_base();
	arm_signal(sfd);
	arm_accept(listener);
	while (!peer_stop_requested) {
		if (peer_report_requested) {
			peer_report_requested = 0;
			peer_heap_report(0);
		}
		/* Submit what the last batch queued and wait, in one call. */
		r = io_uring_submit_and_wait(&ring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN) {
			fprintf(stderr, "peer-uring: wait: %s\n",
				strerror(-r));
			break;
		}
		seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			on_cqe(cqe, listener);
			seen++;
		}
		io_uring_cq_advance(&ring, seen);
	}
	io_uring_queue_exit(&ring);
	close(sfd);
	close(listener);
	return peer_finish();
}
