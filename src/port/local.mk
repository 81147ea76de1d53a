## src/port/local.mk - the bare-metal shim, the boards, the firmware, and
## `make size`.
##
## The port backend (src/port/port.c) is freestanding: it goes into
## libptio, where the host tests run it on a fake CPU.  Boards and firmware
## are built by the cross compilers configure found (ARM_CC, RISCV_CC) in
## one compiler call per image, from: the core's C files (the one list,
## PTIO_CORE_SOURCES of src/core/local.mk), the port backend, the board's
## files, the shared ones in src/port, and the program.  -ffunction-sections with
## --gc-sections keeps only what the program uses.

ptioinclude_HEADERS += include/ptio/port.h
libptio_la_SOURCES += src/port/port.c

PORT_COMMON = \
	src/port/board.h \
	src/port/board-common.c \
	src/port/mem.c \
	src/port/size-check.c \
	src/port/uart.c \
	src/port/uart.h
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
EXTRA_DIST += $(PORT_COMMON) $(PORT_MPS2) $(PORT_RV32) $(PORT_MAINS) \
	samples/firmware/chan-echo.expected \
	samples/firmware/chan-echo.in \
	samples/firmware/tasks.expected \
	samples/firmware/uart-echo.expected \
	samples/firmware/uart-echo.in \
	src/port/size-report.sh

## Flags and files every image shares.  WARN_CFLAGS is configure's list;
## warnings are errors here whatever --disable-werror says, as the
## firmware is built only by those who have a cross compiler.  The macro
## prefix map keeps the build path out of assertion messages in flash.
PORT_FW_CFLAGS = -std=gnu11 -ffreestanding -nostdlib -Os -g \
	-ffunction-sections -fdata-sections -Wl,--gc-sections \
	-fmacro-prefix-map=$(srcdir)/= \
	$(WARN_CFLAGS) -Wall -Wextra -Werror \
	-I$(top_builddir)/include -I$(top_srcdir)/include -I$(top_srcdir)/src
PORT_FW_DEPS = $(PTIO_CORE_SOURCES) src/port/port.c \
	$(include_HEADERS) $(ptioinclude_HEADERS) \
	$(noinst_HEADERS) $(PORT_COMMON)
port_core_c = `for f in $(PTIO_CORE_SOURCES) src/port/port.c; do \
	echo "$(srcdir)/$$f"; done`
port_common_c = $(srcdir)/src/port/board-common.c $(srcdir)/src/port/mem.c \
	$(srcdir)/src/port/size-check.c $(srcdir)/src/port/uart.c

PORT_FIRMWARE =
CLEANFILES += \
	samples/firmware/chan-echo.elf samples/firmware/chan-echo-rv32.elf \
	samples/firmware/tasks.elf samples/firmware/tasks-rv32.elf \
	samples/firmware/uart-echo.elf samples/firmware/uart-echo-rv32.elf \
	test/firmware-crash.elf test/firmware-crash-rv32.elf

## QEMU mps2-an385: Cortex-M3.
if HAVE_ARM_CC
PORT_FIRMWARE += samples/firmware/uart-echo.elf samples/firmware/tasks.elf \
	samples/firmware/chan-echo.elf test/firmware-crash.elf
port_mps2_cc = $(MKDIR_P) $(@D) && $(ARM_CC) -mcpu=cortex-m3 -mthumb \
	$(PORT_FW_CFLAGS) -T $(srcdir)/src/port/mps2-an385/mps2-an385.ld \
	-o $@ $(srcdir)/src/port/mps2-an385/board.c \
	$(srcdir)/src/port/mps2-an385/cmsdk-uart.c \
	$(srcdir)/src/port/mps2-an385/startup.c $(port_common_c) \
	$(port_core_c)

samples/firmware/uart-echo.elf: samples/firmware/uart-echo.c $(PORT_MPS2) \
		$(PORT_FW_DEPS)
	$(AM_V_CCLD)$(port_mps2_cc) $(srcdir)/samples/firmware/uart-echo.c -lgcc
samples/firmware/tasks.elf: samples/firmware/tasks.c $(PORT_MPS2) \
		$(PORT_FW_DEPS)
	$(AM_V_CCLD)$(port_mps2_cc) $(srcdir)/samples/firmware/tasks.c -lgcc
samples/firmware/chan-echo.elf: samples/firmware/chan-echo.c $(PORT_MPS2) \
		$(PORT_FW_DEPS)
	$(AM_V_CCLD)$(port_mps2_cc) $(srcdir)/samples/firmware/chan-echo.c -lgcc
test/firmware-crash.elf: test/firmware-crash.c $(PORT_MPS2) $(PORT_FW_DEPS)
	$(AM_V_CCLD)$(port_mps2_cc) $(srcdir)/test/firmware-crash.c -lgcc
endif

## QEMU virt: rv32imac.  -march needs _zicsr for the CSR instructions, but
## the multilib lookup does not know that name, so libgcc (for the 64-bit
## division of mtime) is named explicitly.
if HAVE_RISCV_CC
PORT_FIRMWARE += samples/firmware/uart-echo-rv32.elf \
	samples/firmware/tasks-rv32.elf samples/firmware/chan-echo-rv32.elf \
	test/firmware-crash-rv32.elf
port_rv32_cc = $(MKDIR_P) $(@D) && $(RISCV_CC) -march=rv32imac_zicsr \
	-mabi=ilp32 -mcmodel=medany $(PORT_FW_CFLAGS) \
	-T $(srcdir)/src/port/qemu-virt-rv32/qemu-virt-rv32.ld \
	-o $@ $(srcdir)/src/port/qemu-virt-rv32/start.S \
	$(srcdir)/src/port/qemu-virt-rv32/board.c \
	$(srcdir)/src/port/qemu-virt-rv32/ns16550.c $(port_common_c) \
	$(port_core_c)
port_rv32_libgcc = `$(RISCV_CC) -march=rv32imac -mabi=ilp32 \
	-print-libgcc-file-name`

samples/firmware/uart-echo-rv32.elf: samples/firmware/uart-echo.c \
		$(PORT_RV32) $(PORT_FW_DEPS)
	$(AM_V_CCLD)$(port_rv32_cc) $(srcdir)/samples/firmware/uart-echo.c \
	  $(port_rv32_libgcc)
samples/firmware/tasks-rv32.elf: samples/firmware/tasks.c $(PORT_RV32) \
		$(PORT_FW_DEPS)
	$(AM_V_CCLD)$(port_rv32_cc) $(srcdir)/samples/firmware/tasks.c \
	  $(port_rv32_libgcc)
samples/firmware/chan-echo-rv32.elf: samples/firmware/chan-echo.c \
		$(PORT_RV32) $(PORT_FW_DEPS)
	$(AM_V_CCLD)$(port_rv32_cc) $(srcdir)/samples/firmware/chan-echo.c \
	  $(port_rv32_libgcc)
test/firmware-crash-rv32.elf: test/firmware-crash.c $(PORT_RV32) \
		$(PORT_FW_DEPS)
	$(AM_V_CCLD)$(port_rv32_cc) $(srcdir)/test/firmware-crash.c \
	  $(port_rv32_libgcc)
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
