/*
 * samples/netcat.c - a small netcat: stdin to a TCP socket and the socket
 * to stdout, at the same time.
 *
 *   netcat [-v] [-w MS] HOST PORT        connect to HOST (numeric) PORT
 *   netcat -l [-v] [-w MS] [HOST] PORT   wait for one connection on HOST
 *                                        (default 127.0.0.1) PORT, 0 for
 *                                        any free port
 *
 * -v first says on stderr which backend the loop runs on ("backend
 * NAME": the one PTIO_BACKEND names, or the best the host has).  Then,
 * in listen mode, the next line on stderr is "listening on HOST PORT"
 * with the port really bound.  -w MS gives up when connecting (or
 * waiting for the connection) takes longer.
 *
 * This is the seed's "concurrent reading and writing of a single
 * resource": once connected, two tasks share the one socket stream, one
 * reading it (socket to stdout) and one writing it (stdin to socket).
 * Each holds one of the stream's two waiter slots, so neither ever waits
 * for the other.  stdin and stdout are streams too, so a slow terminal or
 * a full pipe only ever stalls its own direction.
 *
 * How it ends, like OpenBSD nc -N: at end of stdin the socket's write side
 * is shut down (the peer reads end of stream), and netcat keeps copying
 * the socket to stdout until the peer closes.  When the peer closes first,
 * netcat sends what stdin has without waiting for more: a file to its
 * end, a pipe until it runs dry, nothing more from an idle terminal or
 * pipe.  When writing to stdout fails (a broken pipe) or the socket
 * errs, the upload is aborted (ptio_task_abort) even if it is blocked
 * sending to a peer that has stopped reading, so netcat exits.  The exit
 * status is 0, or 1 after any error (reported on stderr).
 *
 * Divided into: state, the two directions, setting up, main.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ptio.h>

/* ---- State ----------------------------------------------------------------- */

static struct {
	bool listen;
	bool verbose;
	const char *host;
	unsigned port;
	uint32_t wait_ms;  /* 0: no limit */
} opt = { false, false, NULL, 0, 0 };

static struct {
	struct ptio_posix_backend backend;
	struct ptio_loop loop;
	struct ptio_fd listener, sock, in, out;
	struct ptio_timed_task setup;  /* connects or accepts; timed for -w */
	struct ptio_task up;           /* stdin to socket */
	struct ptio_task down;         /* socket to stdout */
	struct ptio_op setup_op, up_op, down_op;
	bool up_reading;     /* up is in its read of stdin, holding no data */
	bool up_done, down_done, peer_done;
	bool down_failed;    /* down ended with an error */
	int status;
	size_t up_len, down_len;
	uint8_t up_buf[16384], down_buf[16384];
} nc;

static void fail(const char *what, ptio_ssize err)
{
	fprintf(stderr, "netcat: %s: %s\n", what, ptio_strerror(err));
	nc.status = 1;
}

/* Both directions are over: let go of everything, so the loop ends. */
static void finish_if_done(void)
{
	if (!nc.up_done || !nc.down_done)
		return;
	(void)ptio_fd_close(&nc.sock);
	(void)ptio_fd_close(&nc.in);
	(void)ptio_fd_close(&nc.out);
}

/* ---- The two directions ------------------------------------------------------ */

/* stdin to the socket, then shut the socket's write side down.  Once
 * the peer has closed, stdin is only read while it has bytes ready. */
static ptio_ssize up_task(struct ptio_task *task)
{
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		if (!nc.peer_done) {
			nc.up_reading = true;
			PTIO_AWAIT(&task->pt, r, ptio_read(&nc.up_op,
				ptio_fd_reader(&nc.in), nc.up_buf,
				sizeof(nc.up_buf)));
			nc.up_reading = false;
			/* Aborted by down at the peer's close: ptio_read
			 * returns as soon as it has read anything, so nothing
			 * was read, and whatever stdin holds is sent below. */
			if (r == PTIO_ECANCELED && !nc.down_failed)
				continue;
		} else {
			r = ptio_fd_nb_read(&nc.in, nc.up_buf,
					    sizeof(nc.up_buf));
			if (r == PTIO_WOULD_BLOCK)
				break; /* nothing more without waiting */
		}
		if (r == 0)
			break;
		if (r < 0) {
			if (r != PTIO_ECANCELED) /* aborted by down */
				fail("reading stdin", r);
			break;
		}
		nc.up_len = (size_t)r; /* the argument must survive the await */
		PTIO_AWAIT(&task->pt, r, ptio_write_all(&nc.up_op,
			ptio_fd_writer(&nc.sock), nc.up_buf, nc.up_len));
		if (r < 0) {
			if (r != PTIO_ECANCELED)
				fail("sending", r);
			break;
		}
	}
	if (!nc.peer_done)
		(void)ptio_fd_shutdown_write(&nc.sock);
	nc.up_done = true;
	finish_if_done();
	PTIO_END(&task->pt);
}

