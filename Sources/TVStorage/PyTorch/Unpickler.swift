/// A restricted unpickler for PyTorch checkpoints: a pure data interpreter of the pickle opcodes
/// that torch.save emits for state dicts (protocol 2, plus what newer pythons write).
///
/// Safety: nothing is imported or executed. GLOBAL/STACK_GLOBAL resolve names to `AllowedGlobal`
/// cases (refusing `DeniedGlobals`), REDUCE/NEWOBJ/BUILD rebuild plain data or inert records
/// (see `PickleCalls.swift`), and any other opcode (INST, OBJ, EXT*, PERSID, …) is refused by name. Memory is linear in the pickle's
/// size (containers live in an arena and are referenced by index) and explicitly capped.
struct Unpickler {
    let path: String
    var cursor: ByteCursor
    var stack: [PickleValue] = []
    /// Stack heights at each MARK.
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    var arena = PickleArena()
    /// Offset of the opcode being executed (for messages).
    var opcodeOffset = 0
    /// Whether numpy array reconstruction (`_reconstruct`, `ndarray`) is accepted: off for torch
    /// checkpoints (a state dict holds no numpy arrays), on for numpy data pickles.
    var allowsNumpyArrays = false

    static let maxStack = 1 << 24
    static let maxMemo = 1 << 24
    static let maxContainers = 1 << 24

    init(_ bytes: UnsafeRawBufferPointer, path: String) {
        self.path = path
        self.cursor = ByteCursor(bytes)
    }

    /// Runs the pickle to its STOP opcode and returns the top-level value and its arena.
    static func load(_ bytes: UnsafeRawBufferPointer, path: String) throws(PyTorchError) -> (PickleValue, PickleArena) {
        var u = Unpickler(bytes, path: path)
        let root = try u.run()
        return (root, u.arena)
    }

