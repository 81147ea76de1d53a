/*
 * ptio/posix.h - hosted POSIX support: fd streams, backends, TCP helpers.
 *
 * Divided into: the clock, fd streams (Ready + Read + Write over sockets,
 * pipes and terminals), the backends (poll, select, epoll) and the one
 * way every program chooses among them (ptio_posix_backend_init, which
 * reads PTIO_BACKEND), TCP helpers (machines), wakers (waking a loop from
 * another thread) and signal sources.
 *
 * Not for bare metal: this header includes <poll.h>, <sys/select.h>,
 * <sys/socket.h>, <sys/uio.h> and <unistd.h>.
 */
#ifndef PTIO_POSIX_H
#define PTIO_POSIX_H

#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "base.h"
#include "bufread.h"
#include "io.h"
#include "loop.h"
#include "ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The clock --------------------------------------------------------- */

/* Milliseconds from CLOCK_MONOTONIC, as wrapping 32-bit ticks.  The POSIX
 * backends use it, so one tick is one millisecond on hosts. */
ptio_tick ptio_posix_now_ms(void);

/* ---- fd streams -------------------------------------------------------- */

/* fd stream flags. */
#define PTIO_FD_SOCKET   0x1u /* a socket: sends use MSG_NOSIGNAL */
#define PTIO_FD_NOCLOSE  0x2u /* ptio_fd_close leaves the fd open */
#define PTIO_FD_WASBLOCK 0x4u /* the fd was blocking when opened;
				 ptio_fd_close makes it blocking again */
#define PTIO_FD_PIPE     0x8u /* a pipe or FIFO: writes guard SIGPIPE */
#define PTIO_FD_BYTES    0x10u /* a byte stream (a pipe, a FIFO, a stream
				  socket): a read that comes back short has
				  drained it, so it clears READABLE without
				  a second read that would meet EAGAIN */
#define PTIO_FD_DRAINED  0x20u /* a read found the stream drained once:
				  from then on reads answer WOULD_BLOCK
				  from the cache while READABLE is clear */
#define PTIO_FD_HUNGUP   0x40u /* the peer hung up, and a write that met
				  EAGAIN took HUP out of the cache: reads
				  no longer block (queued data, then end
				  of stream), so READABLE stays set.  An
				  edge-triggered backend reports a
				  hang-up once, never again */

/*
 * A file descriptor as a stream.  It implements Ready, Read and Write:
 *
 *  - reads use read/readv, writes use send/sendmsg with MSG_NOSIGNAL on
 *    sockets and write/writev elsewhere; a write to a pipe whose reader is
 *    gone returns PTIO_EPIPE and the SIGPIPE it raised is consumed, so a
 *    closed peer never kills the process, whose SIGPIPE disposition is left
 *    at whatever the application chose;
 *  - EINTR is retried; EAGAIN and EWOULDBLOCK both become PTIO_WOULD_BLOCK
 *    and clear the cached readiness bit (and any cached HUP or ERROR,
 *    which the call has just shown not to hold);
 *  - a vectored read fills at most 64 readbufs and a vectored write sends
 *    at most IOV_MAX slices per call (a short transfer, never EINVAL);
 *  - calls on a closed stream fail with PTIO_ECLOSED;
 *  - data that arrived before a hang-up is delivered before end of stream
 *    (HUP is only a readiness hint; reads go on until read returns 0);
 *  - ptio_fd_close wakes every waiter (their await fails with PTIO_ECLOSED)
 *    and leaves no registration in the loop or the backend.
 *
 * One reading task and one writing task may use a stream at once, or one
 * task may wait for PTIO_READ_WRITE.
 */
struct ptio_fd {
	struct ptio_source src;   /* first: readiness cache and waiters; its
				     handle is the descriptor (-1 once
				     closed) and its oflags are PTIO_FD_* */
	struct ptio_loop *loop;   /* the loop whose backend watches it */
};

/* The descriptor of F, or -1 once it is closed. */
static inline int ptio_fd_fileno(const struct ptio_fd *f)
{
	return (int)f->src.handle;
}

/*
 * ptio_fd_open(f, loop, fd, flags) - make FD a stream on LOOP: set
 * O_NONBLOCK, find out whether it is a socket or a pipe, and attach it to
 * the loop's backend.  FLAGS may hold PTIO_FD_NOCLOSE (the stream does not
 * own FD); any other bit is PTIO_EINVAL.  Returns 0 or an error (PTIO_EBADF
 * for a bad fd; PTIO_EBUSY when another open stream of this loop already
 * has FD: one descriptor, one stream, whose read and write waiter slots
 * serve a reading and a writing task; the backend's error, e.g.
 * PTIO_EINVAL from select for fd >= FD_SETSIZE).  On error nothing is
 * left registered, FD is neither closed nor left non-blocking, and F is
 * in the closed state (closing it again does nothing).
 */
ptio_ssize ptio_fd_open(struct ptio_fd *f, struct ptio_loop *loop, int fd,
			unsigned flags);

/*
 * What a fresh stream reports.  A stream just opened by ptio_fd_open (as
 * ptio_tcp_listen and ptio_tcp_connect open theirs) is WRITABLE and not
 * READABLE:
 *
 *  - not READABLE, because nothing is known yet: ptio_ready(op,
 *    ptio_fd_ready(f), PTIO_READ) waits for the backend, which reports
 *    data already queued at its first wait (poll reports what is there
 *    whenever it is asked).  So data sent before the open is still seen
 *    at once, and a task deadline on that await is an idle timeout from
 *    the very first wait: it ends with PTIO_ETIMEDOUT when nothing comes,
 *    instead of answering READABLE on a stream that has nothing to read.
 *    The cost is at most one backend wait before the first read, and
 *    only for code that awaits readiness before reading: ptio_read and
 *    the other read machines try the read first and wait only when it
 *    would block.
 *  - WRITABLE, because a fresh stream nearly always has room, and a write
 *    that finds none clears the bit and waits.  ptio_tcp_connect clears
 *    it while the connection is being made.
 *
 * HUP and ERROR, too, are learned from the backend.
 */

/* Close the stream: wake waiters with PTIO_ECLOSED, detach from the
 * backend, make the fd blocking again if it was when opened (O_NONBLOCK
 * belongs to the open file description, which a dup or another process
 * may share), and close it (unless PTIO_FD_NOCLOSE).  Returns 0 or the
 * error from fcntl(2) or close(2); the stream is closed either way, and
 * close is never retried after EINTR.  Idempotent. */
