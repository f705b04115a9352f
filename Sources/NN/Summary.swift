import Autograd
import TensorCore

extension Sequential {
    /// A Keras-style table: layer name and type, output shape, parameter count, and totals
    /// with their sizes in memory.
    public func summary() -> String {
        var rows: [(String, String, String)] = []
        for (l, s) in zip(layers, outputShapes) {
            rows.append(("\(l.name) (\(l.typeName))", "(None, " + s.map(String.init).joined(separator: ", ") + ")",
                         formatCount(l.parameterCount)))
        }
        let w0 = max(29, rows.map { $0.0.count + 2 }.max() ?? 0)
        let w1 = max(26, rows.map { $0.1.count + 2 }.max() ?? 0)
        let width = w0 + w1 + 12
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        var out = "Model: \"\(name)\"\n" + String(repeating: "_", count: width) + "\n"
        out += " " + pad("Layer (type)", w0 - 1) + pad("Output Shape", w1) + "Param #\n"
        out += String(repeating: "=", count: width) + "\n"
        for (i, r) in rows.enumerated() {
            out += " " + pad(r.0, w0 - 1) + pad(r.1, w1) + r.2 + "\n"
            if i < rows.count - 1 { out += "\n" }
        }
        let total = parameterCount
        let trainable = parameters.filter { $0.requiresGrad }.reduce(0) { $0 + $1.count }
        out += String(repeating: "=", count: width) + "\n"
        out += "Total params: \(formatCount(total)) (\(formatBytes(total * 4)))\n"
        out += "Trainable params: \(formatCount(trainable)) (\(formatBytes(trainable * 4)))\n"
        out += "Non-trainable params: \(formatCount(total - trainable)) (\(formatBytes((total - trainable) * 4)))\n"
        out += String(repeating: "_", count: width) + "\n"
        return out
    }
}

/// 167562 → "167,562".
public func formatCount(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, c) in s.reversed().enumerated() {
        if i > 0 && i % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return String(out.reversed())
}

/// Bytes as Keras prints them: "654.54 KB".
public func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KB", "MB", "GB"]
    var v = Double(bytes)
    var u = 0
    while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
    let r = (v * 100).rounded() / 100
    let whole = Int(r), frac = Int(((r - Double(whole)) * 100).rounded())
    return "\(whole).\(frac < 10 ? "0" : "")\(frac) \(units[u])"
}
