/*
 * The live swap protocol of nucleus/evolution (docs/evolution.md) as a Promela model,
 * checked by spin in ctest (test/spin/check_model.py; registered by
 * test/host/evolution/evolution.cmake).
 *
 * One service slot leads to the OLD or the NEW module instance. Each instance has its
 * code (the image: loaded, later freed) and its state region.
 *   CPUS callers make CALLS calls each, the way the nucleus calls the scheduler policy and
 *            the heap: with interrupts off, so a call is never interrupted by the
 *            rendezvous. A call loads the slot once (acquire), runs that instance's code
 *            and updates that instance's state (read, then write: not atomic).
 *   a task   runs module code preemptibly (a thread preempted inside module code, or
 *            between loading the slot and calling): it can be inside the OLD image across
 *            the whole pause.
 *   the evolution engine  prepare (load NEW); validate: copy OLD's state into a snapshot
 *            while the callers run (entry by entry: it may be torn) and build NEW's state
 *            from the snapshot; then the pause: signal every CPU, wait until each has
 *            stopped between two calls (HoldUntilReleased), compare OLD's state with the
 *            snapshot and build NEW's again from OLD's only if an entry differs (the
 *            pre-built state: nucleus/evolution/state_snapshot.h), store NEW in the slot,
 *            release; then resume: free the OLD image only once the code scan finds no
 *            context inside it.
 * Checked (assertions; the safety run also reports invalid end states):
 *   - no caller sees a half-swapped service: code of NEW never runs before NEW's state is
 *     committed;
 *   - no request is lost or duplicated: at the end the serving instance's state counts
 *     every call ever made, across the swap;
 *   - old code is never freed while a CPU or task may run it;
 *   - the liveness run: the swap always finishes (<> swapped).
 * Broken variants that must fail (ctest expects spin to find each):
 *   -DNO_WAIT_FOR_CPUS  the pause does not wait for the CPUs to stop (a call in flight on
 *                       OLD writes OLD's state after the copy: a lost request);
 *   -DNO_HOLD           the CPUs stop but are not held until the release (they run NEW's
 *                       code before its state is committed);
 *   -DNO_SCAN           resume frees the old image at once (the preempted task is still
 *                       running it);
 *   -DNO_RECHECK        the pause trusts the state built in validate without comparing
 *                       (a call between the snapshot and the pause is lost).
 */

#ifndef CPUS
#define CPUS 2
#endif
#ifndef CALLS
#define CALLS 2
#endif

#define OLD 0
#define NEW 1
#define NONE 2

byte slot = OLD;
bool loaded[2];
bool freed[2];
bool committed = false;  /* NEW's state holds OLD's */
/* Each instance's state: a count of calls served per CPU (per-CPU like the heap's
   magazines and the policy's run queues, so concurrent calls on two CPUs do not race). */
byte state[2 * CPUS];
byte snapshot[CPUS];  /* validate's copy of OLD's state */
byte calls_made = 0;

bool pause_requested = false;
byte stopped = 0;         /* CPUs stopped in the rendezvous */
byte generation = 0;      /* bumped at the release */
byte task_inside = NONE;  /* the image the preemptible task is executing */
bool swapped = false;
byte callers_done = 0;

inline run_code(instance) {
    assert(loaded[instance] && !freed[instance]);
    assert(instance == OLD || committed)
}

proctype caller(byte cpu) {
    byte made = 0;
    byte mine;
    byte seen;
    byte value;
    byte acknowledged = 0;
    do
    :: made == CALLS -> break
    :: else ->
        if
        :: atomic { pause_requested && acknowledged != generation + 1 ->
            /* The rendezvous interrupt, taken between calls (interrupts on), once per
               rendezvous. */
            seen = generation; acknowledged = generation + 1; stopped++ }
#ifndef NO_HOLD
            (generation != seen);
#endif
        :: else ->
            /* One call, interrupts off: the rendezvous waits for its end. */
            atomic { mine = slot; }   /* the acquire load of the slot */
            run_code(mine);
            value = state[mine * CPUS + cpu];
            run_code(mine);
            state[mine * CPUS + cpu] = value + 1;
            calls_made++;
            made++
        fi
    od;
    callers_done++
}

proctype task() {
    byte mine;
    /* The loaded record and vtable pointers count as being inside the image: the code
       scan checks the registers saved in each interrupt frame as well as the return
       addresses, so a task preempted between the slot load and the call is seen. */
    atomic { mine = slot; task_inside = mine }
    run_code(mine);
    /* preempted here, possibly across the whole pause */
    run_code(mine);
    task_inside = NONE
}

proctype evolution() {
    /* Prepare and validate: the new image is loaded and bound, not published; its state is
       built from a snapshot of OLD's, taken while the callers run. */
    loaded[NEW] = true;
    byte taken = 0;
    do
    :: taken < CPUS ->
        snapshot[taken] = state[OLD * CPUS + taken];
        state[NEW * CPUS + taken] = snapshot[taken];
        taken++
    :: else -> break
    od;
    /* Swap: the stop-the-world pause. */
    pause_requested = true;
#ifndef NO_WAIT_FOR_CPUS
    (stopped + callers_done >= CPUS);
#endif
#ifdef NO_WAIT_FOR_CPUS
    if  /* keeps `stopped` read, so every variant has the same variables */
    :: stopped > 200 -> skip
    :: else -> skip
    fi;
#endif
    /* Inside the pause: the pre-built state stands only if OLD's equals the snapshot. */
    byte copied = 0;
    bool current = true;
#ifndef NO_RECHECK
    do
    :: copied < CPUS -> current = current && state[OLD * CPUS + copied] == snapshot[copied]; copied++
    :: else -> break
    od;
#endif
    if
    :: !current ->
        copied = 0;
        do
        :: copied < CPUS -> state[NEW * CPUS + copied] = state[OLD * CPUS + copied]; copied++
        :: else -> break
        od
    :: else -> skip
    fi;
    committed = true;
    slot = NEW;
    pause_requested = false;
    generation++;
    swapped = true;
    /* Resume: free the old code only when no context is inside it. */
#ifndef NO_SCAN
    (task_inside != OLD);
#endif
    freed[OLD] = true
}

init {
    loaded[OLD] = true;
    atomic {
        byte index = 0;
        do
        :: index < CPUS -> run caller(index); index++
        :: else -> break
        od;
        run task();
        run evolution()
    }
    (callers_done == CPUS && swapped);
    /* Every call ever made is in the state of the instance that serves now. */
    byte total = 0;
    byte cpu = 0;
    do
    :: cpu < CPUS -> total = total + state[slot * CPUS + cpu]; cpu++
    :: else -> break
    od;
    assert(total == calls_made)
}

ltl swap_finishes { <> swapped }
