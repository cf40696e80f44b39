#if !CNNQ_OPS_SELECTED
    extension ModelFormat.OpKind {
        /// Whether this build runs ops of this kind: every kind, unless the device library was built
        /// for chosen ones (`make -C targets OPS=…` compiles its own definition with CNNQ_OPS_SELECTED).
        /// Dispatch tests it case by case, so a kind left out takes its kernels out of the link, and a
        /// model that needs one is refused at load with `unsupportedOp`.
        @inline(__always) public var isBuiltIn: Bool { true }
    }
#endif
