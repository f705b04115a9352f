/// Collects the curves of a job (train loss per step, validation loss and accuracy per epoch,
/// ...) and writes one SVG chart per quantity at the end: `loss.svg` with the "train" and
/// "validation" series, `accuracy.svg`, and so on. All series share the x axis (`xLabel`,
/// the optimizer step by default), so per-epoch values are recorded at the epoch's last step.
public struct TrainingCurves: Sendable {
    public var xLabel: String
    /// Charts in the order first recorded, each with its series in the order first recorded.
    public private(set) var charts: [(name: String, series: [LineChart.Series])] = []

    public init(xLabel: String = "step") {
        self.xLabel = xLabel
    }

    public mutating func add(chart: String, series: String, x: Double, y: Double) {
        if !charts.contains(where: { $0.name == chart }) { charts.append((chart, [])) }
        let c = charts.firstIndex { $0.name == chart }!
        if !charts[c].series.contains(where: { $0.name == series }) {
            charts[c].series.append(LineChart.Series(name: series, points: []))
        }
        let s = charts[c].series.firstIndex { $0.name == series }!
        charts[c].series[s].points.append((x, y))
    }

    public func lineCharts() -> [(name: String, chart: LineChart)] {
        charts.map { ($0.name, LineChart(title: $0.name, xLabel: xLabel, yLabel: $0.name, series: $0.series)) }
    }

    /// Writes `<directory>/<chart>.svg` for every chart (characters other than letters, digits,
    /// '-' and '_' in the name become '_') and returns the paths.
    @discardableResult
    public func write(to directory: String) throws -> [String] {
        try lineCharts().map { name, chart in
            let safe = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" })
            let path = "\(directory)/\(safe).svg"
            try chart.write(to: path)
            return path
        }
    }
}
