/*
 * ptio/port.h - the bare-metal shim: the whole porting surface, the loop
 * backend built on it, and the one function an interrupt handler calls.
 *
 * Divided into:
 *   1. The port: four hooks a board provides (a tick clock, an idle hook,
 *      interrupt mask save and restore), as a struct of function pointers.
 *   2. The port backend: a struct ptio_backend that waits with the idle
 *      hook and delivers what interrupt handlers reported.
 *   3. Port sources: a struct ptio_source an interrupt handler may mark
 *      ready, with ptio_port_source_ready().
 *   4. Synchronisation from interrupt handlers: a handler signals a
 *      struct ptio_notify or sends into a struct ptio_chan (ptio/sync.h)
 *      through a port source, so the same lost-wakeup-safe path carries
 *      it to the loop.
 *
 * How a wakeup travels.  A device's interrupt handler calls
 * ptio_port_source_ready(ps, bits).  That only ORs BITS into the source's
 * `pending` field and links the source into the backend's pending list,
 * with interrupts masked for those few instructions (a handler may itself
 * be interrupted by a higher-priority one that signals the same backend).
 * It never touches the loop: the run queue and the waiter slots belong to
 * thread context, so a handler must call neither ptio_source_ready() nor
 * ptio_task_wake().  The loop's next wait moves the pending bits into the
 * sources with ptio_source_ready(), in thread context, which queues the
 * waiters.  (To wake a task from a handler without a device, give it a
 * port source and have it await ptio_port_source_as_ready().)
 *
 * The lost-wakeup race, and how the wait avoids it.  A loop that checks
 * "anything pending?" and then sleeps loses a wakeup when the interrupt
 * arrives between the check and the sleep: its handler runs, the flag is
 * set, and the CPU then sleeps until some unrelated interrupt (or for
 * ever).  The port backend's wait therefore runs:
 *
 *     state = irq_save();          mask interrupts
 *     if (nothing pending && timeout != 0)
 *             idle(now, timeout);  WFI: returns as soon as an interrupt
 *                                  is PENDING, even though it is masked
 *     irq_restore(state);          the handler runs here, after the sleep
 *     deliver the pending bits     thread context, ptio_source_ready()
 *
 * An interrupt that fires after the check cannot run its handler (it is
 * masked), so it stays pending, and a pending interrupt makes the sleep
 * return at once; its handler runs on the unmask and the delivery step
 * sees its bits.  Nothing can fall between the check and the sleep.
 * Cortex-M's WFI with PRIMASK set and RISC-V's wfi with mstatus.MIE clear
 * (and the source enabled in mie) both wake on a pending interrupt, which
 * is what makes this sequence work; a port for a CPU whose sleep needs
 * interrupts enabled must enable them and sleep in one atomic step
 * (e.g. "sti; hlt" on x86).
 *
 * Timers need no interrupt of their own: the loop passes the ticks until
 * its earliest timer as TIMEOUT, and the idle hook must return by then
 * (a periodic tick interrupt does that by itself; a tickless port programs
 * a compare register).  Returning early is always allowed: the loop just
 * waits again.
 *
 * Boards: src/port/mps2-an385 (Cortex-M3, SysTick, CMSDK UART) and
 * src/port/qemu-virt-rv32 (RISC-V, tickless CLINT timer, ns16550) fill
 * struct ptio_port_ops; src/port/uart.c shows a driver built on a port
 * source.  Nothing here allocates; every struct is owned by the caller
 * (usually a static in the board or driver).  Everything is freestanding.
 */
#ifndef PTIO_PORT_H
#define PTIO_PORT_H

#include "base.h"
#include "time.h"
#include "io.h"
#include "loop.h"
#include "sync.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 1. The port --------------------------------------------------------- */

/* A saved interrupt mask, as irq_save returns it: opaque to the core. */
typedef uint32_t ptio_port_irq_state;

#define PTIO_PORT_OPS_VERSION 1u

/*
 * What a board provides.  A struct of function pointers rather than
 * link-time symbols, so that the core (and the backend in it) links into
 * any program, and so that the host tests can plug in a fake CPU.  Fill a
 * `static const` instance with designated initialisers.  All four hooks
 * are required; each may be called from thread context, and irq_save /
 * irq_restore also from interrupt handlers.
 */
