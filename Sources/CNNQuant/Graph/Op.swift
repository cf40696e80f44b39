/// Geometry of a 2-D sliding window (convolution or pooling), NCHW terms as in ONNX.
public struct Window: Equatable, Sendable {
    public var kernel: [Int]  // [kh, kw]
    public var strides: [Int]  // [sh, sw]
    public var dilations: [Int]  // [dh, dw]
    /// Explicit pads [top, left, bottom, right]; `autoPad` other than `.notSet` recomputes them
    /// during shape inference.
    public var pads: [Int]
    public var autoPad: AutoPad
    public var ceilMode: Bool

    public enum AutoPad: String, Sendable {
        case notSet = "NOTSET", valid = "VALID", sameUpper = "SAME_UPPER", sameLower = "SAME_LOWER"
    }

    public init(
        kernel: [Int], strides: [Int] = [1, 1], dilations: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0],
        autoPad: AutoPad = .notSet, ceilMode: Bool = false
    ) {
        self.kernel = kernel
        self.strides = strides
        self.dilations = dilations
        self.pads = pads
        self.autoPad = autoPad
        self.ceilMode = ceilMode
    }

    /// Output extent along one spatial axis; resolves `autoPad` into `pads` as ONNX specifies.
    mutating func resolve(inputHeight: Int, inputWidth: Int) -> (height: Int, width: Int) {
        let input = [inputHeight, inputWidth]
        var out = [0, 0]
        for axis in 0..<2 {
            let effective = (kernel[axis] - 1) * dilations[axis] + 1
            switch autoPad {
            case .notSet:
                let padded = input[axis] + pads[axis] + pads[axis + 2] - effective
                out[axis] = (ceilMode ? (padded + strides[axis] - 1) / strides[axis] : padded / strides[axis]) + 1
                // A ceil-mode window must start inside the input or the left padding.
                if ceilMode && (out[axis] - 1) * strides[axis] >= input[axis] + pads[axis] { out[axis] -= 1 }
            case .valid:
                out[axis] = (input[axis] - effective) / strides[axis] + 1
                pads[axis] = 0
                pads[axis + 2] = 0
            case .sameUpper, .sameLower:
                out[axis] = (input[axis] + strides[axis] - 1) / strides[axis]
                let total = max(0, (out[axis] - 1) * strides[axis] + effective - input[axis])
                let small = total / 2
                pads[axis] = autoPad == .sameUpper ? small : total - small
                pads[axis + 2] = total - pads[axis]
            }
        }
        autoPad = .notSet
        return (out[0], out[1])
    }
}

/// Output clamp fused into a producing op (ReLU, ReLU6, Clip).
public struct Clamp: Equatable, Sendable {
    public var lower: Float
    public var upper: Float
    public static let none = Clamp(lower: -.infinity, upper: .infinity)
    public static let relu = Clamp(lower: 0, upper: .infinity)
    public static let relu6 = Clamp(lower: 0, upper: 6)
    public init(lower: Float, upper: Float) { self.lower = lower; self.upper = upper }
    public var isNone: Bool { self == .none }
}

