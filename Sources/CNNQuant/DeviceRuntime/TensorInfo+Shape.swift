import CNNQRuntime

extension TensorInfo {
    /// The source model's shape of the tensor: NCHW for rank 4, [N, L, C] for rank 3, [N, C] for rank 2.
    public var logicalShape: [Int] {
        switch rank {
        case 2: [batch, channels]
        case 3: [batch, height, channels]
        default: [batch, channels, height, width]
        }
    }
}
