/*
 * test/check-uring.c - the io_uring backend itself (src/posix/uring.c).
 * check-fd.c and check-tcp.c run on it as on every backend; this suite
 * tests what only it does: a multishot request that the kernel ends is
 * armed again, a completion left in the queue by a stream closed since
 * is dropped (even when a new stream has taken its descriptor number),
 * files whose poll never waits, and a kernel that refuses io_uring.
 *
 * The program defines io_uring_queue_init_params, which the library
 * then calls instead of liburing's (a definition in the program comes
 * first): with refuse set it fails as a kernel without io_uring does,
 * else it calls liburing's.
 *
 * Under valgrind (3.19 does not know io_uring's shared rings) the suite
 * skips, saying so: test/on-uring's suites and this one are for the
 * plain and sanitizer builds.
 *
 * Divided into: the seam, helpers, re-arming, stale completions, files,
 * refusal.
 */
#define _GNU_SOURCE 1 /* RTLD_NEXT */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <check.h>
#include "test/helpers.h"

#ifdef HAVE_LIBURING

#include <liburing.h>

/* ---- The seam ---------------------------------------------------------------- */

static int refuse; /* the errno a refusing kernel gives, or 0 */

int io_uring_queue_init_params(unsigned entries, struct io_uring *ring,
			       struct io_uring_params *p)
{
	int (*real)(unsigned, struct io_uring *, struct io_uring_params *);

	if (refuse != 0)
		return -refuse;
	*(void **)&real = dlsym(RTLD_NEXT, "io_uring_queue_init_params");
	/* (No ck_assert here: this also runs while the suite is built.) */
	if (real == NULL) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		abort();
	}
	return real(entries, ring, p);
}

/* The waiting enters the backend makes (io_uring_submit_and_wait and
 * io_uring_submit_and_wait_timeout), counted and passed on to liburing
 * in the same way. */
static unsigned waits;

static void *real_fn(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (fn == NULL) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		abort();
	}
	return fn;
}

int io_uring_submit_and_wait(struct io_uring *ring, unsigned wait_nr)
{
	int (*real)(struct io_uring *, unsigned);

	*(void **)&real = real_fn("io_uring_submit_and_wait");
	waits++;
	return real(ring, wait_nr);
}

int io_uring_submit_and_wait_timeout(struct io_uring *ring,
				     struct io_uring_cqe **cqe_ptr,
				     unsigned wait_nr,
				     struct __kernel_timespec *ts,
				     sigset_t *sigmask)
{
	int (*real)(struct io_uring *, struct io_uring_cqe **, unsigned,
		    struct __kernel_timespec *, sigset_t *);

	*(void **)&real = real_fn("io_uring_submit_and_wait_timeout");
	waits++;
	return real(ring, cqe_ptr, wait_nr, ts, sigmask);
}

/* ---- Helpers ----------------------------------------------------------------- */

/* ptio_posix_backend_init with no name, as if PTIO_BACKEND were unset:
 * the host's default is what test_refused_ring checks, and a run of the
 * suite on one backend sets the variable. */
static ptio_ssize init_default(struct ptio_posix_backend *pb,
			       struct ptio_backend **be)
{
	const char *v = getenv("PTIO_BACKEND");
	char *saved = v != NULL ? strdup(v) : NULL;
	ptio_ssize r;

	ck_assert(v == NULL || saved != NULL);
	unsetenv("PTIO_BACKEND");
	r = ptio_posix_backend_init(pb, NULL, be);
	if (saved != NULL) {
		setenv("PTIO_BACKEND", saved, 1);
		free(saved);
	}
	return r;
}

/* Whether this kernel gives an io_uring at all (else most tests skip). */
static bool have_uring(void)
{
	struct ptio_uring u;
	ptio_ssize r = ptio_uring_init(&u, NULL);

	ptio_uring_destroy(&u);
	return r == 0;
}

static void uring_setup(void)
{
	refuse = 0;
	ptio_test_loop_setup_backend("uring");
}

static struct ptio_uring *ur(void)
{
	return PTIO_CONTAINER_OF(ptio_test_loop.backend, struct ptio_uring,
				 base);
}

static struct io_uring *ring(void)
{
	return ur()->ring;
}

static size_t regs(void)
{
	return ur()->nattached;
}

static void open_socketpair(struct ptio_fd *a, struct ptio_fd *b)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	PTIO_CK_OK(ptio_fd_open(a, &ptio_test_loop, sv[0], 0));
	PTIO_CK_OK(ptio_fd_open(b, &ptio_test_loop, sv[1], 0));
}

/* One wait of the backend, returning at once. */
static void wait_now(void)
{
	struct ptio_backend *be = ptio_test_loop.backend;

	PTIO_CK_OK(be->vt->wait(be, 0));
}

/* Run the kernel's pending task work, which posts completions, without
 * taking them from the queue: they wait there for the backend. */
static void post_completions(void)
{
	ck_assert_int_ge(io_uring_get_events(ring()), 0);
}

/* The user data of the request armed on FD by the attach AGO attaches
 * before the last one (0: the last). */
static uint64_t request_of(int fd, uint32_t ago)
{
	return ((uint64_t)(ur()->gen - ago) << 32) | (uint32_t)fd;
}

/* ---- Re-arming ---------------------------------------------------------------- */

/* The kernel ends A's multishot request (here: a cancel from outside the
 * backend; a full completion queue does the same).  The backend arms a
 * new one, so A's next data is still reported, and A still counts as one
 * registration.  Without the re-arm, READABLE never comes. */
