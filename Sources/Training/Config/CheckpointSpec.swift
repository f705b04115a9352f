/// The `checkpoint` section.
public struct CheckpointSpec: Sendable, Equatable {
    /// Save every this many optimizer steps; nil: at the end of each epoch.
    public var everySteps: Int?
    /// Keep the newest this many checkpoints.
    public var keep = 3

    public init() {}

    init(reading r: ObjectReader) throws {
        everySteps = try r.nullable("every_steps", .atLeast(1))
        keep = try r.optional("keep", default: keep, .atLeast(1))
    }
}
