## samples/sim/local.mk - programs that test ptio code in simulation with
## the testing kit (ptio/sim.h).  `make check` runs them (test/local.mk).
##
## chat-sim: line-chat's protocol over 1,000 seeds of simulated clients
## and faulty connections, in virtual time.  chat-sim-addrlabels is the
## same program with label-address continuations: both must print the
## same transcript hash.  Host programs: a freestanding build has none.

if !PTIO_FREESTANDING
noinst_PROGRAMS += samples/sim/chat-sim
samples_sim_chat_sim_SOURCES = samples/sim/chat-sim.c
samples_sim_chat_sim_LDADD = libptio.la
samples_sim_chat_sim_LDFLAGS = $(AM_LDFLAGS) -no-install
EXTRA_DIST += samples/sim/chat-sim.expected

## uart-echo-sim: samples/firmware/uart-echo.c, unchanged, on the host
## over the kit's simulated CPU and a simulated UART under the driver of
## src/port/uart.c, with a 16-byte receive ring so that its flow control
## is exercised.
noinst_PROGRAMS += samples/sim/uart-echo-sim
samples_sim_uart_echo_sim_SOURCES = samples/sim/uart-echo-sim.c \
	src/port/uart.c
samples_sim_uart_echo_sim_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/samples \
	-DPTIO_UART_RX_SIZE=16u \
	-DUART_ECHO_DIR='"$(srcdir)/samples/firmware"'
samples_sim_uart_echo_sim_LDADD = libptio.la
samples_sim_uart_echo_sim_LDFLAGS = $(AM_LDFLAGS) -no-install
endif
