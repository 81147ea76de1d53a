/*
 * samples/sim/chat-sim.c - a chat room's protocol tested entirely in
 * simulation, over many seeds, with the testing kit (ptio/sim.h).
 *
 *   chat-sim [SEEDS]       run seeds 1..SEEDS (default 1000)
 *   PTIO_SIM_SEED=n chat-sim --print
 *                          run seed n alone and print its transcript
 *
 * The server mirrors samples/line-chat.c's protocol (a reader task per
 * client with read_line and a bounded line, an idle deadline reset at
 * each line, a writer task draining a per-client outbox, a line that
 * waits up to ROOM_WAIT_MS for room in every outbox, a client whose
 * outbox still overflows is kicked as "slow"), with smaller sizes and its
 * clients in a static pool, over simulated connections instead of
 * sockets.  The clients are tasks too, on the same loop, each one of:
 *
 *   talker   sends a few numbered lines ("m3 ...") with pauses, then
 *            half-closes and reads until the server hangs up;
 *   long     sends a line longer than the maximum, then a short one;
 *   idle     joins and says nothing: the server must kick it after
 *            exactly IDLE_MS of virtual time;
 *   slow     talks but never reads: its outbox fills and it is kicked.
 *
 * The roles, the timings and every fault of every connection (stalls,
 * one-byte transfers, spurious wake-ups, latency, rarely an early end
 * or a reset) come from the seed.  The idle timeout is 30 s; a seed's
 * run takes a couple of virtual minutes and well under a millisecond.
 *
 * Each seed's transcript (the server's log with virtual timestamps, then
 * every byte each client received) is checked against the protocol's
 * rules, and hashed; the program prints one hash over all seeds.  Same
 * seeds, same hash: on every run, every machine and both continuation
 * styles (test/chat-sim-test.sh compares it with chat-sim.expected).
 *
 * Divided into: sizes and state, the transcript, the server, the
 * clients, the checks, a seed's run, main.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ptio.h>
#include <ptio/sim.h>

#define LINE_MAX_BYTES 128   /* a line, "\n" included */
#define OUTBOX_BYTES 512
#define IDLE_MS 30000u       /* a tick is a millisecond */
#define ROOM_WAIT_MS 500u    /* a line's wait for room in the outboxes */
#define MAX_CLIENTS 4
#define PIPE_BYTES 256       /* each direction of a connection */
#define RX_BYTES 8192        /* what a client keeps of what it got */
#define LOG_BYTES 4096

/* ---- Sizes and state --------------------------------------------------------- */

enum role { TALKER, LONG, IDLE, SLOW };
static const char *const role_name[] = { "talker", "long", "idle", "slow" };

/* The server's side of one client, as in line-chat.c. */
struct sclient {
	struct ptio_timed_task reader;   /* timed: the idle deadline */
	struct ptio_timed_task writer;   /* timed: a kick ends its write */
	struct ptio_op rop, wop;
	struct ptio_waiter roomw;        /* the reader's wait for room */
	struct ptio_sim_end *end;
	struct ptio_readbuf line;
	unsigned id;
	bool used, closing, reader_done, kicked;
	const char *why;
	ptio_tick idle_from;             /* when the deadline was last set */
	size_t head, len, wlen;          /* the outbox ring */
	uint8_t linebuf[LINE_MAX_BYTES];
	uint8_t out[OUTBOX_BYTES];
};

/* A simulated user: a sender and (unless slow) a receiver task. */
struct user {
	struct ptio_timed_task sender;
	struct ptio_task receiver;
	struct ptio_op sop, rop;
	struct ptio_sim_duplex conn;
	enum role role;
	unsigned k, nlines;              /* lines sent, lines to send */
	uint32_t join_at;
	bool rx_done;
	char msg[LINE_MAX_BYTES * 2];
	size_t msg_len;
	size_t rx_len;
	uint8_t rx[RX_BYTES];
	uint8_t rtmp[200];
	uint8_t pipes[2 * PIPE_BYTES];
};