struct ptio_port_ops {
	/* PTIO_PORT_OPS_VERSION: slots are only ever appended. */
	unsigned version;
	/* The tick counter: monotonic, wrapping at 2^32 (see ptio/time.h).
	 * What a tick is is the board's choice; the samples use 1 ms. */
	ptio_tick (*now)(void);
	/* Sleep until an interrupt is pending or TIMEOUT ticks after NOW have
	 * passed (PTIO_WAIT_FOREVER: no limit), whichever comes first.
	 * Called with interrupts masked (by irq_save) and must return when
	 * an interrupt becomes pending although it is masked: WFI on
	 * Cortex-M, wfi on RISC-V.  It must not unmask interrupts.  Early
	 * returns are allowed (a periodic tick may end every sleep). */
	void (*idle)(ptio_tick now, uint32_t timeout);
	/* Mask interrupts and return the previous mask, so calls nest.  Must
	 * also be a compiler barrier (an asm with a "memory" clobber). */
	ptio_port_irq_state (*irq_save)(void);
	/* Restore the mask irq_save returned; a compiler barrier too. */
	void (*irq_restore)(ptio_port_irq_state state);
};

/* ---- 2. The port backend ------------------------------------------------- */

struct ptio_port_source;

/*
 * A loop backend for bare metal.  It watches no fds: its sources are
 * struct ptio_port_source, which interrupt handlers mark ready.  Create
 * one per loop (usually a static), with ptio_port_backend_init.
 */
struct ptio_port_backend {
	struct ptio_backend base;            /* first: what the loop holds */
	const struct ptio_port_ops *ops;     /* the board's hooks */
	/* Sources an interrupt handler marked ready since the last delivery
	 * (newest first; linked through ptio_port_source.next).  Only read
	 * or written with interrupts masked. */
	struct ptio_port_source *pending;
	size_t nsources;                     /* open sources (leak checks) */
	/* Test seam: when set, called by wait between the pending check
	 * and the idle hook, with interrupts masked.  The host tests raise
	 * an interrupt from here to prove it is not lost.  NULL normally. */
	void (*before_idle)(struct ptio_port_backend *pb);
};

/* The backend's vtable: now = ops->now, wait = the sequence at the top of
 * this file, update = nothing to do (interrupts report readiness whether
 * or not anyone waits), registrations = open sources.  Exposed so tests
 * can build variants of wait on top of it. */
extern const struct ptio_backend_vt ptio_port_backend_vt;

/* Initialise PB over the board hooks OPS (which must outlive it); returns
 * &pb->base, to pass to ptio_loop_init. */
struct ptio_backend *ptio_port_backend_init(struct ptio_port_backend *pb,
					    const struct ptio_port_ops *ops);

/* Deliver what interrupt handlers reported: move each pending source's
 * bits into it with ptio_source_ready().  The backend's wait does this
 * every time, a zero timeout (PTIO_RUN_NOWAIT) included; call it yourself
 * only outside a loop (tests).  Thread context only.  Returns the number
 * of sources delivered. */
size_t ptio_port_backend_deliver(struct ptio_port_backend *pb);

/* ---- 3. Port sources ----------------------------------------------------- */

/*
 * A readiness source fed by an interrupt handler: a UART, a radio, a
 * button.  Embed it (first, or find your struct with PTIO_CONTAINER_OF)
 * in the driver's struct; build the driver's Ready/Read/Write on `src`
 * with ptio_source_poll and ptio_source_clear as usual.
 */
struct ptio_port_source {
	struct ptio_source src;            /* first: the readiness cache */
	struct ptio_port_backend *pb;      /* the backend it reports to */
	struct ptio_port_source *next;     /* pending-list link */
	/* Bits reported by handlers and not yet delivered; non-zero exactly
	 * while the source is on the pending list.  Masked access only. */
	uint8_t pending;
	/* 1 when PS is the first member of a struct ptio_port_hook (set by
	 * ptio_port_hook_init; it sits in what was padding). */
	uint8_t hooked;
};

/* Initialise PS on backend PB with cached readiness READY (e.g.
 * PTIO_WRITABLE for a transmitter that starts empty).  Do it before
 * enabling the device's interrupt. */
void ptio_port_source_init(struct ptio_port_source *ps,
			   struct ptio_port_backend *pb, unsigned ready);

