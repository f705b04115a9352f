/// A decoded WAV file: samples in [-1, 1) and their rate.
public struct AudioClip: Sendable, Equatable {
    public let sampleRate: Int
    /// One value per frame; several channels are averaged.
    public let samples: [Double]

    public init(sampleRate: Int, samples: [Double]) {
        self.sampleRate = sampleRate
        self.samples = samples
    }

    public var seconds: Double { Double(samples.count) / Double(sampleRate) }
}

/// RIFF/WAVE files with linear PCM samples of 16 bits (what espeak-ng, sox and most recorders
/// write). The "fmt " and "data" chunks are read, any other chunk (LIST, fact, ...) is skipped;
/// WAVE_FORMAT_EXTENSIBLE is accepted when its sub-format is PCM. Every problem is a
/// `DataError` naming the file and the byte offset of the field at fault.
public enum WAV {
    static let pcm: UInt16 = 1
    static let extensible: UInt16 = 0xFFFE
    /// Sample rates accepted: telephone to studio, and nothing that would make resampling filters absurd.
    public static let rates = 1000...384_000

    public static func read(_ path: String) throws -> AudioClip {
        try parse(DataFile.readRaw(path), file: path)
    }

    public static func parse(_ bytes: [UInt8], file: String) throws -> AudioClip {
        guard bytes.count >= 12 else {
            throw DataError(.truncated, file: file, "truncated: a 12-byte RIFF/WAVE header expected, file has \(bytes.count) bytes")
        }
        guard tag(bytes, 0) == "RIFF", tag(bytes, 8) == "WAVE" else {
            throw DataError(.badMagic, file: file, at: "byte 0", "\"RIFF\" then \"WAVE\" at byte 8 expected (a WAV file), found \"\(tag(bytes, 0))\" and \"\(tag(bytes, 8))\"")
        }
        var format: (channels: Int, rate: Int)?
        var offset = 12
        while offset + 8 <= bytes.count {
            let id = tag(bytes, offset), size = Int(le32(bytes, offset + 4)), body = offset + 8
            guard size <= bytes.count - body else {
                throw DataError(.truncated, file: file, at: "byte \(grouped(offset + 4))",
                                "chunk \"\(id)\" announces \(grouped(size)) bytes but only \(grouped(bytes.count - body)) follow")
            }
            switch id {
            case "fmt ": format = try parseFormat(bytes, at: body, size: size, file: file)
            case "data":
                guard let format else {
                    throw DataError(.badHeader, file: file, at: "byte \(grouped(offset))", "a \"fmt \" chunk expected before the \"data\" chunk")
                }
                let frameBytes = 2 * format.channels
                guard size % frameBytes == 0 else {
                    throw DataError(.badLength, file: file, at: "byte \(grouped(offset + 4))",
                                    "data size a multiple of \(frameBytes) bytes (16-bit samples × \(format.channels) channels) expected, found \(grouped(size))")
                }
                return AudioClip(sampleRate: format.rate, samples: samples(bytes, from: body, frames: size / frameBytes, channels: format.channels))
            default: break
            }
            offset = body + size + size % 2  // chunks are padded to an even size
        }
        throw DataError(.truncated, file: file, at: "byte \(grouped(offset))",
                        format == nil ? "a \"fmt \" chunk expected, reached the end of the file" : "a \"data\" chunk expected, reached the end of the file")
    }

    /// The "fmt " chunk starting at `body`: 16-bit PCM with at least one channel and a rate > 0.
    private static func parseFormat(_ bytes: [UInt8], at body: Int, size: Int, file: String) throws -> (channels: Int, rate: Int) {
        guard size >= 16 else {
            throw DataError(.badHeader, file: file, at: "byte \(grouped(body - 4))", "\"fmt \" chunk of at least 16 bytes expected, found \(size)")
        }
        var code = le16(bytes, body)
        if code == extensible, size >= 26 { code = le16(bytes, body + 24) }  // the sub-format GUID starts with the format code
        guard code == pcm else {
            throw DataError(.badHeader, file: file, at: "byte \(grouped(body))", "linear PCM (format 1) expected, found format \(code)")
        }
        let channels = Int(le16(bytes, body + 2)), rate = Int(le32(bytes, body + 4)), bits = Int(le16(bytes, body + 14))
        guard channels >= 1 else {
            throw DataError(.badHeader, file: file, at: "byte \(grouped(body + 2))", "at least 1 channel expected, found 0")
        }
        guard rates.contains(rate) else {
            throw DataError(.badHeader, file: file, at: "byte \(grouped(body + 4))",
                            "a sample rate in \(grouped(rates.lowerBound))...\(grouped(rates.upperBound)) Hz expected, found \(grouped(rate))")
        }
        guard bits == 16 else {
            throw DataError(.badHeader, file: file, at: "byte \(grouped(body + 14))", "16 bits per sample expected, found \(bits)")
        }
        return (channels, rate)
    }

    /// Little-endian 16-bit samples scaled by 1/32768, channels averaged.
    private static func samples(_ bytes: [UInt8], from start: Int, frames: Int, channels: Int) -> [Double] {
        let scale = 1 / (32768 * Double(channels))
        return (0..<frames).map { f in
            var sum = 0
            for c in 0..<channels { sum += Int(Int16(bitPattern: le16(bytes, start + 2 * (f * channels + c)))) }
            return Double(sum) * scale
        }
    }

    /// A 16-bit PCM mono WAV file of `clip` (samples clipped to [-1, 1]), as the readers expect:
    /// for tests and tools that make audio.
    public static func encode(_ clip: AudioClip) -> [UInt8] {
        let data = clip.samples.count * 2
        var out: [UInt8] = []
        out.reserveCapacity(44 + data)
        func put16(_ v: Int) { out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func put32(_ v: Int) { put16(v & 0xFFFF); put16((v >> 16) & 0xFFFF) }
        out += Array("RIFF".utf8); put32(36 + data); out += Array("WAVEfmt ".utf8)
        put32(16); put16(Int(pcm)); put16(1); put32(clip.sampleRate); put32(clip.sampleRate * 2); put16(2); put16(16)
        out += Array("data".utf8); put32(data)
        for s in clip.samples { put16(Int(UInt16(bitPattern: Int16((min(max(s, -1), 1) * 32767).rounded())))) }
        return out
    }

    private static func tag(_ b: [UInt8], _ i: Int) -> String {
        String(decoding: b[i..<min(i + 4, b.count)].map { (32...126).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
    private static func le16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    private static func le32(_ b: [UInt8], _ i: Int) -> UInt32 { UInt32(le16(b, i)) | UInt32(le16(b, i + 2)) << 16 }
}