START_TEST(test_rearm_after_multishot_ends)
{
	struct ptio_fd a, b;
	struct io_uring_sqe *sqe;
	uint64_t req;
	int i;

	open_socketpair(&a, &b);
	req = request_of(ptio_fd_fileno(&a), 1); /* B came after A */
	wait_now();
	ck_assert_uint_eq(a.src.ready & PTIO_READABLE, 0);
	sqe = io_uring_get_sqe(ring());
	ck_assert_ptr_nonnull(sqe);
	io_uring_prep_cancel64(sqe, req, 0);
	io_uring_sqe_set_data64(sqe, UINT64_MAX);
	ck_assert_int_ge(io_uring_submit_and_get_events(ring()), 1);
	wait_now(); /* takes the ended request's completion; arms anew */
	ck_assert_uint_eq(regs(), 2);
	ck_assert_uint_eq(a.src.ready & PTIO_READABLE, 0);
	ck_assert_int_eq(write(ptio_fd_fileno(&b), "x", 1), 1);
	for (i = 0; i < 100 && !(a.src.ready & PTIO_READABLE); i++) {
		struct ptio_backend *be = ptio_test_loop.backend;

		PTIO_CK_OK(be->vt->wait(be, 10));
	}
	ck_assert_uint_eq(a.src.ready & PTIO_READABLE, PTIO_READABLE);
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* ---- Stale completions ----------------------------------------------------------- */

/* A's completion (READABLE) is in the queue when A closes; C, opened
 * next, takes A's descriptor number and has nothing to read.  The wait
 * must drop the stale completion: C must not become READABLE (nor have
 * a second request armed for it), and C and D then hear their own data.
 * With WRAP, the generations (24 bits) wrap as A and B open, skipping 0:
 * across the wrap the same must hold. */
static void stale_case(bool wrap)
{
	struct ptio_fd a, b, c, d;
	int afd;

	if (wrap)
		ur()->gen = 0xFFFFFE;
	open_socketpair(&a, &b);
	if (wrap)
		ck_assert_uint_eq(ur()->gen, 1); /* 0xFFFFFF, then 1 */
	afd = ptio_fd_fileno(&a);
	wait_now();
	ck_assert_int_eq(write(ptio_fd_fileno(&b), "x", 1), 1);
	post_completions();
	ck_assert_uint_gt(io_uring_cq_ready(ring()), 0);
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
	open_socketpair(&c, &d);
	ck_assert_int_eq(ptio_fd_fileno(&c), afd);
	wait_now();
	ck_assert_uint_eq(c.src.ready & PTIO_READABLE, 0);
	ck_assert_uint_eq(regs(), 2);
	/* C works: its own data is reported, and so is D's. */
	ck_assert_int_eq(write(ptio_fd_fileno(&d), "y", 1), 1);
	wait_now();
	ck_assert_uint_eq(c.src.ready & PTIO_READABLE, PTIO_READABLE);
	ck_assert_int_eq(write(ptio_fd_fileno(&c), "z", 1), 1);
	wait_now();
	ck_assert_uint_eq(d.src.ready & PTIO_READABLE, PTIO_READABLE);
	PTIO_CK_OK(ptio_fd_close(&c));
	PTIO_CK_OK(ptio_fd_close(&d));
	ck_assert_uint_eq(regs(), 0);
}

START_TEST(test_stale_completion_dropped)
{
	stale_case(false);
}
END_TEST

START_TEST(test_generation_wraps)
{
	stale_case(true);
}
END_TEST

/* Closing a stream lets the kernel go of its file at once: the peer
 * sees end of stream before the loop waits again (an armed request
 * holds the file). */
START_TEST(test_close_releases_file)
{
	struct ptio_fd a, b;
	char byte;

	open_socketpair(&a, &b);
	wait_now();
	PTIO_CK_OK(ptio_fd_close(&a));
	ck_assert_int_eq(read(ptio_fd_fileno(&b), &byte, 1), 0);
	PTIO_CK_OK(ptio_fd_close(&b));
}
END_TEST

/* The table grows by an eighth past UR_GROW_STEP entries, not by half:
 * a descriptor at 700 gets a table of at most 700 + 700 / 8 entries
 * (doubling would make 1,024). */
START_TEST(test_table_grows_by_an_eighth)
{
	struct ptio_fd a, b, high;
	int fd;

	open_socketpair(&a, &b);
	fd = fcntl(ptio_fd_fileno(&a), F_DUPFD_CLOEXEC, 700);
	ck_assert_int_ge(fd, 700);
	PTIO_CK_OK(ptio_fd_open(&high, &ptio_test_loop, fd, 0));
	ck_assert_uint_gt(ur()->nwho, (size_t)fd);
	ck_assert_uint_le(ur()->nwho, (size_t)fd + 1 + (size_t)(fd + 1) / 8);
	PTIO_CK_OK(ptio_fd_close(&high));
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
}
END_TEST

/* ---- Files ---------------------------------------------------------------------- */

/* A regular file and /dev/null: poll never waits on them; always
 * readable and writable, as poll(2) says, and no registration. */
START_TEST(test_regular_file_and_dev_null)
{
	struct ptio_fd file, null;
	char path[] = "/tmp/ptio-uring-XXXXXX";
	uint8_t buf[16];
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(write(fd, "data", 4), 4);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	PTIO_CK_OK(ptio_fd_open(&file, &ptio_test_loop, fd, 0));
	PTIO_CK_OK(ptio_fd_open(&null, &ptio_test_loop,
				open("/dev/null", O_RDWR | O_CLOEXEC), 0));
	wait_now();
	wait_now();
	ck_assert_uint_eq(regs(), 0);
	ck_assert_int_eq(ptio_poll_ready(ptio_fd_ready(&file), NULL,
					 PTIO_READ_WRITE),
			 PTIO_READABLE | PTIO_WRITABLE);
	ck_assert_int_eq(ptio_poll_ready(ptio_fd_ready(&null), NULL,
					 PTIO_READ_WRITE),
			 PTIO_READABLE | PTIO_WRITABLE);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&file), buf, sizeof(buf)),
			 4);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&null), buf, sizeof(buf)),
			 0);
	PTIO_CK_OK(ptio_fd_close(&file));
	PTIO_CK_OK(ptio_fd_close(&null));
}
END_TEST

/* ---- Completion streams ------------------------------------------------------ */

/* A socketpair: S a completion stream on one end (send buffer SBUF of
 * CAP bytes), the other end's descriptor returned, non-blocking. */
static int open_stream_pair(struct ptio_uring_stream *s, uint8_t *sbuf,
			    size_t cap)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
					    SOCK_NONBLOCK, 0, sv),
			 0);
	PTIO_CK_OK(ptio_uring_stream_open(s, &ptio_test_loop, sv[0], 0, sbuf,
					  cap));
	return sv[1];
}

/* Wait in the backend until S has something to fill (data, the end, an
 * error); its fill result. */
static ptio_ssize fill_when_ready(struct ptio_uring_stream *s,
				  const uint8_t **data)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	ptio_ssize r = PTIO_WOULD_BLOCK;
	int i;

	for (i = 0; i < 200 && r == PTIO_WOULD_BLOCK; i++) {
		r = ptio_nb_fill_buf(ptio_uring_stream_bufread(s), data);
		if (r == PTIO_WOULD_BLOCK)
			PTIO_CK_OK(be->vt->wait(be, 10));
	}
	return r;
}

/* Wait until every byte written to S has been sent. */
static void flush_stream(struct ptio_uring_stream *s)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	ptio_ssize r = PTIO_WOULD_BLOCK;
	int i;

	for (i = 0; i < 200 && r == PTIO_WOULD_BLOCK; i++) {
		r = ptio_nb_flush(ptio_uring_stream_writer(s));
		if (r == PTIO_WOULD_BLOCK)
			PTIO_CK_OK(be->vt->wait(be, 10));
	}
	ck_assert_int_eq(r, 0);
}

/* Bytes come in order through fill and consume; a partial consume keeps
 * the rest; a write is sent with the next wait; close leaves nothing. */
START_TEST(test_stream_read_write)
{
	struct ptio_uring_stream s;
	uint8_t sbuf[64], got[16];
	const uint8_t *data;
	int peer = open_stream_pair(&s, sbuf, sizeof(sbuf));
	struct ptio_bufread br = ptio_uring_stream_bufread(&s);

	ck_assert_uint_eq(regs(), 1);
	ck_assert_int_eq(ptio_nb_fill_buf(br, &data), PTIO_WOULD_BLOCK);
	ck_assert_int_eq(write(peer, "hello", 5), 5);
	ck_assert_int_eq(fill_when_ready(&s, &data), 5);
	ck_assert_int_eq(memcmp(data, "hello", 5), 0);
	ptio_bufread_consume(br, 2);
	ck_assert_int_eq(ptio_nb_fill_buf(br, &data), 3);
	ck_assert_int_eq(memcmp(data, "llo", 3), 0);
	ptio_bufread_consume(br, 99); /* clamped */
	ck_assert_int_eq(ptio_nb_fill_buf(br, &data), PTIO_WOULD_BLOCK);
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&s), "world",
				       5),
			 5);
	ck_assert_int_eq(ptio_nb_flush(ptio_uring_stream_writer(&s)),
			 PTIO_WOULD_BLOCK);
	flush_stream(&s);
	ck_assert_int_eq(read(peer, got, sizeof(got)), 5);
	ck_assert_int_eq(memcmp(got, "world", 5), 0);
	PTIO_CK_OK(ptio_uring_stream_close(&s));
	PTIO_CK_OK(ptio_uring_stream_close(&s)); /* idempotent */
	ck_assert_uint_eq(regs(), 0);
	ck_assert_int_eq(ptio_nb_fill_buf(br, &data), PTIO_ECLOSED);
	ck_assert_int_eq(close(peer), 0);
}
END_TEST