static struct {
	struct ptio_sim sim;
	struct ptio_sim_event ev[64];
	struct ptio_loop loop;
	struct ptio_notify room;         /* broadcast when an outbox drains */
	struct sclient sc[MAX_CLIENTS];
	struct user users[MAX_CLIENTS];
	unsigned nusers, next_id;
	char log[LOG_BYTES];
	size_t log_len;
	const char *failure;
} w;

/* ---- The transcript --------------------------------------------------------- */

static void log_line(const char *fmt, ...) PTIO_PRINTF(1, 2);
static void log_line(const char *fmt, ...)
{
	va_list ap;
	ptio_ssize n;

	va_start(ap, fmt);
	n = ptio_vformat_buf(w.log + w.log_len, LOG_BYTES - w.log_len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < LOG_BYTES - w.log_len)
		w.log_len += (size_t)n;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n-- > 0)
		h = (h ^ *b++) * 0x100000001B3ull;
	return h;
}

static void fail(const char *why)
{
	if (w.failure == NULL)
		w.failure = why;
}

/* ---- The server (line-chat.c's logic) ------------------------------------------- */

/* Hang up on C as soon as its writer runs.  (line-chat.c only wakes the
 * writer, and a writer blocked in write_all toward a client that never
 * reads waits again: simulation seed 21 found that hang.  A deadline of
 * now ends the write at once.) */
static void kick(struct sclient *c, const char *why)
{
	c->kicked = true;
	c->closing = true;
	if (c->why == NULL)
		c->why = why;
	ptio_task_set_deadline(&c->writer, ptio_loop_now(&w.loop));
	ptio_task_wake(&c->writer.task);
}

static void send_to(struct sclient *c, const void *p, size_t n)
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
	ptio_task_wake(&c->writer.task);
}

static void broadcast(const struct sclient *from, const char *p, size_t n)
{
	int i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (w.sc[i].used && &w.sc[i] != from && !w.sc[i].closing)
			send_to(&w.sc[i], p, n);
}

/* True when some client but FROM that is still reading has less room
 * than a relayed line may take. */
static bool outbox_tight(const struct sclient *from)
{
	int i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (w.sc[i].used && &w.sc[i] != from && !w.sc[i].closing &&
		    OUTBOX_BYTES - w.sc[i].len < LINE_MAX_BYTES + 32)
			return true;
	return false;
}

static void sendf(struct sclient *c, const char *fmt, ...) PTIO_PRINTF(2, 3);
static void sendf(struct sclient *c, const char *fmt, ...)
{
	char buf[LINE_MAX_BYTES + 64];
	va_list ap;
	ptio_ssize n;

	va_start(ap, fmt);
	n = ptio_vformat_buf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (c == NULL)
		broadcast(NULL, buf, (size_t)n);
	else
		send_to(c, buf, (size_t)n);
}

static void relay_line(struct sclient *c)
{
	char msg[LINE_MAX_BYTES + 32];
	size_t n = c->line.filled;
	ptio_ssize k;

	if (n > 0 && c->linebuf[n - 1] == '\n')
		n--;
	k = ptio_format(msg, sizeof(msg), "client%u: %.*s\n", c->id, (int)n,
			(const char *)c->linebuf);
	broadcast(c, msg, (size_t)k);
}

static void reader_finished(struct sclient *c, ptio_ssize r)
{
	if (r == PTIO_ETIMEDOUT) {
		if (ptio_loop_now(&w.loop) - c->idle_from != IDLE_MS)
			fail("an idle client was not kicked after exactly "
			     "IDLE_MS");
		sendf(c, "error: idle for %u ms, bye\n", IDLE_MS);
		c->why = "idle";
	} else if (c->why == NULL) {
		c->why = r == 0 ? "quit" : ptio_strerror(r);
	}
	c->reader_done = true;
	c->closing = true;
	ptio_task_wake(&c->writer.task);
}

