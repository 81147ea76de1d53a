/*
 * bench/peer-libuv.c - an echo server on libuv, for bench/run.
 *
 *   peer-libuv [--port N] [--host ADDR] [--report-at N]
 *
 * (the options, the reports and the exit status are peer.h's).  Written
 * the way libuv's documentation has it: a uv_tcp_t listener, a
 * heap-allocated uv_tcp_t per connection, uv_read_start with an alloc
 * callback that hands out the one shared buffer (libuv calls it only
 * once the socket is readable, and the bytes are used before the next
 * read), and an echo that tries uv_try_write first, as uv.h suggests for
 * a write that will probably complete at once, and queues only what the
 * socket did not take as a uv_write of a copy, whose request owns the
 * bytes and frees them in the write callback.  So a message costs no
 * malloc unless a client falls behind, and an idle connection holds its
 * handle (and libuv's per-descriptor slot) but no buffer.  uv_signal_t
 * handles turn SIGTERM into a stop and SIGUSR1 into the heap report.
 *
 * Divided into: connections, accepting, stopping and signals, and main.
 */
#include "peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_loop_t *loop;
static uv_tcp_t server;
static uv_signal_t sig_term, sig_int, sig_usr1;

/* ---- Connections --------------------------------------------------------- */

/* A write request that owns the bytes it writes, right after it. */
struct write_req {
	uv_write_t req;  /* first: the callback gets its address */
	uv_buf_t buf;
	char data[];
};

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void)handle;
	(void)suggested;
	buf->base = (char *)peer_buf;
	buf->len = sizeof peer_buf;
}

static void write_cb(uv_write_t *req, int status)
{
	/* A failed write (the client went away) is seen again by the read
	 * side, which closes the connection. */
	(void)status;
	free(req);
}

/* The connection's handle is closed: count it, free it. */
static void conn_closed_cb(uv_handle_t *handle)
{
	int err = (int)(intptr_t)handle->data;

	free(handle);
	peer_conn_closed(err);
}

/* Queue BUF[0..LEN) on CLIENT as a uv_write of a copy: 0 or an error. */
static int write_copy(uv_stream_t *client, const char *buf, size_t len)
{
	struct write_req *wr = malloc(sizeof *wr + len);
	int r;

	if (wr == NULL)
		return UV_ENOMEM;
	memcpy(wr->data, buf, len);
	wr->buf = uv_buf_init(wr->data, (unsigned)len);
	r = uv_write(&wr->req, client, &wr->buf, 1, write_cb);
	if (r != 0)
		free(wr);  /* else write_cb frees it */
	else
		peer_stats.overflows++;
	return r;
}

static void read_cb(uv_stream_t *client, ssize_t nread, const uv_buf_t *buf)
{
	uv_buf_t b;
	int w;

	if (nread > 0) {
		/* UV_EAGAIN: the socket took nothing, or earlier bytes
		 * still wait in libuv's queue (uv_try_write never
		 * overtakes them). */
		b = uv_buf_init(buf->base, (unsigned)nread);
		w = uv_try_write(client, &b, 1);
		if (w == UV_EAGAIN)
			w = 0;
		if (w >= 0 && w < nread)
			w = write_copy(client, buf->base + w,
				       (size_t)(nread - w));
		if (w >= 0)
			return;
		nread = w;
	}
	/* nread 0 is "nothing this time" (EAGAIN): keep reading. */
	if (nread < 0) {
		client->data = (void *)(intptr_t)(nread == UV_EOF ? 0
								 : -nread);
		uv_close((uv_handle_t *)client, conn_closed_cb);
	}
}

/* ---- Accepting ------------------------------------------------------------ */

static void free_cb(uv_handle_t *handle)
{
	free(handle);
}

static void connection_cb(uv_stream_t *listener, int status)
{
	uv_tcp_t *client;

	if (status < 0) {
		fprintf(stderr, "peer-libuv: accept: %s\n",
			uv_strerror(status));
		return;
	}
	client = malloc(sizeof *client);
	if (client == NULL)
		return;
	uv_tcp_init(loop, client);
	if (uv_accept(listener, (uv_stream_t *)client) != 0) {
		uv_close((uv_handle_t *)client, free_cb);
		return;
	}
	peer_conn_opened(sizeof(uv_tcp_t));
	uv_read_start((uv_stream_t *)client, alloc_cb, read_cb);
}

/* ---- Stopping and signals ----------------------------------------------- */

/* Close every handle so that uv_run returns.  Connections still open
 * are freed without being counted as closed: peer_finish reports them. */
static void close_each(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if (uv_is_closing(handle))
		return;
	if (handle->type == UV_TCP && handle != (uv_handle_t *)&server)
		uv_close(handle, free_cb);
	else
		uv_close(handle, NULL);
}

static void stop_cb(uv_signal_t *handle, int signum)
{
	(void)handle;
	(void)signum;
	uv_walk(loop, close_each, NULL);
}

static void report_cb(uv_signal_t *handle, int signum)
{
	(void)handle;
	(void)signum;
	peer_heap_report(sizeof(uv_tcp_t));
}

/* ---- Main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	uv_os_fd_t fd;
	int r;

	peer_setup("libuv", argc, argv);
	loop = uv_default_loop();
	r = uv_ip4_addr(peer_opt.host, (int)peer_opt.port, &addr);
	if (r == 0)
		r = uv_tcp_init(loop, &server);
	if (r == 0)
		r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&server, SOMAXCONN,
			      connection_cb);
	if (r == 0)
		r = uv_fileno((uv_handle_t *)&server, &fd);
	if (r != 0) {
		fprintf(stderr, "peer-libuv: listen on %s:%u: %s\n",
			peer_opt.host, peer_opt.port, uv_strerror(r));
		return 1;
	}
	if (peer_print_port(fd) < 0)
		return 1;
	uv_signal_init(loop, &sig_term);
	uv_signal_start(&sig_term, stop_cb, SIGTERM);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_int, stop_cb, SIGINT);
	uv_signal_init(loop, &sig_usr1);
	uv_signal_start(&sig_usr1, report_cb, SIGUSR1);
	peer_heap_base();
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	return peer_finish();
}