/* Send SENT..TOTAL bytes of the pattern to PEER as far as it takes them. */
static size_t feed_pattern(int peer, size_t sent, size_t total)
{
	uint8_t chunk[1000];
	size_t i, n = total - sent < sizeof(chunk) ? total - sent
						   : sizeof(chunk);
	ssize_t w;

	for (i = 0; i < n; i++)
		chunk[i] = (uint8_t)((sent + i) % 251);
	w = n != 0 ? write(peer, chunk, n) : 0;
	if (w < 0) {
		ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
		return sent;
	}
	return sent + (size_t)w;
}

/* A ring of two 16-byte buffers and a peer sending 40 KB: the kernel
 * runs out of buffers again and again (ENOBUFS ends the receive), yet
 * every byte arrives, in order, as the reader consumes.  Without the
 * re-arm the stream stalls at 32 bytes. */
START_TEST(test_stream_enobufs_loses_nothing)
{
	enum { TOTAL = 40000 };
	struct ptio_uring_stream s;
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_bufread br;
	uint8_t sbuf[16];
	const uint8_t *data;
	size_t sent = 0, got = 0, i, take;
	uint32_t rng = 7;
	ptio_ssize r;
	int peer, rounds = 0;

	PTIO_CK_OK(ptio_uring_set_buffers(&ptio_test_loop, 2, 16));
	peer = open_stream_pair(&s, sbuf, sizeof(sbuf));
	br = ptio_uring_stream_bufread(&s);
	ck_assert_int_eq(ptio_uring_set_buffers(&ptio_test_loop, 4, 16),
			 PTIO_EBUSY);
	while (got < TOTAL && rounds++ < 1000000) {
		sent = feed_pattern(peer, sent, TOTAL);
		r = ptio_nb_fill_buf(br, &data);
		if (r == PTIO_WOULD_BLOCK) {
			PTIO_CK_OK(be->vt->wait(be, 10));
			continue;
		}
		ck_assert_int_gt(r, 0);
		ck_assert_int_le(r, 16);
		take = 1 + ptio_test_xorshift(&rng) % (size_t)r;
		for (i = 0; i < take; i++)
			ck_assert_uint_eq(data[i], (got + i) % 251);
		ptio_bufread_consume(br, take);
		got += take;
	}
	ck_assert_uint_eq(got, TOTAL);
	ck_assert_int_eq(close(peer), 0);
	ck_assert_int_eq(fill_when_ready(&s, &data), 0);
	PTIO_CK_OK(ptio_uring_stream_close(&s));
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* The data sent before a hang-up, then end of stream, for good. */
START_TEST(test_stream_end_after_data)
{
	struct ptio_uring_stream s;
	struct ptio_bufread br;
	uint8_t sbuf[16];
	const uint8_t *data;
	int peer = open_stream_pair(&s, sbuf, sizeof(sbuf));

	br = ptio_uring_stream_bufread(&s);
	ck_assert_int_eq(write(peer, "last", 4), 4);
	ck_assert_int_eq(close(peer), 0);
	ck_assert_int_eq(fill_when_ready(&s, &data), 4);
	ck_assert_int_eq(memcmp(data, "last", 4), 0);
	ptio_bufread_consume(br, 4);
	ck_assert_int_eq(fill_when_ready(&s, &data), 0);
	ck_assert_int_eq(ptio_nb_fill_buf(br, &data), 0);
	PTIO_CK_OK(ptio_uring_stream_close(&s));
}
END_TEST

/* A TCP connection: *CLIENT connected to the returned server side. */
static int tcp_pair(int *client)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;

	ck_assert_int_ge(l, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
	*client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(*client, (struct sockaddr *)&a, sizeof(a)),
			 0);
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(close(l), 0);
	return s;
}

/* A reset: the read side fails with PTIO_ECONNRESET, for good, and the
 * write side reports its own error on the next call. */
