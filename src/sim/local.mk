## src/sim/local.mk - the testing kit (ptio/sim.h): virtual time,
## simulated streams with seeded faults, the seed runner and the
## simulated CPU.  It depends on the core only and is freestanding like
## it; on hosts it is part of libptio, so a user's tests link nothing
## more.  (ptio/pipe.h, which the streams are built on, is in the core.)

ptioinclude_HEADERS += include/ptio/sim.h

PTIO_SIM_SOURCES = \
	src/sim/sim.c \
	src/sim/sim-seeds.c \
	src/sim/sim-stream.c
libptio_la_SOURCES += $(PTIO_SIM_SOURCES)
