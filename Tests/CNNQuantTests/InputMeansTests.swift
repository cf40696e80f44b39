import Testing

@testable import CNNQuant

/// The input means bias correction uses: per tap, over the output positions, padding as zero.
@Suite struct InputMeansTests {
    /// A 3×3, pad-1 convolution over a 2×2 map of one channel (1, 2 / 3, 4): each corner tap meets
    /// the input at one output position of the four, each edge tap at two, the centre at all.
    @Test func paddedTapsCountTheirPadding() {
        var window = Window(kernel: [3, 3])
        window.pads = [1, 1, 1, 1]
        let request = InputMeansRequest(
            node: "conv", input: "x", channels: 1, height: 2, width: 2, window: window, kernel: (3, 3),
            output: (2, 2))
        var sums = [Double](repeating: 0, count: 9)
        let positions = request.accumulate([1, 2, 3, 4], into: &sums)
        #expect(positions == 4)
        #expect(sums.map { $0 / 4 } == [1, 3, 2, 4, 10, 6, 3, 7, 4].map { $0 / 4 })
    }

    /// A 1×1, stride-2 convolution (a ResNet shortcut) sees only the even rows and columns; two
    /// channels stay apart, and a second image adds its positions.
    @Test func stridedTapsSeeOnlyTheirPositions() {
        var window = Window(kernel: [1, 1])
        window.strides = [2, 2]
        let request = InputMeansRequest(
            node: "down", input: "x", channels: 2, height: 4, width: 4, window: window, kernel: (1, 1),
            output: (2, 2))
        // Channel 0 is 10·row + column, channel 1 its negative.
        var image: [Float] = []
        for p in 0..<16 {
            let value = Float(10 * (p / 4) + p % 4)
            image += [value, -value]
        }
        var sums = [0.0, 0.0]
        var positions = request.accumulate(image, into: &sums)
        positions += request.accumulate(image, into: &sums)
        #expect(positions == 8)
        // Positions (0,0), (0,2), (2,0), (2,2): 0 + 2 + 20 + 22 = 44 per image.
        #expect(sums == [88, -88])
    }

    /// A Gemm's vector: one tap, the plain mean of each input.
    @Test func vectorsGiveTheirMeans() {
        let request = InputMeansRequest(node: "fc", input: "v", channels: 3)
        var sums = [0.0, 0.0, 0.0]
        let positions = request.accumulate([1, 2, 3, 5, 6, 7], into: &sums)
        #expect(positions == 2 && sums == [6, 8, 10])
    }
}
