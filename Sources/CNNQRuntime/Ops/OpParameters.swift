/// Reads or writes an op's parameter words in the order its `code` function lists them, so the
/// layout of each op's words is written down once, for the quantizer, the loader and the runtime.
public protocol ParameterCoder {
    mutating func code(_ word: inout Int32)
    /// A word holding the byte offset of a constant blob (packed weights, a table) in the constants
    /// section: the writer records where it is so that the blob's offset can be patched in.
    mutating func code(constant word: inout Int32)
}

extension ParameterCoder {
    /// A float parameter, as its IEEE bits.
    public mutating func code(_ value: inout Float) {
        var bits = Int32(bitPattern: value.bitPattern)
        code(&bits)
        value = Float(bitPattern: UInt32(bitPattern: bits))
    }
}

/// An op's parameter words as a value. `code` lists every word in file order.
public protocol OpParameters {
    mutating func code<C: ParameterCoder>(_ coder: inout C)
}

extension OpParameters {
    /// How many words `code` lists.
    public var wordCount: Int {
        var counter = WordCounter()
        var copy = self
        copy.code(&counter)
        return counter.count
    }
}

struct WordCounter: ParameterCoder {
    var count = 0
    mutating func code(_ word: inout Int32) { count += 1 }
    mutating func code(constant word: inout Int32) { count += 1 }
}

/// Reads words from a model buffer, starting at a 4-byte aligned byte offset.
public struct ParameterReader: ParameterCoder {
    let base: UnsafeRawPointer
    var offset: Int

    public mutating func code(_ word: inout Int32) {
        word = base.load(fromByteOffset: offset, as: Int32.self)
        offset += 4
    }

    public mutating func code(constant word: inout Int32) { code(&word) }
}

#if !hasFeature(Embedded)
    /// Collects the words the host writes into a model file.
    public struct ParameterWriter: ParameterCoder {
        public private(set) var words: [Int32] = []
        /// Indices in `words` of the constant offsets, in coding order.
        public private(set) var constantWords: [Int] = []

        public init() {}

        public mutating func code(_ word: inout Int32) { words.append(word) }

        public mutating func code(constant word: inout Int32) {
            constantWords.append(words.count)
            words.append(word)
        }
    }

    extension OpParameters {
        /// The values of `words` as the file stores them (the quantizer reading back what it built),
        /// through the reader the runtime uses.
        public mutating func decode(_ words: [Int32]) {
            words.withUnsafeBytes { bytes in
                var reader = ParameterReader(base: bytes.baseAddress!, offset: 0)
                code(&reader)
            }
        }

        /// The words as the file stores them, and which of them are constant offsets.
        public var encoded: ParameterWriter {
            var writer = ParameterWriter()
            var copy = self
            copy.code(&writer)
            return writer
        }
    }
#endif

#if !hasFeature(Embedded)
    extension ModelView {
        /// Op `op`'s parameters, as the runtime reads them (host tools: the QDQ export).
        public func parameters<P: OpParameters>(_ template: P, of op: OpInfo) -> P {
            OpContext.read(template, self, op)
        }

        /// `count` values of the constant array at byte `offset` of the constants section.
        public func constants<T>(_ offset: Int32, count: Int, as type: T.Type) -> [T] {
            Array(UnsafeBufferPointer(start: constant(offset, as: type), count: count))
        }
    }
#endif
