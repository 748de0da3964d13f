/*
 * ring.pml with release index stores (IndexOrder::PeerBarrier) but without the sleepers'
 * peer barrier: the producer's head store still sits in its store buffer when the
 * consumer announces Sleeping and re-checks (empty), and the producer's load of the
 * consumer state ran before the announcement (Running: no doorbell). The consumer sleeps
 * with a message pending. spin must find this; ctest's ring_spin_no_barrier_fails passes
 * only if it does. It shows the model sees the store-load reordering the barrier covers.
 */
#define NO_PEER_BARRIER
#include "ring.pml"
