## test/port.mk - the bare-metal shim on the host (a fake CPU; the UART
## stream of src/port/uart.c over a fake UART), and the firmware under
## QEMU.

check_PROGRAMS += test/check-port
TESTS += test/check-port
test_check_port_SOURCES = test/check-port.c test/fake/fake-port.c \
	test/fake/fake-port.h src/port/uart.c src/port/uart.h $(TEST_COMMON)
test_check_port_CFLAGS = $(TEST_CC_FLAGS) -pthread
test_check_port_LDFLAGS = -pthread
test_check_port_LDADD = $(TEST_LIBS)

## The firmware samples and the crash firmware under QEMU.  The test is a
## script generated here, so that the test harness, which builds a test
## before running it, builds the firmware first (the images are its
## prerequisites); it runs test/firmware-test.sh with the QEMU binaries
## configure found.  Cases whose compiler or QEMU is missing are skipped.
TESTS += test/firmware
CLEANFILES += test/firmware
EXTRA_DIST += test/firmware-test.sh
test/firmware: $(PORT_FIRMWARE) Makefile
	$(AM_V_GEN)$(MKDIR_P) test && { \
	  echo '#!/bin/sh'; \
	  echo "QEMU_ARM='$(QEMU_ARM)' QEMU_RISCV='$(QEMU_RISCV)'"; \
	  echo 'export QEMU_ARM QEMU_RISCV'; \
	  echo "exec $(SHELL) '$(abs_top_srcdir)/test/firmware-test.sh'" \
	    "'$(abs_top_builddir)' '$(abs_top_srcdir)'"; \
	} >$@-t && chmod +x $@-t && mv -f $@-t $@