ptio_ssize ptio_fd_close(struct ptio_fd *f);

/* Shut down the write side of a socket (the peer reads end of stream). */
ptio_ssize ptio_fd_shutdown_write(struct ptio_fd *f);

/* The vtables, for streams that embed a struct ptio_fd first. */
extern const struct ptio_read_vt ptio_fd_read_vt;
extern const struct ptio_write_vt ptio_fd_write_vt;

/* The trait objects of F (inline: they are on every message's path). */
static inline struct ptio_ready ptio_fd_ready(struct ptio_fd *f)
{
	struct ptio_ready o;

	o.self = f;
	o.vt = &ptio_fd_read_vt.ready;
	return o;
}

static inline struct ptio_read ptio_fd_reader(struct ptio_fd *f)
{
	struct ptio_read o;

	o.self = f;
	o.vt = &ptio_fd_read_vt;
	return o;
}

static inline struct ptio_write ptio_fd_writer(struct ptio_fd *f)
{
	struct ptio_write o;

	o.self = f;
	o.vt = &ptio_fd_write_vt;
	return o;
}

/*
 * The stream F itself, without the trait objects: where the code knows it
 * holds an fd stream, as the seed's generic code would be monomorphised.
 * Each has the contract of its generic twin and gives the same results:
 *
 *   ptio_fd_wait_ready(task, f, interest)
 *       = ptio_wait_ready(task, ptio_fd_ready(f), interest)
 *   ptio_fd_nb_read(f, buf, len)  = ptio_nb_read(ptio_fd_reader(f), buf, len)
 *   ptio_fd_nb_write(f, buf, len) = ptio_nb_write(ptio_fd_writer(f), buf, len)
 *
 * A message's common case is inline in the caller, straight to read(2)
 * and send(2); anything else (EINTR, EAGAIN, an error, a pipe's SIGPIPE
 * guard, a closed stream) calls the function, which `(ptio_fd_nb_read)`
 * and `(ptio_fd_nb_write)` name.
 */
ptio_ssize ptio_fd_nb_read(struct ptio_fd *f, void *buf, size_t len);
ptio_ssize ptio_fd_nb_write(struct ptio_fd *f, const void *buf, size_t len);

/* The rest of ptio_fd_nb_read (ptio_fd_nb_write) after the read(2)
 * (send(2)) of its inline code failed, with errno as it left it: EINTR
 * is retried, EAGAIN cached as PTIO_WOULD_BLOCK, any other error
 * returned.  Exported for that code only. */
ptio_ssize ptio_fd_nb_read_failed(struct ptio_fd *f, void *buf, size_t len);
ptio_ssize ptio_fd_nb_write_failed(struct ptio_fd *f, const void *buf,
				 size_t len);

static inline ptio_ssize ptio_fd_wait_ready(struct ptio_task *task,
					    struct ptio_fd *f,
					    unsigned interest)
{
	return ptio_wait_source(task, &f->src, interest);
}

/* What a read(2) that returned N (>= 0) into room for LEN leaves in F's
 * cache: on a byte stream, a short read (not end of stream) has drained
 * it unless the peer is known to have hung up.  Internal. */
static inline void ptio__fd_read_done(struct ptio_fd *f, size_t n,
				      size_t len)
{
	if (n > 0 && n < len &&
	    (f->src.oflags & (PTIO_FD_BYTES | PTIO_FD_HUNGUP)) ==
		    PTIO_FD_BYTES) {
		f->src.ready = (uint8_t)(f->src.ready & ~PTIO_READABLE);
		f->src.oflags = (uint8_t)(f->src.oflags | PTIO_FD_DRAINED);
	}
}

static inline ptio_ssize ptio__fd_nb_read_inline(struct ptio_fd *f,
						 void *buf, size_t len)
{
	/* A closed stream has neither READABLE nor PTIO_FD_SOCKET (close
	 * clears them), so these tests imply an open descriptor. */
	if ((f->src.ready & PTIO_READABLE) && len - 1u < PTIO_SSIZE_MAX) {
		ssize_t n = read(f->src.handle, buf, len);

		if (n < 0)
			return ptio_fd_nb_read_failed(f, buf, len);
		ptio__fd_read_done(f, (size_t)n, len);
		return n;
	}
	return (ptio_fd_nb_read)(f, buf, len);
}
#define ptio_fd_nb_read(f, buf, len) ptio__fd_nb_read_inline(f, buf, len)

static inline ptio_ssize ptio__fd_nb_write_inline(struct ptio_fd *f,
						  const void *buf, size_t len)
{
	if ((f->src.oflags & PTIO_FD_SOCKET) && len - 1u < PTIO_SSIZE_MAX) {
		ssize_t w = send(f->src.handle, buf, len, MSG_NOSIGNAL);

		return w >= 0 ? w : ptio_fd_nb_write_failed(f, buf, len);
	}
	return (ptio_fd_nb_write)(f, buf, len);
}
#define ptio_fd_nb_write(f, buf, len) ptio__fd_nb_write_inline(f, buf, len)

/* ---- The poll backend -------------------------------------------------- */

/*
 * A backend over poll(2).  Level-triggered: it asks only for the interests
 * that have a waiter, so an fd nobody waits on costs the kernel next to
 * nothing per wait.  A source gets an entry the first time a task waits on
 * it and keeps it, in the same place, until the source is detached (its
 * stream closed): while nobody waits, the entry is disabled (a negative
 * fd), so neither readiness nor a hang-up or error that nobody asked for
 * wakes the loop.  A message thus costs an in-place change of one entry,
 * not a removal and an addition, and after each wait only the entries up
 * to the last ready one are looked at.  POLLHUP, POLLERR and POLLNVAL are
 * reported as HUP/ERROR readiness and wake both waiters (no busy loop: the
 * woken task's next call returns the error or end of stream, and the fd
 * is not polled again until someone waits on it).  Memory: two arrays
 * that grow by doubling with the number of open sources that have ever
 * had a waiter (16 bytes each on x86-64; a closed one's place is reused),
 * and a table of 4 bytes per descriptor number up to the highest one that
 * ever waited, which finds a source's entry without a field in every
 * source.  The arrays never shrink; ptio_poll_destroy frees them.
 */
