extension Graph {
    /// The full preparation pipeline run after import, in dependency order.
    public mutating func prepare() throws(CNNQError) {
        removeIdentities()
        try foldConstantsAndInferShapes()
        try validateValues()
        try lowerConvTransposes()
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