START_TEST(test_stream_errors)
{
	struct ptio_uring_stream s;
	struct ptio_write w = ptio_uring_stream_writer(&s);
	struct linger lg = { 1, 0 };
	uint8_t sbuf[16];
	const uint8_t *data;
	int client, fd = tcp_pair(&client), i;
	ptio_ssize r = 1;

	PTIO_CK_OK(ptio_uring_stream_open(&s, &ptio_test_loop, fd, 0, sbuf,
					  sizeof(sbuf)));
	ck_assert_int_eq(setsockopt(client, SOL_SOCKET, SO_LINGER, &lg,
				    sizeof(lg)),
			 0);
	ck_assert_int_eq(close(client), 0); /* sends a reset */
	ck_assert_int_eq(fill_when_ready(&s, &data), PTIO_ECONNRESET);
	ck_assert_int_eq(ptio_nb_fill_buf(ptio_uring_stream_bufread(&s),
					  &data),
			 PTIO_ECONNRESET);
	for (i = 0; i < 100 && r > 0; i++) {
		struct ptio_backend *be = ptio_test_loop.backend;

		r = ptio_nb_write(w, "x", 1);
		if (r == PTIO_WOULD_BLOCK || r > 0)
			PTIO_CK_OK(be->vt->wait(be, 10));
	}
	ck_assert(r == PTIO_EPIPE || r == PTIO_ECONNRESET);
	ck_assert_int_eq(ptio_nb_write(w, "x", 1), r);
	ck_assert_int_eq(ptio_nb_flush(w), r);
	PTIO_CK_OK(ptio_uring_stream_close(&s));
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* A small send buffer and writes larger than it: WOULD_BLOCK while it
 * is full, and the peer gets every byte in order. */
START_TEST(test_stream_write_order)
{
	enum { TOTAL = 100000 };
	struct ptio_uring_stream s;
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_write w = ptio_uring_stream_writer(&s);
	uint8_t sbuf[100], chunk[300], in[4096];
	size_t put = 0, got = 0, i;
	ssize_t n;
	ptio_ssize r;
	int peer = open_stream_pair(&s, sbuf, sizeof(sbuf)), rounds = 0;
	bool blocked = false;

	while (got < TOTAL && rounds++ < 1000000) {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = (uint8_t)((put + i) % 253);
		r = put < TOTAL ? ptio_nb_write(w, chunk,
						TOTAL - put < sizeof(chunk)
							? TOTAL - put
							: sizeof(chunk))
				: PTIO_WOULD_BLOCK;
		if (r == PTIO_WOULD_BLOCK) {
			blocked = blocked || put < TOTAL;
			PTIO_CK_OK(be->vt->wait(be, 0));
		} else {
			ck_assert_int_gt(r, 0);
			ck_assert_int_le(r, sizeof(sbuf));
			put += (size_t)r;
		}
		n = read(peer, in, sizeof(in));
		for (i = 0; n > 0 && i < (size_t)n; i++)
			ck_assert_uint_eq(in[i], (got + i) % 253);
		if (n > 0)
			got += (size_t)n;
	}
	ck_assert_uint_eq(got, TOTAL);
	ck_assert(blocked);
	flush_stream(&s);
	PTIO_CK_OK(ptio_uring_stream_close(&s));
	ck_assert_int_eq(close(peer), 0);
}
END_TEST

/* The kernel ends the multishot receive (a cancel from outside here; a
 * full completion queue does the same): the stream arms it again and
 * the next data still arrives. */
START_TEST(test_stream_recv_rearmed)
{
	struct ptio_uring_stream s;
	struct io_uring_sqe *sqe;
	uint8_t sbuf[16];
	const uint8_t *data;
	int peer = open_stream_pair(&s, sbuf, sizeof(sbuf));
	uint64_t req = request_of(s.src.handle, 0) | (1ull << 30);

	wait_now();
	sqe = io_uring_get_sqe(ring());
	ck_assert_ptr_nonnull(sqe);
	io_uring_prep_cancel64(sqe, req, 0);
	io_uring_sqe_set_data64(sqe, UINT64_MAX);
	ck_assert_int_ge(io_uring_submit_and_get_events(ring()), 1);
	wait_now(); /* the ended receive's completion: armed anew */
	ck_assert_int_eq(write(peer, "again", 5), 5);
	ck_assert_int_eq(fill_when_ready(&s, &data), 5);
	ck_assert_int_eq(memcmp(data, "again", 5), 0);
	PTIO_CK_OK(ptio_uring_stream_close(&s));
	ck_assert_int_eq(close(peer), 0);
}
END_TEST

/* Close with buffers queued on the stream and a completion still in the
 * queue: with a pool of two buffers, the next stream must get them
 * all back (or it would starve for good), and the stale completion must
 * not reach it. */
START_TEST(test_stream_close_returns_buffers)
{
	struct ptio_uring_stream a, b;
	uint8_t sa[16], sb[16], pattern[16];
	const uint8_t *data;
	struct ptio_backend *be = ptio_test_loop.backend;
	size_t got = 0;
	ptio_ssize r;
	int pa, pb, afd, i;

	PTIO_CK_OK(ptio_uring_set_buffers(&ptio_test_loop, 2, 16));
	memset(pattern, 'p', sizeof(pattern));
	pa = open_stream_pair(&a, sa, sizeof(sa));
	afd = a.src.handle;
	ck_assert_int_eq(write(pa, pattern, 16), 16);
	ck_assert_int_eq(fill_when_ready(&a, &data), 16); /* one queued */
	ck_assert_int_eq(write(pa, pattern, 16), 16);
	/* The next receive, queued by the first's completion, goes in
	 * and takes the other buffer: its completion waits. */
	ck_assert_int_ge(io_uring_submit_and_get_events(ring()), 0);
	ck_assert_uint_gt(io_uring_cq_ready(ring()), 0);
	PTIO_CK_OK(ptio_uring_stream_close(&a));
	ck_assert_int_eq(close(pa), 0);
	pb = open_stream_pair(&b, sb, sizeof(sb));
	ck_assert_int_eq(b.src.handle, afd);
	ck_assert_int_eq(write(pb, "0123456789abcdef0123456789abcdef", 32),
			 32);
	/* Both buffers, at once: none was lost with A. */
	for (i = 0; i < 100 && (b.head < 0 || b.head == b.tail); i++)
		PTIO_CK_OK(be->vt->wait(be, 10));
	ck_assert_int_ge(b.head, 0);
	ck_assert_int_ne(b.head, b.tail);
	while (got < 32) {
		r = fill_when_ready(&b, &data);
		ck_assert_int_gt(r, 0);
		ck_assert_uint_eq(data[0], "0123456789abcdef"[got % 16]);
		ptio_bufread_consume(ptio_uring_stream_bufread(&b), (size_t)r);
		got += (size_t)r;
	}
	PTIO_CK_OK(ptio_uring_stream_close(&b));
	ck_assert_int_eq(close(pb), 0);
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* Wait rounds in the backend until A holds no fewer than WANT buffers
 * (or 20 rounds went by); A's count, never above LIMIT meanwhile. */
static unsigned held_after_waits(const struct ptio_uring_stream *a,
				 unsigned want, unsigned limit)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	int i;

	for (i = 0; i < 20 && a->nheld < want; i++) {
		PTIO_CK_OK(be->vt->wait(be, 10));
		ck_assert_uint_le(a->nheld, limit);
	}
	return a->nheld;
}

/* A stream whose reader does not consume (a peer that floods and never
 * reads the answers) holds its read-ahead and no more: with a pool of
 * eight 16-byte buffers, another stream still receives, and every byte
 * of the first arrives, in order, once it consumes.  Without the limit
 * the first stream takes all eight buffers and the second starves. */
START_TEST(test_stream_read_ahead_bounds_a_flood)
{
	enum { TOTAL = 400 };
	struct ptio_uring_stream a, b;
	uint8_t sa[16], sb[16], pattern[TOTAL];
	struct ptio_bufread br;
	const uint8_t *data;
	size_t got = 0, i;
	ptio_ssize r;
	int pa, pb;

	PTIO_CK_OK(ptio_uring_set_buffers(&ptio_test_loop, 8, 16));
	PTIO_CK_OK(ptio_uring_set_read_ahead(&ptio_test_loop, 2));
	ck_assert_int_eq(ptio_uring_set_read_ahead(&ptio_test_loop, 0),
			 PTIO_EINVAL);
	ck_assert_int_eq(ptio_uring_set_read_ahead(&ptio_test_loop, 32769),
			 PTIO_EINVAL);
	pa = open_stream_pair(&a, sa, sizeof(sa));
	pb = open_stream_pair(&b, sb, sizeof(sb));
	for (i = 0; i < TOTAL; i++)
		pattern[i] = (uint8_t)(i % 251);
	ck_assert_int_eq(write(pa, pattern, TOTAL), TOTAL);
	ck_assert_uint_eq(held_after_waits(&a, 3, 2), 2);
	ck_assert_int_eq(write(pb, "hello", 5), 5);
	ck_assert_int_eq(fill_when_ready(&b, &data), 5);
	ck_assert_int_eq(memcmp(data, "hello", 5), 0);
	ptio_bufread_consume(ptio_uring_stream_bufread(&b), 5);
	br = ptio_uring_stream_bufread(&a);
	while (got < TOTAL) {
		r = fill_when_ready(&a, &data);
		ck_assert_int_gt(r, 0);
		ck_assert_uint_le(a.nheld, 2);
		for (i = 0; i < (size_t)r; i++)
			ck_assert_uint_eq(data[i], (got + i) % 251);
		ptio_bufread_consume(br, (size_t)r);
		got += (size_t)r;
	}
	ck_assert_uint_eq(got, TOTAL);
	PTIO_CK_OK(ptio_uring_stream_close(&a));
	PTIO_CK_OK(ptio_uring_stream_close(&b));
	ck_assert_int_eq(close(pa), 0);
	ck_assert_int_eq(close(pb), 0);
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* One descriptor, one stream; not a stream socket, not uring: refused
 * with nothing registered. */
START_TEST(test_stream_refusals)
{
	struct ptio_uring_stream s, t;
	struct ptio_fd f;
	uint8_t sbuf[16];
	int peer = open_stream_pair(&s, sbuf, sizeof(sbuf)), p[2];

	ck_assert_int_eq(ptio_uring_stream_open(&t, &ptio_test_loop,
						s.src.handle, 0, sbuf, 16),
			 PTIO_EBUSY);
	ck_assert_int_eq(ptio_fd_open(&f, &ptio_test_loop, s.src.handle,
				      PTIO_FD_NOCLOSE),
			 PTIO_EBUSY);
	ck_assert_int_eq(ptio_uring_stream_open(&t, &ptio_test_loop, peer, 0,
						NULL, 16),
			 PTIO_EINVAL);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(ptio_uring_stream_open(&t, &ptio_test_loop, p[0], 0,
						sbuf, 16),
			 PTIO_ENOTSOCK);
	ck_assert_int_eq(ptio_uring_stream_open(&t, &ptio_test_loop, -1, 0,
						sbuf, 16),
			 PTIO_EBADF);
	PTIO_CK_OK(ptio_uring_stream_close(&t)); /* closed: nothing */
	ck_assert_int_eq(ptio_uring_set_buffers(&ptio_test_loop, 3, 16),
			 PTIO_EINVAL);
	ck_assert_uint_eq(regs(), 1);
	PTIO_CK_OK(ptio_uring_stream_close(&s));
	ck_assert_int_eq(close(peer), 0);
	ck_assert_int_eq(close(p[0]), 0);
	ck_assert_int_eq(close(p[1]), 0);
}
END_TEST

/* On another backend the stream is not there: the program falls back
 * to ptio_fd_open. */
START_TEST(test_stream_needs_uring)
{
	struct ptio_posix_backend pb;
	struct ptio_backend *be;
	struct ptio_loop loop;
	struct ptio_uring_stream s;
	uint8_t sbuf[16];
	int sv[2];

	PTIO_CK_OK(ptio_posix_backend_init(&pb, "poll", &be));
	ptio_loop_init(&loop, be);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	ck_assert_int_eq(ptio_uring_stream_open(&s, &loop, sv[0], 0, sbuf, 16),
			 PTIO_ENOTSUP);
	ck_assert_int_eq(ptio_uring_set_buffers(&loop, 4, 16), PTIO_ENOTSUP);
	ck_assert_int_eq(ptio_uring_set_read_ahead(&loop, 4), PTIO_ENOTSUP);
	ck_assert_int_eq(ptio_uring_set_send_buffers(&loop, 4, 16),
			 PTIO_ENOTSUP);
	ck_assert_uint_eq(ptio_uring_send_buffers_used(&loop), 0);
	PTIO_CK_OK(ptio_uring_stream_close(&s));
	ck_assert_int_eq(close(sv[0]), 0);
	ck_assert_int_eq(close(sv[1]), 0);
	ptio_posix_backend_destroy(&pb);
}
END_TEST

/* Write one byte to FD from a child process, MS ms from now: an event
 * that comes while the backend waits.  Returns the child, for reap. */
static pid_t write_later(int fd, unsigned ms)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		usleep(ms * 1000u);
		_exit(write(fd, "n", 1) == 1 ? 0 : 1);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* An echo, then the wait for what comes next: one io_uring_enter
 * submits the send and waits for the next data, 50 ms later.  A wait
 * that returned on the send's own completion (which wakes nobody) would
 * enter again. */
START_TEST(test_stream_one_enter_per_round)
{
	struct ptio_uring_stream s;
	struct ptio_backend *be = ptio_test_loop.backend;
	uint8_t sbuf[16], got[4];
	const uint8_t *data;
	int peer = open_stream_pair(&s, sbuf, sizeof(sbuf));
	pid_t child;

	ck_assert_int_eq(write(peer, "ping", 4), 4);
	ck_assert_int_eq(fill_when_ready(&s, &data), 4);
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&s), data, 4),
			 4);
	ptio_bufread_consume(ptio_uring_stream_bufread(&s), 4);
	child = write_later(peer, 50);
	waits = 0;
	PTIO_CK_OK(be->vt->wait(be, 5000));
	ck_assert_uint_eq(waits, 1);
	reap(child);
	ck_assert_int_eq(fill_when_ready(&s, &data), 1);
	ck_assert_int_eq(read(peer, got, sizeof(got)), 4);
	ck_assert_int_eq(memcmp(got, "ping", 4), 0);
	flush_stream(&s);
	PTIO_CK_OK(ptio_uring_stream_close(&s));
	ck_assert_int_eq(close(peer), 0);
}
END_TEST

