/*
 * test/fake/mem-read.h - an always-ready reader over a byte array.
 *
 * Each nb_read_buf hands out at most nb_max bytes (to force short reads)
 * and records the largest room it was offered and how much of the last
 * readbuf's unfilled region was already initialised, so tests can check
 * that adapters neither over-ask nor over-read.  poll_ready always answers
 * ready, so machines over it finish without suspending.
 */
#ifndef PTIO_TEST_FAKE_MEM_READ_H
#define PTIO_TEST_FAKE_MEM_READ_H

#include <ptio.h>

struct mem_read {
	const uint8_t *data;
	size_t n;          /* bytes in data */
	size_t pos;        /* bytes handed out so far */
	size_t nb_max;     /* the most one call hands out */
	size_t max_room;   /* the largest room a call was offered */
	size_t last_init;  /* initialised unfilled bytes of the last call */
};

/* Reset M over DATA[0..N) and return it as a trait object. */
struct ptio_read mem_reader(struct mem_read *m, const void *data, size_t n,
			    size_t nb_max);

/* A poll_ready that always answers ready for what was asked. */
ptio_ssize mem_ready_now(void *self, struct ptio_task *task,
			 unsigned interest);

#endif /* PTIO_TEST_FAKE_MEM_READ_H */
