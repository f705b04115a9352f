/// One line of the metrics log: a JSON object with, in this order, `step`, `epoch`, `loss`,
/// the named metrics, `lr`, `samples_per_sec`, `step_ms`, `allreduce_ms`, `exposed_comm_ms`,
/// then the extra fields. Absent (nil) fields are left out; a key already written is not
/// repeated. NaN and infinities, which JSON cannot hold, are written as `null` and listed in a
/// final `"nonfinite": {"loss": "NaN", ...}` object.
public struct MetricsRecord: Sendable {
    public var step: Int
    public var epoch: Int
    public var loss: Double?
    /// Named metrics in output order ("accuracy", "val_loss", ...).
    public var metrics: [(name: String, value: Double)]
    public var learningRate: Double?
    public var samplesPerSecond: Double?
    public var stepMilliseconds: Double?
    public var allreduceMilliseconds: Double?
    public var exposedCommunicationMilliseconds: Double?
    public var extra: [(name: String, value: MetricsValue)]

    public init(step: Int, epoch: Int, loss: Double? = nil, metrics: [(name: String, value: Double)] = [],
                learningRate: Double? = nil, samplesPerSecond: Double? = nil, stepMilliseconds: Double? = nil,
                allreduceMilliseconds: Double? = nil, exposedCommunicationMilliseconds: Double? = nil,
                extra: [(name: String, value: MetricsValue)] = []) {
        self.step = step
        self.epoch = epoch
        self.loss = loss
        self.metrics = metrics
        self.learningRate = learningRate
        self.samplesPerSecond = samplesPerSecond
        self.stepMilliseconds = stepMilliseconds
        self.allreduceMilliseconds = allreduceMilliseconds
        self.exposedCommunicationMilliseconds = exposedCommunicationMilliseconds
        self.extra = extra
    }

    /// The record of a training step; the metric (when the job has one) is called `metricName`.
    public init(step: Int, epoch: Int, result: StepResult, metricName: String = "accuracy",
                extra: [(name: String, value: MetricsValue)] = []) {
        self.init(step: step, epoch: epoch, loss: result.loss,
                  metrics: result.metric.map { [(metricName, $0.value)] } ?? [],
                  // Through the Float's shortest spelling: 0.001, not 0.0010000000474974513.
                  learningRate: Double("\(result.learningRate)"),
                  samplesPerSecond: result.seconds > 0 ? Double(result.samples) / result.seconds : nil,
                  stepMilliseconds: result.seconds * 1000, allreduceMilliseconds: result.allreduceSeconds * 1000,
                  exposedCommunicationMilliseconds: result.exposedCommunicationSeconds * 1000, extra: extra)
    }

    /// The JSON object, without the newline.
    public var jsonLine: String {
        var fields: [String] = []
        var written = Set<String>()
        var nonfinite: [String] = []
        func put(_ key: String, _ value: MetricsValue?) {
            guard let value, written.insert(key).inserted else { return }
            let text: String
            switch value {
            case .number(let x):
                if let n = JSONText.number(x) { text = n } else {
                    text = "null"
                    nonfinite.append("\(JSONText.string(key)):\(JSONText.string(x.isNaN ? "NaN" : x > 0 ? "Infinity" : "-Infinity"))")
                }
            case .integer(let i): text = String(i)
            case .string(let s): text = JSONText.string(s)
            case .bool(let b): text = b ? "true" : "false"
            }
            fields.append("\(JSONText.string(key)):\(text)")
        }
        put("step", .integer(step))
        put("epoch", .integer(epoch))
        put("loss", loss.map(MetricsValue.number))
        for m in metrics { put(m.name, .number(m.value)) }
        put("lr", learningRate.map(MetricsValue.number))
        put("samples_per_sec", samplesPerSecond.map(MetricsValue.number))
        put("step_ms", stepMilliseconds.map(MetricsValue.number))
        put("allreduce_ms", allreduceMilliseconds.map(MetricsValue.number))
        put("exposed_comm_ms", exposedCommunicationMilliseconds.map(MetricsValue.number))
        for e in extra { put(e.name, e.value) }
        if !nonfinite.isEmpty && written.insert("nonfinite").inserted {
            fields.append("\"nonfinite\":{" + nonfinite.joined(separator: ",") + "}")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// The value of a free-form metrics field.
public enum MetricsValue: Sendable, Equatable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
    case number(Double)
    case integer(Int)
    case string(String)
    case bool(Bool)

    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
