import CNNQKernels
import CNNQuant
import Testing

/// The requantization primitives against independent models of the same arithmetic: exact integer
/// arithmetic for the rounding steps, float-then-round for the whole multiply.
@Suite struct FixedPointTests {
    static let edges: [Int32] = [
        Int32.min, Int32.min + 1, -(1 << 30), -65536, -255, -2, -1, 0, 1, 2, 255, 65536, 1 << 30, Int32.max - 1,
        Int32.max,
    ]

    static func samples(_ random: inout SeededRandom) -> [Int32] {
        edges + (0..<300).map { _ in Int32.random(in: Int32.min...Int32.max, using: &random) }
            + (0..<100).map { _ in Int32.random(in: -100_000...100_000, using: &random) }
    }

    /// floor(v / 2^e) for Int64, written without shifts so it is independent of the kernel's code.
    static func floorDivide(_ v: Int64, _ e: Int) -> Int64 {
        let d = Int64(1) << e
        let q = v / d
        return (v % d != 0 && v < 0) ? q - 1 : q
    }

    @Test func highMultiplyRoundsHalfUp() {
        var random = SeededRandom(seed: 1)
        let values = Self.samples(&random)
        for a in values {
            for b in Self.edges + [Int32.random(in: Int32.min...Int32.max, using: &random)] {
                let expected =
                    a == Int32.min && b == Int32.min
                    ? Int64(Int32.max)
                    : Self.floorDivide(Int64(a) * Int64(b) + (1 << 30), 31)
                #expect(Int64(saturatingRoundingDoublingHighMultiply(a, b)) == expected, "\(a) · \(b)")
            }
        }
    }

    @Test func divideByPowerOfTwoRoundsHalfAway() {
        var random = SeededRandom(seed: 2)
        for x in Self.samples(&random) {
            for e: Int32 in 0...31 {
                let expected = (Double(x) / Double(Int64(1) << Int64(e))).rounded(.toNearestOrAwayFromZero)
                #expect(Double(roundingDivideByPowerOfTwo(x, e)) == expected, "\(x) / 2^\(e)")
            }
        }
    }

    @Test func multiplierRepresentsItsReal() {
        var random = SeededRandom(seed: 3)
        for _ in 0..<2000 {
            let real = Double(
                sign: .plus, exponent: Int.random(in: -30...10, using: &random),
                significand: Double.random(in: 1..<2, using: &random))
            let q = QuantizedMultiplier(real)
            #expect(q.multiplier >= 1 << 30)
            #expect(abs(q.real - real) <= real * 0x1p-31, "\(real) → \(q)")
        }
        #expect(QuantizedMultiplier(0) == QuantizedMultiplier(multiplier: 0, shift: 0))
        #expect(QuantizedMultiplier(1).real == 1)
        #expect(QuantizedMultiplier(0x1p-40).multiplier == 0)
    }

    /// The fixed-point product is within 1 of the same arithmetic done in floating point and rounded
    /// once — x scaled up by 2^shift (saturating, for multipliers ≥ 1), times the Q31 mantissa —
    /// and equal to it unless the exact value lies so close to a tie that the two roundings may part.
    @Test func multiplyMatchesFloatThenRound() {
        var random = SeededRandom(seed: 4)
        let values = Self.samples(&random)
        for _ in 0..<200 {
            let real = Double(
                sign: .plus, exponent: Int.random(in: -20...4, using: &random),
                significand: Double.random(in: 1..<2, using: &random))
            let q = QuantizedMultiplier(real)
            let left = Int(max(0, q.shift)), right = Int(max(0, -q.shift))
            for x in values {
                let shifted = Double(Int32(clamping: Int64(x) << Int64(left)))
                let exact = shifted * Double(q.multiplier) * 0x1p-31 / Double(Int64(1) << Int64(right))
                let result = Double(multiplyByQuantizedMultiplier(x, q))
                let rounded = exact.rounded(.toNearestOrAwayFromZero)
                #expect(abs(result - rounded) <= 1, "\(x) · \(q.real)")
                let distanceToTie = abs(abs(exact - exact.rounded(.down)) - 0.5)
                if distanceToTie > 1 / Double(Int64(1) << Int64(right)) + 1e-6 {
                    #expect(result == rounded, "\(x) · \(q.real) = \(exact)")
                }
            }
        }
    }