static ptio_ssize server_reader(struct ptio_task *task)
{
	struct sclient *c = PTIO_CONTAINER_OF(task, struct sclient, reader.task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		ptio_task_set_timeout(&c->reader, IDLE_MS);
		c->idle_from = ptio_loop_now(task->loop);
		ptio_readbuf_clear(&c->line);
		PTIO_AWAIT(&task->pt, r, ptio_read_line(&c->rop,
			ptio_sim_end_bufread(c->end), &c->line, LINE_MAX_BYTES));
		if (r == PTIO_ETOOLONG)
			sendf(c, "error: line longer than %d bytes\n",
			      LINE_MAX_BYTES);
		else if (r <= 0)
			break;
		else {
			/* Room first, as line-chat.c waits for it. */
			if (outbox_tight(c)) {
				ptio_task_set_timeout(&c->reader,
						      ROOM_WAIT_MS);
				while (outbox_tight(c)) {
					PTIO_AWAIT(&task->pt, r,
						   ptio_notify_wait(&c->roomw,
								    &w.room));
					if (r < 0)
						break;
				}
			}
			relay_line(c);
		}
	}
	reader_finished(c, r);
	PTIO_END(&task->pt);
}

/* The client has gone: hang up, log it, tell the others. */
static void client_leave(struct sclient *c)
{
	ptio_tick now = ptio_loop_now(&w.loop);

	if (!c->reader_done) {
		ptio_task_cancel(&c->reader.task);
		c->reader_done = true;
	}
	ptio_sim_end_close(c->end);
	log_line("@%lu leave client%u %s\n", (unsigned long)now, c->id,
	      c->why != NULL ? c->why : "?");
	c->used = false;
	sendf(NULL, "* client%u left\n", c->id);
}

static ptio_ssize server_writer(struct ptio_task *task)
{
	struct sclient *c = PTIO_CONTAINER_OF(task, struct sclient, writer.task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_WAIT_UNTIL(&task->pt, c->len > 0 || c->closing);
		if (c->kicked || c->len == 0)
			break;
		c->wlen = c->len;
		if (c->wlen > OUTBOX_BYTES - c->head)
			c->wlen = OUTBOX_BYTES - c->head;
		PTIO_AWAIT(&task->pt, r, ptio_write_all(&c->wop,
			ptio_sim_end_writer(c->end), c->out + c->head, c->wlen));
		if (r < 0) {
			if (c->why == NULL)
				c->why = ptio_strerror(r);
			break;
		}
		c->head = (c->head + c->wlen) % OUTBOX_BYTES;
		c->len -= c->wlen;
		ptio_notify_broadcast(&w.room);
	}
	client_leave(c);
	PTIO_END(&task->pt);
}

/* A user connects: the server's accept, on END. */
static void server_accept(struct ptio_sim_end *end)
{
	struct sclient *c = NULL;
	int i, online = 0;

	for (i = 0; i < MAX_CLIENTS; i++) {
		if (!w.sc[i].used && c == NULL)
			c = &w.sc[i];
		online += w.sc[i].used;
	}
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->end = end;
	c->id = ++w.next_id;
	ptio_readbuf_init(&c->line, c->linebuf, sizeof(c->linebuf));
	ptio_op_init(&c->rop, &c->reader.task);
	ptio_op_init(&c->wop, &c->writer.task);
	ptio_waiter_init(&c->roomw, &c->reader.task);
	log_line("@%lu join client%u\n", (unsigned long)ptio_loop_now(&w.loop),
	      c->id);
	sendf(NULL, "* client%u joined\n", c->id);
	sendf(c, "* welcome client%u, %d online\n", c->id, online + 1);
	ptio_timed_task_start(&w.loop, &c->reader, server_reader);
	ptio_timed_task_start(&w.loop, &c->writer, server_writer);
}

/* ---- The clients ------------------------------------------------------------------ */

