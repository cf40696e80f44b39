import CNNQKernels
import Testing

/// Each kernel's `Layout` is the one place its packed sizes come from: exact sizes, and nil (not a
/// trap) where a size would overflow `Int`, as it must for the loader on 32-bit boards.
@Suite struct LayoutTests {
    @Test func depthwiseWeightsAreExact() {
        // 1.2 files held kh·kw·(C+15) rounded down to 16: 272 bytes here.
        #expect(Depthwise.Layout(channels: 16, kernelHeight: 3, kernelWidth: 3).weightCount == 144)
        #expect(Depthwise.Layout(channels: 17, kernelHeight: 5, kernelWidth: 5).weightCount == 25 * 32)
        #expect(Depthwise.Layout(channels: 8, kernelHeight: 3, kernelWidth: 3).channelSlots == 16)
    }

    @Test func gemmWeightsAreExact() {
        // 1.2 files held one more row of 16 for an even depth: 80 bytes here.
        #expect(GEMM.Layout(outputChannels: 16, depth: 4).weightCount == 64)
        #expect(GEMM.Layout(outputChannels: 17, depth: 3).weightCount == 32 * 4)
        // Depth in groups of 4, rows 16 bytes apart: 12 rows of 32 bytes.
        #expect(GEMM.Layout(outputChannels: 1, depth: 27).rowLength == 28)
        #expect(GEMM.Layout(outputChannels: 1, depth: 27).workspacePerThread == 384)
        // Signed and unsigned bias arrays.
        #expect(GEMM.Layout(outputChannels: 17, depth: 3).biasCount == 64)
    }

    @Test func groupsFollowEachOther() {
        let shape = ConvolutionShape(
            inputHeight: 8, inputWidth: 8, inputChannels: 24, outputChannels: 24, kernelHeight: 3,
            kernelWidth: 3, groups: 3)
        let layout = StandardConvolution.Layout(shape: shape)
        #expect(layout.group.depth == 72 && layout.group.channelSlots == 16)
        #expect(layout.weightCount == 3 * 16 * 72 && layout.channelSlots == 48)
        #expect(layout.channelSlot(9) == 16 + 1 && layout.channelSlot(23) == 32 + 7)
    }

    @Test func overflowIsNilNotATrap() {
        #expect(Depthwise.Layout(checkedChannels: Int.max - 3, kernelHeight: 1, kernelWidth: 1) == nil)
        #expect(Depthwise.Layout(checkedChannels: 65_535, kernelHeight: Int.max / 2, kernelWidth: 3) == nil)
        #expect(GEMM.Layout(checkedOutputChannels: Int.max / 8, depth: 1 << 20) == nil)
        #expect(GEMM.Layout(checkedOutputChannels: 0, depth: 4) == nil)
    }
}
