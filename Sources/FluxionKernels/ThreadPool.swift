// The threads that kernel loops and matrix products split their work across: the calling thread
// and `Loops.cores − 1` workers of Fluxion's own, one pool for every kernel.
//
// Why not Dispatch: a loop worth splitting here lasts tens to hundreds of microseconds (an
// activation over a batch, a block of a layer's matrix product), and waking a sleeping thread
// costs about as much — on a virtual machine, tens of microseconds, while the idle processor is
// woken by the hypervisor. Measured on this project's 2-core machine, `concurrentPerform` of two
// 17 µs halves took 55 µs, slower than running them one after the other. So a worker that
// finishes a task keeps watching for the next one for a while (`spinMicroseconds`) and only
// then sleeps; a loop that follows within that time starts in about a microsecond. OpenBLAS's
// own threads and OpenMP runtimes wait the same way. A watching worker tells the processor so
// (`fluxion_spin_pause`, for a hardware thread sharing its core), yields to any other runnable
// thread now and then, and sleeps at once if it finds itself on the caller's processor, where
// watching would only take turns with the caller.
//
// A BLAS or LAPACK call big enough for OpenBLAS to start its own threads runs with the workers
// asleep (`standingAside`), so the two sets of threads do not take turns on the processors.
//
// One task runs at a time. A thread that finds the pool busy — another thread's loop, or a loop
// inside a task — runs its loop by itself, so loops nest and several threads may use kernels at
// once without waiting for each other.

import CVectorMaps
import Foundation
import Synchronization

/// Fluxion's worker threads: `run(tasks:_:)` calls a body for each task index, spread over the
/// calling thread and the workers.
@usableFromInline
final class ThreadPool: @unchecked Sendable {
    /// The pool of `Loops.cores − 1` workers, started on first use.
    @usableFromInline static let shared = ThreadPool(workers: Loops.cores - 1)

    /// How long a worker keeps watching for the next task before it sleeps:
    /// `FLUXION_SPIN_MICROSECONDS`, else 50 µs — longer than the gap between the kernel loops
    /// of a jitted step, short enough that an idle program stops taking processor time at once
    /// (on a machine that shares its processors under a quota, watching for a millisecond made
    /// W5 slower, not faster). 0 makes workers sleep as soon as they finish.
    static let spinMicroseconds: UInt64 = {
        if let text = getenv("FLUXION_SPIN_MICROSECONDS"), let value = UInt64(String(cString: text)) { return value }
        return 50
    }()

    private let workers: Int
    /// The current task's generation (bits 32 and up), whether it is closed to workers that have
    /// not joined yet (bit 31), and how many workers are inside it (the bits below).
    private let state = Atomic<Int>(0)
    private static let closed = 1 << 31
    private static let generationUnit = 1 << 32
    private static let generationBits = ~(generationUnit - 1)
    /// Task indices handed out so far for the current task.
    private let next = Atomic<Int>(0)
    /// The processor the thread that published the last task ran on.
    private let callerProcessor = Atomic<Int>(-1)
    /// How many BLAS or LAPACK calls that run OpenBLAS's own threads are under way.
    private let aside = Atomic<Int>(0)
    /// Taken by the thread whose task the pool runs.
    private let busy = Atomic<Bool>(false)
    /// Per worker: whether it sleeps, and the semaphore it sleeps on.
    private let beds: [Bed]
    /// The current task: its body and how many indices it has. Written before a new generation
    /// is published, read only by a worker that joined it.
    nonisolated(unsafe) private var body: ((Int) -> Void)?
    nonisolated(unsafe) private var count = 0

    private init(workers: Int) {
        self.workers = Swift.max(workers, 0)
        state.store(Self.closed, ordering: .relaxed)
        beds = (0..<self.workers).map { _ in Bed() }
        for w in 0..<self.workers {
            let thread = Thread { [unowned self] in self.work(as: w) }
            thread.name = "Fluxion worker \(w + 1)"
            thread.start()
        }
    }