/* The next line U sends, in u->msg. */
static void user_next_line(struct user *u)
{
	struct ptio_sim *sim = &w.sim;
	size_t n, i;

	if (u->role == LONG && u->k == 0) {
		n = LINE_MAX_BYTES + 1 + ptio_sim_below(sim, 100);
		for (i = 0; i < n; i++)
			u->msg[i] = 'x';
	} else {
		n = (size_t)ptio_format(u->msg, sizeof(u->msg), "m%u ", u->k);
		i = n;
		n += 1 + ptio_sim_below(sim, 60);
		for (; i < n; i++)
			u->msg[i] = (char)('a' + ptio_sim_below(sim, 26));
	}
	u->msg[n++] = '\n';
	u->msg_len = n;
	u->k++;
}

static ptio_ssize user_sender(struct ptio_task *task)
{
	struct user *u = PTIO_CONTAINER_OF(task, struct user, sender.task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_sleep(&u->sop, u->join_at));
	server_accept(&u->conn.b);
	while (u->k < u->nlines) {
		PTIO_AWAIT(&task->pt, r, ptio_sleep(&u->sop,
			ptio_sim_below(&w.sim, 8000)));
		user_next_line(u);
		PTIO_AWAIT(&task->pt, r, ptio_write_all(&u->sop,
			ptio_sim_end_writer(&u->conn.a), u->msg, u->msg_len));
		if (r < 0)
			break;
	}
	if (u->role == SLOW) {
		PTIO_AWAIT(&task->pt, r, ptio_sleep(&u->sop, 2 * IDLE_MS));
	} else {
		if (u->role != IDLE)
			ptio_sim_end_shutdown(&u->conn.a);
		PTIO_WAIT_UNTIL(&task->pt, u->rx_done);
	}
	ptio_sim_end_close(&u->conn.a);
	PTIO_END(&task->pt);
}

static ptio_ssize user_receiver(struct ptio_task *task)
{
	struct user *u = PTIO_CONTAINER_OF(task, struct user, receiver);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_read(&u->rop,
			ptio_sim_end_reader(&u->conn.a), u->rtmp,
			sizeof(u->rtmp)));
		if (r <= 0)
			break;
		if ((size_t)r > RX_BYTES - u->rx_len)
			r = (ptio_ssize)(RX_BYTES - u->rx_len);
		memcpy(u->rx + u->rx_len, u->rtmp, (size_t)r);
		u->rx_len += (size_t)r;
	}
	u->rx_done = true;
	ptio_task_wake(&u->sender.task);
	PTIO_END(&task->pt);
}

static void user_start(struct user *u, int i)
{
	struct ptio_sim *sim = &w.sim;
	struct ptio_sim_faults f;

	memset(u, 0, sizeof(*u));
	u->role = i == 0 ? TALKER : (enum role)ptio_sim_below(sim, 4);
	u->nlines = u->role == TALKER || u->role == SLOW ?
		    3 + ptio_sim_below(sim, 20)
		    : u->role == LONG ? 2 : 0;
	u->join_at = ptio_sim_below(sim, 3000);
	ptio_sim_duplex_init(&u->conn, sim, u->pipes, PIPE_BYTES);
	ptio_sim_faults_random(sim, &f);
	ptio_sim_end_set_faults(&u->conn.a, &f);
	ptio_sim_faults_random(sim, &f);
	ptio_sim_end_set_faults(&u->conn.b, &f);
	ptio_op_init(&u->sop, &u->sender.task);
	ptio_op_init(&u->rop, &u->receiver);
	ptio_timed_task_start(&w.loop, &u->sender, user_sender);
	if (u->role != SLOW)
		ptio_task_start(&w.loop, &u->receiver, user_receiver);
}

/* ---- The checks ------------------------------------------------------------------------- */

/* Check one received line against the protocol; LAST[s] is the number
 * of the last "m<k>" line relayed from client s. */
