/*
 * samples/echo-server.c - a TCP echo server on the loopback interface, in
 * two styles, that reports what an idle connection costs in heap bytes.
 *
 *   echo-server [--port N] [--host ADDR] [--mode ergonomic|scratch|ring]
 *               [--max-conns N] [--report-at N] [--exit-after N]
 *               [--drain-ms MS] [--stall-ms MS] [--backend NAME]
 *               [--threads N]
 *
 * The first line on stdout is "port N" (the port really bound, so
 * --port 0 lets the system pick one), the second "backend NAME": the
 * loop's backend, the one --backend names (poll, select, epoll, uring) or else,
 * as in every sample, the one ptio_posix_backend_init chooses
 * (PTIO_BACKEND, or the best the host has).  Each connection is one task:
 *
 *  ergonomic  the connection owns a 4 KiB buffer and loops ptio_read,
 *             ptio_write_all, exactly like blocking code with awaits.
 *  scratch    the seed's memory-sensitive path: the connection owns no
 *             buffer.  It awaits READ readiness, reads into the loop's
 *             shared scratch buffer and writes the bytes back before it
 *             next suspends (see scratch_echo for the rare case where the
 *             peer does not take them all).
 *  ring       the completion path of the uring backend: the connection
 *             is a ptio_uring_stream, whose bytes arrive in buffers the
 *             kernel picks from a ring shared by every connection and
 *             whose writes are copied into a send chunk borrowed from a
 *             pool the connections share (held only until it is sent)
 *             and queued as submissions, so a message costs no system
 *             call of its own and an idle connection holds no buffer.
 *             Where the backend is not uring
 *             the connection falls back to ergonomic.
 *
 * Heap report: once --report-at N connections are open and every one of
 * them is idle (waiting to read), or whenever SIGUSR1 arrives, the server
 * prints
 *
 *     heap_per_conn B sizeof_conn S conns N idle I mode M heap H
 *
 * where B is (heap in use now - heap in use before the first accept)
 * divided by the N open connections: the connection structs with their
 * allocator overhead plus whatever the backend keeps per connection (poll:
 * its arrays' entries for a waiting fd; select: a table pointer; epoll:
 * one bit per descriptor number; uring: its table's entry); S is the
 * sizeof the connection struct, I how many connections are idle, and H
 * what counted the heap (mallinfo2, asan, or none).
 *
 * Stalled peers: a peer that sends and never reads what comes back would
 * hold what its echo waits in for as long as it stays connected: its
 * overflow block in scratch mode, kernel socket buffers in every mode,
 * and in ring mode its share of the receive and send pools that every
 * connection draws from: one receive buffer and one send chunk (ring
 * connections have a read-ahead of 1), so that 256 such peers take
 * both pools and nobody else is served, unless --max-conns is given:
 * then the pools have a buffer for every connection, up to 32768 (see
 * ring_pools for what that costs).
 * So an echo that the peer has not taken within --stall-ms (default
 * 10000; 0 turns it off) ends its connection.  The ergonomic and ring connections
 * are timed tasks whose write carries that deadline (ptio_task_set_
 * timeout: the wait for the peer's next message has none, so an idle
 * connection may stay as long as it likes); a scratch connection stays
 * a plain task, and the housekeeping task aborts those whose overflow
 * block is older than the limit (ptio_task_abort), so the
 * memory-sensitive path pays nothing per connection for it.
 *
 * Stopping: SIGTERM or SIGINT (or --exit-after N closed connections) stops
 * accepting and lets open connections finish for up to --drain-ms
 * (default 2000).  The stop is said on stdout as it comes: "stop signal
 * N", "stop exit-after N", or "stop error" when a serving thread failed;
 * the statistics line, "stats accepted A refused R closed C failed F
 * overflows O stalled S", comes last (S: connections ended for stalling,
 * not counted in F).  The exit status is 0 when every connection
 * ended, 3 when some were still open at the drain deadline, 1 on a setup
 * error, 77 when the backend asked for (PTIO_BACKEND) is not available
 * here.
 *
 * Signals come into the loop through a signal source (ptio_signals_next)
 * and reach each server through its waker, so an idle server sleeps in
 * its backend and makes no system call at all: no timer ticks.
 *
 * One loop per core: --threads N runs N serving threads, each with its
 * own backend, loop, scratch buffer and listening socket, all bound to
 * one port with SO_REUSEPORT, so that the kernel spreads the connections
 * among them.  The main thread then runs a loop of its own that only
 * turns signals into wakes of the servers and waits for them to end;
 * the statistics line sums every thread's, and --exit-after counts each
 * thread's connections (the first thread to reach it stops them all).
 * The heap report is the calling thread's view (glibc's mallinfo2 counts
 * the main arena only).  Without --threads the one server runs on the
 * main thread, whose loop carries the signal tasks too.
 *
 * The file is divided into: options and statistics, heap measurement, the
 * two connection styles, accepting, control (signals, stopping, the
 * serving threads), housekeeping (report, shutdown), and main.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#ifdef HAVE_MALLINFO2
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ptio.h>

#if defined(__SANITIZE_ADDRESS__)
#define ECHO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ECHO_ASAN 1
#endif
#endif
#ifdef ECHO_ASAN
/* From the sanitizer runtime (sanitizer/allocator_interface.h, a header
 * not every compiler installation ships). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* ---- Options and statistics --------------------------------------------- */

enum echo_mode { MODE_ERGONOMIC, MODE_SCRATCH, MODE_RING };

static struct {
	const char *host;
	unsigned port;
	enum echo_mode mode;
	size_t max_conns;   /* 0: no limit */
	size_t report_at;   /* 0: only on SIGUSR1 */
	size_t exit_after;  /* 0: run until a signal */
	uint32_t drain_ms;
	uint32_t stall_ms;   /* 0: a stalled echo waits for ever */
	const char *backend; /* NULL: PTIO_BACKEND, or the host's best */
	unsigned threads;    /* 0: serve on the main thread */
} opt = { "127.0.0.1", 0, MODE_SCRATCH, 0, 0, 0, 2000, 10000, NULL, 0 };

/* What each serving thread has for itself (with --threads, one copy per
 * thread; without, the main thread's only). */
#define SERVER_LOCAL _Thread_local

