import Datasets
import XCTest

/// The graph files of node classification: the shipped karate club and malformed files.
final class NodeGraphTests: XCTestCase {
    func files(edges: String, labels: String) throws -> (String, String) {
        let dir = try temporaryDirectory(self)
        try write(Array(edges.utf8), to: dir + "/g.edges")
        try write(Array(labels.utf8), to: dir + "/g.labels")
        return (dir + "/g.edges", dir + "/g.labels")
    }

    func testTheKarateClubHas34Members78FriendshipsAndTwoFactionsOf17() throws {
        let dir = repositoryRoot + "/configs/data"
        let g = try NodeGraph(edges: dir + "/karate_club.edges", labels: dir + "/karate_club.labels")
        XCTAssertEqual(g.nodeCount, 34)
        XCTAssertEqual(g.edges.count, 78)
        XCTAssertEqual(g.undirectedEdgeCount, 78)
        XCTAssertEqual(g.classNames, ["Mr. Hi", "Officer"])
        XCTAssertEqual(g.labels.filter { $0 == 0 }.count, 17)
        XCTAssertEqual(g.labels[0], 0)
        XCTAssertEqual(g.labels[33], 1)
        // Degrees of the two leaders (Zachary's figures: the instructor 16, the administrator 17).
        let degree = { (n: Int) in g.edges.filter { $0.a == n || $0.b == n }.count }
        XCTAssertEqual(degree(0), 16)
        XCTAssertEqual(degree(33), 17)
    }

    func testCommentsBlankLinesTabsAndClassOrder() throws {
        let (e, l) = try files(edges: "# a triangle\n0 1\n\n1\t2\r\n2 0\n0 1\n", labels: "# nodes\n2 red team\n0 blue\n1 red team\n")
        let g = try NodeGraph(edges: e, labels: l)
        XCTAssertEqual(g.classNames, ["red team", "blue"])
        XCTAssertEqual(g.labels, [1, 0, 0])
        XCTAssertEqual(g.edges.count, 4)
        XCTAssertEqual(g.undirectedEdgeCount, 3)
    }

    func testMalformedFilesNameFileAndLine() throws {
        var (e, l) = try files(edges: "0 1\n1 5\n", labels: "0 a\n1 b\n")
        assertDataError(.valueOutOfRange, file: e, mentions: ["line 2", "nodes 0..<2", "found 1 5"]) { try NodeGraph(edges: e, labels: l) }
        (e, l) = try files(edges: "0 1\n1 x\n", labels: "0 a\n1 b\n")
        assertDataError(.badField, file: e, mentions: ["line 2", "two node numbers expected, found \"1 x\""]) { try NodeGraph(edges: e, labels: l) }
        (e, l) = try files(edges: "0 1\n", labels: "0 a\n2 b\n")
        assertDataError(.countMismatch, file: l, mentions: ["node 1 has none"]) { try NodeGraph(edges: e, labels: l) }
        (e, l) = try files(edges: "0 1\n", labels: "0 a\n1 b\n0 b\n")
        assertDataError(.countMismatch, file: l, mentions: ["line 3", "node 0 is labelled a second time"]) { try NodeGraph(edges: e, labels: l) }
        (e, l) = try files(edges: "0 1\n", labels: "0\n")
        assertDataError(.badField, file: l, mentions: ["line 1", "a class name expected"]) { try NodeGraph(edges: e, labels: l) }
    }
}