/*
 * ptio_port_source_ready(ps, bits) - the function an interrupt handler
 * calls: report readiness BITS (PTIO_READABLE, PTIO_WRITABLE, PTIO_HUP,
 * PTIO_ERROR) on PS.  Safe from any handler and from thread context,
 * nested or not; it masks interrupts for a few instructions and never
 * touches the loop.  Bits reported again before the loop's next wait
 * merge into one delivery.  The waiter wakes in the loop's next wait
 * (which does not sleep while anything is pending).  Ignored once PS is
 * closed, and when BITS is 0.
 */
void ptio_port_source_ready(struct ptio_port_source *ps, unsigned bits);

/* Close PS: drop any undelivered bits, leave the backend, and wake its
 * waiters with PTIO_ECLOSED (ptio_source_close).  Thread context only;
 * disable the device's interrupt first.  Idempotent. */
void ptio_port_source_close(struct ptio_port_source *ps);

/* PS as a Ready trait object (poll_ready = ptio_source_poll on its
 * cache): for event-like sources a task awaits with ptio_ready() and then
 * acknowledges with ptio_source_clear(). */
struct ptio_ready ptio_port_source_as_ready(struct ptio_port_source *ps);

/* ---- 4. Synchronisation from interrupt handlers -------------------------- */

/*
 * A port source whose delivery, in thread context, calls DELIVER instead
 * of waking a waiter: the bindings below are built on it, and a driver
 * may use it to run thread-side code after its handler.  Embed it first.
 */
struct ptio_port_hook {
	struct ptio_port_source ps;   /* first: what the handler reports on */
	/* Called by the backend's delivery with the bits the handlers
	 * reported since the last one (merged). */
	void (*deliver)(struct ptio_port_hook *h, unsigned bits);
};

/* Initialise H on PB with DELIVER.  Report on it with
 * ptio_port_source_ready(&h->ps, bits); close it with
 * ptio_port_source_close(&h->ps). */
void ptio_port_hook_init(struct ptio_port_hook *h,
			 struct ptio_port_backend *pb,
			 void (*deliver)(struct ptio_port_hook *h,
					 unsigned bits));

/* A notify (ptio/sync.h) that an interrupt handler signals.  Handlers
 * that signal before the loop's next wait merge into one signal, which
 * the loop then gives with ptio_notify_signal. */
struct ptio_port_notify {
	struct ptio_port_hook hook;   /* first */
	struct ptio_notify *notify;
};

/* Bind PN to N on backend PB (both must outlive PN).  Thread context,
 * before enabling the interrupt. */
void ptio_port_notify_init(struct ptio_port_notify *pn,
			   struct ptio_port_backend *pb, struct ptio_notify *n);

/* From a handler (or thread context): signal the notify. */
void ptio_port_notify_signal(struct ptio_port_notify *pn);

/* Unbind PN: later signals are ignored.  Thread context, with the
 * interrupt disabled.  Idempotent. */
void ptio_port_notify_close(struct ptio_port_notify *pn);

/* A channel (ptio/sync.h) that interrupt handlers send into.  Binding
 * sets the channel's irq hooks to PB's, so every access to its ring is
 * made with interrupts masked (keep its items small: each copy is made
 * masked). */
struct ptio_port_chan {
	struct ptio_port_hook hook;   /* first */
	struct ptio_chan *chan;
};

/* Bind PC to CH on backend PB (both must outlive PC).  Thread context,
 * before enabling the interrupt. */
void ptio_port_chan_init(struct ptio_port_chan *pc,
			 struct ptio_port_backend *pb, struct ptio_chan *ch);

/* From a handler: send a copy of ITEM without waiting.  0 (the loop's
 * next wait hands it to a blocked receiver), PTIO_WOULD_BLOCK when the
 * ring is full (the item is not sent: count it as an overrun, or leave
 * the data in the device and stop its interrupt), PTIO_ECLOSED, or
 * PTIO_ECLOSED too once PC is closed.  Safe from any handler. */
ptio_ssize ptio_port_chan_try_send(struct ptio_port_chan *pc,
				   const void *item);

/* Unbind PC: later sends fail with PTIO_ECLOSED; the channel's irq
 * hooks stay (harmless).  Thread context, with the interrupt disabled.
 * Idempotent.  It does not close the channel. */
void ptio_port_chan_close(struct ptio_port_chan *pc);

#ifdef __cplusplus
}
#endif

#endif /* PTIO_PORT_H */