/* The server's state: one loop, one listener, one accepting task and one
 * housekeeping task, all static so that the heap holds nothing but what
 * the connections cost. */
static SERVER_LOCAL struct {
	struct ptio_posix_backend backend;
	struct ptio_loop loop;
	struct ptio_fd listener;
	struct ptio_timed_task accept_task;  /* timed: it may back off */
	struct ptio_op accept_op;
	struct ptio_timed_task house_task;   /* timed: the drain deadline */
	struct ptio_op house_op;
	struct ptio_waker waker;  /* wakes the housekeeping task: a signal
				     (from the main thread), a stop, the
				     last connection gone while draining */
	unsigned report_seen;     /* the last SIGUSR1 reported (ctl) */
	ptio_tick drain_until;
	long heap_base;         /* heap in use before the first accept */
	size_t nconns;          /* connections open */
	size_t nidle;           /* of those, waiting for their peer to send */
	size_t accepted;
	size_t refused;         /* over --max-conns */
	size_t closed;
	size_t failed;          /* connections that ended with an error */
	size_t overflows;       /* scratch writes that fell short */
	size_t stalled;         /* connections ended for --stall-ms */
	bool loop_ready;        /* the backend and loop are up */
	bool listening;         /* the listener is open */
	bool reported;          /* the --report-at report was printed */
	bool draining;
	bool forced;            /* connections were still open at exit */
} srv;

/* The shared scratch buffer of the memory-sensitive path: one for the
 * whole server, however many connections it has.  Not on the heap, like
 * the rest of the server's fixed state. */
static SERVER_LOCAL uint8_t scratch[64 * 1024];

static void request_stop(const char *why, long n);
static void house_poke(void);

/* ---- Heap measurement ------------------------------------------------- */

/* Heap bytes in use now, or -1 when this host cannot tell.  glibc's
 * mallinfo2 counts whole chunks (the allocator's header and rounding
 * included), which is the honest cost.  It also counts freed chunks that
 * wait in glibc's per-thread cache, a few KiB here from the backend's
 * arrays outgrowing their old selves; run with
 * GLIBC_TUNABLES=glibc.malloc.tcache_count=0 (as the demo does) for an
 * exact count.  Under AddressSanitizer glibc's allocator is not used and
 * the sanitizer's own count (requested bytes, no overhead) is what there
 * is. */
static long heap_in_use(void)
{
#if defined(ECHO_ASAN)
	return (long)__sanitizer_get_current_allocated_bytes();
#elif defined(HAVE_MALLINFO2)
	struct mallinfo2 mi = mallinfo2();

	/* uordblks: chunks in the heap; hblkhd: big blocks malloc took
	 * straight from mmap (a pool block of ergonomic connections). */
	return (long)(mi.uordblks + mi.hblkhd);
#else
	return -1;
#endif
}

static const char *heap_source(void)
{
#if defined(ECHO_ASAN)
	return "asan";
#elif defined(HAVE_MALLINFO2)
	return "mallinfo2";
#else
	return "none";
#endif
}

static size_t conn_size(void);

static void heap_report(void)
{
	long now = heap_in_use();
	long per = -1;

	if (now >= 0 && srv.heap_base >= 0 && srv.nconns > 0)
		per = (now - srv.heap_base + (long)srv.nconns / 2) /
		      (long)srv.nconns;
	printf("heap_per_conn %ld sizeof_conn %zu conns %zu idle %zu "
	       "mode %s heap %s\n", per, conn_size(), srv.nconns, srv.nidle,
	       opt.mode == MODE_SCRATCH ? "scratch"
	       : opt.mode == MODE_RING  ? "ring" : "ergonomic",
	       heap_source());
	fflush(stdout);
}

/* Bookkeeping shared by both styles when a connection ends. */
static void conn_ended(ptio_ssize result)
{
	srv.nconns--;
	srv.closed++;
	/* A peer that resets or vanishes is not the server's failure, nor
	 * one that stalled: its write's deadline passed (or the kernel's
	 * own retransmission timeout), or the housekeeping task aborted
	 * its overflow (nothing else aborts a connection). */
	if (result == PTIO_ETIMEDOUT || result == PTIO_ECANCELED)
		srv.stalled++;
	else if (result < 0 && result != PTIO_ECONNRESET &&
		 result != PTIO_EPIPE)
		srv.failed++;
	if (opt.exit_after > 0 && srv.closed >= opt.exit_after)
		request_stop("exit-after", (long)opt.exit_after);
	if (srv.draining && srv.nconns == 0)
		house_poke();
}

/* Give TT's next waits --stall-ms to make progress (none when it is 0):
 * around a write, never around the wait for the peer's next message. */
static void stall_arm(struct ptio_timed_task *tt)
{
	if (opt.stall_ms > 0)
		ptio_task_set_timeout(tt, opt.stall_ms);
}

/* ---- Connection memory ---------------------------------------------------
 *
 * Connection structs come from a pool that carves blocks of POOL_BLOCK
 * structs out of malloc and keeps freed ones on a free list, as a server
 * holding many connections would.  An idle connection then costs its
 * struct and no allocator header or rounding (glibc would round a 72-byte
 * struct up to an 80-byte block plus its header).  Blocks are kept until
 * exit: a server that once held N connections keeps room for N.  The heap
 * report counts the blocks, so the last block's slack shows in it.
 */

#define POOL_BLOCK 64

struct pool_item {
	struct pool_item *next;
};

struct pool_block {
	struct pool_block *next;
	void *items[]; /* POOL_BLOCK items of the pool's size */
};

/* Items are aligned like pointers, which is all the connection structs
 * need (they hold pointers, sizes and bytes). */
struct pool {
	size_t size;              /* bytes per item */
	struct pool_item *free;   /* items ready for pool_get */
	struct pool_block *blocks;
};

static void pool_init(struct pool *p, size_t size)
{
	size_t a = sizeof(void *);

	p->size = (size + a - 1) / a * a;
	p->free = NULL;
	p->blocks = NULL;
}

