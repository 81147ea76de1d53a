/*
 * test/install/hello.c - a program built against an installed ptio, the
 * way a user's would be: only <ptio.h>, pkg-config's flags, and the
 * library (shared or static).  One task writes a line into one end of a
 * socketpair, another reads it back with read_line under a deadline; the
 * program prints the line and exits 0.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <ptio.h>

struct writer {
	struct ptio_task task;
	struct ptio_op op;
	struct ptio_fd *fd;
};

struct reader {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct ptio_fd *fd;
	struct ptio_bufreader br;
	uint8_t brbuf[64];
	struct ptio_readbuf line;
	uint8_t linebuf[64];
	ptio_ssize result;
};

static ptio_ssize write_hello(struct ptio_task *t)
{
	struct writer *w = PTIO_CONTAINER_OF(t, struct writer, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&w->op, t);
	PTIO_AWAIT(&t->pt, r, ptio_write_all(&w->op, ptio_fd_writer(w->fd),
					     "hello, installed ptio\n", 22));
	PTIO_END_WITH(&t->pt, r);
}

static ptio_ssize read_hello(struct ptio_task *t)
{
	struct reader *rd = PTIO_CONTAINER_OF(t, struct reader, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&rd->op, t);
	ptio_task_set_timeout(&rd->tt, 5000);
	ptio_bufreader_init(&rd->br, ptio_fd_reader(rd->fd), rd->brbuf,
			    sizeof(rd->brbuf));
	ptio_readbuf_init(&rd->line, rd->linebuf, sizeof(rd->linebuf));
	PTIO_AWAIT(&t->pt, r, ptio_read_line(&rd->op,
					     ptio_bufreader_bufread(&rd->br),
					     &rd->line, sizeof(rd->linebuf)));
	rd->result = r;
	PTIO_END_WITH(&t->pt, r);
}

int main(void)
{
	static struct writer w;
	static struct reader rd;
	struct ptio_poll poll_be;
	struct ptio_loop loop;
	struct ptio_fd a, b;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 1;
	ptio_loop_init(&loop, ptio_poll_init(&poll_be));
	if (ptio_fd_open(&a, &loop, sv[0], 0) < 0 ||
	    ptio_fd_open(&b, &loop, sv[1], 0) < 0)
		return 1;
	w.fd = &a;
	rd.fd = &b;
	ptio_task_start(&loop, &w.task, write_hello);
	ptio_timed_task_start(&loop, &rd.tt, read_hello);
	if (ptio_loop_run(&loop, PTIO_RUN_DEFAULT) != 0)
		return 1;
	ptio_fd_close(&a);
	ptio_fd_close(&b);
	ptio_poll_destroy(&poll_be);
	if (rd.result != 22) {
		fprintf(stderr, "hello: read_line gave %s\n",
			ptio_strerror(rd.result));
		return 1;
	}
	printf("%.*s", (int)rd.line.filled, (const char *)rd.linebuf);
	return 0;
}
