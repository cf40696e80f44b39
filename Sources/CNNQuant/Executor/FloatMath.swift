import Foundation

/// Elementwise float functions, matrix products and softmax for the float executor.
enum FloatMath {
    static func unary(_ op: Op) -> ((Float) -> Float)? {
        switch op {
        case let .clip(clamp): { min(max($0, clamp.lower), clamp.upper) }
        case .hardSwish: { $0 * min(max($0 / 6 + 0.5, 0), 1) }
        case let .hardSigmoid(alpha, beta): { min(max(alpha * $0 + beta, 0), 1) }
        case .sigmoid: { 1 / (1 + exp(-$0)) }
        case .tanh: { Foundation.tanh($0) }
        case let .function(f): { f($0) }
        default: nil
        }
    }

    static func binary(_ op: Op) -> ((Float, Float) -> Float)? {
        switch op {
        case .add: { $0 + $1 }
        case .sub: { $0 - $1 }
        case .mul: { $0 * $1 }
        case .div: { $0 / $1 }
        default: nil
        }
    }

    /// C[m, n] = Σ_k A[m, k] · B[k, n] with optional transposes, alpha, beta·bias, clamp.
    static func gemm(
        _ a: [Float], _ b: [Float], m: Int, k: Int, n: Int, transA: Bool, transB: Bool,
        alpha: Float = 1, beta: Float = 1, bias: [Float]? = nil, biasShape: [Int] = [], clamp: Clamp = .none
    ) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for p in 0..<k {
                let av = transA ? a[p * m + i] : a[i * k + p]
                if transB {
                    for j in 0..<n { c[i * n + j] += av * b[j * k + p] }
                } else {
                    for j in 0..<n { c[i * n + j] += av * b[p * n + j] }
                }
            }
        }
        if alpha != 1 { c = c.map { $0 * alpha } }
        if let bias {
            let scaled = beta == 1 ? bias : bias.map { $0 * beta }
            c = Broadcast.apply(c, [m, n], scaled, biasShape, +)!
        }
        return clamp.isNone ? c : c.map { min(max($0, clamp.lower), clamp.upper) }
    }

    /// Softmax along `axis` of row-major data; the legacy form (opset < 13) flattens from `axis` on.
    static func softmax(_ x: [Float], shape: [Int], axis: Int, legacy: Bool) -> [Float] {
        let inner = legacy ? shape[axis...].reduce(1, *) : shape[(axis + 1)...].reduce(1, *)
        let length = legacy ? inner : shape[axis]
        let stride = legacy ? 1 : inner
        let outer = x.count / (length * (legacy ? 1 : inner))
        var y = x
        for o in 0..<outer {
            for i in 0..<(legacy ? 1 : inner) {
                let base = o * length * (legacy ? 1 : inner) + i
                var peak = -Float.infinity
                for j in 0..<length { peak = max(peak, x[base + j * stride]) }
                var total: Float = 0
                for j in 0..<length { let e = exp(x[base + j * stride] - peak); y[base + j * stride] = e; total += e }
                for j in 0..<length { y[base + j * stride] /= total }
            }
        }
        return y
    }

    /// Constant padding of row-major data of any rank; `pads` as ONNX orders them (begins, then ends).
    static func pad(_ x: [Float], shape: [Int], pads: [Int], value: Float) -> [Float] {
        let rank = shape.count
        let out = shape.indices.map { shape[$0] + pads[$0] + pads[$0 + rank] }
        var y = [Float](repeating: value, count: out.reduce(1, *))
        var index = [Int](repeating: 0, count: rank)
        for v in x {
            var offset = 0
            for axis in 0..<rank { offset = offset * out[axis] + index[axis] + pads[axis] }
            y[offset] = v
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return y
    }
}
