extension Graph {
    /// The full preparation pipeline run after import, in dependency order.
    public mutating func prepare() throws(CNNQError) {
        removeIdentities()
        try foldConstantsAndInferShapes()
        try validateValues()
        try lowerConvTransposes()
        sinkDepthToSpaces()
        // A bias Add before a BatchNorm (Paddle's Conv → Add → BatchNorm) folds first, so that the
        // BatchNorm meets its Conv; an Add after a Mul (TF-slim) folds once the Mul has.
        foldBiasAdds()
        foldBatchNorms()
        batchNormsToDepthwise()
        foldScaleMuls()
        foldBiasAdds()
        foldPads()
        fuseActivations()
        removeDeadNodes()
        try validate()
    }
}
