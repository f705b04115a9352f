import Datasets
import TensorCore
import XCTest

/// The sentence-pair reader, word tokeniser, vocabularies, split and sequence encoding.
final class TranslationDataTests: XCTestCase {
    func testTokenizerLowercasesAndSplitsPunctuation() {
        XCTAssertEqual(WordTokenizer.tokenize("I'm ruined."), ["i", "'", "m", "ruined", "."])
        XCTAssertEqual(WordTokenizer.tokenize("Va, vite\u{202F}!"), ["va", ",", "vite", "!"])
        XCTAssertEqual(WordTokenizer.tokenize("«\u{00A0}Où es-tu\u{00A0}?\u{00A0}» J\u{2019}ai 20$."),
                       ["«", "où", "es", "-", "tu", "?", "»", "j", "'", "ai", "20", "$", "."])
        XCTAssertEqual(WordTokenizer.tokenize("   "), [])
    }

    func testReaderKeepsTwoFieldsAndNamesTheBadLine() throws {
        let pairs = try SentencePairs.parse("Go.\tVa !\tCC-BY 2.0\r\nHi.\tSalut.\n", file: "pairs.txt")
        XCTAssertEqual(pairs, [SentencePair(source: ["go", "."], target: ["va", "!"], line: 1),
                               SentencePair(source: ["hi", "."], target: ["salut", "."], line: 2)])
        func message(_ text: String) -> String {
            do {
                _ = try SentencePairs.parse(text, file: "pairs.txt")
            } catch let e as DataError {
                return e.description
            } catch {
                return "\(error)"
            }
            return "no error"
        }
        XCTAssertEqual(message("Go.\tVa !\nHi. Salut.\n"),
                       "pairs.txt: line 2: expected source<TAB>target[<TAB>...], found 1 field (\"Hi. Salut.\")")
        XCTAssertEqual(message("Go.\tVa !\n\nHi.\tSalut.\n"), "pairs.txt: line 2: expected source<TAB>target[<TAB>...], found an empty line")
        XCTAssertEqual(message(".\tVa !\n"), "no error")
        XCTAssertEqual(message(" \tVa !\n"), "pairs.txt: line 1: the source sentence is empty")
        XCTAssertEqual(message("Go.\t \u{00A0}\n"), "pairs.txt: line 1: the target sentence is empty")
        XCTAssertEqual(message(""), "pairs.txt: no sentence pairs: the file is empty")
    }

    func testInvalidUTF8NamesTheByteOffset() throws {
        let path = try temporaryDirectory(self) + "/eng-fra.txt"
        try write(Array("Go.\tVa !\n".utf8) + [0xC3, 0x28], to: path)
        assertDataError(.badText, file: path, mentions: ["byte 9"]) { try SentencePairs.read(path) }
    }

    func testVocabularyFromCountsWithSpecialsMinCountAndMaxSize() {
        let sentences = [["b", "a", "c"], ["a", "c", "d"], ["a", "<unk>"]]
        let all = WordVocabulary(counting: sentences)
        XCTAssertEqual(all.words, ["<pad>", "<unk>", "<bos>", "<eos>", "a", "c", "b", "d"], "by count, then code points")
        XCTAssertEqual(WordVocabulary(counting: sentences, minCount: 2).words, ["<pad>", "<unk>", "<bos>", "<eos>", "a", "c"])
        XCTAssertEqual(WordVocabulary(counting: sentences, maxSize: 5).words, ["<pad>", "<unk>", "<bos>", "<eos>", "a"])
        XCTAssertEqual(all.encode(["a", "zebra", "d"]), [4, 1, 7])
        XCTAssertEqual(all.decode([4, 3, 99]), ["a", "<eos>", "<unk>"])
    }

    private func pairs(_ n: Int, translations: Int = 2) -> [SentencePair] {
        (0..<n).flatMap { i in
            (0..<translations).map { t in SentencePair(source: ["s\(i)"], target: ["t\(i)", "v\(t)"], line: i * translations + t + 1) }
        }
    }

    func testSplitKeepsAllTranslationsOfASourceTogetherAndIsSeeded() {
        let data = TranslationData(pairs: pairs(50), validationFraction: 0.1, testFraction: 0.2, seed: 3, sourceLength: 4, targetLength: 5)
        XCTAssertEqual([data.train.count, data.validation.count, data.test.count], [70, 10, 20], "35 / 5 / 10 sources of 2 pairs")
        XCTAssertEqual(Set(data.train + data.validation + data.test), Set(0..<100))
        let sources = [data.train, data.validation, data.test].map { Set($0.map { data.pairs[$0].source }) }
        XCTAssertTrue(sources[0].isDisjoint(with: sources[1]) && sources[0].isDisjoint(with: sources[2]) && sources[1].isDisjoint(with: sources[2]))
        XCTAssertEqual(data.sentences(data.test).count, 10)
        XCTAssertTrue(data.sentences(data.test).allSatisfy { $0.references.count == 2 })
        let again = TranslationData(pairs: pairs(50), validationFraction: 0.1, testFraction: 0.2, seed: 3, sourceLength: 4, targetLength: 5)
        XCTAssertEqual(again.test, data.test)
        let other = TranslationData(pairs: pairs(50), validationFraction: 0.1, testFraction: 0.2, seed: 4, sourceLength: 4, targetLength: 5)
        XCTAssertNotEqual(other.test, data.test)
        // Vocabularies come from the training pairs only.
        let heldOutWord = data.pairs[data.test[0]].target[0]
        XCTAssertEqual(data.targetVocabulary.id(heldOutWord), WordVocabulary.unknown)
        XCTAssertEqual(data.sourceVocabulary.count, 4 + 35)
    }

    func testBatchPadsCutsAndShiftsTheTarget() {
        let long = SentencePair(source: ["a", "b", "c", "d", "e"], target: ["x", "y", "z", "w"], line: 1)
        let short = SentencePair(source: ["a"], target: ["y"], line: 2)
        let data = TranslationData(pairs: [long, short], validationFraction: 0.01, testFraction: 0.01, seed: 1, sourceLength: 3, targetLength: 4)
        XCTAssertEqual(data.train, [0, 1])
        let a = Float(data.sourceVocabulary.id("a")), b = Float(data.sourceVocabulary.id("b"))
        let (x, y, z) = (Float(data.targetVocabulary.id("x")), Float(data.targetVocabulary.id("y")), Float(data.targetVocabulary.id("z")))
        let (inputs, targets) = data.batch([0, 1])
        XCTAssertEqual(inputs.shape, [2, 7])
        XCTAssertEqual(inputs.scalars, [a, b, 3, /**/ 2, x, y, z,
                                        a, 3, 0, /**/ 2, y, 0, 0])
        XCTAssertEqual(targets.scalars, [x, y, z, 3,
                                         y, 3, 0, 0])
    }

    func testRealTatoebaFile() throws {
        let dir = try realDataDirectory(.tatoebaEngFra)
        let pairs = try SentencePairs.read(dir + "/eng-fra.txt")
        XCTAssertEqual(pairs.count, 5000)
        XCTAssertEqual(pairs[0], SentencePair(source: ["go", "."], target: ["va", "!"], line: 1))
        let data = TranslationData(pairs: pairs, validationFraction: 0.1, testFraction: 0.1, seed: 42, sourceLength: 8, targetLength: 16)
        XCTAssertEqual([data.train.count, data.validation.count, data.test.count], [3983, 537, 480])
        XCTAssertEqual(data.sentences(data.test).count, 260)
        XCTAssertEqual([data.sourceVocabulary.count, data.targetVocabulary.count], [1056, 2071])
    }
}