    @Test func outputStageClampsAndAddsZeroPoint() {
        let multipliers = [QuantizedMultiplier(0.5), QuantizedMultiplier(0.25)]
        let m = multipliers.map(\.multiplier), s = multipliers.map(\.shift)
        let stage = OutputStage(multipliers: m, shifts: s, zeroPoint: -10, lower: -10, upper: 50)
        #expect(stage.apply(41, channel: 0) == 11)  // round(20.5) away from zero = 21, −10
        #expect(stage.apply(-100, channel: 0) == -10)  // ReLU bound
        #expect(stage.apply(1000, channel: 1) == 50)  // upper bound
        #expect(stage.apply(Int32.max, channel: 1) == 50)
        #expect(stage.apply(Int32.min, channel: 1) == -10)
    }

    /// A multiplier below 1 stored unnormalised keeps at least 17 significant bits, or is not used;
    /// a convolution's channels are all unnormalised or all normalised.
    @Test func unnormalisedMultipliers() {
        let q = QuantizedMultiplier.unnormalised(1e-3)!
        #expect(q.shift == 0)
        #expect(abs(q.real - 1e-3) <= 1e-3 * 0x1p-17)
        #expect(QuantizedMultiplier.unnormalised(1e-6) == nil)  // 2147 · 2^-31: 12 bits
        #expect(QuantizedMultiplier.unnormalised(1) == nil)
        #expect(QuantizedMultiplier.unnormalised(0) == nil)
        #expect(QuantizedMultiplier.convolution([1e-3, 0.5]).allSatisfy { $0.shift == 0 })
        #expect(
            QuantizedMultiplier.convolution([1e-3, 1e-6]) == [QuantizedMultiplier(1e-3), QuantizedMultiplier(1e-6)])
    }

    /// The 8-lane output stage equals the scalar one on edge and random accumulators, for scales
    /// below and above 1 (normalised) and below 1 with shift 0, and every zero point and clamp kind.
    @Test func vectorOutputStageMatchesScalar() {
        var random = SeededRandom(seed: 5)
        for trial in 0..<300 {
            let reals = (0..<8).map { _ in
                Double(
                    sign: .plus, exponent: Int.random(in: -31...6, using: &random),
                    significand: Double.random(in: 1..<2, using: &random))
            }
            let unshifted = trial % 4 == 1
            let q =
                unshifted
                ? reals.map {
                    QuantizedMultiplier(multiplier: Int32(min(0x1p31 - 1, ($0 * 0x1p27).rounded())), shift: 0)
                }
                : reals.map { QuantizedMultiplier($0) }
            let zero = random.zeroPoint()
            let (lower, upper): (Int32, Int32) = trial % 3 == 0 ? (-128, 127) : (zero, min(127, zero + 100))
            let stage = OutputStage(
                multipliers: q.map(\.multiplier), shifts: q.map(\.shift), zeroPoint: zero, lower: lower, upper: upper)
            let values = Self.samples(&random)
            for start in stride(from: 0, to: values.count - 8, by: 8) {
                let lanes = SIMD8<Int32>(values[start..<(start + 8)])
                let vector =
                    unshifted
                    ? StageLanes(stage, channel: 0, Unshifted.self).apply(lanes) : stage.apply(lanes, channel: 0)
                for lane in 0..<8 {
                    #expect(
                        Int8(vector[lane]) == stage.apply(lanes[lane], channel: lane),
                        "\(lanes[lane]) · \(q[lane].real)")
                }
            }
        }
    }
}
