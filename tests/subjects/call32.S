/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 64-bit process calling a 32-bit function: far-return into the
 * compatibility-mode code segment (__USER32_CS, 0x23), call, and
 * far-return back to __USER_CS (0x33).
 *
 * Position-independent blob, copied by restorer.c into a page below
 * 4 GiB, because in 32-bit mode only the low 32 bits of EIP/ESP exist.
 *
 * uint32_t call32(uint32_t fn, uint32_t arg0, uint32_t arg1,
 *                 uint32_t stack_top)
 * fn(arg0, arg1) with the i386 cdecl convention; returns its EAX.
 * stack_top: 16-byte aligned top of a stack below 4 GiB.
 */
	.section .rodata, "a"
	.globl call32_start, call32_end

	.code64
call32_start:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	/* the 64-bit stack pointer waits in the top slot of the low stack */
	mov	%ecx, %eax
	mov	%rsp, -8(%rax)
	lea	-8(%rax), %rsp
	lea	compat(%rip), %rax
	pushq	$0x23
	push	%rax
	lretq

	.code32
compat:
	/* 64-bit code runs with null DS/ES; 32-bit code needs flat data */
	mov	$0x2b, %eax
	mov	%eax, %ds
	mov	%eax, %es
	/* ESP is top-8; keep it 16-byte aligned at the call */
	sub	$16, %esp
	push	%edx
	push	%esi
	call	*%edi
	add	$24, %esp
	call	1f
1:	pop	%ecx
	add	$(back - 1b), %ecx
	push	$0x33
	push	%ecx
	lret

	.code64
back:
	mov	%esp, %esp	/* zero the undefined upper half of RSP */
	pop	%rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret
call32_end:

	.section .note.GNU-stack, "", @progbits