/* The socket to stdout, until the peer closes. */
static ptio_ssize down_task(struct ptio_task *task)
{
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_read(&nc.down_op,
			ptio_fd_reader(&nc.sock), nc.down_buf,
			sizeof(nc.down_buf)));
		if (r == 0)
			break;
		if (r < 0) {
			fail("receiving", r);
			nc.down_failed = true;
			break;
		}
		nc.down_len = (size_t)r;
		PTIO_AWAIT(&task->pt, r, ptio_write_all(&nc.down_op,
			ptio_fd_writer(&nc.out), nc.down_buf, nc.down_len));
		if (r < 0) {
			fail("writing stdout", r);
			nc.down_failed = true;
			break;
		}
	}
	nc.peer_done = true;
	/* After an error, stop the other direction wherever it is: it ends
	 * its await with PTIO_ECANCELED and finishes.  After the peer's
	 * close, stop only its read of stdin, where it holds nothing (it
	 * may be waiting for stdin, or only for its turn with stdin ready):
	 * it then sends what stdin has without waiting for more.  Sending
	 * what it already read goes on. */
	if (!nc.up_done && (nc.down_failed || nc.up_reading))
		ptio_task_abort(&nc.up);
	nc.down_done = true;
	finish_if_done();
	PTIO_END(&task->pt);
}

/* ---- Setting up ---------------------------------------------------------------- */

static void start_directions(void)
{
	ptio_ssize r;

	r = ptio_fd_open(&nc.in, &nc.loop, 0, PTIO_FD_NOCLOSE);
	if (r == 0)
		r = ptio_fd_open(&nc.out, &nc.loop, 1, PTIO_FD_NOCLOSE);
	if (r < 0) {
		fail("stdin/stdout", r);
		(void)ptio_fd_close(&nc.in);
		(void)ptio_fd_close(&nc.sock);
		return;
	}
	ptio_op_init(&nc.up_op, &nc.up);
	ptio_op_init(&nc.down_op, &nc.down);
	ptio_task_start(&nc.loop, &nc.up, up_task);
	ptio_task_start(&nc.loop, &nc.down, down_task);
}

/* Connect, or accept one connection, then hand over to the two
 * directions. */
static ptio_ssize setup_task(struct ptio_task *task)
{
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	if (opt.wait_ms > 0)
		ptio_task_set_timeout(&nc.setup, opt.wait_ms);
	if (opt.listen) {
		PTIO_AWAIT(&task->pt, r, ptio_tcp_accept(&nc.setup_op,
							 &nc.listener));
		(void)ptio_fd_close(&nc.listener);
		if (r >= 0)
			r = ptio_fd_open(&nc.sock, &nc.loop, (int)r, 0);
	} else {
		PTIO_AWAIT(&task->pt, r, ptio_tcp_connect(&nc.setup_op,
			&nc.sock, &nc.loop, opt.host, (uint16_t)opt.port));
	}
	if (r < 0) {
		fail(opt.listen ? "accepting" : "connecting", r);
		PTIO_RETURN(&task->pt, r);
	}
	start_directions();
	PTIO_END(&task->pt);
}

/* ---- main ------------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr, "usage: netcat [-v] [-w MS] HOST PORT\n"
			"       netcat -l [-v] [-w MS] [HOST] PORT\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int c;
	char *end;

	while ((c = getopt(argc, argv, "lvw:")) != -1) {
		if (c == 'l')
			opt.listen = true;
		else if (c == 'v')
			opt.verbose = true;
		else if (c == 'w')
			opt.wait_ms = (uint32_t)strtoul(optarg, NULL, 10);
		else
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc == 2) {
		opt.host = argv[0];
		argv++;
	} else if (argc != 1 || !opt.listen) {
		usage();
	}
	opt.port = (unsigned)strtoul(argv[0], &end, 10);
	if (*end != '\0' || opt.port > 65535)
		usage();
	if (opt.host == NULL)
		opt.host = "127.0.0.1";
}

int main(int argc, char **argv)
{
	struct ptio_backend *be;
	ptio_ssize r;

	parse_args(argc, argv);
	r = ptio_posix_backend_init(&nc.backend, NULL, &be);
	if (r < 0) {
		fail("backend", r);
		return 1;
	}
	if (opt.verbose)
		fprintf(stderr, "backend %s\n",
			ptio_posix_backend_name(&nc.backend));
	ptio_loop_init(&nc.loop, be);
	/* Every stream starts closed (a failed open leaves it so), so that
	 * closing one that was never opened does nothing. */
	(void)ptio_fd_open(&nc.listener, &nc.loop, -1, 0);
	(void)ptio_fd_open(&nc.sock, &nc.loop, -1, 0);
	(void)ptio_fd_open(&nc.in, &nc.loop, -1, 0);
	(void)ptio_fd_open(&nc.out, &nc.loop, -1, 0);
	if (opt.listen) {
		r = ptio_tcp_listen(&nc.listener, &nc.loop, opt.host,
				    (uint16_t)opt.port, 1);
		if (r < 0) {
			fail("listening", r);
			return 1;
		}
		fprintf(stderr, "listening on %s %zd\n", opt.host,
			ptio_tcp_port(&nc.listener));
		fflush(stderr);
	}
	ptio_op_init(&nc.setup_op, &nc.setup.task);
	ptio_timed_task_start(&nc.loop, &nc.setup, setup_task);
	r = ptio_loop_run(&nc.loop, PTIO_RUN_DEFAULT);
	if (r != 0)
		fail("loop", r < 0 ? r : PTIO_EIO);
	(void)ptio_fd_close(&nc.listener);
	ptio_posix_backend_destroy(&nc.backend);
	return nc.status;
}
