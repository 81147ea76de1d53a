## samples/bufio.mk - netcat and line-chat.

## netcat: stdin to a socket and the socket to stdout, two tasks on one
## socket at once.  line-chat: a chat server reading with read_line.
noinst_PROGRAMS += samples/netcat samples/line-chat
samples_netcat_SOURCES = samples/netcat.c
samples_netcat_LDADD = libptio.la
samples_line_chat_SOURCES = samples/line-chat.c
samples_line_chat_LDADD = libptio.la

## Both are run by `make check`, with samples/netcat (and socat, when it
## is installed) on the other end.
TESTS += test/netcat-test.sh test/line-chat-test.sh
EXTRA_DIST += test/netcat-test.sh test/line-chat-test.sh test/sample-lib.sh