static void *pool_get(struct pool *p)
{
	struct pool_item *it;

	if (p->free == NULL) {
		/* Zeroed: ptio_task_start reads a task's old flags, and
		 * valgrind would report them as uninitialised. */
		struct pool_block *b =
			calloc(1, sizeof(*b) + p->size * POOL_BLOCK);
		size_t i;

		if (b == NULL)
			return NULL;
		b->next = p->blocks;
		p->blocks = b;
		for (i = POOL_BLOCK; i-- > 0;) {
			it = (struct pool_item *)(void *)((char *)b->items +
							  i * p->size);
			it->next = p->free;
			p->free = it;
		}
	}
	it = p->free;
	p->free = it->next;
	/* A task's memory must be zero-filled before its first start: the
	 * block may be memory the allocator had before (the backend's
	 * arrays as they grew), and the free list's link sits in it. */
	memset(it, 0, p->size);
	return it;
}

static void pool_put(struct pool *p, void *obj)
{
	struct pool_item *it = obj;

	it->next = p->free;
	p->free = it;
}

static void pool_destroy(struct pool *p)
{
	while (p->blocks != NULL) {
		struct pool_block *b = p->blocks;

		p->blocks = b->next;
		free(b);
	}
	p->free = NULL;
}

static SERVER_LOCAL struct pool conn_pool;

/* ---- Ergonomic connections ---------------------------------------------- */

/* Everything a connection needs lives here, its buffer included: 4 KiB per
 * connection whether it is busy or idle. */
struct ergo_conn {
	struct ptio_timed_task tt; /* timed: its writes have a deadline */
	struct ptio_fd fd;
	struct ptio_op op;   /* state of the read or write_all in progress */
	size_t len;          /* bytes in buf to echo; must survive write_all */
	uint8_t buf[4096];
};

/* The connection's machine: read what comes, write all of it back, until
 * end of stream or an error.  Returns 0 or the error. */
static ptio_ssize ergo_machine(struct ergo_conn *c)
{
	ptio_pt *pt = &c->tt.task.pt;
	ptio_ssize r = 0;

	PTIO_BEGIN(pt);
	for (;;) {
		srv.nidle++;
		PTIO_AWAIT(pt, r, ptio_read(&c->op, ptio_fd_reader(&c->fd),
					    c->buf, sizeof c->buf));
		srv.nidle--;
		if (r <= 0)
			break;
		c->len = (size_t)r;
		stall_arm(&c->tt);
		PTIO_AWAIT(pt, r, ptio_write_all(&c->op,
			   ptio_fd_writer(&c->fd), c->buf, c->len));
		ptio_task_clear_deadline(&c->tt);
		if (r < 0)
			break;
	}
	PTIO_END_WITH(pt, r < 0 ? r : 0);
}

/* The task function wraps the machine so that the struct holding the
 * machine's continuation is freed only after the machine has finished
 * writing to it (PTIO_END resets the continuation as it returns). */
static ptio_ssize ergo_task(struct ptio_task *t)
{
	struct ergo_conn *c = PTIO_CONTAINER_OF(t, struct ergo_conn, tt.task);
	ptio_ssize r = ergo_machine(c);

	if (r != PTIO_PENDING) {
		ptio_fd_close(&c->fd);
		pool_put(&conn_pool, c);
		conn_ended(r);
	}
	return r;
}

static ptio_ssize ergo_start(int fd)
{
	struct ergo_conn *c = pool_get(&conn_pool);
	ptio_ssize r;

	if (c == NULL)
		return PTIO_ENOMEM;
	r = ptio_fd_open(&c->fd, &srv.loop, fd, 0);
	if (r < 0) {
		pool_put(&conn_pool, c);
		return r;
	}
	ptio_op_init(&c->op, &c->tt.task);
	ptio_timed_task_start(&srv.loop, &c->tt, ergo_task);
	return 0;
}

/* ---- Scratch connections ----------------------------------------------- */

/*
 * The memory-sensitive path.  The connection holds no buffer: it waits for
 * READ readiness holding nothing, reads into the loop's scratch buffer,
 * and writes the bytes back at once, without suspending, because the
 * scratch buffer belongs to whichever task runs next once this one
 * suspends.
 *
 * The one hard case is a peer that does not read its echo: the write
 * takes only part of the bytes and the rest may not stay in the scratch
 * buffer across the wait for WRITE readiness.  Only then does the
 * connection copy the remainder into an overflow block sized to fit,
 * waits until it is written, frees it, and reads again.  It reads nothing
 * while the overflow is pending, so TCP flow control pushes back on the
 * peer and at most one scratch buffer's worth is ever held per
 * connection.  An idle connection, or one whose peer keeps up, holds just
 * the struct below.
 */
struct overflow {
	struct overflow *next;         /* the server's list of them */
	struct scratch_conn *owner;
	ptio_tick since; /* when the write fell short (--stall-ms) */
	bool aborted;    /* the owner was aborted for stalling */
	size_t len;      /* bytes in data */
	size_t off;      /* bytes of data already written */
	uint8_t data[];
};

/* Held-up writes are rare, so they live in one list the server searches,
 * not behind a pointer in every connection: an idle connection holds just
 * its task and its stream. */
static SERVER_LOCAL struct overflow *overflows;

struct scratch_conn {
	struct ptio_task task;  /* plain (no timer), and no op:
				   ptio_wait_ready needs neither */
	struct ptio_fd fd;
};

/* Where the list holds C's overflow, or NULL when C has none. */
static struct overflow **overflow_of(const struct scratch_conn *c)
{
	struct overflow **p;

	for (p = &overflows; *p != NULL; p = &(*p)->next)
		if ((*p)->owner == c)
			return p;
	return NULL;
}

/* Unlink and free the overflow at *P. */
static void overflow_free(struct overflow **p)
{
	struct overflow *o = *p;

	*p = o->next;
	free(o);
}

/* Keep the remainder BUF[0..LEN) of a short write; 0 or PTIO_ENOMEM. */
static ptio_ssize overflow_keep(struct scratch_conn *c, const uint8_t *buf,
				size_t len)
{
	struct overflow *o = malloc(sizeof *o + len);

	if (o == NULL)
		return PTIO_ENOMEM;
	memcpy(o->data, buf, len);
	o->owner = c;
	o->since = ptio_loop_now(c->task.loop);
	o->aborted = false;
	/* The first one: the housekeeping task starts looking for stalls. */
	if (overflows == NULL && opt.stall_ms > 0)
		house_poke();
	o->len = len;
	o->off = 0;
	o->next = overflows;
	overflows = o;
	srv.overflows++;
	return 0;
}

