/// MobileNet V1, V2 and V3 (Small, Large) at any width multiplier α and resolution ρ, with channel
/// counts rounded exactly as torchvision rounds them, so parameter and MAC counts match it.
public enum MobileNet: String, CaseIterable, Sendable {
    case v1 = "mobilenet-v1"
    case v2 = "mobilenet-v2"
    case v3Small = "mobilenet-v3-small"
    case v3Large = "mobilenet-v3-large"

    /// torchvision's `_make_divisible`: nearest multiple of `divisor`, at least `divisor`, never
    /// more than 10% below `value`.
    public static func makeDivisible(_ value: Double, _ divisor: Int = 8) -> Int {
        var rounded = max(divisor, Int(value + Double(divisor) / 2) / divisor * divisor)
        if Double(rounded) < 0.9 * value { rounded += divisor }
        return rounded
    }

    public func build(alpha: Double = 1, resolution: Int = 224, classes: Int = 1000, seed: UInt64 = 0) throws(CNNQError)
        -> Graph
    {
        guard alpha > 0, alpha <= 4 else { throw .invalidArgument("--alpha must be in (0, 4], got \(alpha)") }
        guard resolution >= 32, resolution <= 1024 else {
            throw .invalidArgument("--resolution must be in 32...1024, got \(resolution)")
        }
        guard classes >= 1 else { throw .invalidArgument("--classes must be at least 1, got \(classes)") }
        var builder = GraphBuilder(seed: seed)
        let logits: String
        switch self {
        case .v1: logits = Self.v1(&builder, alpha: alpha, classes: classes)
        case .v2: logits = Self.v2(&builder, alpha: alpha, classes: classes)
        case .v3Small, .v3Large: logits = Self.v3(&builder, large: self == .v3Large, alpha: alpha, classes: classes)
        }
        return try builder.graph(
            name: "\(rawValue)_\(alpha)_\(resolution)", input: "input", resolution: resolution, output: logits)
    }

