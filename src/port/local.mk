## src/port/local.mk - the bare-metal shim, the porting kit, the boards,
## the firmware, and `make size`.
##
## The port backend (src/port/port.c) is freestanding: it goes into every
## libptio, where the host tests run it on a fake CPU.  The porting kit is
## the libptio.a of a freestanding build (./configure --host=arm-none-eabi):
## the core, the port backend, and the portable helpers a board uses (the
## UART ring stream, the -nostdlib memory functions, the size assertions),
## PTIO_PORTKIT_SOURCES below, with the headers ptio/port.h and ptio/uart.h.
##
## The boards (src/port/<board>/) and board.h, the interface the samples
## are written against, are not installed: board.h names functions
## (ptio_board_init, ptio_board_uart, ...) that only a board defines, so a
## program that includes it needs a board's files anyway, and a user's own
## board brings its own such header.  A firmware is the board's files,
## board-common.c, and the program, linked with -lptio -lgcc.
##
## A host build with cross compilers builds the firmware samples as a user
## would: first the porting kit's libptio.a for each CPU, from the same
## list and with the same freestanding flags as a freestanding build, in
## src/port/lib-cortex-m3 and src/port/lib-rv32; then each image from the
## board's files and the program alone, linked against it.
## -ffunction-sections with --gc-sections keeps only what the program uses.

ptioinclude_HEADERS += include/ptio/port.h
PTIO_PORTKIT_SOURCES = \
	src/port/port.c \
	src/port/mem.c \
	src/port/size-check.c \
	src/port/uart.c
if PTIO_FREESTANDING
ptioinclude_HEADERS += include/ptio/uart.h
libptio_la_SOURCES += $(PTIO_PORTKIT_SOURCES)
else
noinst_HEADERS += include/ptio/uart.h
libptio_la_SOURCES += src/port/port.c
endif

PORT_BOARD_COMMON = \
	src/port/board.h \
	src/port/board-common.c
PORT_MPS2 = \
	src/port/mps2-an385/board.c \
	src/port/mps2-an385/cmsdk-uart.c \
	src/port/mps2-an385/mps2-an385.h \
	src/port/mps2-an385/mps2-an385.ld \
	src/port/mps2-an385/startup.c
PORT_RV32 = \
	src/port/qemu-virt-rv32/board.c \
	src/port/qemu-virt-rv32/ns16550.c \
	src/port/qemu-virt-rv32/qemu-virt-rv32.h \
	src/port/qemu-virt-rv32/qemu-virt-rv32.ld \
	src/port/qemu-virt-rv32/start.S
PORT_MAINS = \
	samples/firmware/chan-echo.c \
	samples/firmware/tasks.c \
	samples/firmware/uart-echo.c \
	test/firmware-crash.c
EXTRA_DIST += $(PORT_BOARD_COMMON) $(PORT_MPS2) $(PORT_RV32) $(PORT_MAINS) \
	samples/firmware/chan-echo.expected \
	samples/firmware/chan-echo.in \
	src/port/mem.c src/port/size-check.c src/port/uart.c \
	samples/firmware/tasks.expected \
	samples/firmware/uart-echo.expected \
	samples/firmware/uart-echo.in \
	src/port/size-report.sh

## The porting kit's libptio.a for one CPU: each file of the list compiled
## on its own (an archive member per file, as a freestanding build makes
## them), then archived.  Set cc and ar in the shell before it.  Warnings
## are errors here whatever --disable-werror says, as only those who have
## a cross compiler build it.
PORT_LIB_CFLAGS = -std=gnu11 -Os -g $(PTIO_FREESTANDING_CFLAGS) \
	$(WARN_CFLAGS) -Wall -Wextra -Werror \
	-I$(top_builddir)/include -I$(top_srcdir)/include -I$(top_srcdir)/src
PORT_LIB_DEPS = $(PTIO_CORE_SOURCES) $(PTIO_PORTKIT_SOURCES) \
	$(include_HEADERS) $(ptioinclude_HEADERS) $(noinst_HEADERS)
