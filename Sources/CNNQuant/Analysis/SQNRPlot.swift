import Foundation

/// Per-layer SQNR as an SVG bar chart: what `quantize --plot` and `eval --plot` draw.
public enum SQNRPlot {
    /// A bar per layer in op order, its height the SQNR, coloured by op kind, with the 20/30 dB lines.
    public static func svg(title: String, layers: [LayerSQNR]) -> String {
        let barWidth = 9.0, plotHeight = 260.0, left = 50.0, top = 40.0
        // Wide enough for the bars and legend, and for the title (about 7.5 px a character at 14 px).
        let width = max(left + Double(layers.count) * barWidth + 160, left + Double(title.count) * 7.5)
        let ceiling = max(50, (layers.compactMap(\.sqnrDB).max() ?? 50).rounded(.up))
        let palette = [
            "pointwise": "#1f77b4", "depthwise": "#ff7f0e", "convolution": "#2ca02c", "lookup": "#9467bd",
            "add": "#8c564b", "multiply": "#e377c2", "globalAveragePool": "#7f7f7f", "concat": "#bcbd22",
        ]
        func y(_ db: Double) -> Double { top + plotHeight * (1 - max(0, min(db, ceiling)) / ceiling) }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(top + plotHeight + 60))" font-family="sans-serif" font-size="11">
            <text x="\(left)" y="20" font-size="14">\(escape(title))</text>

            """
        for db in stride(from: 0.0, through: ceiling, by: 10) {
            let dash = db == 20 || db == 30 ? " stroke-dasharray=\"4 3\" stroke=\"#d62728\"" : " stroke=\"#ddd\""
            svg +=
                "<line x1=\"\(left)\" x2=\"\(left + Double(layers.count) * barWidth)\" y1=\"\(y(db))\" y2=\"\(y(db))\"\(dash)/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y(db) + 4)\" text-anchor=\"end\">\(Int(db))</text>\n"
        }
        for (i, layer) in layers.enumerated() {
            let db = layer.sqnrDB ?? ceiling
            let x = left + Double(i) * barWidth
            svg +=
                "<rect x=\"\(x)\" y=\"\(y(db))\" width=\"\(barWidth - 1)\" height=\"\(top + plotHeight - y(db))\" fill=\"\(palette[layer.kind] ?? "#17becf")\">"
            svg +=
                "<title>#\(layer.index) \(escape(layer.name)) (\(layer.kind)): \(layer.sqnrDB.map { String(format: "%.1f dB", $0) } ?? "exact") end to end, "
            svg += "\(layer.ownSQNRDB.map { String(format: "%.1f dB", $0) } ?? "exact") alone</title></rect>\n"
            // The layer's own SQNR as a black tick: where the tick is low, the layer itself loses precision.
            let own = y(layer.ownSQNRDB ?? ceiling)
            svg +=
                "<line x1=\"\(x)\" x2=\"\(x + barWidth - 1)\" y1=\"\(own)\" y2=\"\(own)\" stroke=\"black\" stroke-width=\"2\"/>\n"
        }
        svg +=
            "<text x=\"\(left)\" y=\"\(top + plotHeight + 20)\">layers in execution order → (bar: end to end; black tick: the layer alone on float inputs)</text>\n"
        svg +=
            "<text x=\"14\" y=\"\(top + plotHeight / 2)\" transform=\"rotate(-90 14 \(top + plotHeight / 2))\" text-anchor=\"middle\">SQNR (dB)</text>\n"
        let legendX = left + Double(layers.count) * barWidth + 20
        for (i, kind) in palette.keys.sorted().filter({ kind in layers.contains { $0.kind == kind } }).enumerated() {
            svg +=
                "<rect x=\"\(legendX)\" y=\"\(top + Double(i) * 16)\" width=\"10\" height=\"10\" fill=\"\(palette[kind]!)\"/>"
            svg += "<text x=\"\(legendX + 14)\" y=\"\(top + Double(i) * 16 + 9)\">\(kind)</text>\n"
        }
        return svg + "</svg>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;")
    }
}
