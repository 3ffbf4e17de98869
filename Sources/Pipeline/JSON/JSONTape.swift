/// The reusable node storage a scanner writes a document into.
///
/// Scanning a document only resets `count`; the memory is kept and grows to the largest
/// document seen, so steady-state scanning allocates nothing. `~Copyable` because the
/// ``JSONValue`` views handed out point straight into this memory.
public struct JSONTape: ~Copyable {
    @usableFromInline var nodes: UnsafeMutablePointer<JSONNode>
    @usableFromInline var capacity: Int
    /// Nodes written by the last scan.
    public internal(set) var count: Int

    public init(capacity: Int = 256) {
        let capacity = Swift.max(capacity, 16)
        nodes = .allocate(capacity: capacity)
        self.capacity = capacity
        count = 0
    }

    deinit { nodes.deallocate() }

    @inlinable
    public subscript(_ index: Int) -> JSONNode {
        nodes[index]
    }

    /// Appends a node and returns its index.
    @inline(__always)
    mutating func append(_ node: JSONNode) -> Int {
        if count == capacity { grow() }
        nodes[count] = node
        count &+= 1
        return count &- 1
    }

    @usableFromInline
    mutating func grow() {
        let newCapacity = capacity * 2
        let newNodes = UnsafeMutablePointer<JSONNode>.allocate(capacity: newCapacity)
        newNodes.moveInitialize(from: nodes, count: count)
        nodes.deallocate()
        nodes = newNodes
        capacity = newCapacity
    }

    /// Makes room for `extra` more nodes, so that pointers taken now stay valid while
    /// that many are appended.
    mutating func reserve(_ extra: Int) {
        while count + extra > capacity { grow() }
    }

    mutating func removeAll() { count = 0 }

    /// Appends a string node over bytes outside any JSON document (an attribute value
    /// from a header), at `start..<end` of the caller's byte store.
    mutating func appendExternalString(start: Int, end: Int) -> Int {
        append(JSONNode(start: UInt32(start), end: UInt32(end), next: UInt32(count + 1), kind: .string, flags: JSONNode.external))
    }

    /// Memory held, for budgets.
    public var allocatedBytes: Int { capacity * MemoryLayout<JSONNode>.stride }
}
