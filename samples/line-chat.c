/*
 * samples/line-chat.c - a chat server: every line a client sends goes to
 * every other client.  Use it from nc, socat, or samples/netcat.
 *
 *   line-chat [--port N] [--host ADDR] [--idle MS] [--max-clients N]
 *             [--exit-after N]
 *
 * The first line on stdout is "port N" (the port really bound; --port 0,
 * the default, lets the system pick), the second "backend NAME" (the
 * one PTIO_BACKEND names, or the best the host has).  Then one line per
 * event: "join clientN", "leave clientN REASON".
 *
 * What a client sees: "* welcome clientN, K online" when it connects,
 * "clientM: text" for every line another client sends, "* clientM
 * joined/left", and error lines of its own:
 *
 *   error: line longer than 1024 bytes     (the line is dropped; go on)
 *   error: line is not UTF-8               (likewise)
 *   error: idle for MS ms, bye             (then the server hangs up)
 *   error: server full                     (then the server hangs up)
 *
 * Lines are read with read_line and a maximum of 1 KiB, through a 512-byte
 * BufReader: a client that sends an endless line costs the server those
 * buffers and nothing more, gets one error line, and is hung up on by the
 * idle timeout if it never ends the line.  The idle timeout (--idle,
 * default 60000 ms, 0 for none) is a deadline on the client's reading
 * task, reset at each line.
 *
 * Each client is two tasks on one socket: a reader (read_line, then
 * broadcast) and a writer that sends the client's outbox, a 16 KiB ring.
 * Broadcasting only appends to outboxes and wakes the writers, so one
 * slow client never holds up the others; a client whose outbox would
 * overflow is disconnected instead ("leave clientN slow").  Before it
 * relays a line that might not fit some outbox, a reader waits for the
 * writers to make room, for half a second at most (ROOM_WAIT_MS; the
 * sender's bytes wait in its socket meanwhile, so TCP holds it back):
 * bursts, from one client or many at once, reach every client that
 * reads, and a client is kicked only when its outbox stayed full that
 * long.  So a client that stops reading holds the senders up once, for
 * half a second, and is then dropped.  A client that
 * stops reading is dropped at the latest by its idle deadline, even when
 * its writer is blocked in write_all on the full socket: the writer is
 * aborted (ptio_task_abort), its write_all returns PTIO_ECANCELED, and it
 * hangs up.  (Waking it would only make it wait for the socket again.)
 *
 * --exit-after N: stop accepting after N clients have left, and exit
 * once the rest have gone (for tests).  The exit status is 0, or 1 on a
 * setup error.
 *
 * Divided into: options and state, outboxes and broadcasting, the reader,
 * the writer and the reaper, accepting, main.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ptio.h>

#define LINE_MAX_BYTES 1024   /* a line, "\n" included */
#define OUTBOX_BYTES 16384
#define ROOM_WAIT_MS 500      /* how long a line waits for room in an
				 outbox before its owner is kicked */

/* ---- Options and state -------------------------------------------------------- */

static struct {
	const char *host;
	unsigned port;
	uint32_t idle_ms;
	size_t max_clients;
	size_t exit_after;
} opt = { "127.0.0.1", 0, 60000, 64, 0 };

struct client {
	struct ptio_timed_task reader;  /* timed: the idle deadline */
	struct ptio_task writer;
	struct ptio_op rop, wop;
	struct ptio_waiter roomw; /* the reader's wait for outbox room */
	struct ptio_fd fd;
	struct ptio_bufreader br;
	struct ptio_readbuf line;
	unsigned id;
	bool closing;       /* no more reading; the writer drains and ends */
	bool reader_done;
	bool kicked;        /* drop the outbox, hang up at once */
	bool writing;       /* the writer is in write_all */
	const char *why;    /* the reason logged when it leaves */
	size_t head, len;   /* the outbox holds out[head, head + len) mod size */
	size_t wlen;        /* bytes of the write in progress */
	struct client *next, **pprev;
	uint8_t brbuf[512];
	uint8_t linebuf[LINE_MAX_BYTES];
	uint8_t out[OUTBOX_BYTES];
};

static struct {
	struct ptio_posix_backend backend;
	struct ptio_loop loop;
	struct ptio_fd listener;
	struct ptio_timed_task accept_task;  /* timed: it backs off */
	struct ptio_op accept_op;
	struct client *clients;
	struct client *dead;        /* gone, to be freed by the reaper */
	struct ptio_notify room;    /* broadcast when an outbox drains */
	struct ptio_task reaper;
	size_t nclients;
	size_t left;
	unsigned next_id;
	bool accepting;
} chat;