    /// Depthwise-separable stack of the V1 paper, ReLU6 as in TF-slim.
    private static func v1(_ b: inout GraphBuilder, alpha: Double, classes: Int) -> String {
        let width = { (c: Int) in makeDivisible(Double(c) * alpha) }
        var cin = width(32)
        var x = b.convBN(
            "input", name: "stem", in: 3, out: cin, kernel: 3, stride: 2, epsilon: 1e-3, activation: .relu6)
        let spec =
            [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + Array(repeating: (512, 1), count: 5) + [
                (1024, 2), (1024, 1),
            ]
        for (index, (channels, stride)) in spec.enumerated() {
            let cout = width(channels)
            x = b.convBN(
                x, name: "block\(index + 1).dw", in: cin, out: cin, kernel: 3, stride: stride, groups: cin,
                epsilon: 1e-3, activation: .relu6)
            x = b.convBN(
                x, name: "block\(index + 1).pw", in: cin, out: cout, kernel: 1, epsilon: 1e-3, activation: .relu6)
            cin = cout
        }
        return b.linear(b.pool(x, name: "head"), name: "classifier", in: cin, out: classes)
    }

    /// torchvision's MobileNetV2: inverted residuals (t, c, n, s) with linear bottlenecks.
    private static func v2(_ b: inout GraphBuilder, alpha: Double, classes: Int) -> String {
        var cin = makeDivisible(32 * alpha)
        let last = makeDivisible(1280 * max(1, alpha))
        var x = b.convBN(
            "input", name: "stem", in: 3, out: cin, kernel: 3, stride: 2, epsilon: 1e-5, activation: .relu6)
        let settings = [
            (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
        ]
        var block = 0
        for (t, c, n, s) in settings {
            let cout = makeDivisible(Double(c) * alpha)
            for i in 0..<n {
                block += 1
                let stride = i == 0 ? s : 1
                let hidden = Int((Double(cin * t)).rounded())
                let name = "block\(block)"
                var y = x
                if t != 1 {
                    y = b.convBN(
                        y, name: "\(name).expand", in: cin, out: hidden, kernel: 1, epsilon: 1e-5, activation: .relu6)
                }
                y = b.convBN(
                    y, name: "\(name).dw", in: hidden, out: hidden, kernel: 3, stride: stride, groups: hidden,
                    epsilon: 1e-5, activation: .relu6)
                y = b.convBN(
                    y, name: "\(name).project", in: hidden, out: cout, kernel: 1, epsilon: 1e-5, activation: .none)
                x = stride == 1 && cin == cout ? b.residual(y, x, name: "\(name).add") : y
                cin = cout
            }
        }
        x = b.convBN(x, name: "head.conv", in: cin, out: last, kernel: 1, epsilon: 1e-5, activation: .relu6)
        return b.linear(b.pool(x, name: "head"), name: "classifier", in: last, out: classes)
    }

    /// torchvision's MobileNetV3: (kernel, expanded, out, SE, hard-swish, stride) per block.
    private static func v3(_ b: inout GraphBuilder, large: Bool, alpha: Double, classes: Int) -> String {
        typealias Block = (kernel: Int, expanded: Int, out: Int, se: Bool, hardSwish: Bool, stride: Int)
        let blocks: [Block] =
            large
            ? [
                (3, 16, 16, false, false, 1), (3, 64, 24, false, false, 2), (3, 72, 24, false, false, 1),
                (5, 72, 40, true, false, 2), (5, 120, 40, true, false, 1), (5, 120, 40, true, false, 1),
                (3, 240, 80, false, true, 2), (3, 200, 80, false, true, 1), (3, 184, 80, false, true, 1),
                (3, 184, 80, false, true, 1), (3, 480, 112, true, true, 1), (3, 672, 112, true, true, 1),
                (5, 672, 160, true, true, 2), (5, 960, 160, true, true, 1), (5, 960, 160, true, true, 1),
            ]
            : [
                (3, 16, 16, true, false, 2), (3, 72, 24, false, false, 2), (3, 88, 24, false, false, 1),
                (5, 96, 40, true, true, 2), (5, 240, 40, true, true, 1), (5, 240, 40, true, true, 1),
                (5, 120, 48, true, true, 1), (5, 144, 48, true, true, 1), (5, 288, 96, true, true, 2),
                (5, 576, 96, true, true, 1), (5, 576, 96, true, true, 1),
            ]
        let width = { (c: Int) in makeDivisible(Double(c) * alpha) }
        let epsilon: Float = 1e-3
        var cin = width(16)
        var x = b.convBN(
            "input", name: "stem", in: 3, out: cin, kernel: 3, stride: 2, epsilon: epsilon, activation: .hardSwish)
        for (index, block) in blocks.enumerated() {
            let (expanded, cout) = (width(block.expanded), width(block.out))
            let activation: GraphBuilder.Activation = block.hardSwish ? .hardSwish : .relu
            let name = "block\(index + 1)"
            var y = x
            if expanded != cin {
                y = b.convBN(
                    y, name: "\(name).expand", in: cin, out: expanded, kernel: 1, epsilon: epsilon,
                    activation: activation)
            }
            y = b.convBN(
                y, name: "\(name).dw", in: expanded, out: expanded, kernel: block.kernel, stride: block.stride,
                groups: expanded, epsilon: epsilon, activation: activation)
            if block.se {
                y = b.squeezeExcite(
                    y, name: "\(name).se", channels: expanded, squeeze: makeDivisible(Double(expanded / 4)))
            }
            y = b.convBN(
                y, name: "\(name).project", in: expanded, out: cout, kernel: 1, epsilon: epsilon, activation: .none)
            x = block.stride == 1 && cin == cout ? b.residual(y, x, name: "\(name).add") : y
            cin = cout
        }
        let lastConv = 6 * cin
        let last = width(large ? 1280 : 1024)
        x = b.convBN(x, name: "head.conv", in: cin, out: lastConv, kernel: 1, epsilon: epsilon, activation: .hardSwish)
        x = b.linear(b.pool(x, name: "head"), name: "head.fc", in: lastConv, out: last)
        x = b.activation(x, name: "head.act", .hardSwish)
        return b.linear(x, name: "classifier", in: last, out: classes)
    }
}
