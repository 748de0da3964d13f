/*
 * ring.pml with the consumer's re-check after "announce Sleeping" removed: the consumer
 * reads an empty ring, the producer publishes and sees Running (no doorbell), then the
 * consumer says Sleeping and sleeps with a message pending, for ever. spin must find this
 * (an invalid end state in the safety run, an all_delivered violation in the liveness
 * run); ctest's ring_spin_no_recheck_fails passes only if it does. It shows the model
 * and the checker can see the bug the re-check exists to prevent.
 */
#define NO_RECHECK
#include "ring.pml"