/* Write what C's overflow holds; free it once empty.  Returns 0 (go on,
 * whether or not it is empty yet) or an error. */
static ptio_ssize overflow_drain(struct scratch_conn *c)
{
	struct overflow **p = overflow_of(c);
	struct overflow *o = *p;
	ptio_ssize w;

	w = ptio_fd_nb_write(&c->fd, o->data + o->off, o->len - o->off);
	if (w == PTIO_WOULD_BLOCK)
		return 0;
	if (w < 0)
		return w;
	o->off += (size_t)w;
	if (o->off == o->len)
		overflow_free(p);
	return 0;
}

/* Read once into the scratch buffer and write it all back, or keep what
 * the peer would not take in an overflow block.  Returns the count read,
 * 0 at end of stream, PTIO_WOULD_BLOCK, or an error.  Never suspends. */
static ptio_ssize scratch_echo(struct scratch_conn *c)
{
	size_t cap;
	uint8_t *buf = ptio_loop_scratch(c->task.loop, &cap);
	ptio_ssize n, w;

	n = ptio_fd_nb_read(&c->fd, buf, cap);
	if (n <= 0)
		return n;
	w = ptio_fd_nb_write(&c->fd, buf, (size_t)n);
	if (w == PTIO_WOULD_BLOCK)
		w = 0;
	if (w < 0)
		return w;
	if (w < n) {
		w = overflow_keep(c, buf + w, (size_t)(n - w));
		if (w < 0)
			return w;
	}
	return n;
}

/* True when COUNT bytes fill the loop's whole scratch buffer. */
static bool scratch_filled(struct ptio_loop *loop, ptio_ssize count)
{
	size_t cap;

	(void)ptio_loop_scratch(loop, &cap);
	return (size_t)count == cap;
}

/* The connection's machine.  Returns 0 at end of stream or the error. */
static ptio_ssize scratch_machine(struct scratch_conn *c)
{
	struct ptio_task *t = &c->task;
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		if (overflow_of(c) != NULL) {
			PTIO_AWAIT(&t->pt, r, ptio_fd_wait_ready(t, &c->fd,
							       PTIO_WRITE));
			if (r >= 0)
				r = overflow_drain(c);
			if (r < 0)
				break;
			continue;
		}
		srv.nidle++;
		PTIO_AWAIT(&t->pt, r, ptio_fd_wait_ready(t, &c->fd,
						       PTIO_READ));
		srv.nidle--;
		if (r >= 0)
			r = scratch_echo(c);
		if (r == PTIO_WOULD_BLOCK)
			continue;
		if (r <= 0)
			break;
		/* A read that filled the scratch buffer means more is
		 * probably queued: let the other connections have a turn
		 * rather than echo this one until its peer pauses. */
		if (scratch_filled(t->loop, r))
			PTIO_YIELD(&t->pt, t);
	}
	PTIO_END_WITH(&t->pt, r < 0 ? r : 0);
}

/* See ergo_task for why the machine is wrapped. */
static ptio_ssize scratch_task(struct ptio_task *t)
{
	struct scratch_conn *c = PTIO_CONTAINER_OF(t, struct scratch_conn,
						   task);
	ptio_ssize r = scratch_machine(c);

	if (r != PTIO_PENDING) {
		struct overflow **p = overflow_of(c);

		if (p != NULL)
			overflow_free(p);
		ptio_fd_close(&c->fd);
		pool_put(&conn_pool, c);
		conn_ended(r);
	}
	return r;
}

static ptio_ssize scratch_start(int fd)
{
	struct scratch_conn *c = pool_get(&conn_pool);
	ptio_ssize r;

	if (c == NULL)
		return PTIO_ENOMEM;
	r = ptio_fd_open(&c->fd, &srv.loop, fd, 0);
	if (r < 0) {
		pool_put(&conn_pool, c);
		return r;
	}
	ptio_task_start(&srv.loop, &c->task, scratch_task);
	return 0;
}

/* ---- Ring connections (uring's completion stream) ------------------------ */

/* What a ring connection holds: its stream, and no buffer.  Received
 * bytes stay in the loop's shared ring until they are echoed; the echo
 * is copied into a send chunk the stream borrows from the loop's send
 * pool (opened with no send buffer of its own) and gives back once it
 * is sent, so an idle connection holds neither. */
struct ring_conn {
	struct ptio_timed_task tt; /* timed: its writes have a deadline */
	struct ptio_uring_stream s;
	struct ptio_op op;
	const uint8_t *data;  /* the bytes being echoed (in the ring) */
	size_t len;
};

/* Fill, write the bytes back (copied into a borrowed send chunk), consume;
 * at end of stream, wait until the last echo is sent. */
static ptio_ssize ring_machine(struct ring_conn *c)
{
	ptio_pt *pt = &c->tt.task.pt;
	ptio_ssize r = 0;

	PTIO_BEGIN(pt);
	for (;;) {
		srv.nidle++;
		PTIO_AWAIT(pt, r, ptio_fill_buf(&c->op,
			   ptio_uring_stream_bufread(&c->s), &c->data));
		srv.nidle--;
		if (r <= 0)
			break;
		c->len = (size_t)r;
		stall_arm(&c->tt);
		PTIO_AWAIT(pt, r, ptio_write_all(&c->op,
			   ptio_uring_stream_writer(&c->s), c->data, c->len));
		ptio_task_clear_deadline(&c->tt);
		if (r < 0)
			break;
		ptio_bufread_consume(ptio_uring_stream_bufread(&c->s), c->len);
	}
	if (r == 0) {
		stall_arm(&c->tt);
		PTIO_AWAIT(pt, r, ptio_flush(&c->op,
			   ptio_uring_stream_writer(&c->s)));
	}
	PTIO_END_WITH(pt, r < 0 ? r : 0);
}

static ptio_ssize ring_task(struct ptio_task *t)
{
	struct ring_conn *c = PTIO_CONTAINER_OF(t, struct ring_conn, tt.task);
	ptio_ssize r = ring_machine(c);

	if (r != PTIO_PENDING) {
		ptio_uring_stream_close(&c->s);
		pool_put(&conn_pool, c);
		conn_ended(r);
	}
	return r;
}

