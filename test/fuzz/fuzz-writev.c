/*
 * test/fuzz/fuzz-writev.c - write_all_vectored over slices cut from the
 * input, into the scripted writer (fuzz.h), which takes short counts,
 * would-blocks and EINTR from the input too.
 *
 * The input:
 *
 *   byte 0     bits 0-5: the number of slices, 0 to 63 (more than the
 *              machine gathers per write); bit 6: a writer without
 *              nb_write_vectored, so the core's default writes one
 *              slice per call; bit 7: empty slices have NULL bases
 *   one byte per slice: its length, byte & 0x3f, or 0 (empty) when the
 *              byte is 0xc0 or more
 *   the slices' bytes, one after the other (a slice the input runs out
 *              on is shorter)
 *   the rest   the writer's script
 *
 * Each slice is its own allocation of exactly its size, so ASan sees a
 * read past one.  The checks: the writer receives exactly the slices'
 * bytes end to end, in order, with none dropped or repeated when a
 * write ends inside a slice (the tokio#8158 bug); it is never asked to
 * write nothing nor handed an empty slice; the result is the total and
 * ptio_op_done agrees, or, when the script refused a write (0 or EPIPE),
 * the error, with ptio_op_done the bytes that went; and the caller's
 * slices are not modified.
 */
#include <stdlib.h>
#include <string.h>
#include "test/fuzz/fuzz.h"

#define MAX_SLICES 63

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct ptio_iovec iov[MAX_SLICES], copy[MAX_SLICES];
	uint8_t lens[MAX_SLICES], *all, *out;
	uint8_t b0 = fz_byte(&in);
	size_t n = b0 & 0x3F, i, total = 0;
	struct fz_writer w;
	struct ptio_op op;
	const uint8_t *p;
	ptio_ssize r, want;

	for (i = 0; i < n; i++) {
		uint8_t b = fz_byte(&in);

		lens[i] = b >= 0xC0 ? 0 : b & 0x3F;
	}
	all = fz_alloc(64 * (size_t)MAX_SLICES);
	for (i = 0; i < n; i++) {
		size_t k = fz_take(&in, lens[i], &p), j;

		/* Each byte is mixed with its position, so that a byte
		 * dropped and another repeated cannot cancel out. */
		for (j = 0; j < k; j++)
			all[total + j] = (uint8_t)(p[j] ^ ((total + j) * 7 + 1));
		if (k == 0 && (b0 & 0x80)) {
			iov[i] = ptio_iovec_make(NULL, 0);
		} else {
			iov[i] = ptio_iovec_make(fz_alloc(k), k);
			memcpy(iov[i].base, all + total, k);
		}
		total += k;
	}
	memcpy(copy, iov, sizeof(iov[0]) * n);
	out = fz_alloc(total);
	fz_writer_init(&w, &in, out, total, (b0 & 0x40) != 0);
	ptio_op_init(&op, &fz_idle_task);

	FZ_DRIVE(r, ptio_write_all_vectored(&op, fz_writer_write(&w), iov, n),
		 w.ready);

	want = w.refused != 0 ? w.refused : (ptio_ssize)total;
	FZ_CHECK(r == want, "%zu slices, %zu bytes: %s (%zd), expected %s",
		 n, total, ptio_strerror(r), r, ptio_strerror(want));
	FZ_CHECK(w.refused != 0 || w.len == total,
		 "%zu of %zu bytes written", w.len, total);
	FZ_CHECK(ptio_op_done(&op) == w.len, "done %zu, but %zu bytes went",
		 ptio_op_done(&op), w.len);
	FZ_CHECK(memcmp(out, all, w.len) == 0,
		 "the output is not the slices end to end");
	FZ_CHECK(memcmp(copy, iov, sizeof(iov[0]) * n) == 0,
		 "the caller's slices were modified");
	for (i = 0; i < n; i++)
		free(iov[i].base);
	free(out);
	free(all);
	return 0;
}
