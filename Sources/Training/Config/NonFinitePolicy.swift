/// What a run does when a step's loss or averaged gradients hold a NaN or an infinity
/// (`training.non_finite`). Either way the step's update is not applied, so no checkpoint ever
/// holds poisoned parameters.
public enum NonFinitePolicy: String, CaseIterable, Sendable, ConfigChoice {
    /// End the run with an error naming the step and the tensor; the last checkpoint stays the last good one.
    case stop
    /// Skip the update, log it and go on; stop after `training.max_consecutive_skips` skips in a row.
    case skip

    static let kind = "non-finite policy"
}
