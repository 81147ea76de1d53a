/*
 * src/port/qemu-virt-rv32/start.S - the first instructions: set the
 * global and stack pointers, then call the C reset code (board.c).
 * Everything else, including the trap handler, is C.
 */
	.section .text.start, "ax"
	.globl _start
_start:
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	la	sp, __stack_top
	call	ptio_rv32_reset
1:	j	1b
