import Foundation

/// kcat (the same librdkafka, in C) reading a topic to its end: the practical ceiling for our binding.
struct KcatBaseline {
    var bootstrapServers: String

    static func locate() -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/kcat" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Seconds kcat takes to read `topic` from the beginning to the end of every partition.
    func timeToReadToEnd(topic: String) throws -> Double {
        guard let kcat = Self.locate() else {
            throw BenchError("kcat is not installed (apt-get install kcat), or pass --skip-kcat")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: kcat)
        // A short fetch wait, so reaching the end of each partition is not dominated by idle fetch waits.
        process.arguments = [
            "-C", "-b", bootstrapServers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\n",
            "-X", "fetch.wait.max.ms=10",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - start
        guard process.terminationStatus == 0 else {
            throw BenchError("kcat exited with status \(process.terminationStatus) reading \(topic)")
        }
        return seconds(elapsed)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
