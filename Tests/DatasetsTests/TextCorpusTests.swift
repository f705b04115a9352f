import Datasets
import TensorCore
import XCTest

final class TextCorpusTests: XCTestCase {
    func testTinyShakespeare() throws {
        let dir = try realDataDirectory(.tinyShakespeare)
        let corpus = try timed("tinyshakespeare read + encode (debug)") { try TextCorpus(contentsOf: dir + "/input.txt") }
        XCTAssertEqual(corpus.count, 1_115_394)
        XCTAssertEqual(corpus.vocabulary.count, 65)
        XCTAssertEqual(String(String.UnicodeScalarView(corpus.vocabulary.scalars.prefix(3))), "\n !")
        XCTAssertEqual(corpus.vocabulary.decode(corpus.ids.prefix(14)), "First Citizen:")
        let (train, validation) = corpus.split()
        XCTAssertEqual(train.count, 1_003_854)  // nanoGPT: int(0.9 * 1115394)
        XCTAssertEqual(validation.count, 111_540)
        XCTAssertEqual(validation.startIndex, train.endIndex)
    }

    func testEncodeDecodeRoundTrip() throws {
        let text = "Héllo, wörld!\nÇa va? 你好 🙂 e\u{301}"
        let corpus = TextCorpus(text: text)
        XCTAssertEqual(corpus.vocabulary.decode(corpus.ids), text)
        XCTAssertEqual(corpus.count, text.unicodeScalars.count)
        XCTAssertEqual(corpus.vocabulary.scalars, corpus.vocabulary.scalars.sorted { $0.value < $1.value })
        XCTAssertEqual(Set(corpus.vocabulary.scalars).count, corpus.vocabulary.count)
        XCTAssertEqual(try corpus.vocabulary.encode("wörld"), corpus.ids[7..<12].map { $0 })
        XCTAssertEqual(corpus.vocabulary.id(of: "\n"), 0)
    }

    func testUnknownCharacterNamesSourceAndPosition() {
        let vocabulary = CharacterVocabulary(of: "abc".unicodeScalars)
        assertDataError(.badText, file: "prompt", mentions: ["character 2", "'é' (U+00E9)"]) {
            try vocabulary.encode("abé", source: "prompt")
        }
    }

    func testInvalidUTF8NamesByteOffset() throws {
        let dir = try temporaryDirectory(self)
        let path = dir + "/bad.txt"
        try write(Array("abc".utf8) + [0xC3, 0x28] + Array("xyz".utf8), to: path)
        assertDataError(.badText, file: path, mentions: ["byte 3", "UTF-8 text expected"]) { try TextCorpus(contentsOf: path) }
        // Overlong '/', a surrogate, a value past U+10FFFF, a stray continuation byte, a cut sequence.
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xE2, 0x82]] {
            try write(Array("ok é".utf8) + bad, to: path)
            assertDataError(.badText, file: path, mentions: ["byte 5"]) { try TextCorpus(contentsOf: path) }
        }
        try write(Array("ok é € 𝄞".utf8), to: path)
        XCTAssertEqual(try TextCorpus(contentsOf: path).vocabulary.decode(TextCorpus(contentsOf: path).ids), "ok é € 𝄞")
    }

    func testGzippedTextReads() throws {
        let dir = try temporaryDirectory(self)
        try write(Gzip.compress(Array("to be or not to be".utf8)), to: dir + "/input.txt.gz")
        let corpus = try TextCorpus(contentsOf: dir + "/input.txt.gz")
        XCTAssertEqual(corpus.vocabulary.decode(corpus.ids), "to be or not to be")
        XCTAssertEqual(corpus.vocabulary.count, 7)
    }

    func testSplitFractions() {
        let corpus = TextCorpus(text: "abcdefghij")
        XCTAssertEqual(corpus.split().train.count, 9)
        XCTAssertEqual(corpus.split(trainFraction: 0.5).validation.map { $0 }, try corpus.vocabulary.encode("fghij"))
        XCTAssertEqual(corpus.split(trainFraction: 1).validation.count, 0)
    }

    func testWindowsAreShiftedByOne() throws {
        let windows = TokenWindows(tokens: (0..<20).map { Int32($0) }, blockSize: 4)
        XCTAssertEqual(windows.startCount, 16)
        let inputs = Tensor(zeros: [2, 4]), targets = Tensor(zeros: [2, 4])
        windows.fill([0, 15], inputs: inputs, targets: targets)
        XCTAssertEqual(inputs.scalars, [0, 1, 2, 3, 15, 16, 17, 18])
        XCTAssertEqual(targets.scalars, [1, 2, 3, 4, 16, 17, 18, 19])
        var i = [Int32](repeating: 0, count: 4), t = [Int32](repeating: 0, count: 4)
        windows.fill([7], inputs: &i, targets: &t)
        XCTAssertEqual(i, [7, 8, 9, 10])
        XCTAssertEqual(t, [8, 9, 10, 11])
    }

    func testRandomStartsStayInRangeAndAreReproducible() {
        let windows = TokenWindows(tokens: [Int32](repeating: 1, count: 12), blockSize: 4)
        var a = [Int](repeating: 0, count: 500), b = a
        var r1 = RandomGenerator(seed: 9, rank: 1, purpose: .sampling), r2 = r1
        windows.randomStarts(&a, rng: &r1)
        windows.randomStarts(&b, rng: &r2)
        XCTAssertEqual(a, b)
        XCTAssertEqual(Set(a), Set(0..<8))
    }
}
