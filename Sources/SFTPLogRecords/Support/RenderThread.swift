import Dispatch
import Foundation
import Synchronization

/// Renders items on a thread of its own, in the order they are put, with at
/// most `capacity` waiting: the producer (parsing, or reading the database)
/// goes on on one core while output is rendered and written on the other.
/// `put` blocks while the queue is full, so memory stays bounded.
public final class RenderThread<Item: Sendable>: Sendable {
    /// Queued items; nil marks the end (`close`).
    private let queue: BoundedQueue<Item?>
    private let closed = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    public convenience init(name: String, capacity: Int = 2, render: @escaping @Sendable (Item) -> Void,
                            finish: @escaping @Sendable () -> Void = {}) {
        self.init(name: name, capacity: capacity, state: {}, render: { _, item in render(item) }, finish: finish)
    }

    /// `init` with state the render thread makes for itself and passes to each
    /// `render` (it never leaves that thread).
    public init<State>(name: String, capacity: Int = 2, state makeState: @escaping @Sendable () -> State,
                       render: @escaping @Sendable (inout State, Item) -> Void, finish: @escaping @Sendable () -> Void = {}) {
        queue = BoundedQueue(capacity: capacity)
        let t = Thread { [self] in
            var state = makeState()
            while let item = queue.take() { render(&state, item) }
            finish()
            finished.signal()
        }
        t.name = name
        t.stackSize = 8 << 20
        t.start()
    }

    public func put(_ item: Item) { queue.put(item) }

    /// Renders what is queued, runs `finish`, and returns once the thread has
    /// (a later `close` returns at once).
    public func close() {
        guard closed.withLock({ c in defer { c = true }; return !c }) else { return }
        queue.put(nil)
        finished.wait()
    }
}

/// Items handed from one thread to another, in order, with at most `capacity`
/// waiting: `put` blocks while it is full, `take` while it is empty.
public final class BoundedQueue<Item: Sendable>: Sendable {
    private let items = Mutex<[Item]>([])
    private let free: DispatchSemaphore
    private let queued = DispatchSemaphore(value: 0)

    public init(capacity: Int) { free = DispatchSemaphore(value: capacity) }

    public func put(_ item: Item) {
        free.wait()
        Spin.withLock(items) { $0.append(item) }
        queued.signal()
    }

    public func take() -> Item {
        queued.wait()
        let item = Spin.withLock(items) { $0.removeFirst() }
        free.signal()
        return item
    }
}

/// A mutex held for a few instructions, taken by spinning briefly before
/// waiting: `Mutex` waits on a priority-inheriting futex, whose kernel path
/// spun for a long while in a virtual machine (6% of a session thread).
public enum Spin {
    @inline(__always)
    public static func withLock<Value, R>(_ m: borrowing Mutex<Value>, _ body: (inout sending Value) -> sending R) -> R {
        for _ in 0..<256 {
            if let r = m.withLockIfAvailable(body) { return r }
        }
        return m.withLock(body)
    }
}
