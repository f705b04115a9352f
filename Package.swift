// swift-tools-version:6.0
import PackageDescription

/// Layers of SwiftDDP, each depending only on the ones listed before it:
/// CBLAS/CMPI/CZlib/CPNG/CJPEG (system C libraries; ImageCodecs, C over libpng and libjpeg;
/// SharedMemorySync, C atomics, futexes and the two-rank average; SkinnyGEMM, small-batch products in C; AdamKernel,
/// Adam's update in C)
/// → TensorCore (tensors, BLAS kernels, RNG)
/// → Autograd (variables, tape, differentiable ops) → NN (layers, losses, metrics)
/// → Optim (optimizers, schedules) → Comm (communicators, data-parallel gradient averaging) → Datasets (readers, sampler)
/// → Training (trainers, jobs, checkpoints) → ddp (command line).
/// Release: -Ounchecked (kernels index raw pointers; overflow checks would block vectorisation)
/// and -fno-math-errno, without which sqrtf/expf calls keep an errno path that stops LLVM from
/// vectorising loops such as Adam's update.
/// On x86-64, release code targets Haswell-class CPUs (AVX2 + FMA, every x86 server since 2013;
/// 2-7% faster steps than baseline SSE2, docs/performance.md); `DDP_TARGET_CPU=x86-64` at build
/// time gives a binary for any x86-64, `DDP_TARGET_CPU=native` one for the build machine only.
#if arch(x86_64)
let targetCPU = Context.environment["DDP_TARGET_CPU"] ?? "haswell"
#else
let targetCPU = Context.environment["DDP_TARGET_CPU"] ?? ""
#endif
let cpuFlags = targetCPU.isEmpty ? [] : ["-target-cpu", targetCPU]
let release: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo", "-Xcc", "-fno-math-errno"] + cpuFlags, .when(configuration: .release))]
/// Lets `ddp` refuse, with a message, to run on a CPU without AVX2/FMA instead of dying of SIGILL.
let cpuCheck: [SwiftSetting] = targetCPU == "haswell" ? [.define("DDP_REQUIRES_AVX2", .when(configuration: .release))] : []

let package = Package(
    name: "SwiftDDP",
    products: [
        .executable(name: "ddp", targets: ["ddp"]),
        .library(name: "SwiftDDP", targets: ["TensorCore", "Autograd", "NN", "Optim", "Comm", "Datasets", "Training"]),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        // PNG and JPEG decoding and encoding in C, where libpng's and libjpeg's longjmp error
        // handling stays (no jump crosses a Swift frame).
        .target(name: "ImageCodecs", dependencies: ["CPNG", "CJPEG"]),
        // Atomic flags and futex waits on memory shared between processes (intra-node allreduce).
        .target(name: "SharedMemorySync"),
        // Small-batch matrix products that read the weights in place (AVX-512F; OpenBLAS elsewhere).
        // Optimised in debug builds too: the tests run it on every dense layer.
        .target(name: "SkinnyGEMM", cSettings: [.unsafeFlags(["-O2"])]),
        // Adam's update: 16 AVX-512 lanes, or a scalar loop where AVX-512F is missing. No
        // contraction into fused multiply-adds, so both give the same bits.
        .target(name: "AdamKernel", cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off", "-fno-math-errno"])]),
        .target(name: "TensorCore", dependencies: ["CBLAS", "SkinnyGEMM"], swiftSettings: release),
        .target(name: "Autograd", dependencies: ["TensorCore"], swiftSettings: release),
        .target(name: "NN", dependencies: ["Autograd", "TensorCore"], swiftSettings: release),
        .target(name: "Optim", dependencies: ["Autograd", "TensorCore", "AdamKernel"], swiftSettings: release),
        .target(name: "Comm", dependencies: ["Optim", "Autograd", "TensorCore", "CMPI", "SharedMemorySync"], swiftSettings: release),
        .target(name: "Datasets", dependencies: ["TensorCore", "CZlib", "ImageCodecs"], swiftSettings: release),
        .target(name: "Training", dependencies: ["Datasets", "Comm", "Optim", "NN", "Autograd", "TensorCore", "CZlib"],
                swiftSettings: release),
        .executableTarget(name: "ddp", dependencies: ["Training", "Datasets", "Comm", "NN", "Optim", "Autograd", "TensorCore", "CMPI"],
                          swiftSettings: release + cpuCheck),
        .target(name: "TestSupport", dependencies: ["Autograd", "TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "SkinnyGEMM", "TestSupport"]),
        .testTarget(name: "AutogradTests", dependencies: ["Autograd", "TensorCore", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Autograd", "TensorCore", "TestSupport"]),
        .testTarget(name: "OptimTests", dependencies: ["Optim", "AdamKernel", "NN", "Autograd", "TensorCore", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "TensorCore"]),
        .target(name: "Scenarios", dependencies: ["Training", "Comm", "Optim", "NN", "Autograd", "TensorCore"],
                path: "Tests/Scenarios"),
        .executableTarget(name: "MPIWorker", dependencies: ["Scenarios", "Comm", "Autograd", "TensorCore"], path: "Tests/MPIWorker"),
        .testTarget(name: "TrainingTests", dependencies: ["Scenarios", "Training", "Comm", "TestSupport"]),
        .testTarget(name: "CommTests", dependencies: ["Comm", "SharedMemorySync", "NN", "Optim", "Autograd", "TensorCore", "TestSupport"]),
    ]
)
