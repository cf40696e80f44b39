import ArgumentParser
import CNNQuant
import Foundation

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a .cnnq model as an ONNX QDQ graph, for ONNX Runtime and Netron.",
        discussion: """
            Every int8 tensor becomes a QuantizeLinear/DequantizeLinear pair with the file's scale and \
            zero point; convolution weights int8 per output channel and biases int32, unpacked from the \
            kernels' layouts; fused clamps as Clip; lookup tables (h-swish, sigmoid, ...) as a Gather \
            on the int8 values; fused blocks as their layers; float islands as float ops. ONNX Runtime \
            runs it with its own requantization, so its outputs agree with cnnq's closely, not bit for \
            bit (calibration/compare_qdq.py measures how closely).
            """
    )

    @Argument(help: "The .cnnq model.") var model: String
    @Option(name: .shortAndLong, help: "Where to write the ONNX model.") var output: String

    func run() throws {
        try reportingErrors { () throws(CNNQError) in
            try checkWritable(output)
            let int8 = try Int8Model(path: model)
            let data = try QDQExport.onnx(int8)
            try AtomicFile.write(data, to: output)
            print("wrote \(output): \(grouped(data.count)) bytes, ONNX opset 13, QDQ")
        }
    }
}
