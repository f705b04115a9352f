import Foundation

/// A self-contained SVG line chart: title, axes with "nice" ticks (1, 2, 5 × 10ᵏ) and grid
/// lines, axis labels, one colored polyline per series (with markers when a series has few
/// points, such as per-epoch validation values) and a legend in the emptiest corner. Non-finite
/// points are skipped, breaking the line there.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]

        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width = 720.0
    public var height = 420.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// matplotlib's tab10 colors.
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    static let markerLimit = 60

    /// Writes the chart atomically.
    public func write(to path: String) throws {
        try AtomicFile.write(Array(svg().utf8), to: path)
    }

    public func svg() -> String {
        let (left, right, top, bottom) = (72.0, 24.0, 44.0, 56.0)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xTicks = LineChart.ticks(finite.map(\.x).min() ?? 0, finite.map(\.x).max() ?? 1)
        let yTicks = LineChart.ticks(finite.map(\.y).min() ?? 0, finite.map(\.y).max() ?? 1)
        let (x0, x1, y0, y1) = (xTicks.first!, xTicks.last!, yTicks.first!, yTicks.last!)
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (y - y0) / (y1 - y0) * plotHeight }
        let f = LineChart.coordinate

        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<title>\(LineChart.escape(title))</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(left + plotWidth / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">\(LineChart.escape(title))</text>\n"
        s += "<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">\n"
        for t in xTicks { s += "<line x1=\"\(f(px(t)))\" y1=\"\(f(top))\" x2=\"\(f(px(t)))\" y2=\"\(f(top + plotHeight))\"/>\n" }
        for t in yTicks { s += "<line x1=\"\(f(left))\" y1=\"\(f(py(t)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(py(t)))\"/>\n" }
        s += "</g>\n<g class=\"axes\" stroke=\"black\" stroke-width=\"1\">\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(top + plotHeight))\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotHeight))\"/>\n"
        for t in xTicks { s += "<line x1=\"\(f(px(t)))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(px(t)))\" y2=\"\(f(top + plotHeight + 5))\"/>\n" }
        for t in yTicks { s += "<line x1=\"\(f(left - 5))\" y1=\"\(f(py(t)))\" x2=\"\(f(left))\" y2=\"\(f(py(t)))\"/>\n" }
        s += "</g>\n<g class=\"tick-labels\" fill=\"#333333\">\n"
        let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1, yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        for t in xTicks {
            s += "<text x=\"\(f(px(t)))\" y=\"\(f(top + plotHeight + 19))\" text-anchor=\"middle\">\(LineChart.label(t, step: xStep))</text>\n"
        }
        for t in yTicks {
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(LineChart.label(t, step: yStep))</text>\n"
        }
        s += "</g>\n"
        s += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\">\(LineChart.escape(xLabel))</text>\n"
        s += "<text x=\"18\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(f(top + plotHeight / 2)))\">\(LineChart.escape(yLabel))</text>\n"
        if finite.isEmpty {
            s += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" fill=\"#888888\">no data</text>\n"
        }

        for (i, one) in series.enumerated() {
            let color = LineChart.palette[i % LineChart.palette.count]
            s += "<g class=\"series\" data-name=\"\(LineChart.escape(one.name))\" stroke=\"\(color)\" fill=\"none\" stroke-width=\"1.5\">\n"
            for run in LineChart.finiteRuns(one.points) where run.count > 1 {
                s += "<polyline points=\"" + run.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ") + "\"/>\n"
            }
            let shown = one.points.filter { $0.x.isFinite && $0.y.isFinite }
            if shown.count <= LineChart.markerLimit {
                for p in shown { s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(color)\"/>\n" }
            }
            s += "</g>\n"
        }

        if !series.isEmpty {
            let longest = series.map(\.name.count).max() ?? 0
            let boxWidth = Double(longest) * 7 + 44, boxHeight = Double(series.count) * 18 + 8
            // The plot corner with the fewest points on or near the legend: top right, bottom right, top left, bottom left.
            let corners = [(left + plotWidth - boxWidth - 8, top + 8), (left + plotWidth - boxWidth - 8, top + plotHeight - boxHeight - 8),
                           (left + 8, top + 8), (left + 8, top + plotHeight - boxHeight - 8)]
            let covered = corners.map { c in
                finite.filter { p in ((c.0 - 10)...(c.0 + boxWidth + 10)).contains(px(p.x)) && ((c.1 - 10)...(c.1 + boxHeight + 10)).contains(py(p.y)) }.count
            }
            let (bx, by) = corners[covered.indices.min { covered[$0] < covered[$1] }!]
            s += "<g class=\"legend\">\n<rect x=\"\(f(bx))\" y=\"\(f(by))\" width=\"\(f(boxWidth))\" height=\"\(f(boxHeight))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n"
            for (i, one) in series.enumerated() {
                let y = by + 16 + Double(i) * 18
                s += "<line x1=\"\(f(bx + 8))\" y1=\"\(f(y - 4))\" x2=\"\(f(bx + 30))\" y2=\"\(f(y - 4))\" stroke=\"\(LineChart.palette[i % LineChart.palette.count])\" stroke-width=\"2\"/>\n"
                s += "<text x=\"\(f(bx + 36))\" y=\"\(f(y))\">\(LineChart.escape(one.name))</text>\n"
            }
            s += "</g>\n"
        }
        return s + "</svg>\n"
    }

    /// Ticks at a multiple of 1, 2 or 5 × 10ᵏ covering [lo, hi] with about `count` values; the
    /// first and last tick are the axis range. A single value gets a range around it.
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 6) -> [Double] {
        var (lo, hi) = (lo, hi)
        if hi - lo <= max(abs(lo), abs(hi)) * 1e-12 {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            (lo, hi) = (lo - pad, hi + pad)
        }
        let raw = (hi - lo) / Double(count - 1)
        let magnitude = pow(10, floor(log10(raw)))
        let fraction = raw / magnitude
        let step = (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * magnitude
        let first = (lo / step).rounded(.down), last = (hi / step).rounded(.up)
        return (Int(first)...Int(last)).map { Double($0) * step }
    }

    /// A tick value with as many decimals as the tick step needs.
    static func label(_ value: Double, step: Double) -> String {
        if abs(value) >= 1e6 || (abs(value) < 1e-4 && value != 0) { return String(format: "%g", value) }
        let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
        return String(format: "%.\(decimals)f", abs(value) < step * 1e-9 ? 0 : value)
    }

    static func coordinate(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Maximal runs of consecutive finite points.
    static func finiteRuns(_ points: [(x: Double, y: Double)]) -> [[(x: Double, y: Double)]] {
        var runs: [[(x: Double, y: Double)]] = [[]]
        for p in points {
            if p.x.isFinite && p.y.isFinite { runs[runs.count - 1].append(p) } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
        }
        return runs.filter { !$0.isEmpty }
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