/* ---- Outboxes and broadcasting ------------------------------------------------- */

/* Hang up on C as soon as its writer runs: abort it, since it may be
 * blocked in write_all on a client that no longer reads. */
static void kick(struct client *c, const char *why)
{
	c->kicked = true;
	c->closing = true;
	if (c->why == NULL)
		c->why = why;
	ptio_task_abort(&c->writer);
}

/* Queue N bytes for C; a client that cannot take them is kicked. */
static void send_to(struct client *c, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	if (c->kicked)
		return;
	if (n > OUTBOX_BYTES - c->len) {
		kick(c, "slow");
		return;
	}
	for (i = 0; i < n; i++)
		c->out[(c->head + c->len + i) % OUTBOX_BYTES] = b[i];
	c->len += n;
	ptio_task_wake(&c->writer);
}

/* Format a line and queue it for C. */
static void sendf(struct client *c, const char *fmt, ...) PTIO_PRINTF(2, 3);
static void sendf(struct client *c, const char *fmt, ...)
{
	char buf[LINE_MAX_BYTES + 64];
	ptio_ssize n;
	va_list ap;

	va_start(ap, fmt);
	n = ptio_vformat_buf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		send_to(c, buf, (size_t)n < sizeof(buf) ? (size_t)n
							 : sizeof(buf) - 1);
}

/* Queue N bytes at P for every client but FROM that is still reading. */
static void broadcast(const struct client *from, const void *p, size_t n)
{
	struct client *c, *next;

	for (c = chat.clients; c != NULL; c = next) {
		next = c->next;
		if (c != from && !c->closing)
			send_to(c, p, n);
	}
}

/* True when some client but FROM that is still reading has less room
 * than a relayed line may take (a full line and its "clientN: "). */
static bool outbox_tight(const struct client *from)
{
	const struct client *c;

	for (c = chat.clients; c != NULL; c = c->next)
		if (c != from && !c->closing &&
		    OUTBOX_BYTES - c->len < LINE_MAX_BYTES + 32)
			return true;
	return false;
}

/* ---- The reader ----------------------------------------------------------------------- */

/* Pass a line from C on to the others, as "clientN: text\n".  The text
 * is copied by its length, not formatted with "%.*s", which would stop at
 * a NUL byte: a line is bytes, and every one of them is passed on. */
static void relay_line(struct client *c)
{
	char msg[LINE_MAX_BYTES + 32];
	size_t n = c->line.filled;
	ptio_ssize k;

	if (n > 0 && c->linebuf[n - 1] == '\n')
		n--;
	k = ptio_format(msg, sizeof(msg), "client%u: ", c->id);
	if (k <= 0 || (size_t)k + n + 1 > sizeof(msg))
		return;
	memcpy(msg + k, c->linebuf, n);
	msg[(size_t)k + n] = '\n';
	broadcast(c, msg, (size_t)k + n + 1);
}

/* Tell the others C has gone. */
static void announce_left(struct client *c)
{
	char msg[64];
	ptio_ssize k = ptio_format(msg, sizeof(msg), "* client%u left\n",
				   c->id);

	broadcast(c, msg, (size_t)k);
}

/* The reader's last words: say why, and let the writer drain and end. */
static void reader_finished(struct client *c, ptio_ssize r)
{
	if (r == PTIO_ETIMEDOUT) {
		c->why = "idle";
		sendf(c, "error: idle for %lu ms, bye\n",
		      (unsigned long)opt.idle_ms);
		/* A writer still in write_all has a full socket: the client
		 * reads no more than it writes, and the bye cannot reach it. */
		if (c->writing)
			kick(c, "idle");
	} else if (c->why == NULL) {
		c->why = r == 0 ? "quit" : ptio_strerror(r);
	}
	c->reader_done = true;
	c->closing = true;
	ptio_task_wake(&c->writer);
	announce_left(c);
}