struct ptio_poll {
	struct ptio_backend base;    /* first */
	struct pollfd *pfd;          /* one entry per attached source (made
					by ptio_fd_open); fd is negative
					while nobody waits */
	struct ptio_source **src;    /* the source of each pfd entry */
	size_t n;                    /* entries in use */
	size_t cap;                  /* entries allocated */
	size_t armed;                /* entries asking for something: the
					backend's registrations */
	size_t walked;               /* entries the last wait looked at
					after poll returned (for tests) */
	int32_t *slot;               /* by fd number: its pfd index, or -1 */
	size_t nslot;                /* length of slot */
};

/* Initialise the backend (allocates nothing yet); returns &pb->base. */
struct ptio_backend *ptio_poll_init(struct ptio_poll *pb);

/* Free the arrays.  Every stream must have been closed first. */
void ptio_poll_destroy(struct ptio_poll *pb);

/* ---- The select backend ------------------------------------------------ */

/*
 * A backend over select(2), for hosts without poll and for comparison.
 * Level-triggered, as poll's: the two sets ask for exactly the interests
 * that have a waiter, so a descriptor nobody waits on (or that hung up
 * while nobody waited) never wakes the loop.  select has no hang-up bit,
 * so this backend never reports PTIO_HUP: a peer's hang-up is READABLE
 * (the read finds the data sent before it, then end of stream), and a
 * stream found readable while a writer waits on it is reported WRITABLE
 * too, so that a writer blocked on a full buffer when the peer hangs up
 * tries again and meets PTIO_EPIPE (or, if the peer is still there,
 * PTIO_WOULD_BLOCK, and waits again).  A descriptor closed behind its
 * stream's back makes select fail with EBADF; the backend then finds it and reports it
 * as ERROR, so its waiters' next call fails with PTIO_EBADF, as on poll.
 *
 * The limit: an fd_set holds descriptors below FD_SETSIZE (1024 with
 * glibc) only.  ptio_fd_open (attach) and every update refuse a
 * descriptor at or above it with PTIO_EINVAL, as select(2) refuses a
 * larger nfds, and change nothing: no set is ever written out of bounds.
 * Use poll or epoll for more descriptors.
 *
 * Per wait: the sets are copied, select looks at descriptors up to the
 * highest one with a waiter, and the report walk stops after select's
 * count of ready bits.  Memory: the two sets (in the struct) and a table
 * of one pointer per descriptor number up to the highest stream opened
 * (at most FD_SETSIZE), which leads a ready bit to its stream.
 * Registrations (ptio_loop_registrations) count descriptors with a waiter.
 */
struct ptio_select_backend {
	struct ptio_backend base;    /* first */
	fd_set rd, wr;               /* the interests of the waiters */
	int maxfd;                   /* highest descriptor in rd or wr (or
					one that left them since the last
					wait), -1 */
	size_t armed;                /* descriptors in rd or wr: the
					backend's registrations */
	size_t walked;               /* descriptors the last wait looked at
					after select returned (for tests) */
	struct ptio_source **who;    /* by descriptor number: its stream's
					source, or NULL */
	size_t nwho;                 /* length of who */
	size_t nattached;            /* streams attached */
};

/* Initialise the backend (allocates nothing yet).  Returns 0 with *OUT
 * (if OUT is not NULL) set to &sb->base.  It cannot fail today; it
 * returns a code, as ptio_epoll_init does, so that it may one day. */
ptio_ssize ptio_select_backend_init(struct ptio_select_backend *sb,
				    struct ptio_backend **out);

/* Free the table.  Every stream must have been closed first. */
void ptio_select_backend_destroy(struct ptio_select_backend *sb);

/* ---- The epoll backend (Linux) ------------------------------------------ */

/*
 * A backend over epoll(7), edge-triggered.  ptio_fd_open registers the
 * descriptor once, for the stream's whole life, asking for EPOLLIN,
 * EPOLLOUT and EPOLLRDHUP, and flags the source PTIO_SOURCE_EDGE, so that
 * tasks starting and ending waits cost no call at all: per message a busy
 * stream costs its read and its write, and one epoll_wait serves every
 * stream that became ready meanwhile.  Readiness goes into the stream's
 * cache whoever waits, and stays there until a call meets EAGAIN (or a
 * short read drains a byte stream).
 *
 * EPOLLRDHUP and EPOLLHUP are reported as HUP | READABLE (data sent before
 * the hang-up is still read before end of stream), EPOLLERR as ERROR; both
 * waiters are woken.  A descriptor epoll refuses (a regular file,
 * /dev/null) is always readable and writable, as poll(2) reports it, and
 * holds no registration.  ptio_fd_close removes the registration (one
 * epoll_ctl per stream, not per message).
 *
 * One difference from poll: a descriptor closed behind its stream's back
 * (close(2) instead of ptio_fd_close) is dropped by the kernel without a
 * word, so a task waiting on it is woken by its deadline or by
 * ptio_fd_close only, not with PTIO_EBADF.  Events carry a pointer to
 * their stream, yet one for a stream that has been closed is dropped,
 * never delivered to freed memory, even when the kernel keeps the
 * registration of a descriptor closed behind its back (a dup holds the
 * file open); and closing such a stream never removes the registration
 * of a new stream that took its descriptor number.
 *
 * Memory: the epoll instance (one descriptor) and one bit per descriptor
 * number up to the highest one opened (in pages of 512 bytes), which says
 * whether an open stream holds the number: there is no table leading
 * events to streams.  Besides, a list of the open streams on files epoll
 * refuses, and, only after descriptors were closed behind their streams'
 * backs, short lists of the streams that may have left a registration
 * behind and of those that share a number.  Registrations
 * (ptio_loop_registrations) count the open streams that epoll watches
 * (not regular files).  Without <sys/epoll.h>, ptio_epoll_init fails with
 * PTIO_ENOTSUP.
 *
 * The members are private.  (They changed when the table went: the
 * struct is larger than it was, which ptio_posix_backend's union
 * absorbs; a program that embeds a struct ptio_epoll itself must be
 * rebuilt.)
 */
