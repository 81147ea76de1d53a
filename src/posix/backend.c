/*
 * src/posix/backend.c - choosing a hosted backend at run time (see
 * "Choosing a backend" in ptio/posix.h): by name, from the environment
 * variable PTIO_BACKEND, or the best one the host has.
 *
 * Divided into: the table of backends, and the chooser.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#endif
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

/* Why the kernel refused io_uring (-EPERM, -ENOSYS, ...), right after a
 * start that said PTIO_ENOTSUP; 0 when this build has no liburing. */
static ptio_ssize uring_refused(const struct ptio_posix_backend *b)
{
	return b->u.uring.refused;
}

/* Under valgrind, which (3.19) does not follow io_uring's shared rings:
 * the default then passes io_uring over, so that a program run under
 * valgrind works as it does on epoll. */
static bool uring_skip(void)
{
	const char *pre;

#if defined(HAVE_VALGRIND_VALGRIND_H) && defined(RUNNING_ON_VALGRIND)
	if (RUNNING_ON_VALGRIND)
		return true;
#endif
	/* Without the header: valgrind preloads its vgpreload objects. */
	pre = getenv("LD_PRELOAD");
	return pre != NULL && strstr(pre, "vgpreload") != NULL;
}

struct backend_kind {
	const char *name;
	/* Start the backend in B; NULL: not written yet. */
	ptio_ssize (*start)(struct ptio_posix_backend *b,
			    struct ptio_backend **out);
	void (*stop)(struct ptio_posix_backend *b);
	/* Optional: after a start that said PTIO_ENOTSUP, why the system
	 * refused a backend this build has (0: it is not built in). */
	ptio_ssize (*refused)(const struct ptio_posix_backend *b);
	/* Optional: true when the default must pass this backend over. */
	bool (*skip)(void);
};

/* Best first: the default is the first that starts.  A backend that says
 * PTIO_ENOTSUP is not in this build or on this host (epoll off Linux,
 * uring without liburing) and is passed over in silence; one the kernel
 * refuses (io_uring disabled by sysctl or seccomp, or too old) or that
 * fails to start is passed over too, and the fallback says why.
 * uring (io_uring) first: a busy stream costs no system call of its own
 * for readiness, and the completion streams need it.  select comes after
 * poll: it is never better, and it refuses descriptors >= FD_SETSIZE. */
static const struct backend_kind kinds[] = {
	{ "uring", uring_start, uring_stop, uring_refused, uring_skip },
	{ "epoll", epoll_start, epoll_stop, NULL, NULL },
	{ "poll", poll_start, poll_stop, NULL, NULL },
	{ "select", select_start, select_stop, NULL, NULL },
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

/* Try kind K for the default: 0 when it started; else why it was passed
 * over, in *HOW ("failed", "refused", "skipped") and the result: its
 * error, the kernel's reason for a refusal, PTIO_ENOTSUP when it was
 * skipped, or 0 with *HOW NULL when this build or host simply lacks it. */
static ptio_ssize backend_try(struct ptio_posix_backend *b, size_t k,
			      struct ptio_backend **out, const char **how)
{
	ptio_ssize r;

	*how = NULL;
	if (kinds[k].skip != NULL && kinds[k].skip()) {
		*how = "skipped under valgrind";
		return PTIO_ENOTSUP;
	}
	r = backend_start(b, k, out);
	if (r == 0)
		return 0;
	if (r == PTIO_ENOTSUP) {
		r = kinds[k].refused != NULL ? kinds[k].refused(b) : 0;
		*how = r != 0 ? "refused" : NULL;
		return r != 0 ? r : PTIO_ENOTSUP;
	}
	*how = "failed";
	return r;
}

/* The best backend that starts.  One that exists here but was passed
 * over is named in the result, with why, so that logs say so, and
 * ptio_posix_backend_fallback reports it. */
static ptio_ssize backend_best(struct ptio_posix_backend *b,
			       struct ptio_backend **out)
{
	ptio_ssize r;
	size_t k, failed = NKINDS;
	const char *how, *first_how = NULL;

	for (k = 0; k < NKINDS; k++) {
		r = backend_try(b, k, out, &how);
		if (r == 0)
			break;
		if (how != NULL && failed == NKINDS) {
			failed = k;
			first_how = how;
			b->fallback = r;
		}
	}
	if (k == NKINDS)
		return b->fallback != 0 ? b->fallback : PTIO_ENOTSUP;
	if (failed < k) {
		b->fallback_from = kinds[failed].name;
		snprintf(b->note, sizeof(b->note), "%s (%s %s: %s)",
			 kinds[k].name, kinds[failed].name, first_how,
			 ptio_strerror(b->fallback));
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
	b->fallback = 0;
	b->fallback_from = NULL;
	if (name == NULL) {
		name = getenv("PTIO_BACKEND");
		if (name != NULL && name[0] == '\0')
			name = NULL;
	}
	r = name != NULL ? backend_named(b, name, &be)
			 : backend_best(b, &be);
	if (r < 0) {
		b->fallback = 0;
		b->fallback_from = NULL;
		return r;
	}
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

ptio_ssize ptio_posix_backend_fallback(const struct ptio_posix_backend *b,
				       const char **from)
{
	if (from != NULL)
		*from = b->fallback_from;
	return b->fallback_from != NULL ? b->fallback : 0;
}