/* With several streams the wait holds out briefly for a second event,
 * never for long: echoes on four streams, one answer 50 ms later, and
 * the wait returns with it, in a second enter at most (the first holds
 * out only microseconds), having sent every echo. */
START_TEST(test_stream_batch_bounded)
{
	enum { N = 4 };
	struct ptio_uring_stream s[N];
	struct ptio_backend *be = ptio_test_loop.backend;
	uint8_t sbuf[N][16], got[4];
	const uint8_t *data;
	int peer[N], i;
	pid_t child;

	for (i = 0; i < N; i++) {
		peer[i] = open_stream_pair(&s[i], sbuf[i], sizeof(sbuf[i]));
		ck_assert_int_eq(write(peer[i], "ping", 4), 4);
	}
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(fill_when_ready(&s[i], &data), 4);
		ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&s[i]),
					       data, 4),
				 4);
		ptio_bufread_consume(ptio_uring_stream_bufread(&s[i]), 4);
	}
	child = write_later(peer[2], 50);
	waits = 0;
	PTIO_CK_OK(be->vt->wait(be, 5000));
	ck_assert_uint_le(waits, 2);
	reap(child);
	ck_assert_int_eq(ptio_nb_fill_buf(ptio_uring_stream_bufread(&s[2]),
					  &data),
			 1);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(read(peer[i], got, sizeof(got)), 4);
		ck_assert_int_eq(memcmp(got, "ping", 4), 0);
		flush_stream(&s[i]);
		PTIO_CK_OK(ptio_uring_stream_close(&s[i]));
		ck_assert_int_eq(close(peer[i]), 0);
	}
}
END_TEST

/* A send to a full socket: it does not hold the wait back (one enter,
 * which returns with the data that comes meanwhile), it is sent again
 * once there is room, and the peer gets every byte in order. */
START_TEST(test_stream_send_full_socket)
{
	struct ptio_uring_stream a;
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_write w = ptio_uring_stream_writer(&a);
	uint8_t sa[16], fill[4096], in[4096];
	const uint8_t *data;
	size_t put = 0, got = 0, i;
	int pa = open_stream_pair(&a, sa, sizeof(sa));
	ssize_t n;
	pid_t child;

	for (i = 0; i < sizeof(fill); i++)
		fill[i] = (uint8_t)(i % 251);
	/* Fill A's socket behind the stream's back, so that its send finds
	 * no room. */
	while ((n = write(a.src.handle, fill + put % 251,
			  sizeof(fill) - 251)) > 0)
		put += (size_t)n;
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(ptio_nb_write(w, "tail", 4), 4);
	child = write_later(pa, 50);
	waits = 0;
	PTIO_CK_OK(be->vt->wait(be, 5000));
	ck_assert_uint_eq(waits, 1);
	reap(child);
	ck_assert_int_eq(fill_when_ready(&a, &data), 1);
	ck_assert_int_eq(ptio_nb_flush(w), PTIO_WOULD_BLOCK);
	/* Room: the send goes, after everything before it. */
	while (got < put + 4) {
		n = read(pa, in, sizeof(in));
		if (n < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			PTIO_CK_OK(be->vt->wait(be, 10));
			continue;
		}
		ck_assert_int_gt(n, 0);
		for (i = 0; i < (size_t)n; i++)
			if (got + i < put)
				ck_assert_uint_eq(in[i], (got + i) % 251);
			else
				ck_assert_uint_eq(in[i],
						  "tail"[got + i - put]);
		got += (size_t)n;
	}
	flush_stream(&a);
	PTIO_CK_OK(ptio_uring_stream_close(&a));
	ck_assert_int_eq(close(pa), 0);
}
END_TEST

/* Through the machines, in a task: an echo of lines with ptio_read_line
 * over the stream and ptio_write_all + ptio_flush back. */
struct echo_task {
	struct ptio_task task;
	struct ptio_op op;
	struct ptio_uring_stream *s;
	struct ptio_readbuf line;
	uint8_t mem[64];
	ptio_ssize result;
	int lines;
};

