/*
 * src/posix/signals.c - signals delivered into a loop as a source (see
 * "Signal sources" in ptio/posix.h).
 *
 * The design is the self-pipe, on every host: a handler installed with
 * sigaction writes the signal's number, one byte, to a non-blocking pipe
 * whose read end the loop watches as an fd stream.  It was chosen over
 * signalfd, which needs the signals blocked in every thread of the
 * process (threads the application or a library starts later included)
 * or they go to a thread that happens to have them unblocked; the
 * handler works whichever thread the kernel picks.
 *
 * Which pipe a signal goes to is a process-wide table, one descriptor per
 * signal number, read by the handler with an atomic load; opening and
 * closing change it under a mutex.
 *
 * Divided into: the table and the handler, opening and closing, the
 * reads.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <ptio/err.h>
#include <ptio/ops.h>
#include "posix/internal.h"

/* ---- The table and the handler ------------------------------------------- */

/* Signal numbers a source may take: 1 to SIGNALS_MAX - 1 (the bits of
 * struct ptio_signals's set). */
#define SIGNALS_MAX 64

/* By signal number: the write end of the pipe it goes to plus one, or 0
 * when no source has it (so that the zeroed table means "none"). */
static int sig_fd[SIGNALS_MAX];
/* By signal number: the action it had before a source took it. */
static struct sigaction sig_old[SIGNALS_MAX];
static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;

/* Async-signal-safe: an atomic load and write(2), with errno kept for
 * the code the signal interrupted. */
static void on_signal(int signo)
{
	int saved = errno;
	int fd = 0;
	uint8_t b = (uint8_t)signo;

	if (signo > 0 && signo < SIGNALS_MAX)
		fd = __atomic_load_n(&sig_fd[signo], __ATOMIC_ACQUIRE);
	/* A full pipe drops the byte: its reader is behind by 64 KiB of
	 * signals already. */
	if (fd > 0 && write(fd - 1, &b, 1) < 0)
		b = 0;
	errno = saved;
}

/* Give SIGNO back its old action; the table forgets it. */
static void signal_release(int signo)
{
	sigaction(signo, &sig_old[signo], NULL);
	__atomic_store_n(&sig_fd[signo], 0, __ATOMIC_RELEASE);
}

/* Route SIGNO to the write end FD; 0, PTIO_EINVAL for a number no
 * source may take, or PTIO_EBUSY when another source has it. */
static ptio_ssize signal_take(int signo, int fd)
{
	struct sigaction sa;

	if (signo <= 0 || signo >= SIGNALS_MAX || signo == SIGKILL ||
	    signo == SIGSTOP)
		return PTIO_EINVAL;
	if (__atomic_load_n(&sig_fd[signo], __ATOMIC_RELAXED) != 0)
		return PTIO_EBUSY;
	/* The table first: a signal that comes the moment the handler is
	 * in place finds its pipe. */
	__atomic_store_n(&sig_fd[signo], fd + 1, __ATOMIC_RELEASE);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* SA_RESTART: the pipe wakes the loop, so nothing else in the
	 * process need see EINTR. */
	sa.sa_flags = SA_RESTART;
	if (sigaction(signo, &sa, &sig_old[signo]) < 0) {
		ptio_ssize r = ptio__errno();

		__atomic_store_n(&sig_fd[signo], 0, __ATOMIC_RELEASE);
		return r;
	}
	return 0;
}

/* ---- Opening and closing ------------------------------------------------- */

/* Take SIGNOS[0..N) for S, whose pipe is open; all or none. */
static ptio_ssize signals_take_all(struct ptio_signals *s,
				   const int *signos, size_t n)
{
	ptio_ssize r = 0;
	size_t i;

	pthread_mutex_lock(&sig_lock);
	for (i = 0; i < n && r == 0; i++) {
		if (signos[i] > 0 && signos[i] < SIGNALS_MAX &&
		    (s->set >> signos[i]) & 1)
			continue; /* named twice */
		r = signal_take(signos[i], s->wfd);
		if (r == 0)
			s->set |= (uint64_t)1 << signos[i];
	}
	if (r < 0)
		for (i = 1; i < SIGNALS_MAX; i++)
			if (s->set & ((uint64_t)1 << i))
				signal_release((int)i);
	pthread_mutex_unlock(&sig_lock);
	if (r < 0)
		s->set = 0;
	return r;
}

ptio_ssize ptio_signals_open(struct ptio_signals *s, struct ptio_loop *loop,
			     const int *signos, size_t n)
{
	int fds[2] = { -1, -1 };
	ptio_ssize r;

	ptio__fd_set_closed(&s->rd, loop);
	s->wfd = -1;
	s->set = 0;
	r = ptio__pipe_nb(fds);
	if (r < 0)
		return r;
	s->wfd = fds[1];
	r = ptio_fd_open(&s->rd, loop, fds[0], 0);
	if (r < 0)
		close(fds[0]);
	else
		r = signals_take_all(s, signos, n);
	if (r < 0) {
		(void)ptio_signals_close(s);
		return r;
	}
	return 0;
}

ptio_ssize ptio_signals_close(struct ptio_signals *s)
{
	ptio_ssize r = 0, c;
	int i;

	/* The handlers go before the pipe, so that no handler writes to a
	 * descriptor that may already be someone else's. */
	pthread_mutex_lock(&sig_lock);
	for (i = 1; i < SIGNALS_MAX; i++)
		if (s->set & ((uint64_t)1 << i))
			signal_release(i);
	pthread_mutex_unlock(&sig_lock);
	s->set = 0;
	if (s->wfd >= 0 && close(s->wfd) < 0)
		r = ptio__errno();
	s->wfd = -1;
	c = ptio_fd_close(&s->rd);
	return r < 0 ? r : c;
}

/* ---- The reads ----------------------------------------------------------- */

ptio_ssize ptio_signals_nb_next(struct ptio_signals *s)
{
	uint8_t b;
	ptio_ssize n = ptio_nb_read(ptio_fd_reader(&s->rd), &b, 1);

	if (n == 0)
		return PTIO_EIO; /* the write end is ours: never */
	return n < 0 ? n : (ptio_ssize)b;
}

ptio_ssize ptio_signals_next(struct ptio_op *op, struct ptio_signals *s)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&op->pt);
	PTIO_NB_AWAIT(&op->pt, op->task, r, ptio_signals_nb_next(s),
		      ptio_fd_ready(&s->rd), PTIO_READ);
	PTIO_END_WITH(&op->pt, r);
}
