/// Nearest and bilinear resizing of an NHWC tensor's rows and columns. The output keeps the input's
/// quantization: nearest copies pixels, and bilinear weights sum to one, so the int8 values
/// interpolate as the real ones do.
///
/// Where an output pixel reads from is exact integer arithmetic, the same on every board: each
/// axis maps output index i to the source coordinate (a·i + b) / d, a rational that covers ONNX's
/// coordinate modes for any scale a float can hold (`ResizeAttributes.axes` on the host works a,
/// b and d out). Bilinear weights are that coordinate's fraction in steps of 1/2048.
public enum Resize {
    /// One axis: source coordinate (a·i + b) / d of output index i, on an input `extent` long.
    public struct Axis: Equatable, Sendable {
        public var a: Int64, b: Int64, d: Int64, extent: Int
        public init(a: Int64, b: Int64, d: Int64, extent: Int) {
            (self.a, self.b, self.d, self.extent) = (a, b, d, extent)
        }
    }

    /// How nearest rounds a coordinate (ONNX's nearest_mode).
    public enum Rounding: Int32, Sendable {
        case halfDown = 0, halfUp = 1, floor = 2, ceil = 3
    }

    public enum Mode: Equatable, Sendable {
        case nearest(Rounding)
        case linear
    }

    /// Bilinear weights are in units of 1/2^weightBits.
    public static let weightBits: Int64 = 11

    @inline(__always) static func floorDivision(_ n: Int64, _ d: Int64) -> Int64 {
        let q = n / d
        return q &* d > n ? q &- 1 : q
    }

    /// The source index nearest output index `i`, clamped to the input.
    @inline(__always)
    public static func nearest(_ axis: Axis, _ i: Int, _ rounding: Rounding) -> Int {
        let n = axis.a &* Int64(i) &+ axis.b, d = axis.d
        let k: Int64 =
            switch rounding {
            case .halfDown: 0 &- floorDivision(d &- 2 &* n, 2 &* d)  // ceil(n/d − ½)
            case .halfUp: floorDivision(2 &* n &+ d, 2 &* d)  // floor(n/d + ½)
            case .floor: floorDivision(n, d)
            case .ceil: 0 &- floorDivision(0 &- n, d)
            }
        return Int(min(max(k, 0), Int64(axis.extent &- 1)))
    }

    /// The two source indices around output index `i` and how far past the first the coordinate
    /// lies, in units of 1/d; a coordinate before the first pixel or past the last reads that pixel
    /// alone.
    @inline(__always)
    public static func between(_ axis: Axis, _ i: Int) -> (first: Int, second: Int, fraction: Int64) {
        let n = max(axis.a &* Int64(i) &+ axis.b, 0), d = axis.d
        let first = n / d, last = Int64(axis.extent &- 1)
        guard first < last else { return (Int(last), Int(last), 0) }
        return (Int(first), Int(first) &+ 1, n &- first &* d)
    }

    /// `between` with the second index's weight in steps of 1/2048 (0…2048), rounded to the nearest
    /// step, ties up.
    @inline(__always)
    public static func linear(_ axis: Axis, _ i: Int) -> (first: Int, second: Int, weight: Int32) {
        let (first, second, fraction) = between(axis, i)
        let weight = ((fraction << (weightBits &+ 1)) &+ axis.d) / (2 &* axis.d)
        return (first, second, Int32(weight))
    }

    /// `input` is [batch][height][width][channels]; `output` [batch][outHeight][outWidth][channels]
    /// with rows along `y` and columns along `x`. The plain form: every pixel's source worked out
    /// where it is written.
    public static func reference(
        _ input: UnsafePointer<Int8>, batch: Int, channels: Int, y: Axis, x: Axis, outHeight: Int, outWidth: Int,
        mode: Mode, output: UnsafeMutablePointer<Int8>
    ) {
        let rowIn = x.extent &* channels, imageIn = y.extent &* rowIn
        var out = output
        for b in 0..<batch {
            let image = input + b &* imageIn
            for oy in 0..<outHeight {
                switch mode {
                case let .nearest(rounding):
                    let row = image + nearest(y, oy, rounding) &* rowIn
                    for ox in 0..<outWidth {
                        Bytes.copy(row + nearest(x, ox, rounding) &* channels, to: out, count: channels)
                        out += channels
                    }
                case .linear:
                    let (y0, y1, wy) = linear(y, oy)
                    let (top, bottom) = (image + y0 &* rowIn, image + y1 &* rowIn)
                    for ox in 0..<outWidth {
                        let (x0, x1, wx) = linear(x, ox)
                        blend(
                            top + x0 &* channels, top + x1 &* channels, bottom + x0 &* channels,
                            bottom + x1 &* channels, wx: wx, wy: wy, channels: channels, output: out)
                        out += channels
                    }
                }
            }
        }
    }