static ptio_ssize echo_machine(struct ptio_task *t)
{
	struct echo_task *e = PTIO_CONTAINER_OF(t, struct echo_task, task);
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		ptio_readbuf_init(&e->line, e->mem, sizeof(e->mem));
		PTIO_AWAIT(&t->pt, r,
			   ptio_read_line(&e->op,
					  ptio_uring_stream_bufread(e->s),
					  &e->line, sizeof(e->mem)));
		if (r <= 0)
			break;
		PTIO_AWAIT(&t->pt, r,
			   ptio_write_all(&e->op,
					  ptio_uring_stream_writer(e->s),
					  e->mem, e->line.filled));
		if (r < 0)
			break;
		PTIO_AWAIT(&t->pt, r,
			   ptio_flush(&e->op, ptio_uring_stream_writer(e->s)));
		if (r < 0)
			break;
		e->lines++;
	}
	e->result = r;
	PTIO_END(&t->pt);
}

START_TEST(test_stream_machines_echo)
{
	static struct echo_task e;
	struct ptio_uring_stream s;
	uint8_t sbuf[32];
	char back[64];
	const char *text = "one\ntwo two\nthree three three\n";
	int peer = open_stream_pair(&s, sbuf, sizeof(sbuf));
	ssize_t n;
	size_t got = 0;

	memset(&e, 0, sizeof(e));
	e.s = &s;
	ptio_op_init(&e.op, &e.task);
	ck_assert_int_eq(write(peer, text, strlen(text)), strlen(text));
	ck_assert_int_eq(shutdown(peer, SHUT_WR), 0);
	PTIO_CK_OK(ptio_task_start(&ptio_test_loop, &e.task, echo_machine));
	ptio_test_run(5000);
	ck_assert_int_eq(e.result, 0);
	ck_assert_int_eq(e.lines, 3);
	while (got < strlen(text) &&
	       (n = read(peer, back + got, sizeof(back) - got)) > 0)
		got += (size_t)n;
	ck_assert_uint_eq(got, strlen(text));
	ck_assert_int_eq(memcmp(back, text, got), 0);
	PTIO_CK_OK(ptio_uring_stream_close(&s));
	ck_assert_int_eq(close(peer), 0);
}
END_TEST

/* ---- Borrowed send buffers ------------------------------------------------------ */

/* A stream's private state bits (src/posix/uring.c): a send in flight;
 * in line for a chunk, or kept one. */
#define URS_SENDING 0x2u
#define URS_IN_LINE (0x10u | 0x20u)

/* How many send chunks the test loop's streams hold. */
static size_t chunks_used(void)
{
	return ptio_uring_send_buffers_used(&ptio_test_loop);
}

/* A borrowing stream echoes, in pieces no larger than a chunk; it holds
 * a chunk only from a write until that write's last byte is sent, and
 * several idle borrowing streams hold none.  A chunk never given back
 * shows as a count that stays up. */
START_TEST(test_borrow_echo)
{
	enum { N = 3 };
	struct ptio_uring_stream s[N];
	struct ptio_write w;
	uint8_t got[64];
	const uint8_t *data;
	const char *msg = "a message longer than one chunk of 16 bytes";
	size_t put, len = strlen(msg);
	int peer[N], i;
	ptio_ssize r;

	PTIO_CK_OK(ptio_uring_set_send_buffers(&ptio_test_loop, 4, 16));
	for (i = 0; i < N; i++) {
		peer[i] = open_stream_pair(&s[i], NULL, 0);
		ck_assert_ptr_null(s[i].sbuf);
	}
	ck_assert_uint_eq(chunks_used(), 0);
	for (i = 0; i < N; i++) {
		w = ptio_uring_stream_writer(&s[i]);
		ck_assert_int_eq(write(peer[i], msg, len), (ssize_t)len);
		for (put = 0; put < len; put += (size_t)r) {
			r = fill_when_ready(&s[i], &data);
			ck_assert_int_gt(r, 0);
			r = ptio_nb_write(w, data, (size_t)r);
			ck_assert_int_gt(r, 0);
			ck_assert_int_le(r, 16);
			ck_assert_uint_eq(chunks_used(), 1);
			ptio_bufread_consume(ptio_uring_stream_bufread(&s[i]),
					     (size_t)r);
			flush_stream(&s[i]);
			ck_assert_uint_eq(chunks_used(), 0);
			ck_assert_ptr_null(s[i].sbuf);
		}
		ck_assert_int_eq(read(peer[i], got, sizeof(got)), (ssize_t)len);
		ck_assert_int_eq(memcmp(got, msg, len), 0);
	}
	for (i = 0; i < N; i++) {
		PTIO_CK_OK(ptio_uring_stream_close(&s[i]));
		ck_assert_int_eq(close(peer[i]), 0);
	}
	ck_assert_uint_eq(chunks_used(), 0);
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* Wait in the backend until S is WRITABLE. */
static void wait_writable(struct ptio_uring_stream *s)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	int i;

	for (i = 0; i < 200 && !(s->src.ready & PTIO_WRITABLE); i++)
		PTIO_CK_OK(be->vt->wait(be, 10));
	ck_assert(s->src.ready & PTIO_WRITABLE);
}

/* One chunk, streams in line for it: each returned chunk goes to the
 * first stream in line, whose WRITABLE is set again, and not to a
 * writer that comes later, nor to one further back. */
START_TEST(test_borrow_first_come_first_served)
{
	enum { N = 4 };
	struct ptio_uring_stream s[N];
	uint8_t got[8];
	int peer[N], i, j;

	PTIO_CK_OK(ptio_uring_set_send_buffers(&ptio_test_loop, 1, 16));
	for (i = 0; i < N; i++)
		peer[i] = open_stream_pair(&s[i], NULL, 0);
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&s[0]), "0", 1),
			 1);
	for (i = 1; i < N - 1; i++) {
		ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&s[i]),
					       "x", 1),
				 PTIO_WOULD_BLOCK);
		ck_assert(!(s[i].src.ready & PTIO_WRITABLE));
	}
	for (i = 1; i < N - 1; i++) {
		/* The holder's send completes: the next in line. */
		wait_writable(&s[i]);
		for (j = i + 1; j < N - 1; j++)
			ck_assert(!(s[j].src.ready & PTIO_WRITABLE));
		/* A newcomer does not jump the line. */
		ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(
						       &s[N - 1]),
					       "late", 4),
				 PTIO_WOULD_BLOCK);
		ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&s[i]),
					       "y", 1),
				 1);
	}
	for (i = 0; i < N; i++)
		flush_stream(&s[i]); /* the newcomer's turn comes too */
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&s[N - 1]),
				       "late", 4),
			 4);
	flush_stream(&s[N - 1]);
	ck_assert_uint_eq(chunks_used(), 0);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(read(peer[i], got, sizeof(got)),
				 i == 0 ? 1 : i == N - 1 ? 4 : 1);
		ck_assert_int_eq(got[0], i == 0 ? '0' : i == N - 1 ? 'l' : 'y');
		PTIO_CK_OK(ptio_uring_stream_close(&s[i]));
		ck_assert_int_eq(close(peer[i]), 0);
	}
}
END_TEST

/* Writer tasks, more than there are chunks: each awaits write_all and
 * flush of its own pattern, waiting in line for chunks through the
 * loop; all finish, and each peer gets every byte, in order. */
struct borrow_task {
	struct ptio_task task;
	struct ptio_op op;
	struct ptio_uring_stream s;
	uint8_t out[3000];
	ptio_ssize result;
};

static ptio_ssize borrow_machine(struct ptio_task *t)
{
	struct borrow_task *b = PTIO_CONTAINER_OF(t, struct borrow_task, task);
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	PTIO_AWAIT(&t->pt, r, ptio_write_all(&b->op,
		   ptio_uring_stream_writer(&b->s), b->out, sizeof(b->out)));
	if (r >= 0)
		PTIO_AWAIT(&t->pt, r, ptio_flush(&b->op,
			   ptio_uring_stream_writer(&b->s)));
	b->result = r;
	PTIO_END(&t->pt);
}

