import Foundation

/// Renders items on a thread of its own, in the order they are put, with at
/// most `capacity` waiting: the producer (parsing, or reading the database)
/// goes on on one core while output is rendered and written on the other.
/// `put` blocks while the queue is full, so memory stays bounded.
public final class RenderThread<Item>: @unchecked Sendable {
    private let cond = NSCondition()
    private var waiting: [Item] = []
    private var closed = false
    private var done = false
    private let capacity: Int

    public init(name: String, capacity: Int = 2, render: @escaping (Item) -> Void, finish: @escaping () -> Void = {}) {
        self.capacity = capacity
        let t = Thread { [self] in
            while let item = take() { render(item) }
            finish()
            cond.lock(); done = true; cond.broadcast(); cond.unlock()
        }
        t.name = name
        t.stackSize = 8 << 20
        t.start()
    }

    public func put(_ item: Item) {
        cond.lock(); defer { cond.unlock() }
        while waiting.count >= capacity { cond.wait() }
        waiting.append(item)
        cond.broadcast()
    }

    /// Renders what is queued, runs `finish`, and returns once the thread has.
    public func close() {
        cond.lock(); defer { cond.unlock() }
        closed = true
        cond.broadcast()
        while !done { cond.wait() }
    }

    private func take() -> Item? {
        cond.lock(); defer { cond.unlock() }
        while waiting.isEmpty && !closed { cond.wait() }
        if waiting.isEmpty { return nil }
        cond.broadcast()
        return waiting.removeFirst()
    }
}
