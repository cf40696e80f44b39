import Foundation

/// What `cnn-quantize quantize` reports, as JSON (`--report`) and as a picture of per-layer SQNR
/// (`--plot`, SVG).
public struct QuantizationReport: Codable, Sendable {
    public var model: String
    public var method: String
    public var biasCorrection: Bool
    /// Layers whose bias correction was measured on the int8 model.
    public var measuredBiasLayers: Int
    public var crossLayerEqualization: Bool
    public var calibrationSamples: Int
    public var comparisonSamples: Int
    public var parameters: Int
    public var macs: Int
    public var fileBytes: Int
    public var activationBytes: Int
    public var workspaceBytesPerThread: Int
    public var arenaBytesOneThread: Int
    public var outputSQNRDB: Double?
    /// With several outputs, each one's SQNR (nil: exact), in output order.
    public var outputs: [OutputSQNR]?
    public struct OutputSQNR: Codable, Sendable {
        public var name: String
        public var sqnrDB: Double?
    }
    /// Held-out images on which float and int8 pick the same top-1 class.
    public var topOneAgreement: Int
    /// For a class map: the percentage of pixels where float and int8 pick the same class.
    public var pixelAgreement: Double?
    /// What `pixelAgreement` counts: "pixels" of a map or "rows" of an [N, L, C] output.
    public var agreementUnit: String?
    /// The first output is a map (H×W > 1): top-1 agreement means nothing.
    public var mapOutput: Bool
    public var notes: [String]
    /// In op order.
    public var layers: [LayerSQNR]

    public init(
        model: String, options: QuantizationPipeline.Options, result: QuantizationPipeline.Result, arenaBytes: Int
    ) {
        self.model = model
        method =
            options.method != .auto
            ? options.method.rawValue
            : "auto: \(result.method.rawValue)"
                + (result.rangesChanged == 0
                    ? ""
                    : result.rangesChanged == 1
                        ? ", 1 tensor's range from another method"
                        : ", \(result.rangesChanged) tensors' ranges from other methods")
        biasCorrection = result.biasCorrection
        measuredBiasLayers = result.measuredBiasLayers
        crossLayerEqualization = options.crossLayerEqualization
        calibrationSamples = result.calibrationSamples
        comparisonSamples = result.comparison.samples
        parameters = result.model.weights
        macs = result.model.macs
        fileBytes = result.bytes.count
        activationBytes = result.plan.activationBytes
        workspaceBytesPerThread = result.plan.workspacePerThread
        arenaBytesOneThread = arenaBytes
        outputSQNRDB = result.outputSQNR.isFinite ? result.outputSQNR : nil
        let all = result.comparison.outputSQNRs
        outputs = all.count < 2 ? nil : all.map { .init(name: $0.name, sqnrDB: $0.sqnr.isFinite ? $0.sqnr : nil) }
        topOneAgreement = result.comparison.topOneMatches
        pixelAgreement = result.comparison.pixelAgreement
        agreementUnit = pixelAgreement == nil ? nil : result.comparison.agreementUnit
        mapOutput = result.comparison.mapOutput
        notes = result.notes
        layers = result.comparison.summaries
    }

    public func json() throws(CNNQError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return try encoder.encode(self) } catch { throw .invalidArgument("cannot encode the report: \(error)") }
    }

    public func svg() -> String {
        SQNRPlot.svg(
            title:
                "\(model): per-layer SQNR, int8 vs float (\(method)\(biasCorrection ? ", bias correction" : "")\(crossLayerEqualization ? ", CLE" : ""))",
            layers: layers)
    }
}
