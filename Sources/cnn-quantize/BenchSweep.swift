import ArgumentParser
import CNNQuant
import Foundation

struct BenchSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-sweep",
        abstract: "Time the MobileNet family across width multipliers and resolutions: a table and a plot.",
        discussion: """
            For each architecture, α (V1: 0.25, 0.5, 0.75, 1.0; V2/V3: 0.35, 0.5, 0.75, 1.0) and \
            resolution, the zoo builds the float model, it is quantized (min/max ranges on two seeded \
            random inputs: calibration does not change the kernels' speed) and timed through the runtime \
            as `bench` times it, at each --threads count. Writes sweep.md, sweep.csv and sweep.svg \
            (latency vs MACs, log–log) to --output. Build with -c release for meaningful numbers.
            """
    )

    @Option(parsing: .upToNextOption, help: "Architectures (default: all four).")
    var architectures: [MobileNet] = MobileNet.allCases

    @Option(parsing: .upToNextOption, help: "Resolutions.")
    var resolutions: [Int] = [128, 160, 192, 224]

    @Option(parsing: .upToNextOption, help: "Thread counts to time each model at.")
    var threads: [Int] = [1, 2]

    @Option(help: "Timed runs per model and thread count (the median is reported).")
    var runs: Int = 20

    @Option(help: "Untimed runs before timing.")
    var warmup: Int = 3

    @Option(name: .shortAndLong, help: "Folder for sweep.md, sweep.csv and sweep.svg (created if missing).")
    var output: String

    func run() throws {
        try reportingErrors { () throws(CNNQError) in
            guard runs >= 1, warmup >= 0, !threads.isEmpty, threads.allSatisfy({ $0 >= 1 }),
                resolutions.allSatisfy({ (32...1024).contains($0) })
            else {
                throw .invalidArgument(
                    "--runs and --threads must be at least 1, --warmup at least 0, resolutions in 32…1024")
            }
            do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
                throw .unwritableFile(path: output, reason: "cannot create the folder")
            }
            let files = ["sweep.md", "sweep.csv", "sweep.svg"].map { (output as NSString).appendingPathComponent($0) }
            for file in files { try checkWritable(file) }
            var sweep = Sweep(threads: threads, runs: runs)
            let cases = architectures.flatMap { a in
                Sweep.alphas(a).flatMap { alpha in resolutions.map { (a, alpha, $0) } }
            }
            var progress = Progress()
            for (i, (architecture, alpha, resolution)) in cases.enumerated() {
                progress.update("\(architecture.rawValue) α \(alpha) ρ \(resolution)", i, cases.count)
                sweep.rows.append(
                    try Sweep.measure(
                        architecture, alpha: alpha, resolution: resolution, threads: threads, runs: runs, warmup: warmup
                    ))
            }
            progress.finish()
            try AtomicFile.write(Data(sweep.markdown().utf8), to: files[0])
            try AtomicFile.write(Data(sweep.csv().utf8), to: files[1])
            try AtomicFile.write(Data(sweep.svg().utf8), to: files[2])
            print(sweep.markdown())
            print("wrote \(files.joined(separator: ", "))")
        }
        warnIfDebugBuild()  // after the figures, and not before an error line
    }
}