struct ptio__epoll_gone;
struct ptio__epoll_share;
struct ptio_epoll {
	struct ptio_backend base;         /* first */
	int epfd;                         /* the epoll instance, or -1 */
	bool in_wait;                     /* between epoll_wait and the end
					     of its report */
	unsigned long **held;             /* pages of one bit per descriptor
					     number: held by a registered
					     source */
	size_t nheld;                     /* pages in held (or NULL) */
	const struct ptio_source **refused; /* attached, not registered */
	size_t nrefused, caprefused;      /* entries used, allocated */
	struct ptio__epoll_gone *gone;    /* sources gone, registrations
					     perhaps not */
	size_t ngone, capgone;            /* entries used, allocated */
	size_t nbatch;                    /* of those, for one batch only */
	struct ptio__epoll_share *share;  /* holders of shared numbers */
	size_t nshare, capshare;          /* entries used, allocated */
	size_t nattached;                 /* streams registered */
};

/* Create the epoll instance.  Returns 0 with *OUT (if OUT is not NULL)
 * set to &eb->base, or an error (PTIO_ENOTSUP where the host has no
 * epoll, PTIO_EMFILE, ...) with nothing to destroy. */
ptio_ssize ptio_epoll_init(struct ptio_epoll *eb, struct ptio_backend **out);

/* Close the epoll instance and free what it kept.  Every stream must
 * have been closed first.  Harmless after a failed init. */
void ptio_epoll_destroy(struct ptio_epoll *eb);

/* ---- The io_uring backend (Linux, liburing) ----------------------------- */

/*
 * A backend over io_uring, for readiness: edge-triggered as epoll is.
 * ptio_fd_open arms one multishot poll request (IORING_POLL_ADD_MULTI)
 * per descriptor, for POLLIN, POLLOUT and POLLRDHUP, for the stream's
 * whole life, and flags the source PTIO_SOURCE_EDGE.  The kernel posts a
 * completion at each wake-up of the file with the events then ready; a
 * wait submits and waits in one io_uring_enter and puts each into its
 * stream's readiness cache.  Every Read and Write works unchanged.  When
 * the kernel ends a request (a completion queue overflow, a cancel that
 * was not ptio's), the backend arms a new one, which reports at once
 * what is ready.  A completion carries the events of one wake-up; those
 * of one stream in one wait are reported together, once.
 *
 * Hang-ups, errors and descriptors that cannot wait (a regular file,
 * /dev/null: always readable and writable, no registration) are as with
 * epoll.  ptio_fd_close cancels the request at once (one io_uring_enter
 * per stream, not per message): an armed request holds the file, so a
 * closed socket would otherwise stay open.  A completion for a stream
 * that has been closed is dropped, never delivered to freed memory, even
 * when a new stream has taken its descriptor number.  Unlike epoll, a
 * descriptor closed behind its stream's back keeps its file open until
 * the stream is closed, and a new stream on that number is PTIO_EBUSY
 * until then.
 *
 * Memory: the ring (its queues are the kernel's, mapped: 256 submission
 * and 4,096 completion entries, about 100 KiB) and a table of 16 bytes
 * per descriptor number up to the highest one opened (its length
 * doubles up to 512 entries, then grows by an eighth).  Registrations
 * (ptio_loop_registrations) count the open streams that can wait.
 *
 * Without liburing, or where the kernel refuses io_uring (ENOSYS, EPERM:
 * too old, disabled by the io_uring_disabled sysctl, filtered by
 * seccomp), ptio_uring_init fails with PTIO_ENOTSUP.  The members are
 * private.
 */
struct ptio__uring_entry;
struct ptio_uring {
	struct ptio_backend base;        /* first */
	void *ring;                      /* struct io_uring, or NULL */
	struct ptio__uring_entry *who;   /* by descriptor number */
	size_t nwho;                     /* length of who */
	size_t nattached;                /* streams with a request */
	size_t nstreams;                 /* completion streams open */
	uint32_t gen;                    /* the last attach's generation */
	int32_t touched;                 /* the first entry to report, -1 */
	ptio_ssize refused;              /* why the kernel refused io_uring
					    (-ENOSYS, -EPERM), or 0 */
	struct ptio__uring_pool *pool;   /* completion streams' buffers, or
					    NULL until the first opens */
	unsigned pool_count;             /* buffers it will have */
	unsigned read_ahead;             /* buffers one stream may hold */
	size_t pool_size;                /* bytes in each */
	struct ptio__uring_spool *spool; /* send chunks that streams borrow,
					    or NULL until the first such
					    stream opens */
	unsigned spool_count;            /* chunks it will have */
	size_t spool_size;               /* bytes in each */
};

/* Set up the ring.  Returns 0 with *OUT (if OUT is not NULL) set to
 * &u->base, or an error with nothing to destroy: PTIO_ENOTSUP without
 * liburing or where the kernel refuses io_uring (u->refused then says
 * why), PTIO_ENOMEM, PTIO_EMFILE, ... */
ptio_ssize ptio_uring_init(struct ptio_uring *u, struct ptio_backend **out);

/* Tear the ring down and free the table.  Every stream must have been
 * closed first.  Harmless after a failed init. */
void ptio_uring_destroy(struct ptio_uring *u);

/* ---- Completion streams (io_uring) ---------------------------------------- */