/* Whether the loop runs on uring, which ring connections need. */
static bool ring_usable(void)
{
	return strcmp(ptio_posix_backend_name(&srv.backend), "uring") == 0;
}

/* The pools ring connections share (see "Stalled peers" at the top).
 * An echo consumes each receive buffer before it needs the next, so a
 * connection takes one at a time (a read-ahead of 1), and one send chunk
 * at most.  With --max-conns, both pools have a buffer for every
 * connection (2 KiB each, up to 32768 connections), so stalled peers can
 * never take them all; without it, the defaults (256 of each) hold 256
 * of them.  The price: the receive pool is resident in full once the
 * kernel has cycled through it (a buffer given back goes to the ring's
 * tail, so a busy server writes every buffer in turn), 2 KiB per
 * connection of the limit, 64 MiB at most. */
static void ring_pools(void)
{
	size_t n = opt.max_conns, count = 256;
	const size_t most = 32768;

	(void)ptio_uring_set_read_ahead(&srv.loop, 1);
	if (n == 0)
		return;
	if (n > most)
		n = most;
	while (count < n)
		count *= 2;
	(void)ptio_uring_set_buffers(&srv.loop, (unsigned)count, 2048);
	(void)ptio_uring_set_send_buffers(&srv.loop,
					  (unsigned)(n > 256 ? n : 256), 2048);
}

/* A ring connection, or an ergonomic one where the backend is not
 * uring (ptio_uring_stream_open would say PTIO_ENOTSUP). */
static ptio_ssize ring_start(int fd)
{
	struct ring_conn *c;
	ptio_ssize r;

	if (!ring_usable())
		return ergo_start(fd);
	c = pool_get(&conn_pool);
	if (c == NULL)
		return PTIO_ENOMEM;
	r = ptio_uring_stream_open(&c->s, &srv.loop, fd, 0, NULL, 0);
	if (r < 0) {
		pool_put(&conn_pool, c);
		return r;
	}
	ptio_op_init(&c->op, &c->tt.task);
	ptio_timed_task_start(&srv.loop, &c->tt, ring_task);
	return 0;
}

static size_t conn_size(void)
{
	if (opt.mode == MODE_RING)
		return ring_usable() ? sizeof(struct ring_conn)
				     : sizeof(struct ergo_conn);
	return opt.mode == MODE_SCRATCH ? sizeof(struct scratch_conn)
					: sizeof(struct ergo_conn);
}

/* ---- Accepting ------------------------------------------------------------ */

/* Give the accepted descriptor FD its connection task, or close it when
 * the server is full or out of memory. */
static void conn_start(int fd)
{
	ptio_ssize r;

	if (opt.max_conns > 0 && srv.nconns >= opt.max_conns) {
		close(fd);
		srv.refused++;
		return;
	}
	if (opt.mode == MODE_RING)
		r = ring_start(fd);
	else
		r = opt.mode == MODE_SCRATCH ? scratch_start(fd)
					     : ergo_start(fd);
	if (r < 0) {
		fprintf(stderr, "echo-server: connection dropped: %s\n",
			ptio_strerror(r));
		close(fd);
		srv.failed++;
		return;
	}
	srv.nconns++;
	srv.accepted++;
	/* The housekeeping task sleeps until woken: tell it the report's
	 * count is reached. */
	if (opt.report_at > 0 && !srv.reported && srv.nconns == opt.report_at)
		house_poke();
}

/* True for the errors that mean "out of descriptors or memory for now". */
static bool accept_should_back_off(ptio_ssize r)
{
	return r == PTIO_EMFILE || r == PTIO_ENFILE || r == PTIO_ENOBUFS ||
	       r == PTIO_ENOMEM;
}

/* Accept until the listener is closed (PTIO_ECLOSED at shutdown).  When
 * descriptors run out the listener stays readable, so accepting again at
 * once would spin: sleep a little instead and let connections end. */
static ptio_ssize accept_fn(struct ptio_task *t)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		PTIO_AWAIT(&t->pt, r, ptio_tcp_accept(&srv.accept_op,
						      &srv.listener));
		if (accept_should_back_off(r)) {
			PTIO_AWAIT(&t->pt, r, ptio_sleep(&srv.accept_op, 50));
			continue;
		}
		if (r < 0)
			break;
		conn_start((int)r);
	}
	if (!srv.draining)
		fprintf(stderr, "echo-server: accept: %s\n", ptio_strerror(r));
	PTIO_END(&t->pt);
}

/* ---- Control: signals, stopping, the serving threads -------------------- */

/* A server as the main thread sees it: one per serving thread, or the one
 * of the main thread. */
struct server_ref {
	pthread_t th;
	struct ptio_waker *waker;  /* its server's waker while open (ctl.lock) */
	bool ready;                /* set up (or failed to): ctl.lock */
	int status;                /* 0, 1 (setup), 3 (drain timed out) */
	uint16_t port;             /* the port its listener has */
	char backend[96];          /* its backend's name */
	/* Its statistics, copied when its loop has ended. */
	size_t accepted, refused, closed, failed, overflows, stalled, nconns;
};

/* What the threads share.  The signal source and the main waker belong
 * to the main thread's loop; any thread may wake that waker. */
static struct {
	struct ptio_signals sigs;
	struct ptio_waker waker;     /* wakes ctl_fn: a stop, a server ended */
	struct ptio_task sig_task;
	struct ptio_op sig_op;
	struct ptio_task ctl_task;
	struct ptio_op ctl_op;
	pthread_mutex_t lock;        /* the refs' waker and ready */
	pthread_cond_t cond;         /* a ref became ready */
	struct server_ref *refs;
	size_t nrefs;
	atomic_int stop;             /* a stop was asked */
	atomic_uint report_gen;      /* SIGUSR1s so far */
	atomic_size_t ended;         /* serving threads whose loop ended */
	bool stopping;               /* main thread: the stop went out */
} ctl = { .lock = PTHREAD_MUTEX_INITIALIZER,
	  .cond = PTHREAD_COND_INITIALIZER };