START_TEST(test_borrow_pool_exhausted)
{
	enum { N = 5 };
	static struct borrow_task b[N];
	uint8_t in[4096];
	size_t got, k, waited = 0;
	ssize_t n;
	int peer[N], i, rounds = 0;

	PTIO_CK_OK(ptio_uring_set_send_buffers(&ptio_test_loop, 2, 64));
	for (i = 0; i < N; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		for (k = 0; k < sizeof(b[i].out); k++)
			b[i].out[k] = (uint8_t)((k + 31u * (unsigned)i) % 251);
		peer[i] = open_stream_pair(&b[i].s, NULL, 0);
		b[i].result = 1;
		ptio_op_init(&b[i].op, &b[i].task);
		PTIO_CK_OK(ptio_task_start(&ptio_test_loop, &b[i].task,
					   borrow_machine));
	}
	while (ptio_loop_alive(&ptio_test_loop) > 0 && rounds++ < 100000) {
		PTIO_CK_OK(ptio_loop_run(&ptio_test_loop, PTIO_RUN_ONCE));
		ck_assert_uint_le(chunks_used(), 2);
		for (i = 0; i < N; i++)
			waited += (b[i].s.state & URS_IN_LINE) != 0;
	}
	ck_assert_uint_eq(ptio_loop_alive(&ptio_test_loop), 0);
	ck_assert_uint_gt(waited, 0);
	ck_assert_uint_eq(chunks_used(), 0);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(b[i].result, 0);
		for (got = 0; got < sizeof(b[i].out); got += (size_t)n) {
			n = read(peer[i], in, sizeof(in));
			ck_assert_int_gt(n, 0);
			for (k = 0; k < (size_t)n; k++)
				ck_assert_uint_eq(in[k], b[i].out[got + k]);
		}
		ck_assert_int_eq(read(peer[i], in, sizeof(in)), -1);
		ck_assert_int_eq(errno, EAGAIN);
		PTIO_CK_OK(ptio_uring_stream_close(&b[i].s));
		ck_assert_int_eq(close(peer[i]), 0);
	}
}
END_TEST

/* Close while in line, and close while kept a chunk: the stream leaves
 * the line and its turn passes to the next; none of them holds a chunk
 * after. */
START_TEST(test_borrow_close_waiting)
{
	struct ptio_uring_stream a, b, c, d;
	uint8_t got[8];
	int pa, pb, pc, pd;

	PTIO_CK_OK(ptio_uring_set_send_buffers(&ptio_test_loop, 1, 16));
	pa = open_stream_pair(&a, NULL, 0);
	pb = open_stream_pair(&b, NULL, 0);
	pc = open_stream_pair(&c, NULL, 0);
	pd = open_stream_pair(&d, NULL, 0);
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&a), "a", 1),
			 1);
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&b), "b", 1),
			 PTIO_WOULD_BLOCK);
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&c), "c", 1),
			 PTIO_WOULD_BLOCK);
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&d), "d", 1),
			 PTIO_WOULD_BLOCK);
	PTIO_CK_OK(ptio_uring_stream_close(&b)); /* in line */
	flush_stream(&a);                        /* the chunk: kept for C */
	ck_assert(c.src.ready & PTIO_WRITABLE);
	ck_assert(!(d.src.ready & PTIO_WRITABLE));
	ck_assert_uint_eq(chunks_used(), 0);
	PTIO_CK_OK(ptio_uring_stream_close(&c)); /* kept: passes to D */
	ck_assert(d.src.ready & PTIO_WRITABLE);
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&d), "d", 1),
			 1);
	flush_stream(&d);
	ck_assert_uint_eq(chunks_used(), 0);
	ck_assert_int_eq(read(pd, got, sizeof(got)), 1);
	ck_assert_int_eq(got[0], 'd');
	ck_assert_int_eq(read(pb, got, sizeof(got)), 0); /* closed, unsent */
	ck_assert_int_eq(read(pc, got, sizeof(got)), 0);
	PTIO_CK_OK(ptio_uring_stream_close(&a));
	PTIO_CK_OK(ptio_uring_stream_close(&d));
	ck_assert_int_eq(close(pa), 0);
	ck_assert_int_eq(close(pb), 0);
	ck_assert_int_eq(close(pc), 0);
	ck_assert_int_eq(close(pd), 0);
	ck_assert_uint_eq(chunks_used(), 0);
}
END_TEST

/* Close while the send is in flight (its socket full, the send waiting
 * for room): the request is cancelled, the chunk comes back at once and
 * goes to the stream in line, and the cancelled bytes never reach the
 * closed stream's peer. */
START_TEST(test_borrow_close_in_flight)
{
	struct ptio_uring_stream a, b;
	uint8_t fill[4096], in[4096];
	size_t put = 0, got = 0;
	int pa, pb;
	ssize_t n;

	PTIO_CK_OK(ptio_uring_set_send_buffers(&ptio_test_loop, 1, 16));
	pa = open_stream_pair(&a, NULL, 0);
	pb = open_stream_pair(&b, NULL, 0);
	memset(fill, 'f', sizeof(fill));
	while ((n = write(a.src.handle, fill, sizeof(fill))) > 0)
		put += (size_t)n;
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&a), "tail", 4),
			 4);
	wait_now(); /* the send finds no room and waits for it */
	wait_now();
	ck_assert(a.state & URS_SENDING);
	ck_assert_uint_eq(chunks_used(), 1);
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&b), "b", 1),
			 PTIO_WOULD_BLOCK);
	PTIO_CK_OK(ptio_uring_stream_close(&a));
	ck_assert(b.src.ready & PTIO_WRITABLE);
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&b), "bbbb", 4),
			 4);
	flush_stream(&b);
	ck_assert_uint_eq(chunks_used(), 0);
	ck_assert_int_eq(read(pb, in, sizeof(in)), 4);
	ck_assert_int_eq(memcmp(in, "bbbb", 4), 0);
	while ((n = read(pa, in, sizeof(in))) > 0) {
		ck_assert_ptr_null(memchr(in, 't', (size_t)n));
		got += (size_t)n;
	}
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(got, put);
	PTIO_CK_OK(ptio_uring_stream_close(&b));
	ck_assert_int_eq(close(pa), 0);
	ck_assert_int_eq(close(pb), 0);
}
END_TEST

/* The send pool's settings: refused when bad, or once the pool exists
 * (a stream with its own buffer does not make it); a buffer without a
 * size, or a size without a buffer, is refused. */
START_TEST(test_borrow_settings)
{
	struct ptio_uring_stream s, t;
	uint8_t sbuf[16];
	int ps, pt, sv[2];

	ck_assert_int_eq(ptio_uring_set_send_buffers(&ptio_test_loop, 0, 16),
			 PTIO_EINVAL);
	ck_assert_int_eq(ptio_uring_set_send_buffers(&ptio_test_loop, 32769,
						     16),
			 PTIO_EINVAL);
	ck_assert_int_eq(ptio_uring_set_send_buffers(&ptio_test_loop, 4, 0),
			 PTIO_EINVAL);
	ck_assert_int_eq(ptio_uring_set_send_buffers(&ptio_test_loop, 4,
						     1024 * 1024 + 1),
			 PTIO_EINVAL);
	ps = open_stream_pair(&s, sbuf, sizeof(sbuf));
	ck_assert_ptr_null(ur()->spool);
	ck_assert_uint_eq(chunks_used(), 0);
	PTIO_CK_OK(ptio_uring_set_send_buffers(&ptio_test_loop, 3, 100));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	ck_assert_int_eq(ptio_uring_stream_open(&t, &ptio_test_loop, sv[0], 0,
						sbuf, 0),
			 PTIO_EINVAL);
	ck_assert_int_eq(close(sv[0]), 0);
	ck_assert_int_eq(close(sv[1]), 0);
	pt = open_stream_pair(&t, NULL, 0);
	ck_assert_ptr_nonnull(ur()->spool);
	ck_assert_int_eq(ptio_uring_set_send_buffers(&ptio_test_loop, 4, 16),
			 PTIO_EBUSY);
	ck_assert_int_eq(ptio_nb_write(ptio_uring_stream_writer(&t), sbuf, 16),
			 16);
	ck_assert_int_eq(t.scap, 100);
	ck_assert_uint_eq(chunks_used(), 1);
	PTIO_CK_OK(ptio_uring_stream_close(&t)); /* unsent: given back */
	ck_assert_uint_eq(chunks_used(), 0);
	PTIO_CK_OK(ptio_uring_stream_close(&s));
	ck_assert_int_eq(close(ps), 0);
	ck_assert_int_eq(close(pt), 0);
}
END_TEST

