/*
 * src/port/size-check.c - the RAM cost of the core's objects on a 32-bit
 * target, locked in by static assertions.
 *
 * It is compiled into every firmware image (so `make check` with a cross
 * compiler fails if a struct grows) and by `make size`, which defines
 * PTIO_SIZE_REPORT to get one symbol per struct whose size is that
 * struct's sizeof, read back with nm (nothing runs on the target).
 *
 * The limits are today's sizes.  A change that grows a struct must raise
 * its limit here, on purpose, in the same commit.  The project's target for
 * the smallest useful set, one task, one op and one source, is under 48
 * bytes (44 today: task 16, op 12, source 16); a task that sleeps is a
 * ptio_timed_task and costs 36 (the task, the timer heap's three links,
 * the expiry and the deadline).  With --with-lc=addrlabels a task's
 * continuation is a 4-byte pointer instead of a 2-byte line number.
 */
#include <ptio.h>
#include <ptio/port.h>

#if UINTPTR_MAX == 0xFFFFFFFFu

#ifdef PTIO_CONF_LC_ADDRLABELS
#define PTIO_SIZE_LC 4 /* a continuation is a pointer, not a uint16_t */
#else
#define PTIO_SIZE_LC 0
#endif

PTIO_STATIC_ASSERT(sizeof(struct ptio_task) <= 16 + PTIO_SIZE_LC,
		   task_grew);
PTIO_STATIC_ASSERT(sizeof(struct ptio_timed_task) <= 36 + PTIO_SIZE_LC,
		   timed_task_grew);
PTIO_STATIC_ASSERT(sizeof(struct ptio_op) <= 12, op_grew);
PTIO_STATIC_ASSERT(sizeof(struct ptio_source) <= 16, source_grew);
PTIO_STATIC_ASSERT(sizeof(struct ptio_port_source) <= 28,
		   port_source_grew);
/* Synchronisation (ptio/sync.h): a waiter is an op, a private source and
 * a queue link, plus the item pointer and the handed-over result. */
PTIO_STATIC_ASSERT(sizeof(struct ptio_waiter) <= 44, waiter_grew);
PTIO_STATIC_ASSERT(sizeof(struct ptio_notify) <= 12, notify_grew);
PTIO_STATIC_ASSERT(sizeof(struct ptio_sem) <= 12, sem_grew);
PTIO_STATIC_ASSERT(sizeof(struct ptio_chan) <= 48, chan_grew);
PTIO_STATIC_ASSERT(sizeof(struct ptio_port_chan) <= 36, port_chan_grew);
PTIO_STATIC_ASSERT(sizeof(struct ptio_task) + sizeof(struct ptio_op) +
				   sizeof(struct ptio_source) < 48 + PTIO_SIZE_LC,
		   task_op_source_over_48_bytes);

#endif

#ifdef PTIO_SIZE_REPORT
char ptio_sizeof_task[sizeof(struct ptio_task)];
char ptio_sizeof_timed_task[sizeof(struct ptio_timed_task)];
char ptio_sizeof_op[sizeof(struct ptio_op)];
char ptio_sizeof_source[sizeof(struct ptio_source)];
char ptio_sizeof_port_source[sizeof(struct ptio_port_source)];
char ptio_sizeof_loop[sizeof(struct ptio_loop)];
char ptio_sizeof_port_backend[sizeof(struct ptio_port_backend)];
char ptio_sizeof_waiter[sizeof(struct ptio_waiter)];
char ptio_sizeof_notify[sizeof(struct ptio_notify)];
char ptio_sizeof_sem[sizeof(struct ptio_sem)];
char ptio_sizeof_chan[sizeof(struct ptio_chan)];
char ptio_sizeof_port_chan[sizeof(struct ptio_port_chan)];
#endif
