/// One command's arguments in a single byte buffer, ready for hiredis's `*Argv` calls.
///
/// An XACK of 20,000 ids is one buffer plus an offsets array, not 20,000 Strings; the
/// arguments are binary-safe (values may hold any bytes).
public struct RedisCommand: Sendable, Hashable {
    public private(set) var bytes: [UInt8] = []
    /// End offset of each argument in ``bytes``.
    public private(set) var ends: [Int] = []

    public init() {}

    public init(_ arguments: [String]) {
        for a in arguments { append(a) }
    }

    public init(_ arguments: String...) {
        self.init(arguments)
    }

    public var count: Int { ends.count }

    public mutating func append(_ argument: String) {
        bytes.append(contentsOf: argument.utf8)
        ends.append(bytes.count)
    }

    public mutating func append(bytes argument: some Collection<UInt8>) {
        bytes.append(contentsOf: argument)
        ends.append(bytes.count)
    }

    public mutating func append(_ id: RedisEntryID) {
        id.write(to: &bytes)
        ends.append(bytes.count)
    }

    public mutating func append(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
        ends.append(bytes.count)
    }

    public mutating func reserve(arguments: Int, bytes count: Int) {
        ends.reserveCapacity(arguments)
        bytes.reserveCapacity(count)
    }

    /// The argument at `index`, as text (for logs and tests).
    public func argument(_ index: Int) -> String {
        let start = index == 0 ? 0 : ends[index - 1]
        return String(decoding: bytes[start..<ends[index]], as: UTF8.self)
    }

    public var arguments: [String] { (0..<count).map(argument) }

    /// Calls `body` with `argc`, `argv` and `argvlen` as hiredis wants them; the pointers
    /// are valid only inside `body`.
    func withArgv<R>(_ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) throws(RedisError) -> R) throws(RedisError) -> R {
        let n = ends.count
        let result: Result<R, RedisError> = bytes.withUnsafeBufferPointer { buffer in
            // An empty argument still needs a valid pointer.
            let base = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self)
            let argv = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: Swift.max(n, 1))
            let lengths = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(n, 1))
            defer {
                argv.deallocate()
                lengths.deallocate()
            }
            var start = 0
            for i in 0..<n {
                argv[i] = base + start
                lengths[i] = ends[i] - start
                start = ends[i]
            }
            do throws(RedisError) {
                return .success(try body(Int32(n), argv, lengths))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