/*
 * A socket as a completion-based stream on the uring backend: a BufRead
 * (and Ready) for its input and a Write for its output, with no system
 * call of their own.  Where the loop's backend is not uring, open fails
 * with PTIO_ENOTSUP and the program falls back to ptio_fd_open with a
 * BufReader (ptio/bufread.h) over it.
 *
 * Reading.  The stream keeps one receive (IORING_OP_RECV with
 * IOSQE_BUFFER_SELECT) armed: the kernel picks a buffer from the loop's
 * provided-buffer ring for the chunk that arrives and posts a
 * completion, which the loop's wait queues on the stream (a queue of
 * buffer ids, linked through the pool: no memory per stream).
 * nb_fill_buf returns the unconsumed bytes of the first queued buffer,
 * and consume hands a buffer back to the ring once it is used up.  So
 * an idle connection holds no buffer, and a busy one holds only what
 * it has received and not yet consumed, and never more than its
 * read-ahead (4 buffers unless ptio_uring_set_read_ahead says
 * otherwise): a stream that holds that many stops receiving until it
 * consumes one, so a peer that sends and never reads the answers cannot
 * drain the pool that every other stream shares; its data waits in the
 * socket, whose window holds the peer back.  When the ring runs dry the
 * kernel ends the receive (ENOBUFS): the data stays in the socket, and
 * the receive is armed again as soon as any stream gives a buffer back.
 * End of stream and errors come after the data queued before them; an
 * error is reported by every fill after it.
 *
 * Writing.  nb_write copies what it accepts into the stream's send
 * buffer (below) and queues an IORING_OP_SEND, which the loop submits
 * with its next wait: many messages of many
 * streams cost one io_uring_enter, which also waits for what comes next
 * (the sends complete within it, MSG_DONTWAIT; one that finds the
 * socket full goes again, waiting for room).  With two streams or more
 * open, a wait first holds out up to 10 microseconds for a second
 * event, so that a round serves more than one message; a lone message
 * pays that much latency.  One send is in flight per stream;
 * bytes written meanwhile join the buffer after it and go in the next
 * send (as does the rest of a short send), so order is kept.  A full
 * buffer makes nb_write return PTIO_WOULD_BLOCK (clearing WRITABLE,
 * which the next completion sets again).  A send's error is returned by
 * the next nb_write or nb_flush, and by every one after it; nb_flush
 * returns 0 once every accepted byte has been sent, PTIO_WOULD_BLOCK
 * before.
 *
 * The send buffer is either the caller's, given to open and held for
 * the stream's whole life, or, when open is given none, a chunk the
 * stream borrows from a send pool that the loop's streams share: taken
 * by the first nb_write that finds the stream holding none, given back
 * when the send of the last accepted byte completes (or fails) and on
 * close.  So an idle connection holds no send buffer either, and a busy
 * one holds one chunk only while its bytes are on their way.  When every
 * chunk is lent, nb_write returns PTIO_WOULD_BLOCK (clearing WRITABLE)
 * and the stream waits in line (first come, first served, linked
 * through the stream: no allocation); a chunk that comes back is kept
 * for the first stream in line, whose WRITABLE is set again (its waiting
 * task wakes as for any readiness), and its next nb_write takes it.  A
 * stream in line that never writes again keeps its place, or its kept
 * chunk, until it writes or closes: close leaves the line at once.
 *
 * Memory: the struct (104 bytes on 64-bit hosts), its send buffer if
 * it has its own, and per loop the receive pool: 256 buffers of 2 KiB
 * (512 KiB) unless ptio_uring_set_buffers says otherwise, allocated when
 * the first stream opens and freed by ptio_uring_destroy, plus 8 bytes
 * per buffer and the ring of 16 bytes per buffer the kernel reads; and
 * the send pool, if a stream borrows: 256 chunks of 2 KiB (512 KiB)
 * unless ptio_uring_set_send_buffers says otherwise, mapped when the
 * first borrowing stream opens (pages that no send ever used cost
 * nothing) and freed by ptio_uring_destroy, plus 4 bytes per chunk.
 *
 * Peers that stall.  A stream whose peer sends and never reads the
 * answers keeps its read-ahead of receive buffers and its send chunk
 * for as long as it stays open: one such peer harms nobody, but with the
 * defaults 64 of them hold the whole receive pool (256 / 4) and 256 the
 * whole send pool, and then every stream waits.  A server open to
 * untrusted peers closes a connection whose writes make no progress for
 * a while (a deadline on its write, ptio_task_set_deadline), and sizes
 * the pools for the connections it accepts (ptio_uring_set_buffers,
 * ptio_uring_set_read_ahead, ptio_uring_set_send_buffers).
 *
 * One reading and one writing task may share a stream, as with
 * ptio_fd.  One descriptor, one stream: a descriptor that already has a
 * stream on the loop (of either kind) is PTIO_EBUSY.  The members are
 * private.
 */
struct ptio_uring_stream {
	struct ptio_source src;   /* first: readiness cache and waiters;
				     handle: the descriptor, -1 once
				     closed; oflags: PTIO_FD_NOCLOSE */
	struct ptio_loop *loop;
	struct ptio_uring_stream *next_starved; /* waiting for buffers */
	struct ptio_uring_stream *next_swait;   /* waiting for a chunk */
	int32_t head, tail;       /* queued buffer ids, -1: none */
	uint32_t off;             /* bytes of HEAD consumed */
	uint16_t state;           /* private bits */
	uint16_t nheld;           /* buffers queued on it */
	ptio_ssize rend;          /* after the queue: 0, 1 (end), error */
	ptio_ssize werr;          /* a send's error, or 0 */
	uint8_t *sbuf;            /* the send buffer (caller memory, a
				     borrowed chunk, or NULL: none) */
	uint32_t scap;            /* its size */
	uint32_t soff;            /* bytes of it sent */
	uint32_t sinflight;       /* end of the send in flight */
	uint32_t slen;            /* bytes accepted */
};

/*
 * ptio_uring_set_buffers(loop, count, size) - the provided-buffer pool
 * that LOOP's completion streams share: COUNT buffers (a power of two,
 * 1 to 32768) of SIZE bytes (1 to 1 MiB).  Call it before the first
 * stream opens.  Returns 0; PTIO_ENOTSUP when LOOP's backend is not
 * uring; PTIO_EINVAL for a bad count or size; PTIO_EBUSY once the pool
 * exists.
 */
ptio_ssize ptio_uring_set_buffers(struct ptio_loop *loop, unsigned count,
				  size_t size);

/*
 * ptio_uring_set_read_ahead(loop, buffers) - the most buffers of the pool
 * one of LOOP's completion streams may hold, received and not yet
 * consumed (default 4).  A stream that reaches it stops receiving until
 * its reader consumes a buffer.  Any time; it applies from the next
 * completion or consume.  Returns 0; PTIO_ENOTSUP when LOOP's backend is
 * not uring; PTIO_EINVAL for 0 or more than 32768.
 */
ptio_ssize ptio_uring_set_read_ahead(struct ptio_loop *loop,
				     unsigned buffers);

/*
 * ptio_uring_set_send_buffers(loop, count, size) - the send pool that
 * LOOP's completion streams opened without a send buffer borrow from:
 * COUNT chunks (1 to 32768; a power of two is not needed) of SIZE bytes
 * (1 to 1 MiB); 256 chunks of 2 KiB unless this says otherwise.  A
 * write larger than a chunk goes out in chunk-sized pieces.  Call it
 * before the first such stream opens.  Returns 0; PTIO_ENOTSUP when
 * LOOP's backend is not uring; PTIO_EINVAL for a bad count or size;
 * PTIO_EBUSY once the pool exists.
 */
ptio_ssize ptio_uring_set_send_buffers(struct ptio_loop *loop, unsigned count,
				       size_t size);