    /// Calls `body(i)` once for each `i` in `0..<tasks`, on the calling thread and the workers,
    /// and returns when every call has returned. Indices are handed out in order, one at a
    /// time, to whichever thread is free; the caller takes them too, so a task never waits for
    /// a worker to wake. Runs the calls on the calling thread alone when the pool is busy
    /// (another thread's task, or this call comes from inside a task).
    @usableFromInline func run(tasks: Int, _ body: (Int) -> Void) {
        guard tasks > 1, workers > 0, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for i in 0..<tasks { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            self.body = body
            count = tasks
            next.store(0, ordering: .relaxed)
            // Open the next generation, with no worker inside.
            // (Wrapping: after 2³¹ tasks the count starts again; only equality matters.)
            let generation = (state.load(ordering: .relaxed) & Self.generationBits) &+ Self.generationUnit
            callerProcessor.store(Int(sched_getcpu()), ordering: .relaxed)
            state.store(generation, ordering: .sequentiallyConsistent)
            for bed in beds where bed.asleep.exchange(false, ordering: .sequentiallyConsistent) {
                bed.wake.signal()
            }
            takeTasks(body, count: tasks)
            // Close it once no worker is inside, so that none joins after `body` is gone.
            var spins = 0
            while !state.compareExchange(expected: generation, desired: generation | Self.closed,
                                         ordering: .acquiringAndReleasing).exchanged {
                spins += 1
                if spins > 1024 { sched_yield() } else { fluxion_spin_pause() }
            }
            self.body = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Runs `body` — a BLAS or LAPACK call large enough for OpenBLAS to use its own threads,
    /// when `condition` holds — with the workers asleep rather than watching for tasks, so that
    /// they leave the processors to OpenBLAS's threads.
    @usableFromInline func standingAside<R>(if condition: Bool, _ body: () -> R) -> R {
        guard condition && workers > 0 else { return body() }
        aside.add(1, ordering: .relaxed)
        defer { aside.subtract(1, ordering: .relaxed) }
        return body()
    }

    /// Runs task indices until none are left.
    private func takeTasks(_ body: (Int) -> Void, count: Int) {
        while true {
            let i = next.add(1, ordering: .relaxed).oldValue
            if i >= count { return }
            body(i)
        }
    }

    /// A worker's life: wait for a new generation, join it unless it is already closed, take
    /// its indices, leave, wait again.
    private func work(as w: Int) {
        var seen = 0
        while true {
            seen = waitForGeneration(after: seen, as: w)
            if join(seen) {
                takeCurrentTasks()
                state.subtract(1, ordering: .releasing)
            }
        }
    }

    /// Enters generation `generation` (counted in `state`) if it is still open.
    private func join(_ generation: Int) -> Bool {
        var current = state.load(ordering: .acquiring)
        while current & Self.generationBits == generation && current & Self.closed == 0 {
            let (exchanged, original) = state.compareExchange(expected: current, desired: current + 1, ordering: .acquiring)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Runs the current task's remaining indices; every reference to its body is gone when
    /// this returns.
    @inline(never) private func takeCurrentTasks() {
        guard let body else { return }
        takeTasks(body, count: count)
    }

    /// Watches for a generation other than `seen`, for `spinMicroseconds`, then sleeps until
    /// `run` signals; returns the generation it found.
    private func waitForGeneration(after seen: Int, as w: Int) -> Int {
        let generationBits = Self.generationBits
        let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinMicroseconds * 1000
        var spins = 0
        while true {
            let current = state.load(ordering: .acquiring) & generationBits
            if current != seen { return current }
            fluxion_spin_pause()
            spins += 1
            if spins & 63 == 0 {
                if DispatchTime.now().uptimeNanoseconds >= deadline || aside.load(ordering: .relaxed) > 0 { break }
                if Int(sched_getcpu()) == callerProcessor.load(ordering: .relaxed) { break }
                sched_yield()
            }
        }
        // Asleep, unless a generation arrived meanwhile; a signal sent for this sleep is consumed
        // either way, so the semaphore never holds a stale one.
        let bed = beds[w]
        bed.asleep.store(true, ordering: .sequentiallyConsistent)
        if state.load(ordering: .sequentiallyConsistent) & generationBits != seen {
            if bed.asleep.exchange(false, ordering: .sequentiallyConsistent) { return state.load(ordering: .acquiring) & generationBits }
        }
        bed.wake.wait()
        return state.load(ordering: .acquiring) & generationBits
    }
}

/// Where a worker sleeps: `asleep` is set by the worker before it waits on `wake`, and cleared by
/// whoever signals it.
private final class Bed: Sendable {
    let asleep = Atomic<Bool>(false)
    let wake = DispatchSemaphore(value: 0)
}

/// glibc's `sched_getcpu()`, the processor the calling thread runs on, which the Glibc module
/// leaves out (it is a GNU extension).
@_silgen_name("sched_getcpu")
private func sched_getcpu() -> Int32
