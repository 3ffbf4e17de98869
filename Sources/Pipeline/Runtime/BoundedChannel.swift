import DequeModule
import Synchronization

/// A multi-producer, multi-consumer queue with a fixed capacity.
///
/// Every edge between stages is one of these, so no queue grows without bound: a full
/// channel makes `send` wait (the pulling inputs' policy), and `trySend` lets pushing
/// inputs refuse instead (HTTP answers 429). Closing wakes everyone: senders get
/// `false`, receivers drain what is left and then get `nil`.
public final class BoundedChannel<Element: Sendable>: Sendable {
    public let capacity: Int

    private struct State {
        var buffer: Deque<Element> = []
        var senders: Deque<(Element, CheckedContinuation<Bool, Never>)> = []
        var receivers: Deque<CheckedContinuation<Element?, Never>> = []
        var closed = false
    }

    private let state = Mutex(State())

    public init(capacity: Int) {
        precondition(capacity > 0, "a channel needs room for at least one element")
        self.capacity = capacity
    }

    /// Number of elements waiting.
    public var count: Int { state.withLock { $0.buffer.count + $0.senders.count } }

    /// Sends, waiting while the channel is full. Returns false if the channel is closed.
    @discardableResult
    public func send(_ element: Element) async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let action = state.withLock { s -> (CheckedContinuation<Element?, Never>?, Bool?) in
                if s.closed { return (nil, false) }
                if let receiver = s.receivers.popFirst() { return (receiver, true) }
                if s.buffer.count < capacity {
                    s.buffer.append(element)
                    return (nil, true)
                }
                s.senders.append((element, c))
                return (nil, nil)
            }
            if let receiver = action.0 { receiver.resume(returning: element) }
            if let result = action.1 { c.resume(returning: result) }
        }
    }

    /// Sends if there is room now; never waits.
    public func trySend(_ element: Element) -> Bool {
        let (receiver, ok) = state.withLock { s -> (CheckedContinuation<Element?, Never>?, Bool) in
            if s.closed { return (nil, false) }
            if let receiver = s.receivers.popFirst() { return (receiver, true) }
            if s.buffer.count < capacity {
                s.buffer.append(element)
                return (nil, true)
            }
            return (nil, false)
        }
        receiver?.resume(returning: element)
        return ok
    }

    /// Receives the next element, waiting while the channel is empty; nil once the
    /// channel is closed and empty.
    public func receive() async -> Element? {
        await withCheckedContinuation { (c: CheckedContinuation<Element?, Never>) in
            let action = state.withLock { s -> (Element??, CheckedContinuation<Bool, Never>?) in
                if let element = s.buffer.popFirst() {
                    var waking: CheckedContinuation<Bool, Never>?
                    if let (pending, sender) = s.senders.popFirst() {
                        s.buffer.append(pending)
                        waking = sender
                    }
                    return (.some(element), waking)
                }
                if let (pending, sender) = s.senders.popFirst() { return (.some(pending), sender) }
                if s.closed { return (.some(nil), nil) }
                s.receivers.append(c)
                return (nil, nil)
            }
            action.1?.resume(returning: true)
            if let element = action.0 { c.resume(returning: element) }
        }
    }

    /// Stops accepting elements; receivers still get what is buffered.
    public func close() {
        let (senders, receivers) = state.withLock { s -> ([CheckedContinuation<Bool, Never>], [CheckedContinuation<Element?, Never>]) in
            s.closed = true
            let senders = s.senders.map(\.1)
            s.senders.removeAll()
            // Senders that were waiting lose their element: tell them so they can react.
            let receivers = s.buffer.isEmpty ? Array(s.receivers) : []
            if s.buffer.isEmpty { s.receivers.removeAll() }
            return (senders, receivers)
        }
        for s in senders { s.resume(returning: false) }
        for r in receivers { r.resume(returning: nil) }
    }
}
