import Datasets
import XCTest

/// The CSV reader, the tabular data set built from it, the stratified split and the
/// standardisation fitted on the training rows.
final class TabularDataTests: XCTestCase {
    func table(_ text: String, file: String = "t.csv") throws -> CSVTable { try CSVTable(bytes: Array(text.utf8), file: file) }

    // MARK: CSV

    func testHeaderRecordsAndQuotedFields() throws {
        // A BOM, CRLF line ends, a quoted comma, a doubled quote, a quoted line break, empty lines.
        let t = try table("\u{FEFF},name,x\r\n0,\"a, b\",1.5\r\n\n1,\"say \"\"hi\"\"\",-2\n2,\"two\nlines\",3e2\n\n")
        XCTAssertEqual(t.header, ["", "name", "x"])
        XCTAssertEqual(t.records, [["0", "a, b", "1.5"], ["1", "say \"hi\"", "-2"], ["2", "two\nlines", "3e2"]])
        XCTAssertEqual(t.lines, [2, 4, 5])
        XCTAssertEqual(try t.column("x"), 2)
        XCTAssertEqual(t.location(record: 2, column: 1), "line 5, column 2 (\"name\")")
    }

    func testSyntaxErrorsNameLineAndColumn() {
        assertDataError(.badLength, file: "t.csv", mentions: ["line 3", "3 fields expected", "found 2"]) {
            try table("a,b,c\n1,2,3\n4,5\n")
        }
        assertDataError(.truncated, file: "t.csv", mentions: ["line 2, column 2", "not closed"]) { try table("a,b\n1,\"open\n2,3\n") }
        assertDataError(.badText, file: "t.csv", mentions: ["line 2, column 1", "after the closing quote, found \"x\""]) {
            try table("a,b\n\"q\"x,1\n")
        }
        assertDataError(.badText, file: "t.csv", mentions: ["line 2, column 2", "a quote inside an unquoted field"]) { try table("a,b\n1,2\"\n") }
        assertDataError(.badHeader, file: "t.csv", mentions: ["header"]) { try table("\n\n") }
    }

    func testLabelColumnByNameAndFeaturesInColumnOrder() throws {
        let t = try table(",f1,Class,f2\n0,1.5,1,-2\n1,0.25,0,4\n")
        let d = try TabularDataset(t, label: "Class", ignoring: [""])
        XCTAssertEqual(d.featureNames, ["f1", "f2"])
        XCTAssertEqual(d.features, [1.5, -2, 0.25, 4])
        XCTAssertEqual(d.labels, [1, 0])
        XCTAssertEqual(d.classCounts, [1, 1])
        var x = [Float](repeating: 0, count: 4), y = [Float](repeating: 0, count: 2)
        d.fill([1, 0], features: &x, targets: &y)
        XCTAssertEqual(x, [0.25, 4, 1.5, -2])
        XCTAssertEqual(y, [0, 1])
        // Without ignoring the index column, it is a feature.
        XCTAssertEqual(try TabularDataset(t, label: "Class").featureNames, ["", "f1", "f2"])
    }

    func testBadValuesAndMissingColumnsAreErrorsNamingLineAndColumn() throws {
        let bad = try table("f1,f2,Class\n1,2,0\n3,x3,1\n")
        assertDataError(.badField, file: "t.csv", mentions: ["line 3, column 2 (\"f2\")", "a finite number expected, found \"x3\""]) {
            try TabularDataset(bad, label: "Class")
        }
        let infinite = try table("f1,Class\ninf,0\n")
        assertDataError(.badField, file: "t.csv", mentions: ["line 2, column 1"]) { try TabularDataset(infinite, label: "Class") }
        let label = try table("f1,Class\n1,0\n2,2\n")
        assertDataError(.valueOutOfRange, file: "t.csv", mentions: ["line 3, column 2 (\"Class\")", "0 or 1 expected, found \"2\""]) {
            try TabularDataset(label, label: "Class")
        }
        assertDataError(.badHeader, file: "t.csv", mentions: ["line 1", "a column named \"label\"", "\"f1\", \"Class\""]) {
            try TabularDataset(label, label: "label")
        }
        assertDataError(.badHeader, file: "t.csv", mentions: ["a column named \"Time\""]) { try TabularDataset(label, label: "Class", ignoring: ["Time"]) }
        assertDataError(.badHeader, file: "t.csv", mentions: ["at least one feature column"]) { try TabularDataset(label, label: "Class", ignoring: ["f1"]) }
    }

