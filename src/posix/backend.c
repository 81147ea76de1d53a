/*
 * src/posix/backend.c - choosing a hosted backend at run time (see
 * "Choosing a backend" in ptio/posix.h): by name, from the environment
 * variable PTIO_BACKEND, or the best one the host has.
 *
 * Divided into: the table of backends, and the chooser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ptio/err.h>
#include "posix/internal.h"

/* ---- The backends ------------------------------------------------------- */

static ptio_ssize epoll_start(struct ptio_posix_backend *b,
			      struct ptio_backend **out)
{
	return ptio_epoll_init(&b->u.epoll, out);
}

static void epoll_stop(struct ptio_posix_backend *b)
{
	ptio_epoll_destroy(&b->u.epoll);
}

static ptio_ssize poll_start(struct ptio_posix_backend *b,
			     struct ptio_backend **out)
{
	*out = ptio_poll_init(&b->u.poll);
	return 0;
}

static void poll_stop(struct ptio_posix_backend *b)
{
	ptio_poll_destroy(&b->u.poll);
}

static ptio_ssize select_start(struct ptio_posix_backend *b,
			       struct ptio_backend **out)
{
	return ptio_select_backend_init(&b->u.select, out);
}

static void select_stop(struct ptio_posix_backend *b)
{
	ptio_select_backend_destroy(&b->u.select);
}

static ptio_ssize uring_start(struct ptio_posix_backend *b,
			      struct ptio_backend **out)
{
	return ptio_uring_init(&b->u.uring, out);
}

static void uring_stop(struct ptio_posix_backend *b)
{
	ptio_uring_destroy(&b->u.uring);
}

struct backend_kind {
	const char *name;
	/* Start the backend in B; NULL: not written yet. */
	ptio_ssize (*start)(struct ptio_posix_backend *b,
			    struct ptio_backend **out);
	void (*stop)(struct ptio_posix_backend *b);
};

/* Best first: the default is the first that starts.  A backend that says
 * PTIO_ENOTSUP is not on this host (epoll off Linux) and is passed over
 * in silence.  select comes after poll: it is never better, and it
 * refuses descriptors >= FD_SETSIZE.  uring (io_uring) comes last, so
 * that it is never the default until it has earned it: it is there when
 * named. */
static const struct backend_kind kinds[] = {
	{ "epoll", epoll_start, epoll_stop },
	{ "poll", poll_start, poll_stop },
	{ "select", select_start, select_stop },
	{ "uring", uring_start, uring_stop },
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* ---- The chooser ------------------------------------------------------- */

/* Start kind K in B; 0 or its error. */
static ptio_ssize backend_start(struct ptio_posix_backend *b, size_t k,
				struct ptio_backend **out)
{
	ptio_ssize r;

	if (kinds[k].start == NULL)
		return PTIO_ENOTSUP;
	r = kinds[k].start(b, out);
	if (r < 0)
		return r;
	b->kind = (int)k;
	b->name = kinds[k].name;
	return 0;
}

/* The backend named NAME, and nothing else. */
static ptio_ssize backend_named(struct ptio_posix_backend *b, const char *name,
				struct ptio_backend **out)
{
	size_t k;

	for (k = 0; k < NKINDS; k++)
		if (strcmp(name, kinds[k].name) == 0)
			return backend_start(b, k, out);
	return PTIO_EINVAL;
}

/* The best backend that starts.  One that exists here but failed to start
 * is named in the result, with its error, so that logs say why. */
static ptio_ssize backend_best(struct ptio_posix_backend *b,
			       struct ptio_backend **out)
{
	ptio_ssize r, first_err = 0;
	size_t k, failed = NKINDS;

	for (k = 0; k < NKINDS; k++) {
		r = backend_start(b, k, out);
		if (r == 0)
			break;
		if (r != PTIO_ENOTSUP && failed == NKINDS) {
			failed = k;
			first_err = r;
		}
	}
	if (k == NKINDS)
		return first_err != 0 ? first_err : PTIO_ENOTSUP;
	if (failed < k) {
		snprintf(b->note, sizeof(b->note), "%s (%s failed: %s)",
			 kinds[k].name, kinds[failed].name,
			 ptio_strerror(first_err));
		b->name = b->note;
	}
	return 0;
}

ptio_ssize ptio_posix_backend_init(struct ptio_posix_backend *b,
				   const char *name, struct ptio_backend **out)
{
	struct ptio_backend *be = NULL;
	ptio_ssize r;

	b->kind = -1;
	b->name = NULL;
	b->note[0] = '\0';
	if (name == NULL) {
		name = getenv("PTIO_BACKEND");
		if (name != NULL && name[0] == '\0')
			name = NULL;
	}
	r = name != NULL ? backend_named(b, name, &be)
			 : backend_best(b, &be);
	if (r < 0)
		return r;
	*out = be;
	return 0;
}

void ptio_posix_backend_destroy(struct ptio_posix_backend *b)
{
	if (b->kind >= 0 && (size_t)b->kind < NKINDS)
		kinds[b->kind].stop(b);
	b->kind = -1;
	b->name = NULL;
}

const char *ptio_posix_backend_name(const struct ptio_posix_backend *b)
{
	return b->name != NULL ? b->name : "none";
}