/* Wake this thread's housekeeping task. */
static void house_poke(void)
{
	(void)ptio_waker_wake(&srv.waker);
}

/* Wake every server's housekeeping task (main thread). */
static void servers_wake(void)
{
	size_t i;

	pthread_mutex_lock(&ctl.lock);
	for (i = 0; i < ctl.nrefs; i++)
		if (ctl.refs[i].waker != NULL)
			(void)ptio_waker_wake(ctl.refs[i].waker);
	pthread_mutex_unlock(&ctl.lock);
}

/* Ask every server to stop (any thread).  The first request says why on
 * stdout, "stop WHY N" (N left out when negative): a server that ends
 * while a test expects it to run then shows what ended it. */
static void request_stop(const char *why, long n)
{
	if (atomic_exchange(&ctl.stop, 1) == 0) {
		if (n >= 0)
			printf("stop %s %ld\n", why, n);
		else
			printf("stop %s\n", why);
		fflush(stdout);
	}
	(void)ptio_waker_wake(&ctl.waker);
}

/* Turn signals into requests: SIGUSR1 a heap report from every server,
 * SIGTERM and SIGINT a stop.  Aborted once the stop went out (a second
 * SIGTERM is then read by nobody, and harms nothing). */
static ptio_ssize sig_fn(struct ptio_task *t)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		PTIO_AWAIT(&t->pt, r, ptio_signals_next(&ctl.sig_op,
							&ctl.sigs));
		if (r < 0)
			break;
		if (r == SIGUSR1) {
			atomic_fetch_add(&ctl.report_gen, 1);
			servers_wake();
		} else {
			request_stop("signal", (long)r);
		}
	}
	PTIO_END(&t->pt);
}

/* Pass a stop on to the servers; with serving threads, wait for all of
 * them to end (each one's loop wakes this task as it ends). */
static ptio_ssize ctl_fn(struct ptio_task *t)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		PTIO_AWAIT(&t->pt, r, ptio_waker_wait(&ctl.ctl_op,
						      &ctl.waker));
		if (r < 0)
			break;
		if (atomic_load(&ctl.stop) && !ctl.stopping) {
			ctl.stopping = true;
			servers_wake();
			ptio_task_abort(&ctl.sig_task);
		}
		if (opt.threads == 0 ? ctl.stopping :
		    atomic_load(&ctl.ended) == ctl.nrefs)
			break;
	}
	PTIO_END(&t->pt);
}

/* Open the signal source and the main waker on LOOP and start their
 * tasks; 0 or 1 with a message. */
static int ctl_open(struct ptio_loop *loop)
{
	static const int signos[] = { SIGTERM, SIGINT, SIGUSR1 };
	ptio_ssize r;

	r = ptio_signals_open(&ctl.sigs, loop, signos, 3);
	if (r >= 0) {
		r = ptio_waker_open(&ctl.waker, loop);
		if (r < 0)
			ptio_signals_close(&ctl.sigs);
	}
	if (r < 0) {
		fprintf(stderr, "echo-server: signals: %s\n",
			ptio_strerror(r));
		return 1;
	}
	ptio_op_init(&ctl.sig_op, &ctl.sig_task);
	ptio_task_start(loop, &ctl.sig_task, sig_fn);
	ptio_op_init(&ctl.ctl_op, &ctl.ctl_task);
	ptio_task_start(loop, &ctl.ctl_task, ctl_fn);
	return 0;
}

static void ctl_close(void)
{
	ptio_signals_close(&ctl.sigs);
	ptio_waker_close(&ctl.waker);
}

/* ---- Housekeeping ---------------------------------------------------------- */

#define HOUSE_TICK 10

/* True while --report-at N connections are open but not all idle yet:
 * the connections just accepted have not reached their first await,
 * and nothing wakes the housekeeping task when they do. */
static bool report_due(void)
{
	return opt.report_at > 0 && !srv.reported &&
	       srv.nconns >= opt.report_at;
}

/* Print a report for each SIGUSR1 since the last, and once when
 * --report-at connections are open and all idle. */
static void house_check_report(void)
{
	unsigned gen = atomic_load(&ctl.report_gen);

	if (gen != srv.report_seen) {
		srv.report_seen = gen;
		heap_report();
	}
	if (report_due() && srv.nidle == srv.nconns) {
		srv.reported = true;
		heap_report();
	}
}

/* Stop accepting; open connections get until the drain deadline. */
static void house_begin_drain(void)
{
	srv.draining = true;
	srv.drain_until = ptio_tick_after(ptio_loop_now(&srv.loop),
					  opt.drain_ms);
	if (srv.listening)
		ptio_fd_close(&srv.listener);
	srv.listening = false;
}

/* Abort the scratch connections whose overflow block is older than
 * --stall-ms: each one's await returns PTIO_ECANCELED and its task
 * frees the block and closes the connection.  The list is short (only
 * connections whose peer stopped reading are on it). */
static void house_check_stalls(void)
{
	ptio_tick now = ptio_loop_now(&srv.loop);
	struct overflow *o;

	if (opt.stall_ms == 0)
		return;
	for (o = overflows; o != NULL; o = o->next) {
		if (o->aborted ||
		    ptio_tick_diff(now, o->since) < (int32_t)opt.stall_ms)
			continue;
		o->aborted = true;
		ptio_task_abort(&o->owner->task);
	}
}

/* The deadline of the housekeeping task's next wait: the drain's, a
 * short tick while a --report-at report waits for its connections to
 * settle, a quarter of --stall-ms while some scratch connection holds
 * an overflow block, else none (an idle server sleeps). */
static void house_arm(struct ptio_timed_task *tt)
{
	if (srv.draining)
		ptio_task_set_deadline(tt, srv.drain_until);
	else if (report_due())
		ptio_task_set_timeout(tt, HOUSE_TICK);
	else if (opt.stall_ms > 0 && overflows != NULL)
		ptio_task_set_timeout(tt, opt.stall_ms / 4 + 1);
	else
		ptio_task_clear_deadline(tt);
}

/* The housekeeping task: sleeps on the server's waker, turns what woke
 * it into actions, and ends the server at shutdown. */
