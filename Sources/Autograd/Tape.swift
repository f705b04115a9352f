import TensorCore

extension Variable {
    /// Records an operation's result. When gradients are off, or no input needs one, the result
    /// is a plain constant and `backward` is never kept (so no activations are retained).
    public static func record(_ value: Tensor, inputs: [Variable], backward: @escaping (Tensor) -> Void) -> Variable {
        if GradMode.isEnabled && inputs.contains(where: { $0.requiresGrad }) {
            return Variable(value, node: Node(inputs: inputs, backward: backward))
        }
        return Variable(value)
    }

    /// Reverse-mode differentiation from this scalar (or from `seed`, the gradient of some
    /// outer objective with respect to this variable).
    ///
    /// Every variable that requires a gradient and is reachable gets its gradient accumulated.
    /// The graph is consumed: intermediate gradients and saved activations are released as soon
    /// as they have been used. `onLeafReady` is called for each leaf (parameter) the moment its
    /// gradient is final — after the last operation that uses it has run its backward — which is
    /// where data-parallel training starts a bucket's allreduce while backward goes on.
    public func backward(seed: Tensor? = nil, onLeafReady: ((Variable) -> Void)? = nil) {
        if seed == nil {
            precondition(count == 1, "backward() without a seed needs a scalar, got \(shapeString(shape))")
        }
        let order = topologicalOrder()
        var pendingUses: [ObjectIdentifier: Int] = [:]
        if onLeafReady != nil {
            for v in order { for input in v.node!.inputs where input.isLeaf && input.requiresGrad {
                pendingUses[ObjectIdentifier(input), default: 0] += 1
            } }
        }
        let seedGrad = seed ?? Tensor(repeating: 1, shape: shape)
        guard node != nil else {
            if requiresGrad {
                accumulateGrad(seedGrad)
                onLeafReady?(self)
            }
            return
        }
        accumulateGrad(seedGrad)
        for v in order.reversed() {
            guard let node = v.node else { continue }
            if let g = v.grad { node.backward(g) }
            v.node = nil
            v.grad = nil
            if let onLeafReady {
                for input in node.inputs where input.isLeaf && input.requiresGrad {
                    let id = ObjectIdentifier(input)
                    let left = pendingUses[id]! - 1
                    pendingUses[id] = left
                    if left == 0 { onLeafReady(input) }
                }
            }
        }
    }

    /// Recorded variables reachable from self, each after all of its inputs.
    private func topologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Int)] = [(self, 0)]
        while let (v, i) = stack.popLast() {
            guard let node = v.node else { continue }
            if i == 0 {
                if visited.contains(ObjectIdentifier(v)) { continue }
                visited.insert(ObjectIdentifier(v))
            }
            if i < node.inputs.count {
                stack.append((v, i + 1))
                let input = node.inputs[i]
                if input.node != nil && !visited.contains(ObjectIdentifier(input)) { stack.append((input, 0)) }
            } else {
                order.append(v)
            }
        }
        return order
    }
}
