#!/usr/bin/env bash
# Regenerates Sources/CNNQuant/ONNX/onnx.pb.swift from onnx.proto.
# Needs Debian's protobuf-compiler and protoc-gen-swift built from the swift-protobuf version that
# Package.swift names. The proto comes from the `onnx` Python package (ONNX_PROTO overrides it).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
command -v protoc >/dev/null || { echo "protoc missing: apt-get install -y protobuf-compiler" >&2; exit 1; }
if [ -z "${ONNX_PROTO:-}" ]; then
  python3 -m venv "$work/venv" && "$work/venv/bin/pip" install -q onnx
  ONNX_PROTO=$("$work/venv/bin/python" -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "onnx.proto"))')
fi
plugin=${PROTOC_GEN_SWIFT:-}
if [ -z "$plugin" ]; then
  version=$(sed -n 's/.*swift-protobuf", from: "\([0-9.]*\)".*/\1/p' "$root/Package.swift")
  git clone -q --depth 1 --branch "$version" https://github.com/apple/swift-protobuf "$work/swift-protobuf"
  (cd "$work/swift-protobuf" && swift build -c release --product protoc-gen-swift)
  plugin="$work/swift-protobuf/.build/release/protoc-gen-swift"
fi
cp "$ONNX_PROTO" "$work/onnx.proto"
protoc --plugin=protoc-gen-swift="$plugin" --proto_path="$work" --swift_out="$work" \
       --swift_opt=Visibility=Internal "$work/onnx.proto"
cp "$work/onnx.pb.swift" "$root/Sources/CNNQuant/ONNX/onnx.pb.swift"
echo "wrote Sources/CNNQuant/ONNX/onnx.pb.swift from $ONNX_PROTO"
