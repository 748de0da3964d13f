/*
 * The doorbell protocol of nucleus/ring/spsc_ring.{h,cpp} as a Promela model, checked by
 * spin in ctest (test/spin/check_model.py, registered by test/host/ring/ring.cmake).
 *
 * One ring of CAPACITY slots; the producer sends MESSAGES messages (message i carries i).
 * Modelled steps, one Promela statement per shared-memory access, mirror the C++:
 *   producer  try_reserve (reload tail only when the cached copy says full),
 *             wait_for_space (flush staged entries, announce Sleeping, re-check tail,
 *             futex-sleep, take the word back), write slot, then publish now or stage
 *             it for a later flush (flush: store head, load consumer state, CAS the
 *             state to Running and count a doorbell if it was Sleeping; a final flush
 *             after the last message);
 *   consumer  peek (reload head only when the cached copy says empty), take the slot,
 *             release now or later (batching; always before sleeping), wait_for_entries
 *             (announce Sleeping, RE-CHECK head, futex-sleep, take the word back).
 * Promela interleaves statements with sequential consistency; the hardware does not. The
 * two Dekker pairs (producer: store head, load consumer state; consumer: store Sleeping,
 * load head; and mirrored for tail) need the store ordered before the load. Two modes,
 * as IndexOrder in spsc_ring.h:
 *   default    IndexOrder::PeerBarrier. The head and tail stores are release stores: each
 *              goes into a store buffer (head_buffer / tail_buffer) that drains at any
 *              later moment (the StoreBuffers process), so the writer's next load may run
 *              before the store is visible, which is what x86-64 (TSO) allows. A sleeper
 *              runs the peer barrier between its announcement and its re-check: it
 *              drains the other end's buffer (membarrier() interrupts that end).
 *   -DFENCED   IndexOrder::Fenced: sequentially consistent stores, visible at once.
 * The announcements, the compare-exchanges and close() are sequentially consistent in
 * both modes (close() is an xchg, so it also drains the closer's buffer first). The rest
 * is acquire/release, which the data checks below do not depend on beyond the
 * slot-then-index order.
 *
 * A futex sleep is "block until the state word is no longer Sleeping" (what RingSignals
 * wait() promises); SPURIOUS bounded early returns check the loops around it.
 *
 * Checked:
 *   - every message arrives once and in order, and no slot is overwritten before it is
 *     taken (assert on each message, and delivered == MESSAGES at the end);
 *   - no lost wake-up: a party asleep forever is a process blocked outside an end state,
 *     which spin reports as "invalid end state" (the safety run), and the LTL property
 *     all_delivered (<> delivered == MESSAGES) fails on such a run (the liveness run, -a);
 *   - with -DWITH_CLOSE the producer closes the ring after the last message and the
 *     consumer stops only at "closed and empty": nothing published before close is lost.
 *     (Close also wakes sleepers, which would hide a lost doorbell; that is why the
 *     default run has no close.)
 * -DNO_PEER_BARRIER keeps the release stores but drops the sleepers' barrier: spin must
 * find the lost wake-up (ring_no_barrier.pml), which shows the store buffers model the
 * reordering the barrier exists for.
 * -DNO_RECHECK removes the consumer's re-check after announcing sleep: ring_no_recheck.pml
 * does that, and the test expects spin to find the lost wake-up there. Two more switches
 * remove the other two things the C++ does before sleeping, and must fail as well:
 * -DNO_FLUSH_BEFORE_WAIT (a producer waiting for room keeps its staged entries to itself
 * while the consumer sleeps waiting for them) and -DNO_RELEASE_BEFORE_SLEEP (a consumer
 * sleeps on slots it took but never handed back while the producer waits for them).
 */

#ifndef CAPACITY
#define CAPACITY 2
#endif
#ifndef MESSAGES
#define MESSAGES 5
#endif
#ifndef SPURIOUS
#define SPURIOUS 1
#endif

#define RUNNING 0
#define SLEEPING 1

byte slots[CAPACITY];
byte head = 0;               /* SpscRingControl::head, producer-written (as visible) */
byte tail = 0;               /* SpscRingControl::tail, consumer-written (as visible) */
byte head_buffer = 0;        /* a head store not visible yet (store buffer) */
bit head_pending = 0;
byte tail_buffer = 0;
bit tail_pending = 0;
bit consumer_state = RUNNING;
bit producer_state = RUNNING;
bit closed = 0;
byte delivered = 0;          /* messages the consumer took, each checked in order */
byte doorbells = 0;          /* producer -> sleeping consumer wake-ups */
byte space_wakeups = 0;      /* consumer -> waiting producer wake-ups */
byte full_waits = 0;
byte spurious = SPURIOUS;    /* early returns from wait() left to hand out */

/* claim_wake(): Sleeping -> Running by compare-exchange; one party wins. */
#define CLAIM(state, won) atomic { if :: state == SLEEPING -> state = RUNNING; won = 1 :: else -> won = 0 fi }

/* signals.wait(): sleep while the word reads Sleeping, or return early (bounded). */
#define FUTEX_WAIT(state) if :: state == RUNNING -> skip :: atomic { spurious > 0 -> spurious-- } fi

/* The index stores (detail::store_index) and the sleepers' peer barrier. A newer store
 * replaces a pending one: the older value may never be seen, which only delays what the
 * other end sees, as a slow drain would. */