/* ---- Refusal ---------------------------------------------------------------------- */

/* A kernel that refuses io_uring (ENOSYS: too old or compiled out;
 * EPERM: the io_uring_disabled sysctl, seccomp): init says PTIO_ENOTSUP
 * and keeps why; the chooser gives no uring when named, and its default
 * falls back to epoll and says why, in its name and through
 * ptio_posix_backend_fallback.  A ring that cannot be made (ENOMEM: the
 * locked-memory limit) is a failure, and falls back the same way. */
START_TEST(test_refused_ring)
{
	static const int why[] = { ENOSYS, EPERM };
	struct ptio_posix_backend pb;
	struct ptio_backend *be = NULL;
	struct ptio_uring u;
	const char *from = NULL;
	char want[80];
	size_t i;

	for (i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		refuse = why[i];
		be = NULL;
		ck_assert_int_eq(ptio_uring_init(&u, &be), PTIO_ENOTSUP);
		ck_assert_ptr_null(be);
		ck_assert_int_eq(u.refused, -why[i]);
		ptio_uring_destroy(&u);
		ck_assert_int_eq(ptio_posix_backend_init(&pb, "uring", &be),
				 PTIO_ENOTSUP);
		ck_assert_str_eq(ptio_posix_backend_name(&pb), "none");
		ptio_posix_backend_destroy(&pb);
		PTIO_CK_OK(init_default(&pb, &be));
		ck_assert_ptr_nonnull(be);
		snprintf(want, sizeof(want), "epoll (uring refused: %s)",
			 ptio_strerror(-why[i]));
		ck_assert_str_eq(ptio_posix_backend_name(&pb), want);
		ck_assert_int_eq(ptio_posix_backend_fallback(&pb, &from),
				 -why[i]);
		ck_assert_str_eq(from, "uring");
		ptio_posix_backend_destroy(&pb);
	}
	refuse = ENOMEM;
	PTIO_CK_OK(init_default(&pb, &be));
	ck_assert_str_eq(ptio_posix_backend_name(&pb),
			 "epoll (uring failed: not enough memory)");
	ck_assert_int_eq(ptio_posix_backend_fallback(&pb, &from), PTIO_ENOMEM);
	ptio_posix_backend_destroy(&pb);
	/* And a kernel that gives a ring: uring is the default. */
	refuse = 0;
	if (!have_uring())
		return;
	PTIO_CK_OK(init_default(&pb, &be));
	ck_assert_str_eq(ptio_posix_backend_name(&pb), "uring");
	ck_assert_int_eq(ptio_posix_backend_fallback(&pb, &from), 0);
	ck_assert_ptr_null(from);
	ptio_posix_backend_destroy(&pb);
	/* Another failure is not a refusal: it is returned as it is. */
	refuse = EMFILE;
	be = NULL;
	ck_assert_int_eq(ptio_uring_init(&u, &be), PTIO_EMFILE);
	ck_assert_int_eq(u.refused, 0);
	ptio_uring_destroy(&u);
	refuse = 0;
}
END_TEST

START_TEST(test_skipped_under_valgrind)
{
	fprintf(stderr, "SKIP: the uring suite under valgrind (3.19 does "
			"not follow io_uring's shared rings)\n");
}
END_TEST

/* ---- The suite ------------------------------------------------------------------ */

Suite *ptio_test_suite(void)
{
	Suite *s;
	TCase *tc;

	if (ptio_test_under_valgrind()) {
		s = suite_create("uring (skipped under valgrind)");
		tc = tcase_create("skipped");
		tcase_add_test(tc, test_skipped_under_valgrind);
		suite_add_tcase(s, tc);
		return s;
	}
	s = suite_create(have_uring() ? "uring"
				      : "uring (the kernel refuses io_uring)");
	tc = tcase_create("refused");
	tcase_add_test(tc, test_refused_ring);
	suite_add_tcase(s, tc);
	if (!have_uring())
		return s;

	tc = tcase_create("rearm");
	tcase_add_checked_fixture(tc, uring_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_rearm_after_multishot_ends);
	suite_add_tcase(s, tc);

	tc = tcase_create("stale");
	tcase_add_checked_fixture(tc, uring_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_stale_completion_dropped);
	tcase_add_test(tc, test_generation_wraps);
	tcase_add_test(tc, test_close_releases_file);
	tcase_add_test(tc, test_table_grows_by_an_eighth);
	suite_add_tcase(s, tc);

	tc = tcase_create("stream");
	/* The floods take a second or two in a sanitizer build. */
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, uring_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_stream_read_write);
	tcase_add_test(tc, test_stream_enobufs_loses_nothing);
	tcase_add_test(tc, test_stream_end_after_data);
	tcase_add_test(tc, test_stream_errors);
	tcase_add_test(tc, test_stream_write_order);
	tcase_add_test(tc, test_stream_recv_rearmed);
	tcase_add_test(tc, test_stream_close_returns_buffers);
	tcase_add_test(tc, test_stream_read_ahead_bounds_a_flood);
	tcase_add_test(tc, test_stream_refusals);
	tcase_add_test(tc, test_stream_needs_uring);
	tcase_add_test(tc, test_stream_machines_echo);
	tcase_add_test(tc, test_stream_one_enter_per_round);
	tcase_add_test(tc, test_stream_batch_bounded);
	tcase_add_test(tc, test_stream_send_full_socket);
	suite_add_tcase(s, tc);

	tc = tcase_create("borrow");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, uring_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_borrow_echo);
	tcase_add_test(tc, test_borrow_first_come_first_served);
	tcase_add_test(tc, test_borrow_pool_exhausted);
	tcase_add_test(tc, test_borrow_close_waiting);
	tcase_add_test(tc, test_borrow_close_in_flight);
	tcase_add_test(tc, test_borrow_settings);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, uring_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_regular_file_and_dev_null);
	suite_add_tcase(s, tc);
	return s;
}

#else /* !HAVE_LIBURING */

/* Without liburing the backend only says so. */
START_TEST(test_uring_not_built)
{
	struct ptio_uring u;
	struct ptio_backend *be = NULL;

	ck_assert_int_eq(ptio_uring_init(&u, &be), PTIO_ENOTSUP);
	ck_assert_ptr_null(be);
	ptio_uring_destroy(&u);
	ck_assert_int_eq(ptio_uring_set_read_ahead(NULL, 4), PTIO_ENOTSUP);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("uring (not built: no liburing)");
	TCase *tc = tcase_create("absent");

	tcase_add_test(tc, test_uring_not_built);
	suite_add_tcase(s, tc);
	return s;
}

#endif /* HAVE_LIBURING */
