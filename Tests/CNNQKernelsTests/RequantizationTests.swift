import CNNQKernels
import CNNQTestSupport
import CNNQuant
import Testing

/// The float requantization against an independent model of the same arithmetic: the product
/// computed in double and rounded to float (exact, since a float times a float fits a double), the
/// clamp, then the stdlib's round-to-nearest-even; and the 8-lane form against the scalar one.
@Suite struct RequantizationTests {
    static let edges: [Int32] = [
        Int32.min, Int32.min + 1, -(1 << 30), -65536, -255, -2, -1, 0, 1, 2, 255, 65536, 1 << 30, Int32.max - 1,
        Int32.max,
    ]

    static func model(_ x: Int32, scale: Float, zeroPoint: Int32, lower: Int32, upper: Int32) -> Int8 {
        let v = Float(Double(Float(x)) * Double(scale))
        let clamped = min(max(v, Float(lower - zeroPoint)), Float(upper - zeroPoint))
        return Int8(Int32(clamped.rounded(.toNearestOrEven)) + zeroPoint)
    }

    @Test func roundsHalfToEven() {
        let cases: [(Float, Int32)] = [
            (0.5, 0), (1.5, 2), (2.5, 2), (-0.5, 0), (-1.5, -2), (-2.5, -2), (0.49999997, 0), (254.5, 254),
            (-255, -255), (3.5000002, 4), (0x1p-149, 0), (-0x1p-149, 0),
        ]
        for (v, expected) in cases { #expect(roundToNearestEven(v) == expected, "\(v)") }
    }

    @Test func matchesTheModel() {
        var random = SeededRandom(seed: 1)
        for _ in 0..<4000 {
            let scale = Float(
                sign: .plus, exponent: Int.random(in: -30...2, using: &random),
                significand: Float.random(in: 1..<2, using: &random))
            let zeroPoint = random.zeroPoint()
            let lower = Int32.random(in: -128...0, using: &random),
                upper = Int32.random(in: lower...127, using: &random)
            let xs = Self.edges + (0..<8).map { _ in Int32.random(in: -1_000_000...1_000_000, using: &random) }
            for x in xs {
                let expected = Self.model(x, scale: scale, zeroPoint: zeroPoint, lower: lower, upper: upper)
                #expect(requantize(x, scale: scale, zeroPoint: zeroPoint, lower: lower, upper: upper) == expected)
            }
        }
    }

    /// Outputs exactly halfway between two levels: x · scale = n + 0.5 exactly in float.
    @Test func tiesGoToEven() {
        for x: Int32 in [1, 3, 5, -1, -3, -5, 101, -101] {
            let got = requantize(x, scale: 0.5, zeroPoint: 0, lower: -128, upper: 127)
            #expect(Int32(got) == Int32((Float(x) * 0.5).rounded(.toNearestOrEven)), "\(x) · 0.5")
        }
    }

    @Test func eightLanesMatchOne() {
        var random = SeededRandom(seed: 2)
        for _ in 0..<2000 {
            let x = SIMD8<Int32>((0..<8).map { _ in Int32.random(in: -3_000_000...3_000_000, using: &random) })
            let scales = SIMD8<Float>((0..<8).map { _ in Float.random(in: 1e-6...2, using: &random) })
            let zeroPoint = random.zeroPoint()
            let lower = Int32.random(in: -128...0, using: &random),
                upper = Int32.random(in: lower...127, using: &random)
            let lanes = requantize(x, scales: scales, zeroPoint: zeroPoint, lower: lower, upper: upper)
            for i in 0..<8 {
                let one = requantize(x[i], scale: scales[i], zeroPoint: zeroPoint, lower: lower, upper: upper)
                #expect(lanes[i] == Int32(one))
            }
        }
    }

    /// Huge and tiny scales only clamp: the result stays within the bounds, never traps.
    @Test func extremeScalesClamp() {
        for scale: Float in [0x1p-126, 0x1p-149, 1e30, .greatestFiniteMagnitude] {
            for x in Self.edges {
                let y = requantize(x, scale: scale, zeroPoint: -3, lower: -100, upper: 90)
                #expect(y >= -100 && y <= 90)
            }
        }
    }
}