static ptio_ssize house_fn(struct ptio_task *t)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		house_arm(ptio_task_timed(t));
		PTIO_AWAIT(&t->pt, r, ptio_waker_wait(&srv.house_op,
						      &srv.waker));
		if (r < 0 && r != PTIO_ETIMEDOUT)
			break;
		house_check_report();
		house_check_stalls();
		if (atomic_load(&ctl.stop) && !srv.draining)
			house_begin_drain();
		if (srv.draining && srv.nconns == 0)
			break;
		if (srv.draining && ptio_tick_reached(ptio_loop_now(&srv.loop),
						      srv.drain_until)) {
			srv.forced = true;
			ptio_loop_stop(&srv.loop);
		}
	}
	ptio_task_clear_deadline(ptio_task_timed(t));
	PTIO_END_WITH(&t->pt, r < 0 ? r : 0);
}

/* ---- Serving ---------------------------------------------------------------- */

/* Start this thread's backend and loop (with its scratch buffer); 0, or
 * 1 with a message (77 when the backend is not available here). */
static int loop_open(void)
{
	struct ptio_backend *be;
	ptio_ssize r;

	r = ptio_posix_backend_init(&srv.backend, opt.backend, &be);
	if (r < 0) {
		fprintf(stderr, "echo-server: backend %s: %s\n",
			opt.backend != NULL ? opt.backend : "(default)",
			ptio_strerror(r));
		return r == PTIO_ENOTSUP ? 77 : 1;
	}
	ptio_loop_init(&srv.loop, be);
	ptio_loop_set_scratch(&srv.loop, scratch, sizeof scratch);
	if (opt.mode == MODE_RING && ring_usable())
		ring_pools();
	return 0;
}

/* Open this thread's server on PORT: its waker and its listener (FLAGS
 * for ptio_tcp_listen_opts), and describe it in REF.  0, or 1 (77, as
 * loop_open) with a message. */
static int server_open(struct server_ref *ref, uint16_t port, unsigned flags)
{
	ptio_ssize r;
	int status = loop_open();

	if (status != 0)
		return status;
	srv.loop_ready = true;
	r = ptio_waker_open(&srv.waker, &srv.loop);
	if (r >= 0)
		r = ptio_tcp_listen_opts(&srv.listener, &srv.loop, opt.host,
					 port, 4096, flags);
	srv.listening = r >= 0;
	if (r >= 0)
		r = ptio_tcp_port(&srv.listener);
	if (r < 0) {
		fprintf(stderr, "echo-server: listen on %s:%u: %s\n", opt.host,
			port, ptio_strerror(r));
		return 1;
	}
	ref->port = (uint16_t)r;
	snprintf(ref->backend, sizeof ref->backend, "%s",
		 ptio_posix_backend_name(&srv.backend));
	pthread_mutex_lock(&ctl.lock);
	ref->waker = &srv.waker;
	pthread_mutex_unlock(&ctl.lock);
	return 0;
}

/* Serve until shutdown; 0, 1 (a loop error) or 3 (drain timed out).
 * REF gets the statistics. */
static int server_run(struct server_ref *ref)
{
	ptio_ssize r;

	/* Everything the server needs whatever its load exists by now,
	 * stdout's buffer included: what the heap grows by from here on is
	 * what the connections cost. */
	pool_init(&conn_pool, conn_size());
	srv.heap_base = heap_in_use();
	ptio_op_init(&srv.accept_op, &srv.accept_task.task);
	ptio_timed_task_start(&srv.loop, &srv.accept_task, accept_fn);
	ptio_op_init(&srv.house_op, &srv.house_task.task);
	ptio_timed_task_start(&srv.loop, &srv.house_task, house_fn);
	r = ptio_loop_run(&srv.loop, PTIO_RUN_DEFAULT);
	ref->accepted = srv.accepted;
	ref->refused = srv.refused;
	ref->closed = srv.closed;
	ref->failed = srv.failed;
	ref->overflows = srv.overflows;
	ref->stalled = srv.stalled;
	ref->nconns = srv.nconns;
	if (r < 0) {
		fprintf(stderr, "echo-server: loop: %s\n", ptio_strerror(r));
		return 1;
	}
	/* Tasks left with nothing that could ever wake them (ptio_loop_run
	 * returns their count): a bug, not a shutdown. */
	if (r > 0 && !srv.forced) {
		fprintf(stderr, "echo-server: loop: %ld tasks left that "
			"nothing can wake\n", (long)r);
		return 1;
	}
	return srv.forced ? 3 : 0;
}

/* Close what server_open and server_run left.  After a drain that timed
 * out the connections are abandoned: the process is about to exit and
 * the system closes their descriptors. */
static void server_close(struct server_ref *ref)
{
	pthread_mutex_lock(&ctl.lock);
	ref->waker = NULL;
	pthread_mutex_unlock(&ctl.lock);
	if (srv.listening)
		ptio_fd_close(&srv.listener);
	srv.listening = false;
	if (srv.forced || !srv.loop_ready)
		return;
	ptio_waker_close(&srv.waker);
	ptio_posix_backend_destroy(&srv.backend);
	pool_destroy(&conn_pool);
}

/* A serving thread (--threads): the first binds opt.port, the others the
 * port the first got, all with SO_REUSEPORT. */
static void *server_thread(void *arg)
{
	struct server_ref *ref = arg;
	uint16_t port = ref == &ctl.refs[0] ? (uint16_t)opt.port :
					      ctl.refs[0].port;
	int status = server_open(ref, port, PTIO_TCP_REUSEPORT);

	pthread_mutex_lock(&ctl.lock);
	ref->status = status;
	ref->ready = true;
	pthread_cond_broadcast(&ctl.cond);
	pthread_mutex_unlock(&ctl.lock);
	if (status == 0)
		ref->status = server_run(ref);
	if (ref->status == 1)
		request_stop("error", -1); /* the others would wait for ever */
	server_close(ref);
	atomic_fetch_add(&ctl.ended, 1);
	(void)ptio_waker_wake(&ctl.waker);
	return NULL;
}

/* Start serving thread I and wait until it has set up; its status. */
static int server_thread_start(size_t i)
{
	struct server_ref *ref = &ctl.refs[i];
	int status;

	if (pthread_create(&ref->th, NULL, server_thread, ref) != 0) {
		fprintf(stderr, "echo-server: cannot start a thread\n");
		return -1;
	}
	pthread_mutex_lock(&ctl.lock);
	while (!ref->ready)
		pthread_cond_wait(&ctl.cond, &ctl.lock);
	status = ref->status;
	pthread_mutex_unlock(&ctl.lock);
	return status;
}