/*
 * ptio_uring_send_buffers_used(loop) - how many of the send pool's
 * chunks are lent to streams now: those with bytes accepted and not yet
 * sent, and those kept for a stream that waited (see above).  0 when
 * LOOP's backend is not uring or no stream has borrowed yet.  A server
 * may log it, or a test check that idle streams hold none.
 */
size_t ptio_uring_send_buffers_used(struct ptio_loop *loop);

/*
 * ptio_uring_stream_open(s, loop, fd, flags, sendbuf, sendcap) - make
 * the connected stream socket FD a completion stream on LOOP and arm its
 * receive (submitted with the loop's next wait).  SENDBUF (SENDCAP
 * bytes, > 0, < 4 GiB) is the send buffer: it must stay valid, and
 * untouched, until the stream is closed.  SENDBUF NULL with SENDCAP 0:
 * the stream holds no send buffer and borrows a chunk from the loop's
 * send pool while it has bytes to send (see above); the pool is made
 * when the first such stream opens.  One given without the other is
 * PTIO_EINVAL.  FLAGS may hold
 * PTIO_FD_NOCLOSE.  FD is made non-blocking.  Returns 0, or an error
 * with nothing registered and S closed: PTIO_ENOTSUP when LOOP's
 * backend is not uring (or the kernel lacks provided-buffer rings,
 * before 5.19), PTIO_EBADF, PTIO_ENOTSOCK for a descriptor that is not
 * a stream socket, PTIO_EBUSY (see above), PTIO_EINVAL,
 * PTIO_ENOMEM.
 */
ptio_ssize ptio_uring_stream_open(struct ptio_uring_stream *s,
				  struct ptio_loop *loop, int fd,
				  unsigned flags, void *sendbuf,
				  size_t sendcap);

/* Close S: wake its waiters (PTIO_ECLOSED), give its queued buffers back
 * to the ring, cancel its requests at once (the kernel lets go of the
 * file and of the send buffer before this returns), give a borrowed
 * chunk back to the send pool (or leave its line), and close the
 * descriptor unless PTIO_FD_NOCLOSE.  Bytes accepted but not yet sent
 * are dropped: await ptio_flush first.  Returns 0 or close(2)'s error.
 * Idempotent. */
ptio_ssize ptio_uring_stream_close(struct ptio_uring_stream *s);

/* The trait objects of S. */
extern const struct ptio_bufread_vt ptio_uring_stream_bufread_vt;
extern const struct ptio_write_vt ptio_uring_stream_write_vt;

static inline struct ptio_bufread
ptio_uring_stream_bufread(struct ptio_uring_stream *s)
{
	struct ptio_bufread o;

	o.self = s;
	o.vt = &ptio_uring_stream_bufread_vt;
	return o;
}

static inline struct ptio_write
ptio_uring_stream_writer(struct ptio_uring_stream *s)
{
	struct ptio_write o;

	o.self = s;
	o.vt = &ptio_uring_stream_write_vt;
	return o;
}

static inline struct ptio_ready
ptio_uring_stream_ready(struct ptio_uring_stream *s)
{
	struct ptio_ready o;

	o.self = s;
	o.vt = &ptio_uring_stream_write_vt.ready;
	return o;
}

/* ---- Choosing a backend ------------------------------------------------- */

/*
 * The state of any hosted backend, so that every program chooses its
 * backend the same way, at run time:
 *
 *     static struct ptio_posix_backend pb;
 *     struct ptio_backend *be;
 *     ptio_ssize r = ptio_posix_backend_init(&pb, NULL, &be);
 *
 *     if (r < 0)
 *             ... ptio_strerror(r) ...
 *     ptio_loop_init(&loop, be);
 *     fprintf(stderr, "backend %s\n", ptio_posix_backend_name(&pb));
 *     ...
 *     ptio_posix_backend_destroy(&pb);
 *
 * NAME is "poll", "select", "epoll" or "uring"; NULL means the
 * environment variable PTIO_BACKEND if it is set and not empty, else the
 * best backend the host has: uring on Linux when the library was built
 * with liburing, else epoll on Linux, poll elsewhere.  A name that is no
 * backend is PTIO_EINVAL; a backend this build or host does not have
 * ("epoll" off Linux; "uring" without liburing or where the kernel
 * refuses io_uring) is PTIO_ENOTSUP; one that fails to start returns its
 * error (e.g. PTIO_EMFILE).  A named backend is never replaced by
 * another.
 *
 * Only the default falls back: from uring to epoll when the kernel
 * refuses io_uring (ENOSYS: too old or compiled out; EPERM: the
 * io_uring_disabled sysctl, a seccomp filter such as a container's) or
 * the ring cannot be made (ENOMEM: the locked-memory limit; EMFILE),
 * from epoll to poll when epoll cannot start.  The library prints
 * nothing: the name says so, "epoll (uring refused: operation not
 * permitted)", and ptio_posix_backend_fallback returns the reason, for a
 * program to log or to act on.  Under valgrind (3.19 does not follow
 * io_uring's shared rings) the default passes uring over, and says so:
 * "epoll (uring skipped under valgrind: operation not supported)".
 *
 * The members are private.  The union leaves room for the backends to
 * come, so that adding them keeps the struct's size.
 */
struct ptio_posix_backend {
	union {
		struct ptio_poll poll;
		struct ptio_epoll epoll;
		struct ptio_select_backend select;
		struct ptio_uring uring;
		uint64_t room[64];     /* backends to come */
	} u;
	int kind;                      /* which member of u is in use, -1 */
	const char *name;              /* what ptio_posix_backend_name says */
	char note[64];                 /* the name of a fallback, with why */
	ptio_ssize fallback;           /* why the default fell back, or 0 */
	const char *fallback_from;     /* the backend passed over, or NULL */
};

/* Choose and start a backend in B (see above); 0 with *OUT set to it, or
 * an error with nothing to destroy. */
ptio_ssize ptio_posix_backend_init(struct ptio_posix_backend *b,
				   const char *name, struct ptio_backend **out);

/* Stop the backend in B (every stream must have been closed first).
 * Harmless after a failed init, and idempotent. */
void ptio_posix_backend_destroy(struct ptio_posix_backend *b);

/* The backend B runs, for logs: "poll", "select", "epoll", "uring", or
 * a fallback's name with its reason; "none" before a successful init.
 * Static or in B. */
