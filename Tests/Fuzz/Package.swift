// swift-tools-version:6.0
import PackageDescription

/// libFuzzer targets for the parsers that read untrusted bytes: the job config, the IDX and
/// CIFAR-10 readers (raw or gzip), the safetensors checkpoint loader, the PNG / JPEG decoders
/// and the WAV reader. A separate package so the normal build never sees them; built and run by `launch/fuzz.sh`, which passes
/// `--sanitize=fuzzer --sanitize=address` (each target's `LLVMFuzzerTestOneInput` has no
/// `main`: libFuzzer brings it).
let package = Package(
    name: "SwiftDDPFuzz",
    dependencies: [.package(name: "SwiftDDP", path: "../..")],
    targets: ["FuzzConfig", "FuzzIDX", "FuzzCIFAR", "FuzzSafetensors", "FuzzImage", "FuzzWAV"].map {
        .executableTarget(name: $0, dependencies: [.product(name: "SwiftDDP", package: "SwiftDDP")])
    }
)
