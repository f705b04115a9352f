/// Whether operations record the tape. Off inside `withoutGradient` (evaluation, sampling, the
/// generator's forward pass in the discriminator step). Task-local, which also means
/// thread-local outside tasks, so in-process ranks running on threads do not interfere.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording operations: results carry no gradient history.
public func withoutGradient<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false) { try body() }
}
