import CNNQKernels

/// An elementwise function as a 256-entry int8 table built at conversion.
public enum LookupOp {
    /// Byte offset of the table.
    public struct Parameters: OpParameters {
        public var table: Int32 = 0
        public init() {}
        public mutating func code<C: ParameterCoder>(_ c: inout C) { c.code(constant: &table) }
    }

    static func validate(_ c: OpCheck) throws(Status) {
        try c.inputs(1)
        let p = try c.parameters(Parameters())
        guard c.sameDims(c.x, c.out) else { throw .malformed }
        try c.constant(p.table, bytes: 256, alignment: 1)
    }

    static func run(_ c: OpContext) {
        let table = c.constant(c.parameters(Parameters()).table, as: Int8.self)
        LookupTable.run(
            table: table, input: c.input(0), count: c.tensor(input: 0).count, output: c.output,
            kernel: c.kernels.lookup)
    }
}