static void print_stats(void)
{
	size_t a = 0, rf = 0, c = 0, f = 0, o = 0, st = 0, open = 0, i;
	bool forced = false;

	for (i = 0; i < ctl.nrefs; i++) {
		a += ctl.refs[i].accepted;
		rf += ctl.refs[i].refused;
		c += ctl.refs[i].closed;
		f += ctl.refs[i].failed;
		o += ctl.refs[i].overflows;
		st += ctl.refs[i].stalled;
		open += ctl.refs[i].nconns;
		forced |= ctl.refs[i].status == 3;
	}
	printf("stats accepted %zu refused %zu closed %zu failed %zu "
	       "overflows %zu stalled %zu\n", a, rf, c, f, o, st);
	if (forced)
		printf("drain timed out with %zu connections open\n", open);
}

/* ---- Main ------------------------------------------------------------------ */

static void usage(FILE *to)
{
	fprintf(to,
		"usage: echo-server [--port N] [--host ADDR] "
		"[--mode ergonomic|scratch|ring]\n"
		"                   [--max-conns N] [--report-at N] "
		"[--exit-after N] [--drain-ms MS]\n"
		"                   [--stall-ms MS] "
		"[--backend poll|select|epoll|uring] [--threads N]\n");
}

/* Parse a decimal option value in [0, MAX] or exit with a message. */
static unsigned long parse_num(const char *name, const char *s,
			       unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max || *s == '-') {
		fprintf(stderr, "echo-server: bad value for --%s: '%s'\n",
			name, s);
		exit(1);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "mode", required_argument, NULL, 'm' },
		{ "max-conns", required_argument, NULL, 'c' },
		{ "report-at", required_argument, NULL, 'r' },
		{ "exit-after", required_argument, NULL, 'x' },
		{ "drain-ms", required_argument, NULL, 'd' },
		{ "stall-ms", required_argument, NULL, 's' },
		{ "backend", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'p')
			opt.port = (unsigned)parse_num("port", optarg, 65535);
		else if (ch == 'H')
			opt.host = optarg;
		else if (ch == 'm' && strcmp(optarg, "scratch") == 0)
			opt.mode = MODE_SCRATCH;
		else if (ch == 'm' && strcmp(optarg, "ergonomic") == 0)
			opt.mode = MODE_ERGONOMIC;
		else if (ch == 'm' && strcmp(optarg, "ring") == 0)
			opt.mode = MODE_RING;
		else if (ch == 'c')
			opt.max_conns = parse_num("max-conns", optarg, SIZE_MAX);
		else if (ch == 'r')
			opt.report_at = parse_num("report-at", optarg, SIZE_MAX);
		else if (ch == 'x')
			opt.exit_after = parse_num("exit-after", optarg,
						   SIZE_MAX);
		else if (ch == 'd')
			opt.drain_ms = (uint32_t)parse_num("drain-ms", optarg,
							   PTIO_TICK_MAX_DELAY);
		else if (ch == 's')
			opt.stall_ms = (uint32_t)parse_num("stall-ms", optarg,
							   PTIO_TICK_MAX_DELAY);
		else if (ch == 'b')
			opt.backend = optarg;
		else if (ch == 't')
			opt.threads = (unsigned)parse_num("threads", optarg,
							  256);
		else if (ch == 'h') {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			exit(1);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(1);
	}
}

/* Thousands of connections need more descriptors than the usual soft
 * limit of 1024: take everything the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void print_start(const struct server_ref *ref)
{
	printf("port %u\nbackend %s\n", (unsigned)ref->port, ref->backend);
	if (opt.threads > 0)
		printf("threads %u\n", opt.threads);
	fflush(stdout);
}

/* Serve on the main thread, whose loop carries the control tasks too. */
static int serve_here(void)
{
	static struct server_ref ref;
	int status;

	ctl.refs = &ref;
	ctl.nrefs = 1;
	status = server_open(&ref, (uint16_t)opt.port, 0);
	if (status == 0 && (status = ctl_open(&srv.loop)) == 0) {
		print_start(&ref);
		status = ref.status = server_run(&ref);
		if (status != 1)
			print_stats();
		ctl_close();
	}
	server_close(&ref);
	return status;
}

/* Serve on opt.threads threads; the main thread's loop turns signals
 * into wakes and waits for them all to end. */
static int serve_threads(void)
{
	size_t i, started = 0;
	int status = 1;

	ctl.refs = calloc(opt.threads, sizeof *ctl.refs);
	if (ctl.refs == NULL || (status = loop_open()) != 0) {
		free(ctl.refs);
		return status;
	}
	status = 0;
	ctl.nrefs = opt.threads;
	if (ctl_open(&srv.loop) != 0)
		status = 1;
	for (i = 0; i < opt.threads && status == 0; i++) {
		status = server_thread_start(i);
		if (status >= 0)
			started++;
		if (status != 0)
			status = 1;
	}
	if (status == 0) {
		print_start(&ctl.refs[0]);
		if (ptio_loop_run(&srv.loop, PTIO_RUN_DEFAULT) < 0)
			status = 1;
	} else {
		/* Those that did start see the stop when woken. */
		request_stop("error", -1);
		servers_wake();
	}
	for (i = 0; i < started; i++) {
		pthread_join(ctl.refs[i].th, NULL);
		if (ctl.refs[i].status > status)
			status = ctl.refs[i].status;
	}
	if (status != 1)
		print_stats();
	ctl_close();
	ptio_posix_backend_destroy(&srv.backend);
	free(ctl.refs);
	return status;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	raise_fd_limit();
	/* Out of descriptors, a client is closed at once rather than left
	 * in the backlog with no answer (accept_fn then backs off).  One
	 * reserve serves the whole process. */
	if (ptio_tcp_reserve_fd(true) < 0) {
		fprintf(stderr, "echo-server: no descriptor in reserve\n");
		return 1;
	}
	return opt.threads > 0 ? serve_threads() : serve_here();
}
