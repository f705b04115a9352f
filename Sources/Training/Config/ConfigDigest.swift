/// 64-bit FNV-1a: a hash that is the same on every platform, run and rank (Swift's `Hasher` is
/// seeded per process), for the configuration digest in checkpoints and rank consistency checks.
public func fnv1a64<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}

/// A 64-bit value as 16 hex digits.
func hex16(_ v: UInt64) -> String { String(v, radix: 16).leftPadded(to: 16, with: "0") }