static ptio_ssize reader_task(struct ptio_task *task)
{
	struct client *c = PTIO_CONTAINER_OF(task, struct client, reader.task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		if (opt.idle_ms > 0)
			ptio_task_set_timeout(&c->reader, opt.idle_ms);
		else
			ptio_task_clear_deadline(&c->reader);
		ptio_readbuf_clear(&c->line);
		PTIO_AWAIT(&task->pt, r, ptio_read_line(&c->rop,
			ptio_bufreader_bufread(&c->br), &c->line,
			LINE_MAX_BYTES));
		if (r == PTIO_ETOOLONG)
			sendf(c, "error: line longer than %d bytes\n",
			      LINE_MAX_BYTES);
		else if (r == PTIO_EILSEQ)
			sendf(c, "error: line is not UTF-8\n");
		else if (r <= 0)
			break;
		else {
			/* Bursts of lines, from this client or several at
			 * once, arrive faster than the writers send them:
			 * before a line that might not fit some outbox, wait
			 * for the writers to make room (this client's bytes
			 * wait in its socket meanwhile), for ROOM_WAIT_MS at
			 * most.  A client whose outbox has no room by then is
			 * not reading, and relay_line kicks it. */
			if (outbox_tight(c)) {
				ptio_task_set_timeout(&c->reader,
						      ROOM_WAIT_MS);
				while (outbox_tight(c)) {
					PTIO_AWAIT(&task->pt, r,
						   ptio_notify_wait(&c->roomw,
								    &chat.room));
					if (r < 0) /* the time is up */
						break;
				}
			}
			relay_line(c);
		}
	}
	reader_finished(c, r);
	PTIO_END(&task->pt);
}

/* ---- The writer and the reaper -------------------------------------------------------------- */

/*
 * The client has gone: close it and put it on the dead list.  Its memory
 * cannot be freed here, by its own writer task: the task struct is part
 * of it, and the machine still writes its continuation on the way out.
 * The reaper frees it in the next round, when the writer has finished.
 */
static void client_bury(struct client *c)
{
	if (!c->reader_done) {
		/* The writer failed first: the reader is waiting on the
		 * socket; stop it before the memory goes.  (Not through
		 * reader_finished: that wakes this writer, which is about to
		 * be freed.) */
		ptio_task_cancel(&c->reader.task);
		c->reader_done = true;
		announce_left(c);
	}
	(void)ptio_fd_close(&c->fd);
	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	chat.nclients--;
	chat.left++;
	printf("leave client%u %s\n", c->id, c->why != NULL ? c->why : "?");
	fflush(stdout);
	if (opt.exit_after > 0 && chat.left >= opt.exit_after &&
	    chat.accepting) {
		chat.accepting = false;
		ptio_task_cancel(&chat.accept_task.task);
		(void)ptio_fd_close(&chat.listener);
	}
	c->next = chat.dead;
	chat.dead = c;
	ptio_task_wake(&chat.reaper);
}

/* Free the dead clients, until the server is closed and none are left. */
static ptio_ssize reaper_task(struct ptio_task *task)
{
	struct client *c;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_WAIT_UNTIL(&task->pt, chat.dead != NULL ||
				(!chat.accepting && chat.nclients == 0));
		while ((c = chat.dead) != NULL) {
			chat.dead = c->next;
			free(c);
		}
		if (!chat.accepting && chat.nclients == 0)
			break;
	}
	PTIO_END(&task->pt);
}

/* Send the outbox, in contiguous pieces, until the client is closing and
 * the outbox is empty (or it is kicked); then hang up. */
static ptio_ssize writer_task(struct ptio_task *task)
{
	struct client *c = PTIO_CONTAINER_OF(task, struct client, writer);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_WAIT_UNTIL(&task->pt, c->len > 0 || c->closing);
		if (c->kicked || c->len == 0)
			break;
		c->wlen = c->len;
		if (c->wlen > OUTBOX_BYTES - c->head)
			c->wlen = OUTBOX_BYTES - c->head;
		c->writing = true;
		PTIO_AWAIT(&task->pt, r, ptio_write_all(&c->wop,
			ptio_fd_writer(&c->fd), c->out + c->head, c->wlen));
		c->writing = false;
		if (r < 0) {
			if (c->why == NULL)
				c->why = ptio_strerror(r);
			break;
		}
		c->head = (c->head + c->wlen) % OUTBOX_BYTES;
		c->len -= c->wlen;
		ptio_notify_broadcast(&chat.room); /* readers waiting for room */
	}
	client_bury(c);
	PTIO_END(&task->pt);
}

/* ---- Accepting -------------------------------------------------------------------------- */

