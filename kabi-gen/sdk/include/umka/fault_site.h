/* The faults the fault-injection site in every module raises (umka_runtime.c,
   docs/crash-containment.md). The values are those of containment.FaultKind. */
#ifndef UMKA_FAULT_SITE_H
#define UMKA_FAULT_SITE_H

#include <stdint.h>

#define UMKA_FAULT_SITE_SYMBOL "umka_fault_site"

#define UMKA_FAULT_NULL_WRITE 1u     /* a write through a null pointer: #PF */
#define UMKA_FAULT_INVALID_OPCODE 2u /* ud2: #UD */
#define UMKA_FAULT_DIVIDE_BY_ZERO 3u /* an integer division by zero: #DE */
#define UMKA_FAULT_NONCANONICAL 4u   /* a write to a non-canonical address: #GP */
#define UMKA_FAULT_HANG 5u           /* an endless loop, interrupts as they were: the watchdog */
#define UMKA_FAULT_STACK_OVERFLOW 6u /* unbounded recursion into the stack's guard page: #DF */
/* The nucleus overwrites the module's state regions with 0xa5, then runs the site with
   UMKA_FAULT_INVALID_OPCODE: the site itself never sees this kind. */
#define UMKA_FAULT_CORRUPT_STATE 7u
/* The start-up of every new instance of the module runs the site with
   UMKA_FAULT_INVALID_OPCODE until disarmed: the site never sees this kind either. */
#define UMKA_FAULT_EVERY_START 8u
#define UMKA_FAULT_WILD_WRITE 9u /* a write to `target`, a word of the nucleus's memory */

#ifdef __cplusplus
extern "C" {
#endif
/* `target`: the address UMKA_FAULT_WILD_WRITE writes to; unused by the other kinds. */
typedef void (*UmkaFaultSiteFunction)(uint32_t kind, uint64_t target);
#ifdef __cplusplus
}
#endif

#endif