port_lib_build = rm -f $@ && $(MKDIR_P) $(@D) && objs= && \
	for f in $(PTIO_CORE_SOURCES) $(PTIO_PORTKIT_SOURCES); do \
	  o=$(@D)/`basename $$f .c`.o; \
	  $$cc $(PORT_LIB_CFLAGS) -c -o $$o $(srcdir)/$$f || exit 1; \
	  objs="$$objs $$o"; \
	done && $$ar rcs $@ $$objs

## Flags every image shares: those of a user's firmware, which sees ptio
## through its include paths and libptio.a only (src for board.h), with
## warnings as errors, as above.
PORT_FW_CFLAGS = -std=gnu11 -nostdlib -Os -g $(PTIO_FREESTANDING_CFLAGS) \
	-Wl,--gc-sections $(WARN_CFLAGS) -Wall -Wextra -Werror \
	-I$(top_builddir)/include -I$(top_srcdir)/include -I$(top_srcdir)/src
PORT_FW_DEPS = $(include_HEADERS) $(ptioinclude_HEADERS) \
	$(noinst_HEADERS) $(PORT_BOARD_COMMON)
port_core_c = `for f in $(PTIO_CORE_SOURCES) src/port/port.c; do \
	echo "$(srcdir)/$$f"; done`

PORT_FIRMWARE =
CLEANFILES += \
	samples/firmware/chan-echo.elf samples/firmware/chan-echo-rv32.elf \
	samples/firmware/tasks.elf samples/firmware/tasks-rv32.elf \
	samples/firmware/uart-echo.elf samples/firmware/uart-echo-rv32.elf \
	test/firmware-crash.elf test/firmware-crash-rv32.elf \
	src/port/lib-cortex-m3/*.o src/port/lib-cortex-m3/libptio.a \
	src/port/lib-rv32/*.o src/port/lib-rv32/libptio.a

## QEMU mps2-an385: Cortex-M3.
if HAVE_ARM_CC
PORT_FIRMWARE += samples/firmware/uart-echo.elf samples/firmware/tasks.elf \
	samples/firmware/chan-echo.elf test/firmware-crash.elf
PORT_MPS2_CPU = -mcpu=cortex-m3 -mthumb
src/port/lib-cortex-m3/libptio.a: $(PORT_LIB_DEPS)
	$(AM_V_GEN)cc='$(ARM_CC) $(PORT_MPS2_CPU)' ar='$(ARM_AR)' && \
	  $(port_lib_build)
port_mps2_cc = $(MKDIR_P) $(@D) && $(ARM_CC) $(PORT_MPS2_CPU) \
	$(PORT_FW_CFLAGS) -T $(srcdir)/src/port/mps2-an385/mps2-an385.ld \
	-o $@ $(srcdir)/src/port/mps2-an385/board.c \
	$(srcdir)/src/port/mps2-an385/cmsdk-uart.c \
	$(srcdir)/src/port/mps2-an385/startup.c \
	$(srcdir)/src/port/board-common.c
port_mps2_libs = -Lsrc/port/lib-cortex-m3 -lptio -lgcc
PORT_MPS2_DEPS = $(PORT_MPS2) $(PORT_FW_DEPS) src/port/lib-cortex-m3/libptio.a

samples/firmware/uart-echo.elf: samples/firmware/uart-echo.c \
		$(PORT_MPS2_DEPS)
	$(AM_V_CCLD)$(port_mps2_cc) $(srcdir)/samples/firmware/uart-echo.c \
	  $(port_mps2_libs)
samples/firmware/tasks.elf: samples/firmware/tasks.c $(PORT_MPS2_DEPS)
	$(AM_V_CCLD)$(port_mps2_cc) $(srcdir)/samples/firmware/tasks.c \
	  $(port_mps2_libs)
test/firmware-crash.elf: test/firmware-crash.c $(PORT_MPS2_DEPS)
	$(AM_V_CCLD)$(port_mps2_cc) $(srcdir)/test/firmware-crash.c \
	  $(port_mps2_libs)
samples/firmware/chan-echo.elf: samples/firmware/chan-echo.c \
		$(PORT_MPS2_DEPS)
	$(AM_V_CCLD)$(port_mps2_cc) $(srcdir)/samples/firmware/chan-echo.c \
	  $(port_mps2_libs)
endif

## QEMU virt: rv32imac.  -march needs _zicsr for the CSR instructions of
## the board, but the multilib lookup does not know that name, so libgcc
## (for 64-bit division) is named explicitly.  The library has no CSR
## instruction and is built for plain rv32imac.
if HAVE_RISCV_CC
PORT_FIRMWARE += samples/firmware/uart-echo-rv32.elf \
	samples/firmware/tasks-rv32.elf samples/firmware/chan-echo-rv32.elf \
	test/firmware-crash-rv32.elf
PORT_RV32_CPU = -march=rv32imac -mabi=ilp32 -mcmodel=medany
src/port/lib-rv32/libptio.a: $(PORT_LIB_DEPS)
	$(AM_V_GEN)cc='$(RISCV_CC) $(PORT_RV32_CPU)' ar='$(RISCV_AR)' && \
	  $(port_lib_build)
port_rv32_cc = $(MKDIR_P) $(@D) && $(RISCV_CC) -march=rv32imac_zicsr \
	-mabi=ilp32 -mcmodel=medany $(PORT_FW_CFLAGS) \
	-T $(srcdir)/src/port/qemu-virt-rv32/qemu-virt-rv32.ld \
	-o $@ $(srcdir)/src/port/qemu-virt-rv32/start.S \
	$(srcdir)/src/port/qemu-virt-rv32/board.c \
	$(srcdir)/src/port/qemu-virt-rv32/ns16550.c \
	$(srcdir)/src/port/board-common.c
port_rv32_libs = -Lsrc/port/lib-rv32 -lptio \
	`$(RISCV_CC) $(PORT_RV32_CPU) -print-libgcc-file-name`
PORT_RV32_DEPS = $(PORT_RV32) $(PORT_FW_DEPS) src/port/lib-rv32/libptio.a

samples/firmware/uart-echo-rv32.elf: samples/firmware/uart-echo.c \
		$(PORT_RV32_DEPS)
	$(AM_V_CCLD)$(port_rv32_cc) $(srcdir)/samples/firmware/uart-echo.c \
	  $(port_rv32_libs)
samples/firmware/tasks-rv32.elf: samples/firmware/tasks.c $(PORT_RV32_DEPS)
	$(AM_V_CCLD)$(port_rv32_cc) $(srcdir)/samples/firmware/tasks.c \
	  $(port_rv32_libs)
samples/firmware/chan-echo-rv32.elf: samples/firmware/chan-echo.c \
		$(PORT_RV32_DEPS)
	$(AM_V_CCLD)$(port_rv32_cc) $(srcdir)/samples/firmware/chan-echo.c \
	  $(port_rv32_libs)
test/firmware-crash-rv32.elf: test/firmware-crash.c $(PORT_RV32_DEPS)
	$(AM_V_CCLD)$(port_rv32_cc) $(srcdir)/test/firmware-crash.c \
	  $(port_rv32_libs)
endif

## make firmware: build every image this machine can.
PHONY_TARGETS += firmware size
firmware: $(PORT_FIRMWARE)

## make size: the core's cost per module on Cortex-M0 and Cortex-M4, and
## the sizeof of its objects on a 32-bit target.
if HAVE_ARM_CC
size:
	@$(SHELL) $(srcdir)/src/port/size-report.sh '$(ARM_CC)' '$(srcdir)' \
	  '$(top_builddir)' $(port_core_c)
else
size:
	@echo "make size needs arm-none-eabi-gcc (configure found none)"
endif