static void check_line(const char *p, size_t n, long *last)
{
	unsigned from, k;
	const char *colon;

	if (n >= 2 && p[0] == '*' && p[1] == ' ')
		return;
	if (n >= 7 && memcmp(p, "error: ", 7) == 0)
		return;
	if (sscanf(p, "client%u: ", &from) != 1 || from > MAX_CLIENTS * 4) {
		fail("a client received a line the protocol does not have");
		return;
	}
	colon = memchr(p, ':', n);
	if (colon == NULL || (size_t)(p + n - colon) > LINE_MAX_BYTES)
		fail("a relayed line is longer than the maximum");
	/* A line cut by an early end of stream is relayed as it is, and
	 * may have lost its number. */
	if (sscanf(p, "client%u: m%u ", &from, &k) != 2)
		return;
	if ((long)k <= last[from])
		fail("lines from one client arrived out of order");
	last[from] = (long)k;
}

static void check_user(struct user *u)
{
	long last[MAX_CLIENTS * 4 + 1];
	size_t i, start = 0;

	for (i = 0; i <= MAX_CLIENTS * 4; i++)
		last[i] = -1;
	for (i = 0; i < u->rx_len; i++) {
		if (u->rx[i] != '\n')
			continue;
		u->rx[i] = '\0';
		check_line((const char *)u->rx + start, i - start, last);
		u->rx[i] = '\n';
		start = i + 1;
	}
}

/* ---- A seed's run ------------------------------------------------------------------------- */

static uint64_t total_hash = 0xCBF29CE484222325ull;
static unsigned long virtual_ms;
static bool print_transcript;

static void transcript_out(uint32_t seed)
{
	unsigned i;

	printf("seed %lu\n%.*s", (unsigned long)seed, (int)w.log_len, w.log);
	for (i = 0; i < w.nusers; i++)
		printf("--- user %u (%s) received %zu bytes:\n%.*s", i,
		       role_name[w.users[i].role], w.users[i].rx_len,
		       (int)w.users[i].rx_len, (const char *)w.users[i].rx);
}

static int run_seed(uint32_t seed, void *ctx)
{
	ptio_ssize r;
	unsigned i;

	(void)ctx;
	memset(&w, 0, sizeof(w));
	ptio_loop_init(&w.loop, ptio_sim_init(&w.sim, 0, seed, w.ev, 64));
	ptio_notify_init(&w.room);
	w.nusers = 2 + ptio_sim_below(&w.sim, MAX_CLIENTS - 1);
	for (i = 0; i < w.nusers; i++)
		user_start(&w.users[i], (int)i);
	r = ptio_loop_run(&w.loop, PTIO_RUN_DEFAULT);
	if (r != 0)
		fail(r == PTIO_SIM_STALL ? "every task is stuck"
					 : "the loop failed");
	if (ptio_loop_registrations(&w.loop) != 0)
		fail("the loop still holds a registration");
	for (i = 0; i < w.nusers; i++)
		check_user(&w.users[i]);
	total_hash = fnv(total_hash, w.log, w.log_len);
	for (i = 0; i < w.nusers; i++)
		total_hash = fnv(total_hash, w.users[i].rx, w.users[i].rx_len);
	virtual_ms += ptio_sim_now(&w.sim);
	if (print_transcript || w.failure != NULL)
		transcript_out(seed);
	if (w.failure != NULL) {
		fprintf(stderr, "chat-sim: %s\n", w.failure);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ptio_sim_seeds s;
	uint32_t count = 1000;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--print") == 0)
			print_transcript = true;
		else
			count = (uint32_t)strtoul(argv[i], NULL, 10);
	}
	ptio_sim_seeds_init(&s, count, getenv("PTIO_SIM_SEED"), NULL);
	if (ptio_sim_seeds_run(&s, run_seed, NULL) != 0) {
		fprintf(stderr, "chat-sim: %s\n", s.message);
		return 1;
	}
	printf("chat-sim: %lu seeds, %lu virtual seconds, transcript hash "
	       "%016llx\n", (unsigned long)s.ran, virtual_ms / 1000,
	       (unsigned long long)total_hash);
	return 0;
}
