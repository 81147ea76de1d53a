## test/samples.mk - every sample is built (samples/local.mk) and run here.

TESTS += test/echo-test.sh
EXTRA_DIST += test/echo-test.sh

## The flood test: while one connection floods an echo server (its reads
## never block), a new connection must still get its echo within 50 ms.
## test/flood-probe floods and times the probes; test/fair-echo is the
## control, a server fair by construction.  Both use plain sockets.
check_PROGRAMS += test/flood-probe test/fair-echo
test_flood_probe_SOURCES = test/flood-probe.c
test_fair_echo_SOURCES = test/fair-echo.c
TESTS += test/echo-flood-test.sh
EXTRA_DIST += test/echo-flood-test.sh
