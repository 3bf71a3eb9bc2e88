// Per-thread state: one instance of a class per thread, made on the thread's first use and
// released when the thread ends. The transforms' nesting (ThreadState) and the facade's grad
// modes and functionalCall substitutions live in such instances, so that several threads can
// differentiate and batch at once without seeing each other's state. (The kernels' own
// per-thread state, a layer below, is `KernelThreadState` in FluxionKernels.)

#if canImport(Glibc)
import Glibc
#endif

/// One instance of `Value` per thread.
package final class ThreadLocal<Value: AnyObject>: @unchecked Sendable {
    private let key: pthread_key_t
    private let make: () -> Value

    package init(_ make: @escaping () -> Value) {
        var key = pthread_key_t()
        pthread_key_create(&key) { if let p = $0 { Unmanaged<AnyObject>.fromOpaque(p).release() } }
        self.key = key
        self.make = make
    }

    /// This thread's instance.
    package var value: Value {
        if let p = pthread_getspecific(key) { return unsafeDowncast(Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue(), to: Value.self) }
        let value = make()
        pthread_setspecific(key, Unmanaged<AnyObject>.passRetained(value).toOpaque())
        return value
    }
}