const char *ptio_posix_backend_name(const struct ptio_posix_backend *b);

/* Whether the default fell back (see above): 0 when B runs the best
 * backend this build has, or a backend was named; else why the better
 * one was passed over (PTIO_EPERM, PTIO_ENOSYS: the kernel refuses
 * io_uring; PTIO_ENOMEM, PTIO_EMFILE: it could not start; PTIO_ENOTSUP:
 * skipped under valgrind), with *FROM (if FROM is not NULL) set to its
 * name ("uring", "epoll"), else to NULL.  A daemon may log it once at
 * start-up, or refuse to run without io_uring. */
ptio_ssize ptio_posix_backend_fallback(const struct ptio_posix_backend *b,
				       const char **from);

/* ---- TCP helpers -------------------------------------------------------- */

/*
 * ptio_tcp_listen(f, loop, host, port, backlog) - a listening TCP socket on
 * the numeric address HOST ("127.0.0.1", "::1", "0.0.0.0"; NULL means
 * "127.0.0.1") and PORT (0: the system picks one; see ptio_tcp_port).
 * SO_REUSEADDR is set; BACKLOG <= 0 means SOMAXCONN.  Not a machine:
 * listening never waits.  Returns 0 or an error (PTIO_EINVAL for a HOST
 * that is not numeric, PTIO_EADDRINUSE, ...), with nothing left open.
 */
ptio_ssize ptio_tcp_listen(struct ptio_fd *f, struct ptio_loop *loop,
			   const char *host, uint16_t port, int backlog);

/* ptio_tcp_listen_opts flags. */
#define PTIO_TCP_REUSEPORT 0x1u /* SO_REUSEPORT: several sockets (one per
				   thread and loop, say) listen on one port
				   and the kernel spreads the connections
				   among them; every one must set it */

/* ptio_tcp_listen with FLAGS (PTIO_TCP_*; any other bit is PTIO_EINVAL;
 * PTIO_ENOTSUP for PTIO_TCP_REUSEPORT on a host without it). */
ptio_ssize ptio_tcp_listen_opts(struct ptio_fd *f, struct ptio_loop *loop,
				const char *host, uint16_t port, int backlog,
				unsigned flags);

/* The local port of a socket stream, or an error. */
ptio_ssize ptio_tcp_port(struct ptio_fd *f);

/*
 * ptio_tcp_nb_accept(listener) - accept one connection without waiting:
 * the new non-blocking, close-on-exec descriptor (>= 0, TCP_NODELAY set),
 * PTIO_WOULD_BLOCK when none is pending (the listener's READABLE bit is
 * cleared), or an error as for ptio_tcp_accept.  For servers that drain
 * the backlog after one wake.
 */
ptio_ssize ptio_tcp_nb_accept(struct ptio_fd *listener);

/*
 * ptio_tcp_reserve_fd(on) - keep one spare descriptor in reserve for the
 * accept helpers (off by default; one reserve for the whole process).
 * When the process is out of descriptors, accept(2) fails with EMFILE or
 * ENFILE and the connection stays in the backlog, its client waiting with
 * no answer.  With the reserve on, ptio_tcp_nb_accept and ptio_tcp_accept
 * then free the spare, accept and close the connections that wait (at
 * most 64 per call; their clients read the end of the stream at once),
 * take the spare again, and still return PTIO_EMFILE or PTIO_ENFILE so
 * the caller backs off.  Turning it on opens /dev/null; returns 0 or that
 * error.  Safe to call from any thread.
 */
ptio_ssize ptio_tcp_reserve_fd(bool on);

/* Turn Nagle's algorithm off (ON true) or on for a TCP stream; 0 or an
 * error.  ptio_tcp_connect, ptio_tcp_accept and ptio_tcp_nb_accept turn
 * it off on every connection they make or accept, so that a small reply
 * does not wait for the peer's delayed ACK; they ignore a failure to do
 * so, as the connection works either way.  Turn it back on for a stream
 * that prefers fewer, fuller packets to low latency. */
ptio_ssize ptio_tcp_set_nodelay(struct ptio_fd *f, bool on);

/*
 * ptio_tcp_accept(op, listener) - machine: accept one connection; returns
 * the new non-blocking, close-on-exec descriptor (>= 0, TCP_NODELAY set;
 * to pass to ptio_fd_open) or an error.  PTIO_EMFILE/PTIO_ENFILE are
 * returned as errors, never retried in a loop: back off (ptio_sleep)
 * before accepting again, or the listener, still readable, would spin
 * (and see ptio_tcp_reserve_fd).  A connection that met a network error
 * while it waited (ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN,
 * ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH: accept(2) says to treat
 * them like EAGAIN) is skipped silently, and the next one is taken.
 */
ptio_ssize ptio_tcp_accept(struct ptio_op *op, struct ptio_fd *listener);

/*
 * ptio_tcp_connect(op, f, loop, host, port) - machine: open a TCP stream in
 * F connected to numeric HOST and PORT.  The connect is non-blocking and
 * finished by awaiting writability and reading SO_ERROR.  Returns 0 with F
 * open (TCP_NODELAY set), or an error with F closed (PTIO_ECONNREFUSED,
 * PTIO_ETIMEDOUT on the task's deadline, PTIO_EINVAL for a HOST that is
 * not a numeric IPv4 or IPv6 address, ...).
 */
ptio_ssize ptio_tcp_connect(struct ptio_op *op, struct ptio_fd *f,
			    struct ptio_loop *loop, const char *host,
			    uint16_t port);

/* ---- Wakers: waking a loop from another thread ---------------------------- */

/*
 * A waker lets another thread, or a signal handler, wake a loop: a task
 * of the loop awaits ptio_waker_wait, and ptio_waker_wake from anywhere
 * makes that await return.  It carries no data: the usual pattern is a
 * queue under a mutex that a worker thread pushes into before it wakes
 * the loop, and a task that awaits the waker, then drains the whole
 * queue:
 *
 *     worker thread:                 loop task:
 *       lock; push; unlock;            for (;;) {
 *       ptio_waker_wake(&w);             PTIO_AWAIT(pt, r,
 *                                          ptio_waker_wait(&op, &w));
 *                                        lock; pop all; unlock; ...
 *                                      }
 *
 * Wakes coalesce: any number of wakes before the task drains them make
 * one wait return, and cost one write(2) and one read(2) in all.  Every
 * item pushed before a wake is seen by the drain that follows the wait
 * it makes return (no wake is lost), but a wait may also return with
 * nothing new to drain.
 *
 * It is an fd stream over an eventfd on Linux and a non-blocking pipe
 * elsewhere, so it works on every backend (poll, select, epoll, uring).
 *
 * Threads.  struct ptio_loop and everything on it (tasks, streams, this
 * waker's other calls) belong to the loop's thread.  The ONLY call that
 * another thread or a signal handler may make is ptio_waker_wake, and
 * only between ptio_waker_open and ptio_waker_close: the owner must know
 * that every other thread has stopped waking (joined, say) before it
 * closes the waker.
 */
