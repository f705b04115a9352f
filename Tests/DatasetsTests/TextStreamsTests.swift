import Datasets
import XCTest

final class TextStreamsTests: XCTestCase {
    func testStreamsAreContiguousEqualAndKeepTargetsAndOffsetInside() throws {
        // 100 tokens, 3 streams, chunks of 4, offset reserve 3: (100 - 1 - 3) / 3 = 32 → 32 per stream.
        let s = try XCTUnwrap(TextStreams(tokenCount: 100, count: 3, chunkLength: 4, offsetReserve: true))
        XCTAssertEqual(s.streamLength, 32)
        XCTAssertEqual(s.chunksPerStream, 8)
        XCTAssertEqual(s.start(stream: 0, chunk: 0), 0)
        XCTAssertEqual(s.start(stream: 0, chunk: 1), 4)
        XCTAssertEqual(s.start(stream: 1, chunk: 0), 32)
        XCTAssertEqual(s.start(stream: 2, chunk: 7, offset: 3), 3 + 64 + 28)
        // The last chunk's targets (one past its inputs) stay inside the text.
        XCTAssertLessThanOrEqual(s.start(stream: 2, chunk: 7, offset: 3) + 4 + 1, 100)
    }

    func testStreamLengthIsAWholeNumberOfChunks() throws {
        let s = try XCTUnwrap(TextStreams(tokenCount: 50, count: 2, chunkLength: 7, offsetReserve: false))
        XCTAssertEqual(s.streamLength, 21)  // (50 - 1) / 2 = 24 → 3 chunks of 7
    }

    func testTooShortTextHasNoStreams() {
        XCTAssertNil(TextStreams(tokenCount: 10, count: 4, chunkLength: 4, offsetReserve: false))
        XCTAssertNil(TextStreams(tokenCount: 10, count: 0, chunkLength: 4, offsetReserve: false))
    }
}
