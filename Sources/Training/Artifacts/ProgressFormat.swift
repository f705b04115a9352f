import Foundation

/// The text of progress output, as pure functions of the numbers (tested without a terminal):
/// Keras' progress bar for terminals and one plain line per report for logs.
public enum ProgressFormat {
    /// Named metric values, shown in this order.
    public typealias Metrics = [(name: String, value: Double)]

    /// Keras' 30-character bar: `[=====>........................]`, all `=` when done.
    public static func bar(step: Int, total: Int, width: Int = 30) -> String {
        let filled = total > 0 ? min(width, width * max(step, 0) / total) : width
        guard filled > 0 else { return "[" + String(repeating: ".", count: width) + "]" }
        return "[" + String(repeating: "=", count: filled - 1) + (step < total ? ">" : "=")
            + String(repeating: ".", count: width - filled) + "]"
    }

    /// "0:07", "12:34", "1:02:03".
    public static func duration(_ seconds: Double) -> String {
        let s = seconds.isFinite ? max(0, Int(seconds.rounded())) : 0
        let (h, m, r) = (s / 3600, s / 60 % 60, s % 60)
        let ss = String(r).leftPadded(to: 2, with: "0")
        return h > 0 ? "\(h):\(String(m).leftPadded(to: 2, with: "0")):\(ss)" : "\(m):\(ss)"
    }

    /// Keras' metric spelling: 4 decimals, scientific below 1e-3 ("0.4213", "1.2346e-05").
    public static func value(_ x: Double) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : x > 0 ? "inf" : "-inf" }
        return String(format: x != 0 && abs(x) < 1e-3 ? "%.4e" : "%.4f", x)
    }

    /// "123/938 [=====>........................] - ETA: 0:12 - loss: 0.4213 - accuracy: 0.8712"
    public static func barLine(step: Int, total: Int, etaSeconds: Double, metrics: Metrics) -> String {
        counter(step, total) + " " + bar(step: step, total: total) + " - ETA: " + duration(etaSeconds) + keras(metrics)
    }

    /// The bar line's last state: "938/938 [==============================] - 12s 13ms/step - loss: 0.4213".
    public static func epochSummary(total: Int, seconds: Double, metrics: Metrics) -> String {
        let perStep = total > 0 ? seconds / Double(total) : 0
        let rate = perStep >= 1 ? String(format: "%.0fs/step", perStep)
            : perStep >= 1e-3 ? String(format: "%.0fms/step", perStep * 1e3) : String(format: "%.0fus/step", perStep * 1e6)
        return counter(total, total) + " " + bar(step: total, total: total) + String(format: " - %.0fs ", seconds) + rate + keras(metrics)
    }

    /// "epoch 1/5 step 200/938 loss 0.4213 accuracy 0.8712 1234 samples/s"
    public static func plainLine(epoch: Int, epochs: Int, step: Int, steps: Int, metrics: Metrics, samplesPerSecond: Double) -> String {
        "epoch \(epoch)/\(epochs) step \(step)/\(steps)" + plain(metrics) + String(format: " %.0f samples/s", samplesPerSecond)
    }

    /// "epoch 1/5 done in 0:12 loss 0.4213 accuracy 0.8712 val_loss 0.3990"
    public static func plainEpochSummary(epoch: Int, epochs: Int, seconds: Double, metrics: Metrics) -> String {
        "epoch \(epoch)/\(epochs) done in \(duration(seconds))" + plain(metrics)
    }

    /// "  7/938": the step right-aligned to the width of the total, as Keras does.
    static func counter(_ step: Int, _ total: Int) -> String {
        String(step).leftPadded(to: String(total).count) + "/\(total)"
    }

    static func keras(_ metrics: Metrics) -> String { metrics.map { " - \($0.name): \(value($0.value))" }.joined() }
    static func plain(_ metrics: Metrics) -> String { metrics.map { " \($0.name) \(value($0.value))" }.joined() }
}
