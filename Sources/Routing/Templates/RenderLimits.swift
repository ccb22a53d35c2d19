/// Bounds on rendering, so hostile event values cannot blow up memory or Teams' size limits.
public struct RenderLimits: Sendable, Hashable {
    /// Largest single substituted value. Default: 32 KiB.
    public var maxValueBytes: Int
    /// Largest rendered card (compact JSON) or text. Default: 100 KiB.
    public var maxMessageBytes: Int
    /// Most copies one `$data` repetition may make. Default: 500.
    public var maxRepetitions: Int

    public init(maxValueBytes: Int = 32 * 1024, maxMessageBytes: Int = 100 * 1024, maxRepetitions: Int = 500) {
        self.maxValueBytes = maxValueBytes
        self.maxMessageBytes = maxMessageBytes
        self.maxRepetitions = maxRepetitions
    }
}