struct ptio_waker {
	struct ptio_fd rd;   /* first: the read end, watched by the loop */
	int wfd;             /* the write end (the same eventfd), or -1 */
	int pending;         /* set by a wake that wrote, cleared by the
				drain (atomic) */
};

/* Open W on LOOP (from the loop's thread); 0 or an error (PTIO_EMFILE,
 * ...) with W closed.  Takes one descriptor (eventfd) or two (pipe). */
ptio_ssize ptio_waker_open(struct ptio_waker *w, struct ptio_loop *loop);

/*
 * ptio_waker_wake(w) - wake W's loop: the task awaiting ptio_waker_wait
 * returns, or the next one to await it returns at once.  Callable from
 * any thread and from a signal handler (async-signal-safe: an atomic
 * exchange and at most one write(2); errno is kept).  Returns 0, or the
 * error of the write (PTIO_EBADF on a closed waker, whose wake is a
 * bug).  A wake made while an earlier one is still undrained does no
 * system call at all.
 */
ptio_ssize ptio_waker_wake(struct ptio_waker *w);

/*
 * ptio_waker_wait(op, w) - machine: wait until W has been woken since
 * the last wait returned; returns 0, or PTIO_ETIMEDOUT on the task's
 * deadline, PTIO_ECLOSED when W is closed meanwhile, PTIO_ECANCELED on
 * an abort.  Drains every wake so far.  Loop thread only.
 */
ptio_ssize ptio_waker_wait(struct ptio_op *op, struct ptio_waker *w);

/* The same without waiting: 0 (woken; drained) or PTIO_WOULD_BLOCK
 * (then await ptio_waker_ready(w) for PTIO_READ, e.g. in a select). */
ptio_ssize ptio_waker_nb_wait(struct ptio_waker *w);

/* The waker as a Ready trait object, readable when woken. */
static inline struct ptio_ready ptio_waker_ready(struct ptio_waker *w)
{
	return ptio_fd_ready(&w->rd);
}

/* Close W from the loop's thread once no other thread may wake it any
 * more: a waiting task's await fails with PTIO_ECLOSED.  0 or the error
 * of close(2); W is closed either way.  Idempotent. */
ptio_ssize ptio_waker_close(struct ptio_waker *w);

/* ---- Signal sources ------------------------------------------------------ */

/*
 * A signal source delivers signals into a loop: a task awaits
 * ptio_signals_next and gets the numbers of the signals that arrived, in
 * order, with no flag to poll and no timer, so an idle loop sleeps in
 * its backend until a signal (or anything else) comes.
 *
 * The design is a self-pipe on every host.  ptio_signals_open installs a
 * handler (sigaction, SA_RESTART) for each signal number it is given,
 * which writes the number as one byte to a non-blocking pipe that the
 * loop watches as an fd stream.  So:
 *
 *  - it works whichever thread the kernel delivers the signal to, and
 *    with threads started later: nothing has to be blocked anywhere (a
 *    signal blocked in every thread is never delivered, as usual);
 *  - every delivery is one number: two different signals sent before
 *    the loop runs are both seen, in the order they were handled, and
 *    the same signal sent twice is seen twice when it was delivered
 *    twice.  The kernel itself merges a standard signal sent again while
 *    it is still pending (blocked, or not yet delivered), and if 64 KiB
 *    of numbers wait unread, later ones are dropped;
 *  - a signal number belongs to one open source in the process at a
 *    time (PTIO_EBUSY otherwise); numbers 1 to 63 except SIGKILL and
 *    SIGSTOP may be taken (PTIO_EINVAL otherwise);
 *  - ptio_signals_close gives each signal back the action it had before
 *    (handler, flags and mask, as sigaction(2) saved them).  The signal
 *    mask is never touched.
 *
 * Threads: as for any stream, open, next and close belong to the loop's
 * thread; the handler may run in any thread.  Close a source when the
 * signals are no longer expected: one that was already being handled in
 * another thread at the moment of the close may be lost.
 */
struct ptio_signals {
	struct ptio_fd rd;   /* first: the pipe's read end */
	int wfd;             /* the pipe's write end, or -1 */
	uint64_t set;        /* bit N: signal N is taken */
};

/* Open S on LOOP for the N signal numbers SIGNOS (a number named twice
 * counts once).  Returns 0, or an error with S closed and every action
 * as it was: PTIO_EINVAL, PTIO_EBUSY (see above), PTIO_EMFILE, ... */
ptio_ssize ptio_signals_open(struct ptio_signals *s, struct ptio_loop *loop,
			     const int *signos, size_t n);

/*
 * ptio_signals_next(op, s) - machine: the number of the next signal that
 * arrived (> 0), waiting for one if none is queued; PTIO_ETIMEDOUT on the
 * task's deadline, PTIO_ECLOSED when S is closed meanwhile.
 */
ptio_ssize ptio_signals_next(struct ptio_op *op, struct ptio_signals *s);

/* The same without waiting: a signal number, or PTIO_WOULD_BLOCK (then
 * await ptio_signals_ready(s) for PTIO_READ). */
ptio_ssize ptio_signals_nb_next(struct ptio_signals *s);

/* The source as a Ready trait object, readable when a signal is queued. */
static inline struct ptio_ready ptio_signals_ready(struct ptio_signals *s)
{
	return ptio_fd_ready(&s->rd);
}

/* Give every signal back its old action, then close the pipe (a waiting
 * task's await fails with PTIO_ECLOSED).  0 or an error from close(2); S
 * is closed either way.  Idempotent. */
ptio_ssize ptio_signals_close(struct ptio_signals *s);

#ifdef __cplusplus
}
#endif

#endif /* PTIO_POSIX_H */