    /// Columns worked out once per block of 64 for every row (their Int64 divisions are a library
    /// call on armv7), held on the stack (768 bytes: the standard library's stack limit for a
    /// temporary allocation is 1,024, above which it would call malloc); 8 channels at a time. Bit
    /// for bit `reference`.
    public static func run(
        _ input: UnsafePointer<Int8>, batch: Int, channels: Int, y: Axis, x: Axis, outHeight: Int, outWidth: Int,
        mode: Mode, output: UnsafeMutablePointer<Int8>
    ) {
        let block = 64
        let rowIn = x.extent &* channels, imageIn = y.extent &* rowIn, rowOut = outWidth &* channels
        // Per column of a block: first and second source offset (bytes into a row; a row is at most
        // 2^29 bytes, a validated tensor size) and weight.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 &* block) { columns in
            var start = 0
            while start < outWidth {
                let count = min(block, outWidth &- start)
                for k in 0..<count {
                    switch mode {
                    case let .nearest(rounding):
                        columns[k] = Int32(truncatingIfNeeded: nearest(x, start &+ k, rounding) &* channels)
                    case .linear:
                        let (x0, x1, wx) = linear(x, start &+ k)
                        (columns[k], columns[block &+ k], columns[2 &* block &+ k]) =
                            (Int32(truncatingIfNeeded: x0 &* channels), Int32(truncatingIfNeeded: x1 &* channels), wx)
                    }
                }
                for b in 0..<batch {
                    let image = input + b &* imageIn
                    var out = output + (b &* outHeight &* rowOut &+ start &* channels)
                    for oy in 0..<outHeight {
                        var pixel = out
                        switch mode {
                        case let .nearest(rounding):
                            let row = image + nearest(y, oy, rounding) &* rowIn
                            for k in 0..<count {
                                Bytes.copy(row + Int(columns[k]), to: pixel, count: channels)
                                pixel += channels
                            }
                        case .linear:
                            let (y0, y1, wy) = linear(y, oy)
                            let (top, bottom) = (image + y0 &* rowIn, image + y1 &* rowIn)
                            for k in 0..<count {
                                let (x0, x1) = (Int(columns[k]), Int(columns[block &+ k]))
                                blend8(
                                    top + x0, top + x1, bottom + x0, bottom + x1, wx: columns[2 &* block &+ k],
                                    wy: wy, channels: channels, output: pixel)
                                pixel += channels
                            }
                        }
                        out += rowOut
                    }
                }
                start &+= count
            }
        }
    }

    /// `blend` 8 channels at a time (the same int32 arithmetic lane by lane), the rest one by one.
    @inline(__always)
    static func blend8(
        _ p00: UnsafePointer<Int8>, _ p01: UnsafePointer<Int8>, _ p10: UnsafePointer<Int8>,
        _ p11: UnsafePointer<Int8>, wx: Int32, wy: Int32, channels: Int, output: UnsafeMutablePointer<Int8>
    ) {
        let one = Int32(1) << Int32(weightBits)
        let (ax, bx) = (SIMD8<Int32>(repeating: one &- wx), SIMD8<Int32>(repeating: wx))
        let (ay, by) = (SIMD8<Int32>(repeating: one &- wy), SIMD8<Int32>(repeating: wy))
        let half = SIMD8<Int32>(repeating: 1 << (2 &* Int32(weightBits) &- 1))
        func load(_ p: UnsafePointer<Int8>) -> SIMD8<Int32> {
            widen8(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Int8>.self))
        }
        var c = 0
        while c &+ 8 <= channels {
            let top = load(p00 + c) &* ax &+ load(p01 + c) &* bx
            let bottom = load(p10 + c) &* ax &+ load(p11 + c) &* bx
            store8((top &* ay &+ bottom &* by &+ half) &>> (2 &* Int32(weightBits)), to: output + c)
            c &+= 8
        }
        if c < channels {
            blend(p00 + c, p01 + c, p10 + c, p11 + c, wx: wx, wy: wy, channels: channels &- c, output: output + c)
        }
    }

    /// One output pixel of bilinear: each channel's four neighbours weighted in int32 (at most
    /// 128·2^22), rounded half up.
    @inline(__always)
    static func blend(
        _ p00: UnsafePointer<Int8>, _ p01: UnsafePointer<Int8>, _ p10: UnsafePointer<Int8>,
        _ p11: UnsafePointer<Int8>, wx: Int32, wy: Int32, channels: Int, output: UnsafeMutablePointer<Int8>
    ) {
        let one = Int32(1) << Int32(weightBits)
        let shift = 2 &* Int32(weightBits)
        for c in 0..<channels {
            let top = Int32(p00[c]) &* (one &- wx) &+ Int32(p01[c]) &* wx
            let bottom = Int32(p10[c]) &* (one &- wx) &+ Int32(p11[c]) &* wx
            let v = top &* (one &- wy) &+ bottom &* wy
            output[c] = Int8(truncatingIfNeeded: (v &+ (1 << (shift &- 1))) >> shift)
        }
    }
}
