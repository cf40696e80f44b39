/// Builds float graphs layer by layer with seeded He-initialised weights and non-trivial BatchNorm
/// statistics (so BatchNorm folding has something to fold).
struct GraphBuilder {
    enum Activation { case none, relu, relu6, hardSwish }

    private(set) var nodes: [Node] = []
    private(set) var initializers: [String: Tensor] = [:]
    private var random: SeededRandom

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    private mutating func add(_ name: String, _ op: Op, _ inputs: [String]) -> String {
        nodes.append(Node(name: name, op: op, inputs: inputs, outputs: [name]))
        return name
    }

    enum Fill {
        case normal(std: Float)
        case uniform(from: Float)  // [from, from + 1)
    }

    private mutating func constant(_ name: String, _ shape: [Int], _ fill: Fill) -> String {
        var values: [Float] = []
        for _ in 0..<shape.reduce(1, *) {
            switch fill {
            case let .normal(std): values.append(random.normal() * std)
            case let .uniform(from): values.append(from + random.uniform())
            }
        }
        initializers[name] = Tensor(shape: shape, floats: values)
        return name
    }

    mutating func conv(
        _ x: String, name: String, in cin: Int, out cout: Int, kernel: Int, stride: Int = 1,
        groups: Int = 1, bias: Bool = false
    ) -> String {
        let std = (2 / Float(cin / groups * kernel * kernel)).squareRoot()
        let weight = constant("\(name).weight", [cout, cin / groups, kernel, kernel], .normal(std: std))
        var inputs = [x, weight]
        if bias { inputs.append(constant("\(name).bias", [cout], .normal(std: 0.1))) }
        let pad = (kernel - 1) / 2
        let window = Window(kernel: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad])
        return add(name, .conv(window: window, group: groups, clamp: .none), inputs)
    }

    mutating func batchNorm(_ x: String, name: String, channels: Int, epsilon: Float) -> String {
        let inputs = [
            x,
            constant("\(name).weight", [channels], .uniform(from: 0.5)),
            constant("\(name).bias", [channels], .normal(std: 0.1)),
            constant("\(name).running_mean", [channels], .normal(std: 0.1)),
            constant("\(name).running_var", [channels], .uniform(from: 0.5)),
        ]
        return add(name, .batchNorm(epsilon: epsilon), inputs)
    }

    mutating func activation(_ x: String, name: String, _ kind: Activation) -> String {
        switch kind {
        case .none: x
        case .relu: add(name, .clip(.relu), [x])
        case .relu6: add(name, .clip(.relu6), [x])
        case .hardSwish: add(name, .hardSwish, [x])
        }
    }

    /// Conv (no bias) → BatchNorm → activation, torchvision's Conv2dNormActivation.
    mutating func convBN(
        _ x: String, name: String, in cin: Int, out cout: Int, kernel: Int, stride: Int = 1,
        groups: Int = 1, epsilon: Float, activation kind: Activation
    ) -> String {
        let y = conv(x, name: "\(name).conv", in: cin, out: cout, kernel: kernel, stride: stride, groups: groups)
        let z = batchNorm(y, name: "\(name).bn", channels: cout, epsilon: epsilon)
        return activation(z, name: "\(name).act", kind)
    }

    /// Squeeze-and-excitation as torchvision's V3: pool → 1×1 → ReLU → 1×1 → hard-sigmoid → scale.
    mutating func squeezeExcite(_ x: String, name: String, channels: Int, squeeze: Int) -> String {
        let pooled = add("\(name).pool", .globalAveragePool, [x])
        let fc1 = conv(pooled, name: "\(name).fc1", in: channels, out: squeeze, kernel: 1, bias: true)
        let relu = activation(fc1, name: "\(name).relu", .relu)
        let fc2 = conv(relu, name: "\(name).fc2", in: squeeze, out: channels, kernel: 1, bias: true)
        let gate = add("\(name).gate", .hardSigmoid(alpha: 1.0 / 6, beta: 0.5), [fc2])
        return add("\(name).scale", .mul, [x, gate])
    }

    mutating func residual(_ x: String, _ shortcut: String, name: String) -> String {
        add(name, .add, [x, shortcut])
    }

    /// Global average pool → flatten.
    mutating func pool(_ x: String, name: String) -> String {
        add("\(name).flatten", .flatten(axis: 1), [add("\(name).pool", .globalAveragePool, [x])])
    }

    mutating func linear(_ x: String, name: String, in cin: Int, out cout: Int) -> String {
        let std = 1 / Float(cin).squareRoot()
        let weight = constant("\(name).weight", [cout, cin], .normal(std: std))
        let bias = constant("\(name).bias", [cout], .normal(std: 0.1))
        return add(name, .gemm(transA: false, transB: true, alpha: 1, beta: 1, clamp: .none), [x, weight, bias])
    }

    func graph(name: String, input: String, resolution: Int, output: String) throws(CNNQError) -> Graph {
        var graph = Graph(
            name: name, inputs: [(input, [1, 3, resolution, resolution])], outputs: [output],
            nodes: nodes, initializers: initializers, opset: Int(ONNXWriter.opset))
        try graph.foldConstantsAndInferShapes()
        return graph
    }
}
