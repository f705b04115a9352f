import Foundation
import Training

/// A job config from arbitrary bytes: it must parse or throw a `ConfigError`, never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        _ = try JobConfig.parse(Data(bytes: data, count: size), source: "fuzz.json")
    } catch is ConfigError {
    } catch {
        fatalError("JobConfig.parse threw a \(type(of: error)), not a ConfigError: \(error)")
    }
    return 0
}
