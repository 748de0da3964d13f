/*
 * A crash racing ring requests (docs/crash-containment.md) as a Promela model, checked by
 * spin in ctest (test/spin/check_model.py; registered by
 * test/host/containment/containment.cmake).
 *
 * BINDINGS ring bindings lead to one provider module, as the console's and the load
 * threads' bindings lead to the serial driver. Each has a consumer that queues REQUESTS
 * requests into a ring of CAPACITY entries, and its own provider thread that takes them one
 * at a time (nucleus/ring/ring_bindings.cpp, dispatch_with_interrupts_off):
 *   - once the binding is marked failed, the request is answered ENODEV;
 *   - otherwise the request is a guarded call with interrupts off: it loads the provider's
 *     slot (an instance) and runs that instance's code. The code may fault (at most
 *     CRASHES times in all); the fault unwinds the call, the crash book decides
 *     (crash_book.cpp: Failed stays failed; Recovering -> wait for that restart; the
 *     FAIL_AFTER-th crash -> Failed; else Restart), the request's completion says EIO,
 *     and recover() runs on this provider thread before the completion is published:
 *       Restart       the live evolution path: a pause that the CPUs join only between two
 *                     guarded calls (interrupts on), a fresh instance stored in the slot,
 *                     the old image freed once no call can be inside it; the restart
 *                     itself may fail (a refused file or state): Failed; the fresh
 *                     instance's start, guarded too, may crash (from the same budget):
 *                     counted like any crash, and the restarter restarts again (other
 *                     threads' calls meanwhile run the committed instance) or, at the
 *                     FAIL_AFTER-th crash, fails the module;
 *       AwaitRestart  sleep until the module is no longer Recovering;
 *       Fail          every binding of the provider is marked failed (ENODEV from then).
 * Checked:
 *   - every request is answered exactly once (an in-flight one with EIO, never twice);
 *   - no request is lost: every queued request is answered, across restarts and failure
 *     (the safety run's end states, and the liveness run: <> all answered);
 *   - no call runs code that was freed (an old instance unloaded with a call inside it);
 *   - a module marked failed never becomes Running again (only a restart leaves
 *     Recovering, and only record_crash leaves Running: the asserts in recover()).
 * Broken variants that must fail:
 *   -DNO_PAUSE_WAIT   the restart does not wait for the other CPUs' calls in flight: the old
 *                     image is freed under a call still running it;
 *   -DDROP_IN_FLIGHT  the request the fault interrupted is dropped, not answered EIO: its
 *                     consumer waits for ever;
 *   -DANSWER_TWICE    the EIO is published and the (abandoned) call's completion too.
 */

#ifndef BINDINGS
#define BINDINGS 2
#endif
#ifndef REQUESTS
#define REQUESTS 2
#endif
#ifndef CAPACITY
#define CAPACITY 1
#endif
#ifndef CRASHES
#define CRASHES 3
#endif
#define FAIL_AFTER 3
#define INSTANCES (CRASHES + 1)

#define RUNNING 0
#define RECOVERING 1
#define FAILED 2

#define NO_ANSWER 0
#define OK 1
#define EIO 2
#define ENODEV 3

mtype = { restart, await_restart, fail };

byte health = RUNNING;
byte slot = 0;                 /* the instance the provider's service slot leads to */
byte next_instance = 1;
bool freed[INSTANCES];
byte inside[INSTANCES];        /* guarded calls running each instance's code */
bool paused = false;           /* a swap's pause: no CPU starts a call */
byte crashes = 0;              /* recorded in the crash book */
byte crash_budget = CRASHES;   /* faults the model may still inject */
bool marked_failed[BINDINGS];

byte queued[BINDINGS];         /* requests in the ring, not yet taken */
byte answer[BINDINGS * REQUESTS];
byte answered = 0;
byte answered_of[BINDINGS];

inline answer_request(b, r, status) {
    d_step {
        assert(answer[b * REQUESTS + r] == NO_ANSWER);
        answer[b * REQUESTS + r] = status;
        answered_of[b]++;
        answered++
    }
}