    func testReadsTheCreditCardSample() throws {
        let dir = try realDataDirectory(.creditcardFraudSample)
        let d = try TabularDataset(CSVTable(contentsOf: dir + "/creditcard_sample.csv"), label: "Class", ignoring: [""])
        XCTAssertEqual(d.count, 1722)
        XCTAssertEqual(d.classCounts, [1230, 492])
        XCTAssertEqual(d.featureCount, 30)
        XCTAssertEqual(d.featureNames.first, "Time")
        XCTAssertEqual(d.featureNames.last, "Amount")
    }

    // MARK: Split and standardisation

    func testStratifiedSplitKeepsClassSharesAndDependsOnlyOnTheSeed() {
        let labels: [Int32] = (0..<1000).map { $0 % 10 < 3 ? 1 : 0 }  // 300 positives, 700 negatives
        let (train, test) = StratifiedSplit.trainTest(labels: labels, classCount: 2, testFraction: 0.2, seed: 7)
        XCTAssertEqual(test.count, 200)
        XCTAssertEqual(test.filter { labels[$0] == 1 }.count, 60)
        XCTAssertEqual(train.filter { labels[$0] == 1 }.count, 240)
        XCTAssertEqual(Set(train + test), Set(0..<1000))
        XCTAssertTrue(Set(train).isDisjoint(with: test))
        XCTAssertEqual(test, test.sorted())
        let again = StratifiedSplit.trainTest(labels: labels, classCount: 2, testFraction: 0.2, seed: 7)
        XCTAssertEqual(again.test, test)
        XCTAssertEqual(again.train, train)
        XCTAssertNotEqual(StratifiedSplit.trainTest(labels: labels, classCount: 2, testFraction: 0.2, seed: 8).test, test)
        // Each class rounds its own share: 0.2 × 7 negatives = 1.4 → 1, 0.2 × 3 positives = 0.6 → 1.
        let small: [Int32] = [0, 0, 1, 0, 1, 0, 0, 1, 0, 0]
        let s = StratifiedSplit.trainTest(labels: small, classCount: 2, testFraction: 0.2, seed: 1)
        XCTAssertEqual(s.test.map { small[$0] }.sorted(), [0, 1])
        // `take` counts per class: two nodes of each of three classes.
        let three: [Int32] = [0, 1, 2, 0, 1, 2, 0, 1, 2, 2]
        let k = StratifiedSplit.split(labels: three, classCount: 3, seed: 3) { _ in 2 }
        XCTAssertEqual(k.taken.map { three[$0] }.sorted(), [0, 0, 1, 1, 2, 2])
        XCTAssertEqual(k.rest.count, 4)
    }

    func testStandardisationUsesTheTrainingRowsOnly() {
        // Two features; rows 0-2 train, row 3 an outlier in the test split.
        var features: [Float] = [1, 10, 2, 10, 3, 10, 1000, -5]
        let s = Standardizer(fitting: features, columns: 2, rows: [0, 1, 2])
        XCTAssertEqual(s.mean, [2, 10])
        XCTAssertEqual(s.std[0], (2.0 / 3).squareRoot(), accuracy: 1e-12)  // population std of 1, 2, 3
        XCTAssertEqual(s.std[1], 1)  // constant on the training rows: left unscaled
        s.apply(to: &features)
        let r = Float((3.0 / 2).squareRoot())
        XCTAssertEqual(features[0], -r, accuracy: 1e-6)
        XCTAssertEqual(features[2], 0, accuracy: 1e-6)
        XCTAssertEqual(features[4], r, accuracy: 1e-6)
        XCTAssertEqual(features[1], 0)
        XCTAssertEqual(features[6], Float(998 / (2.0 / 3).squareRoot()), accuracy: 1e-2)
        XCTAssertEqual(features[7], -15)
        // Fitting on all rows gives other statistics: the test row would leak into them.
        XCTAssertNotEqual(Standardizer(fitting: [1, 10, 2, 10, 3, 10, 1000, -5], columns: 2, rows: [0, 1, 2, 3]).mean, s.mean)
    }
}
