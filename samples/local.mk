## samples/local.mk - the host samples and the demo.  Each is run by
## `make check` (test/local.mk).

## Host programs: a freestanding build has none.
if !PTIO_FREESTANDING
## The echo pair: a server in two styles (ergonomic, scratch) that reports
## heap bytes per idle connection, and a client that verifies every byte.
noinst_PROGRAMS += samples/echo-server samples/echo-client
samples_echo_server_SOURCES = samples/echo-server.c
samples_echo_server_LDADD = libptio.la
samples_echo_client_SOURCES = samples/echo-client.c
samples_echo_client_LDADD = libptio.la
EXTRA_DIST += samples/demo.sh

## make demo: 1000 verified connections against the scratch-mode server,
## then the heap cost of an idle connection in both modes, side by side.
PHONY_TARGETS += demo
demo: samples/echo-server$(EXEEXT) samples/echo-client$(EXEEXT)
	$(SHELL) $(srcdir)/samples/demo.sh samples/echo-server$(EXEEXT) \
	  samples/echo-client$(EXEEXT)

## netcat: stdin to a socket and the socket to stdout, two tasks on one
## socket at once.  line-chat: a chat server reading with read_line.
noinst_PROGRAMS += samples/netcat samples/line-chat
samples_netcat_SOURCES = samples/netcat.c
samples_netcat_LDADD = libptio.la
samples_line_chat_SOURCES = samples/line-chat.c
samples_line_chat_LDADD = libptio.la
endif