    mutating func run() throws(PyTorchError) -> PickleValue {
        while true {
            opcodeOffset = cursor.offset
            guard let op = cursor.u8() else { throw malformed("ended without a STOP opcode") }
            switch op {
            case 0x80:  // PROTO
                guard let v = cursor.u8() else { throw truncated() }
                guard v <= 5 else { throw malformed("unknown pickle protocol \(v)") }
            case 0x95:  // FRAME: a buffering hint; the frame's bytes follow inline
                guard cursor.u64() != nil else { throw truncated() }
            case 0x2e:  // STOP
                return try pop()
            case 0x28: // MARK
                guard marks.count < Self.maxStack else { throw limit("too many marks") }
                marks.append(stack.count)
            case 0x4e: try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x4b: guard let v = cursor.u8() else { throw truncated() }; try push(.int(Int(v)))
            case 0x4d: guard let v = cursor.u16() else { throw truncated() }; try push(.int(Int(v)))
            case 0x4a: guard let v = cursor.u32() else { throw truncated() }; try push(.int(Int(Int32(bitPattern: v))))
            case 0x8a: guard let n = cursor.u8() else { throw truncated() }; try push(try readLong(Int(n)))
            case 0x8b: guard let n = cursor.u32() else { throw truncated() }; try push(try readLong(Int(n)))
            case 0x47:  // BINFLOAT: big-endian IEEE double
                guard let v = cursor.u64() else { throw truncated() }
                try push(.float(Double(bitPattern: v.byteSwapped)))
            case 0x58: guard let n = cursor.u32() else { throw truncated() }; try push(.string(try readString(Int(n))))
            case 0x8c: guard let n = cursor.u8() else { throw truncated() }; try push(.string(try readString(Int(n))))
            case 0x8d: guard let n = cursor.u64() else { throw truncated() }; try push(.string(try readString(clamp(n))))
            case 0x42: guard let n = cursor.u32() else { throw truncated() }; try push(.bytes(try readBytes(Int(n))))
            case 0x43: guard let n = cursor.u8() else { throw truncated() }; try push(.bytes(try readBytes(Int(n))))
            case 0x8e: guard let n = cursor.u64() else { throw truncated() }; try push(.bytes(try readBytes(clamp(n))))
            // Python 2 str (BINSTRING / SHORT_BINSTRING), as in CIFAR-10's batches: raw bytes.
            case 0x54: guard let n = cursor.u32(), n < 1 << 31 else { throw truncated() }; try push(.bytes(try readBytes(Int(n))))
            case 0x55: guard let n = cursor.u8() else { throw truncated() }; try push(.bytes(try readBytes(Int(n))))
            case 0x7d: try push(.dict(try newDict([])))
            case 0x5d: try push(.list(try newList([])))
            case 0x29: try push(.tuple(try newTuple([])))
            case 0x74: try push(.tuple(try newTuple(try popMark())))
            case 0x85: let a = try pop(); try push(.tuple(try newTuple([a])))
            case 0x86: let b = try pop(), a = try pop(); try push(.tuple(try newTuple([a, b])))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); try push(.tuple(try newTuple([a, b, c])))
            case 0x6c: try push(.list(try newList(try popMark())))
            case 0x64: try push(.dict(try newDict(try pairs(try popMark()))))
            case 0x71: guard let i = cursor.u8() else { throw truncated() }; try put(Int(i))
            case 0x72: guard let i = cursor.u32() else { throw truncated() }; try put(Int(i))
            case 0x94: try put(memo.count)
            case 0x68: guard let i = cursor.u8() else { throw truncated() }; try push(try get(Int(i)))
            case 0x6a: guard let i = cursor.u32() else { throw truncated() }; try push(try get(Int(i)))
            case 0x30: _ = try pop()                                    // POP
            case 0x31: _ = try popMark()                                // POP_MARK
            case 0x32: try push(try top())                              // DUP
            case 0x61: let v = try pop(); try append([v])               // APPEND
            case 0x65: try append(try popMark())                        // APPENDS
            case 0x73: let v = try pop(), k = try pop(); try setItems([(k, v)])  // SETITEM
            case 0x75: try setItems(try pairs(try popMark()))           // SETITEMS
            case 0x63:  // GLOBAL "module\nname\n"
                guard let m = cursor.line(maxLength: 256), let n = cursor.line(maxLength: 256) else { throw truncated() }
                try push(.global(try resolveGlobal(String(decoding: m, as: UTF8.self), String(decoding: n, as: UTF8.self))))
            case 0x93:  // STACK_GLOBAL
                guard case let .string(name) = try pop(), case let .string(module) = try pop() else {
                    throw malformed("STACK_GLOBAL needs two strings")
                }
                try push(.global(try resolveGlobal(module, name)))
            case 0x52:  // REDUCE
                let args = try pop(), callable = try pop()
                try push(try call(callable, args, opcode: "REDUCE"))
            case 0x81:  // NEWOBJ
                let args = try pop(), cls = try pop()
                try push(try call(cls, args, opcode: "NEWOBJ"))
            case 0x62:  // BUILD
                let state = try pop()
                try build(try top(), state: state)
            case 0x8f: try push(.list(try newList([])))                // EMPTY_SET (as a list)
            case 0x90: try append(try popMark())                        // ADDITEMS
            case 0x91: try push(.list(try newList(try popMark())))      // FROZENSET (as a list)
            case 0x51:  // BINPERSID
                try push(try persistentLoad(try pop()))
            default:
                throw PyTorchError.forbiddenOpcode(path: path, opcode: PickleOpcodeNames.describe(op), offset: opcodeOffset)
            }
        }
    }

    // MARK: stack and memo

    mutating func push(_ v: PickleValue) throws(PyTorchError) {
        guard stack.count < Self.maxStack else { throw limit("stack deeper than \(Self.maxStack)") }
        stack.append(v)
    }

    /// Pops one value; never below the innermost MARK (as Python's metastack enforces).
    mutating func pop() throws(PyTorchError) -> PickleValue {
        guard stack.count > (marks.last ?? 0) else { throw malformed("stack underflow") }
        return stack.removeLast()
    }

    func top() throws(PyTorchError) -> PickleValue {
        guard stack.count > (marks.last ?? 0), let v = stack.last else { throw malformed("stack underflow") }
        return v
    }

    mutating func popMark() throws(PyTorchError) -> [PickleValue] {
        guard let m = marks.popLast(), m <= stack.count else { throw malformed("no MARK to pop to") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    mutating func put(_ index: Int) throws(PyTorchError) {
        guard memo.count < Self.maxMemo || memo[index] != nil else { throw limit("more than \(Self.maxMemo) memo entries") }
        memo[index] = try top()
    }

    func get(_ index: Int) throws(PyTorchError) -> PickleValue {
        guard let v = memo[index] else { throw malformed("memo entry \(index) was never stored") }
        return v
    }

    // MARK: operands

    func clamp(_ n: UInt64) -> Int { n > UInt64(Int.max) ? Int.max : Int(n) }

    mutating func readString(_ n: Int) throws(PyTorchError) -> String {
        guard let b = cursor.take(n) else { throw truncated() }
        guard let s = String(validating: b, as: UTF8.self) else { throw malformed("string is not valid UTF-8") }
        return s
    }

    mutating func readBytes(_ n: Int) throws(PyTorchError) -> [UInt8] {
        guard let b = cursor.take(n) else { throw truncated() }
        return Array(b)
    }

    /// LONG1/LONG4: little-endian two's complement of `n` bytes.
    mutating func readLong(_ n: Int) throws(PyTorchError) -> PickleValue {
        guard let b = cursor.take(n) else { throw truncated() }
        if n == 0 { return .int(0) }
        if n > 8 {
            // Fits Int64 only if the extra high bytes are pure sign extension.
            let sign: UInt8 = b[7] & 0x80 != 0 ? 0xff : 0
            guard b[8...].allSatisfy({ $0 == sign }) else { return .bigInt(byteCount: n) }
        }
        var v: UInt64 = 0
        for i in 0 ..< min(n, 8) { v |= UInt64(b[i]) << (8 * UInt64(i)) }
        if n < 8, b[n - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) }  // sign-extend
        return .int(Int(Int64(bitPattern: v)))
    }

    func pairs(_ items: [PickleValue]) throws(PyTorchError) -> [(key: PickleValue, value: PickleValue)] {
        guard items.count % 2 == 0 else { throw malformed("odd number of items for a dict") }
        return stride(from: 0, to: items.count, by: 2).map { (key: items[$0], value: items[$0 + 1]) }
    }

    func resolveGlobal(_ module: String, _ name: String) throws(PyTorchError) -> AllowedGlobal {
        guard let g = AllowedGlobal.resolve(module: module, name: name),
              allowsNumpyArrays || (g != .numpyReconstruct && g != .numpyNDArray) else {
            throw PyTorchError.forbiddenGlobal(path: path, global: "\(module).\(name)")
        }
        return g
    }

    // MARK: containers

    mutating func newTuple(_ items: [PickleValue]) throws(PyTorchError) -> Int {
        guard arena.tuples.count < Self.maxContainers else { throw limit("too many tuples") }
        arena.tuples.append(items)
        return arena.tuples.count - 1
    }

    mutating func newList(_ items: [PickleValue]) throws(PyTorchError) -> Int {
        guard arena.lists.count < Self.maxContainers else { throw limit("too many lists") }
        arena.lists.append(items)
        return arena.lists.count - 1
    }

    mutating func newDict(_ items: [(key: PickleValue, value: PickleValue)]) throws(PyTorchError) -> Int {
        guard arena.dicts.count < Self.maxContainers else { throw limit("too many dicts") }
        arena.dicts.append(items)
        return arena.dicts.count - 1
    }

    /// APPEND(S) and ADDITEMS; a list subclass (an inert object) keeps its items in its record.
    mutating func append(_ items: [PickleValue]) throws(PyTorchError) {
        switch try top() {
        case let .list(i): arena.lists[i].append(contentsOf: items)
        case let .object(o): arena.objects[o].listItems.append(contentsOf: items)
        default: throw malformed("APPEND(S) on a \(try top().kind)")
        }
    }

    /// SETITEM(S). Keys are kept in order with repeats (Python would overwrite): the state-dict
    /// flattener rejects a repeated name instead of silently picking one.
    mutating func setItems(_ items: [(key: PickleValue, value: PickleValue)]) throws(PyTorchError) {
        switch try top() {
        case let .dict(i): arena.dicts[i].append(contentsOf: items)
        case let .object(o): arena.objects[o].dictItems.append(contentsOf: items)
        default: throw malformed("SETITEM(S) on a \(try top().kind)")
        }
    }

    // MARK: errors

    func malformed(_ reason: String) -> PyTorchError {
        .malformedPickle(path: path, offset: opcodeOffset, reason: reason)
    }

    func truncated() -> PyTorchError { malformed("truncated operand") }

    func limit(_ what: String) -> PyTorchError { .limitExceeded(path: path, what: what) }
}
