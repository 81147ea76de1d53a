## bench/local.mk - measurements.
##
## echo-instr.sh counts the user instructions (callgrind) and system calls
## (perf) that samples/echo-server spends per message of a ping-pong
## driven by echo-pingpong; `make echo-instr` runs it on this build.

## Host programs: a freestanding build has none.
if !PTIO_FREESTANDING
noinst_PROGRAMS += bench/echo-pingpong
bench_echo_pingpong_SOURCES = bench/echo-pingpong.c
EXTRA_DIST += bench/echo-instr.sh

PHONY_TARGETS += echo-instr
echo-instr: samples/echo-server$(EXEEXT) bench/echo-pingpong$(EXEEXT)
	$(SHELL) $(srcdir)/bench/echo-instr.sh .
endif