/* The book under its lock (crash_book.cpp, record_crash). */
inline record_crash(decision) {
    d_step {
        crashes++;
        if
        :: health == FAILED -> decision = fail
        :: health == RECOVERING -> decision = await_restart
        :: else ->
            if
            :: crashes >= FAIL_AFTER -> health = FAILED; decision = fail
            :: else -> health = RECOVERING; decision = restart
            fi
        fi
    }
}

/* A crash in the start of the restarter's own fresh instance (record_crash with
   CrashPhase::StartUp): counted, never AwaitRestart. */
inline record_start_crash(decision) {
    d_step {
        assert(health == RECOVERING);
        crashes++;
        if
        :: crashes >= FAIL_AFTER -> health = FAILED; decision = fail
        :: else -> decision = restart
        fi
    }
}

inline mark_all_failed() {
    each = 0;
    do
    :: each < BINDINGS -> marked_failed[each] = true; each++
    :: else -> break
    od
}

/* containment::recover(): returns (in `failed`) whether the module ended Failed. */
inline recover(decision, failed) {
    if
    :: decision == restart ->
        do
        :: true ->
            old = slot;
            paused = true;
#ifndef NO_PAUSE_WAIT
            /* The rendezvous: every CPU stops between two guarded calls. */
            (inside[old] == 0);
#endif
            if
            :: d_step { slot = next_instance; next_instance++ };
               freed[old] = true;
               paused = false;
               if
               :: d_step { assert(health == RECOVERING); health = RUNNING };
                  failed = false;
                  break
               :: atomic { crash_budget > 0 -> crash_budget-- };   /* its start crashed */
                  record_start_crash(decision);
                  if
                  :: decision == fail -> failed = true; break
                  :: else -> skip   /* load another fresh instance */
                  fi
               fi
            :: paused = false;   /* the restart was refused: the old instance stays, failed */
               d_step { assert(health == RECOVERING); health = FAILED };
               failed = true;
               break
            fi
        od
    :: decision == await_restart ->
        (health != RECOVERING);
        failed = (health == FAILED)
    :: decision == fail -> failed = true
    fi;
    if
    :: failed -> mark_all_failed()
    :: else -> skip
    fi
}

proctype Consumer(byte b) {
    byte sent = 0;
    do
    :: sent < REQUESTS -> atomic { queued[b] < CAPACITY -> queued[b]++ }; sent++
    :: else -> break
    od;
    /* The caller waits for every answer (a request dropped leaves it here for ever). */
    (answered_of[b] == REQUESTS)
}

proctype Provider(byte b) {
    byte taken = 0;
    byte instance;
    bool failed;
    mtype decision;
    byte old;
    byte each;
    do
    :: taken == REQUESTS -> break
    :: else ->
        atomic { queued[b] > 0 -> queued[b]-- };
        if
        :: marked_failed[b] -> answer_request(b, taken, ENODEV)
        :: else ->
            /* The guarded call: interrupts off from the slot's load to the return. */
            atomic { !paused -> instance = slot; inside[instance]++ };
            assert(!freed[instance]);
            if
            :: true ->
                assert(!freed[instance]);
                inside[instance]--;
                answer_request(b, taken, OK)
            :: atomic { crash_budget > 0 -> crash_budget-- };
                assert(!freed[instance]);
                inside[instance]--;  /* unwound to the guarded call */
                record_crash(decision);
                recover(decision, failed);
#ifdef ANSWER_TWICE
                answer_request(b, taken, OK);
#endif
#ifndef DROP_IN_FLIGHT
                answer_request(b, taken, EIO)
#else
                skip
#endif
            fi
        fi;
        taken++
    od
}

init {
    byte b = 0;
    atomic {
        do
        :: b < BINDINGS -> run Consumer(b); run Provider(b); b++
        :: else -> break
        od
    }
}

#define all_answered (answered == BINDINGS * REQUESTS)
ltl every_request_answered { <> all_answered }
