import NN

/// An activation name as NN's `Activation(name:)` accepts it.
struct ActivationName: ConfigChoice {
    static let kind = "activation"
    static var choices: [String] { Activation.names }
    let choice: String
    init?(choice: String) {
        guard Activation(name: choice) != nil else { return nil }
        self.choice = choice
    }
}

extension ObjectReader {
    /// The `activation` field (or `default` when absent; required when `default` is nil), and for
    /// `leaky_relu` its slope `alpha` (≥ 0, default 0.2 as `Activation(name:)`); `alpha` is an
    /// unknown key for any other activation.
    func activation(default defaultName: String? = "linear") throws -> Activation {
        let name: ActivationName = try defaultName.map { try optional("activation", default: ActivationName(choice: $0)!) }
            ?? required("activation")
        guard name.choice == "leaky_relu" else { return Activation(name: name.choice)! }
        return Activation(name: name.choice, alpha: Float(try optional("alpha", default: 0.2, .atLeast(0))))!
    }
}
