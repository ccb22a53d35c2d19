import HeraldJSON

/// Bounds on rendering, so hostile event values cannot blow up memory or Teams' size limits.
public struct RenderLimits: Sendable, Hashable {
    /// Largest single substituted value. Default: 32 KiB.
    public var maxValueBytes: Int
    /// Largest rendered card (compact JSON) or text, counted as Teams counts a message (``TeamsMessageSize``: UTF-16,
    /// two bytes a code unit, base64 images left out). Default: 80 KiB, Teams' advice below its 100 KB limit.
    public var maxMessageBytes: Int
    /// Most copies one `$data` repetition may make. Default: 500.
    public var maxRepetitions: Int

    public init(maxValueBytes: Int = 32 * 1024, maxMessageBytes: Int = 80 * 1024, maxRepetitions: Int = 500) {
        self.maxValueBytes = maxValueBytes
        self.maxMessageBytes = maxMessageBytes
        self.maxRepetitions = maxRepetitions
    }
}
