import Foundation

/// The release build targets AVX2 + FMA (Package.swift); on an older CPU the first vector
/// instruction would kill the process with SIGILL and no explanation, so say it first.
enum CPUCheck {
    static func requireAVX2() {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let set = Set(flags.split(separator: " ").map(String.init))
        let missing = ["avx2", "fma"].filter { !set.contains($0) }
        guard !missing.isEmpty else { return }
        printError("ddp: this binary was built for CPUs with AVX2 and FMA; this CPU lacks \(missing.joined(separator: ", ")). "
                   + "Rebuild with DDP_TARGET_CPU=x86-64 swift build -c release --product ddp\n")
        exit(1)
    }
}