static void client_start(int fd)
{
	struct client *c = calloc(1, sizeof(*c));
	ptio_ssize r;
	char msg[64];

	if (c == NULL || (r = ptio_fd_open(&c->fd, &chat.loop, fd, 0)) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->id = ++chat.next_id;
	c->next = chat.clients;
	c->pprev = &chat.clients;
	if (c->next != NULL)
		c->next->pprev = &c->next;
	chat.clients = c;
	chat.nclients++;
	ptio_bufreader_init(&c->br, ptio_fd_reader(&c->fd), c->brbuf,
			    sizeof(c->brbuf));
	ptio_readbuf_init(&c->line, c->linebuf, sizeof(c->linebuf));
	ptio_op_init(&c->rop, &c->reader.task);
	ptio_op_init(&c->wop, &c->writer);
	ptio_waiter_init(&c->roomw, &c->reader.task);
	ptio_timed_task_start(&chat.loop, &c->reader, reader_task);
	ptio_task_start(&chat.loop, &c->writer, writer_task);
	printf("join client%u\n", c->id);
	fflush(stdout);
	if (chat.nclients > opt.max_clients) {
		sendf(c, "error: server full\n");
		c->reader_done = true; /* never started reading anything */
		ptio_task_cancel(&c->reader.task);
		c->closing = true;
		c->why = "full";
		return;
	}
	sendf(c, "* welcome client%u, %zu online\n", c->id, chat.nclients);
	r = ptio_format(msg, sizeof(msg), "* client%u joined\n", c->id);
	broadcast(c, msg, (size_t)r);
}

static ptio_ssize accept_task(struct ptio_task *task)
{
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	while (chat.accepting) {
		PTIO_AWAIT(&task->pt, r, ptio_tcp_accept(&chat.accept_op,
							 &chat.listener));
		if (r >= 0) {
			client_start((int)r);
		} else if (r == PTIO_EMFILE || r == PTIO_ENFILE) {
			/* Out of descriptors: back off instead of spinning
			 * on a listener that stays readable. */
			PTIO_AWAIT(&task->pt, r, ptio_sleep(&chat.accept_op,
							    100));
		} else {
			fprintf(stderr, "line-chat: accept: %s\n",
				ptio_strerror(r));
			break;
		}
	}
	/* Serve the clients there are, then end. */
	chat.accepting = false;
	ptio_task_wake(&chat.reaper);
	PTIO_END(&task->pt);
}

/* ---- main ---------------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: line-chat [--port N] [--host ADDR] "
			"[--idle MS] [--max-clients N] [--exit-after N]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'h' },
		{ "idle", required_argument, NULL, 'i' },
		{ "max-clients", required_argument, NULL, 'm' },
		{ "exit-after", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 'p')
			opt.port = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'h')
			opt.host = optarg;
		else if (c == 'i')
			opt.idle_ms = (uint32_t)strtoul(optarg, NULL, 10);
		else if (c == 'm')
			opt.max_clients = strtoul(optarg, NULL, 10);
		else if (c == 'x')
			opt.exit_after = strtoul(optarg, NULL, 10);
		else
			usage();
	}
	if (optind != argc || opt.port > 65535)
		usage();
}

int main(int argc, char **argv)
{
	struct ptio_backend *be;
	ptio_ssize r;

	parse_args(argc, argv);
	r = ptio_posix_backend_init(&chat.backend, NULL, &be);
	if (r < 0) {
		fprintf(stderr, "line-chat: backend: %s\n", ptio_strerror(r));
		return 1;
	}
	ptio_loop_init(&chat.loop, be);
	ptio_notify_init(&chat.room);
	/* Out of descriptors, a client is closed at once rather than left
	 * in the backlog with no answer (accept_task then backs off). */
	r = ptio_tcp_reserve_fd(true);
	if (r >= 0)
		r = ptio_tcp_listen(&chat.listener, &chat.loop, opt.host,
				    (uint16_t)opt.port, 64);
	if (r < 0) {
		fprintf(stderr, "line-chat: listen: %s\n", ptio_strerror(r));
		return 1;
	}
	printf("port %zd\nbackend %s\n", ptio_tcp_port(&chat.listener),
	       ptio_posix_backend_name(&chat.backend));
	fflush(stdout);
	chat.accepting = true;
	ptio_op_init(&chat.accept_op, &chat.accept_task.task);
	ptio_timed_task_start(&chat.loop, &chat.accept_task, accept_task);
	ptio_task_start(&chat.loop, &chat.reaper, reaper_task);
	r = ptio_loop_run(&chat.loop, PTIO_RUN_DEFAULT);
	(void)ptio_fd_close(&chat.listener);
	ptio_posix_backend_destroy(&chat.backend);
	if (r < 0) {
		fprintf(stderr, "line-chat: %s\n", ptio_strerror(r));
		return 1;
	}
	return 0;
}