/// The operators the graph holds after import. Inputs follow ONNX order; constant operands that
/// ONNX passes as inputs (Clip bounds, Reshape shape, axes) are resolved at import.
public enum Op: Equatable, Sendable {
    /// inputs: X, W, [B]
    case conv(window: Window, group: Int, clamp: Clamp)
    /// inputs: X, W [C, M/group, kh, kw], [B]. `window.pads` are the ONNX pads (they crop the
    /// output); `outputPadding` adds rows and columns at the end. Becomes a zero insertion and a
    /// convolution during preparation (`lowerConvTransposes`).
    case convTranspose(window: Window, group: Int, outputPadding: [Int])
    /// Spreads rows and columns `strides` apart with zeros between: [N, C, (H−1)·sh+1, (W−1)·sw+1].
    case insertZeros(strides: [Int])
    /// Channels into blocks of pixels, DCR order (ONNX DepthToSpace): [N, C, H, W] →
    /// [N, C/s², H·s, W·s]. A ConvTranspose whose kernel equals its stride becomes a 1×1 Conv and this.
    case depthToSpace(blockSize: Int)
    /// inputs: A, B, [C]
    case gemm(transA: Bool, transB: Bool, alpha: Float, beta: Float, clamp: Clamp)
    case matMul
    /// inputs: X, scale, B, mean, var
    case batchNorm(epsilon: Float)
    case clip(Clamp)
    case hardSwish
    case hardSigmoid(alpha: Float, beta: Float)
    case sigmoid
    case tanh
    case add, sub, mul, div
    case concat(axis: Int)
    case globalAveragePool
    case averagePool(window: Window, countIncludePad: Bool)
    case maxPool(window: Window)
    case reduceMean(axes: [Int], keepDims: Bool)
    /// Constant padding: `pads` in ONNX order (every axis's begin, then every axis's end), resolved
    /// at import, or empty with the pads as input 1 until constant folding computes them.
    case pad(pads: [Int], value: Float)
    /// inputs: X, then scales and sizes until shape inference resolves them (see `ResizeAttributes`).
    case resize(ResizeAttributes)
    case flatten(axis: Int)
    /// inputs: data, shape
    case reshape(allowZero: Bool)
    case softmax(axis: Int, legacy: Bool)
    case identity
    /// A fused chain of elementwise nodes over one tensor (see `fuseElementwiseFunctions`).
    case function(ScalarFunction)
    // Shape arithmetic of exported graphs: only ever evaluated by constant folding.
    case shape(start: Int, end: Int?)
    case gather(axis: Int)
    /// Constant operands resolved at import; axes normalised by shape inference.
    case slice(starts: [Int], ends: [Int], axes: [Int], steps: [Int])
    case unsqueeze(axes: [Int])
    case squeeze(axes: [Int])
    case cast(toFloat: Bool)
    /// inputs: shape; every element `value` (a one-element tensor).
    case constantOfShape(value: Tensor)
    /// Permutes axes. On activations int8 keeps it only as a relabelling of NHWC bytes that a
    /// Concat or a graph output reads (SSD heads; see `lowerReshape`).
    case transpose(perm: [Int]?)

    /// Name as in ONNX, for messages and tables.
    public var name: String {
        switch self {
        case .conv: "Conv"
        case .convTranspose: "ConvTranspose"
        case .insertZeros: "InsertZeros"
        case .depthToSpace: "DepthToSpace"
        case .gemm: "Gemm"
        case .matMul: "MatMul"
        case .batchNorm: "BatchNormalization"
        case let .clip(clamp): clamp == .relu ? "Relu" : "Clip"
        case .hardSwish: "HardSwish"
        case .hardSigmoid: "HardSigmoid"
        case .sigmoid: "Sigmoid"
        case .tanh: "Tanh"
        case .add: "Add"
        case .sub: "Sub"
        case .mul: "Mul"
        case .div: "Div"
        case .concat: "Concat"
        case .globalAveragePool: "GlobalAveragePool"
        case .averagePool: "AveragePool"
        case .maxPool: "MaxPool"
        case .reduceMean: "ReduceMean"
        case .pad: "Pad"
        case .resize: "Resize"
        case .flatten: "Flatten"
        case .reshape: "Reshape"
        case .softmax: "Softmax"
        case .identity: "Identity"
        case .function: "Elementwise"
        case .shape: "Shape"
        case .gather: "Gather"
        case .slice: "Slice"
        case .unsqueeze: "Unsqueeze"
        case .squeeze: "Squeeze"
        case .cast: "Cast"
        case .constantOfShape: "ConstantOfShape"
        case .transpose: "Transpose"
        }
    }

    /// The op's output clamp, for ops that can absorb a following ReLU/Clip.
    var fusedClamp: Clamp? {
        switch self {
        case let .conv(_, _, clamp), let .gemm(_, _, _, _, clamp): clamp
        default: nil
        }
    }

    func with(clamp: Clamp) -> Op {
        switch self {
        case let .conv(window, group, _): .conv(window: window, group: group, clamp: clamp)
        case let .gemm(transA, transB, alpha, beta, _):
            .gemm(transA: transA, transB: transB, alpha: alpha, beta: beta, clamp: clamp)
        default: self
        }
    }
}
