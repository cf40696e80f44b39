import CNNQKernels
import CNNQRuntime
import CNNQTestSupport
import CNNQuant
import Foundation
import Testing

/// Every instruction-set level this machine runs gives a whole model's int8 outputs byte for byte,
/// at one and two threads; `CNNQ_ISA` picks a level or fails clearly. (The kernels' own property
/// tests cover random shapes; the cross test covers the Arm levels under qemu.)
@Suite struct InstructionSetTests {
    @Test func everyLevelGivesTheSameBytes() throws {
        let models = [ModelFileTests.bytes, ModelFileTests.islandBytes, ModelFileTests.groupedBytes]
        for (m, bytes) in models.enumerated() {
            let model = try Int8Model(bytes: bytes)
            var random = SeededRandom(seed: UInt64(40 + m))
            let input = (0..<model.tensor(model.view.input(0)).count).map { _ in Float(random.next() % 2001) / 1000 - 1
            }
            var outputs: [InstructionSet: [Int8]] = [:]
            for isa in InstructionSet.available {
                model.isa = isa
                let (one, two) = withOneAndTwoThreads { () -> [Int8] in
                    // The arena planner may reuse the input's bytes: set it before every run.
                    model.setTensor(model.view.input(0), nhwc: input)
                    try! model.invoke()
                    return Array(model.values(model.view.output(0)))
                }
                #expect(one == two, "model \(m), \(isa): thread count changed the output")
                outputs[isa] = one
            }
            for (isa, output) in outputs {
                #expect(output == outputs[.baseline], "model \(m): \(isa) differs from the baseline")
            }
        }
    }

    @Test func environmentPicksALevel() throws {
        #expect(try InstructionSet.selected(environment: [:]) == .best)
        #expect(InstructionSet.available.contains(.best) && InstructionSet.available.first == .baseline)
        for isa in InstructionSet.available {
            #expect(try InstructionSet.selected(environment: ["CNNQ_ISA": isa.description.uppercased()]) == isa)
        }
        #expect {
            try InstructionSet.selected(environment: ["CNNQ_ISA": "avx10"])
        } throws: { error in
            "\(error)".contains("CNNQ_ISA=avx10")
                && "\(error)".contains("available: \(InstructionSet.baseline.description)")
        }
    }
}
