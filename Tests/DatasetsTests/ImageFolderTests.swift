import Datasets
import Foundation
import XCTest

/// PNG and JPEG decoding through libpng and libjpeg (every colour type converted to RGB), the
/// bilinear resize, and image folders: class and file order, skipped entries, and errors that
/// name the file for corrupt, truncated, foreign and missing images.
final class ImageFolderTests: XCTestCase {
    /// The RGB bytes `bytes` decode to, with their height and width.
    func decoded(_ bytes: [UInt8]) throws -> (rgb: [UInt8], height: Int, width: Int) {
        try ImageCodec.decode(bytes, file: "test") { p, h, w in (Array(UnsafeBufferPointer(start: p, count: h * w * 3)), h, w) }
    }

    func testPNGsOfEveryColourTypeDecodeToRGB() throws {
        let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90]  // 2 rows × 3
        var d = try decoded(ImageCodec.encodePNG(rgb, height: 2, width: 3, channels: 3))
        XCTAssertEqual(d.rgb, rgb)
        XCTAssertEqual([d.height, d.width], [2, 3])
        // Grey: replicated into the three channels.
        d = try decoded(ImageCodec.encodePNG([0, 100, 200, 255], height: 2, width: 2, channels: 1))
        XCTAssertEqual(d.rgb, [0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255])
        // Alpha dropped, not blended: a transparent pixel keeps its colour.
        d = try decoded(ImageCodec.encodePNG([9, 8, 7, 0, 1, 2, 3, 255], height: 1, width: 2, channels: 4))
        XCTAssertEqual(d.rgb, [9, 8, 7, 1, 2, 3])
        d = try decoded(ImageCodec.encodePNG([50, 0, 60, 128], height: 1, width: 2, channels: 2))
        XCTAssertEqual(d.rgb, [50, 50, 50, 60, 60, 60])
        // Palette: indices looked up.
        d = try decoded(ImageCodec.encodePNG([1, 0, 2], height: 1, width: 3, channels: 1, palette: [1, 2, 3, 40, 50, 60, 7, 8, 9]))
        XCTAssertEqual(d.rgb, [40, 50, 60, 1, 2, 3, 7, 8, 9])
        // 16 bits: v·257 (big-endian) becomes v; 0x1280 (4736 = 18.4 · 257) rounds to 18.
        d = try decoded(ImageCodec.encodePNG([0x0A, 0x0A, 0xFF, 0xFF, 0x12, 0x80], height: 1, width: 3, channels: 1, bitDepth: 16))
        XCTAssertEqual(d.rgb, [10, 10, 10, 255, 255, 255, 18, 18, 18])
    }

    func testJPEGsDecodeToRGBWithinCompressionError() throws {
        // An 8×8 gradient survives quality 100 within a few levels on average (the chroma is
        // subsampled 2×2, so single pixels may be further off).
        let rgb = (0..<64).flatMap { i -> [UInt8] in [UInt8(i * 3), UInt8(200 - i * 2), 90] }
        let d = try decoded(ImageCodec.encodeJPEG(rgb, height: 8, width: 8, channels: 3, quality: 100))
        XCTAssertEqual([d.height, d.width], [8, 8])
        let errors = zip(d.rgb, rgb).map { abs(Int($0) - Int($1)) }
        XCTAssertLessThanOrEqual(Double(errors.reduce(0, +)) / Double(errors.count), 4)
        XCTAssertLessThanOrEqual(errors.max()!, 24)
        let grey = try decoded(ImageCodec.encodeJPEG((0..<16).map { UInt8($0 * 16) }, height: 4, width: 4, channels: 1, quality: 100))
        for k in 0..<16 {
            XCTAssertEqual(grey.rgb[3 * k], grey.rgb[3 * k + 1])
            XCTAssertEqual(grey.rgb[3 * k], grey.rgb[3 * k + 2])
            XCTAssertLessThanOrEqual(abs(Int(grey.rgb[3 * k]) - k * 16), 3)
        }
    }

    func testBilinearResize() {
        func resized(_ source: [UInt8], _ h: Int, _ w: Int, to outH: Int, _ outW: Int) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: outH * outW)
            source.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer {
                    ImageResize.bilinear(s.baseAddress!, height: h, width: w, channels: 1, into: $0.baseAddress!, height: outH, width: outW)
                }
            }
            return out
        }
        // 1×2 → 1×4: input positions −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        XCTAssertEqual(resized([0, 100], 1, 2, to: 1, 4), [0, 25, 75, 100])
        // 2×2 → 1×1: the centre, the mean of all four.
        XCTAssertEqual(resized([0, 40, 80, 120], 2, 2, to: 1, 1), [60])
        // 4×4 → 2×2: input (0.5, 0.5) etc., the mean of each 2×2 block.
        XCTAssertEqual(resized((0..<16).map { UInt8($0 * 10) }, 4, 4, to: 2, 2), [25, 45, 105, 125])
        XCTAssertEqual(resized([1, 2, 3, 4, 5, 6], 2, 3, to: 2, 3), [1, 2, 3, 4, 5, 6])
    }

    /// root/<class>/<file> for each entry of `files` (class, file name, bytes).
    func makeFolder(_ files: [(String, String, [UInt8])]) throws -> String {
        let root = try temporaryDirectory(self)
        for (cls, name, bytes) in files {
            try FileManager.default.createDirectory(atPath: "\(root)/\(cls)", withIntermediateDirectories: true)
            try write(bytes, to: "\(root)/\(cls)/\(name)")
        }
        return root
    }

    /// A 2×2 RGB PNG of one colour.
    func png(_ v: UInt8) -> [UInt8] { ImageCodec.encodePNG([UInt8](repeating: v, count: 12), height: 2, width: 2, channels: 3) }

    func testFoldersGiveSortedClassesAndFilesAndSkipOtherEntries() throws {
        let jpeg = ImageCodec.encodeJPEG([UInt8](repeating: 77, count: 4 * 4 * 3), height: 4, width: 4, channels: 3, quality: 100)
        let root = try makeFolder([("dog", "b.png", png(20)), ("dog", "a.PNG", png(10)), ("dog", "c.jpeg", jpeg),
                                   ("cat", "z.jpg", jpeg), ("cat", "notes.txt", Array("text".utf8)), ("cat", ".hidden.png", png(1)),
                                   (".git", "x.png", png(2))])
        try FileManager.default.createDirectory(atPath: "\(root)/cat/nested", withIntermediateDirectories: true)
        try write(png(3), to: "\(root)/cat/nested/n.png")
        try write(png(4), to: "\(root)/loose.png")
        let set = try ImageFolder.load(from: root, height: 2, width: 2)
        XCTAssertEqual(set.classNames, ["cat", "dog"])
        XCTAssertEqual(set.labels, [0, 1, 1, 1])
        XCTAssertEqual(set.sampleShape, [2, 2, 3])
        // cat/z.jpg (4×4 → 2×2), then dog/a.PNG, dog/b.png, dog/c.jpeg.
        XCTAssertEqual(set.pixels.count, 4 * 12)
        XCTAssertTrue(set.pixels[0..<12].allSatisfy { abs(Int($0) - 77) <= 2 }, "\(set.pixels[0..<12])")
        XCTAssertEqual(Array(set.pixels[12..<36]), [UInt8](repeating: 10, count: 12) + [UInt8](repeating: 20, count: 12))
        XCTAssertEqual(try ImageFolder.load(from: root, height: 2, width: 2, classNames: ["cat", "dog"]).count, 4)
        assertDataError(.countMismatch, file: root, mentions: ["class folders cat, dog, horse expected", "found cat, dog"]) {
            try ImageFolder.load(from: root, height: 2, width: 2, classNames: ["cat", "dog", "horse"])
        }
    }

    func testBadImagesAndFoldersAreErrorsNamingThem() throws {
        let good = png(50)
        // Flipping a byte inside IDAT breaks its CRC.
        var corrupt = good
        corrupt[corrupt.count - 20] ^= 0xFF
        let jpeg = ImageCodec.encodeJPEG([UInt8](repeating: 77, count: 16 * 16 * 3), height: 16, width: 16, channels: 3)
        // A quantisation table (marker ff db) whose length field says 1 byte.
        var badMarker = jpeg
        let dqt = try XCTUnwrap((0..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xDB })
        (badMarker[dqt + 2], badMarker[dqt + 3]) = (0, 1)
        let cases: [(name: String, bytes: [UInt8], kind: DataError.Kind, mentions: [String])] = [
            ("corrupt.png", corrupt, .corruptImage, ["corrupt PNG"]),
            ("short.png", Array(good.prefix(good.count - 30)), .truncated, ["PNG: the file ends inside the image data"]),
            ("short.jpg", Array(jpeg.prefix(jpeg.count / 2)), .truncated, ["JPEG: the file ends inside the image data"]),
            ("marker.jpg", badMarker, .corruptImage, ["corrupt JPEG: Bogus marker length"]),
            ("text.png", Array("not an image".utf8), .badMagic, ["byte 0", "PNG", "JPEG", "found 6e 6f 74 20 61 6e 20 69"]),
            ("empty.jpeg", [], .badMagic, ["found an empty file"]),
            ("wide.png", ImageCodec.encodePNG([UInt8](repeating: 0, count: 8193), height: 1, width: 8193, channels: 1), .unsupportedImage,
             ["PNG: 8193x1 pixels is larger than the limit of 8192 per side"]),
            ("tall.jpg", ImageCodec.encodeJPEG([UInt8](repeating: 0, count: 8193), height: 8193, width: 1, channels: 1), .unsupportedImage,
             ["JPEG: 1x8193 pixels is larger than the limit of 8192 per side"]),
        ]
        for c in cases {
            let root = try makeFolder([("a", "ok.png", good), ("b", c.name, c.bytes)])
            assertDataError(c.kind, file: "\(root)/b/\(c.name)", mentions: c.mentions) { try ImageFolder.load(from: root, height: 2, width: 2) }
        }
        let root = try makeFolder([("a", "ok.png", good), ("b", "readme.txt", [1])])
        assertDataError(.emptyFolder, file: "\(root)/b", mentions: ["at least one .png, .jpg or .jpeg image expected"]) {
            try ImageFolder.load(from: root, height: 2, width: 2)
        }
        let flat = try makeFolder([])
        try write(good, to: flat + "/loose.png")
        assertDataError(.emptyFolder, file: flat, mentions: ["one subfolder per class expected"]) { try ImageFolder.load(from: flat, height: 2, width: 2) }
        assertDataError(.unreadable, file: flat + "/missing", mentions: ["no such folder"]) {
            try ImageFolder.load(from: flat + "/missing", height: 2, width: 2)
        }
    }
}