#ifdef FENCED
#define STORE_HEAD(value) head = value
#define STORE_TAIL(value) tail = value
#else
#define STORE_HEAD(value) atomic { head_buffer = value; head_pending = 1 }
#define STORE_TAIL(value) atomic { tail_buffer = value; tail_pending = 1 }
#endif
#define DRAIN_HEAD if :: head_pending -> head = head_buffer; head_pending = 0 :: else -> skip fi
#define DRAIN_TAIL if :: tail_pending -> tail = tail_buffer; tail_pending = 0 :: else -> skip fi
#if defined(FENCED) || defined(NO_PEER_BARRIER)
#define PEER_BARRIER(drain) skip
#else
#define PEER_BARRIER(drain) atomic { drain }
#endif

/* flush(): store head, load the consumer state, ring if it sleeps. */
#define FLUSH \
    STORE_HEAD(next); \
    published = next; \
    if \
    :: consumer_state == SLEEPING -> \
       CLAIM(consumer_state, won); \
       if :: won -> doorbells++ :: else -> skip fi \
    :: else -> skip \
    fi

proctype Producer() {
    byte next = 0;           /* SpscProducer::head_ + staged_ */
    byte published = 0;      /* SpscProducer::head_: what flush() last stored */
    byte cached_tail = 0;
    bit won;
    do
    :: next == MESSAGES -> break
    :: next < MESSAGES ->
        /* try_reserve(): the cached tail says full -> reload it */
        if
        :: next - cached_tail >= CAPACITY -> cached_tail = tail
        :: else -> skip
        fi;
        if
        :: next - cached_tail >= CAPACITY ->
            /* wait_for_space(): flush staged entries first */
#ifndef NO_FLUSH_BEFORE_WAIT
            if
            :: published != next -> FLUSH
            :: else -> skip
            fi;
#endif
            full_waits++;
            do
            :: producer_state = SLEEPING;            /* announce_sleep */
               PEER_BARRIER(DRAIN_TAIL);
               cached_tail = tail;                   /* re-check */
               if
               :: next - cached_tail < CAPACITY || closed ->
                  CLAIM(producer_state, won);        /* cancel */
                  break
               :: else ->
                  FUTEX_WAIT(producer_state);
                  CLAIM(producer_state, won);
                  cached_tail = tail;
                  if
                  :: next - cached_tail < CAPACITY -> break
                  :: else -> skip
                  fi
               fi
            od
        :: else -> skip
        fi;
        assert(next - tail < CAPACITY);              /* never overwrite an untaken slot */
        slots[next % CAPACITY] = next;
        next++;
        if
        :: FLUSH                                     /* publish() */
        :: skip                                      /* stage(): publish with a later flush */
        fi
    od;
    if                                               /* the last flush */
    :: published != next -> FLUSH
    :: else -> skip
    fi;
#ifdef WITH_CLOSE
    atomic { DRAIN_HEAD; closed = 1 };               /* SpscRing::close(): an xchg */
    CLAIM(consumer_state, won);
    CLAIM(producer_state, won)
#endif
}

#ifdef WITH_CLOSE
#define FINISHED false                               /* only "closed and empty" ends it */
#else
#define FINISHED (next == MESSAGES)
#endif

proctype Consumer() {
    byte next = 0;           /* SpscConsumer::tail_ */
    byte released = 0;       /* the tail last stored for the producer */
    byte cached_head = 0;
    bit won;
    do
    :: FINISHED -> break
    :: next != cached_head ->
        /* peek() hit: the slot must hold exactly the next message */
        assert(slots[next % CAPACITY] == next);
        next++;
        delivered++;
        if                                           /* release() now, or batch it */
        :: released = next;
           STORE_TAIL(next);
           if
           :: producer_state == SLEEPING ->
              CLAIM(producer_state, won);            /* wake_producer() */
              if :: won -> space_wakeups++ :: else -> skip fi
           :: else -> skip
           fi
        :: skip
        fi
    :: next == cached_head && !FINISHED ->
        cached_head = head;                          /* peek() reload */
        if
        :: cached_head != next -> skip
        :: else ->
            /* wait_for_entries(): hand back what we took before sleeping */
#ifdef NO_RELEASE_BEFORE_SLEEP
            if
            :: false -> skip
            :: else -> skip
            fi;
#else
            if
            :: released != next ->
               released = next;
               STORE_TAIL(next);
               if
               :: producer_state == SLEEPING ->
                  CLAIM(producer_state, won);
                  if :: won -> space_wakeups++ :: else -> skip fi
               :: else -> skip
               fi
            :: else -> skip
            fi;
#endif
            do
            :: closed ->
               cached_head = head;
               if
               :: cached_head != next -> break       /* leftovers first */
               :: else -> goto drained               /* WaitOutcome::Closed */
               fi
            :: !closed ->
               consumer_state = SLEEPING;            /* announce_sleep */
               PEER_BARRIER(DRAIN_HEAD);
#ifndef NO_RECHECK
               cached_head = head;                   /* the re-check */
               if
               :: cached_head != next || closed ->
                  CLAIM(consumer_state, won);        /* cancel */
                  if
                  :: cached_head != next -> break
                  :: else -> skip
                  fi
               :: else ->
#endif
                  FUTEX_WAIT(consumer_state);
                  CLAIM(consumer_state, won);
                  cached_head = head;
                  if
                  :: cached_head != next -> break
                  :: else -> skip
                  fi
#ifndef NO_RECHECK
               fi
#endif
            od
        fi
    od;
drained:
    assert(delivered == MESSAGES);
    assert(doorbells <= MESSAGES)
}

/* The store buffers drain on their own, at any moment. */
proctype StoreBuffers() {
end:
    do
    :: atomic { head_pending -> head = head_buffer; head_pending = 0 }
    :: atomic { tail_pending -> tail = tail_buffer; tail_pending = 0 }
    od
}

init {
    atomic {
        run Producer();
        run Consumer();
        run StoreBuffers()
    }
}

ltl all_delivered { <> (delivered == MESSAGES) }
