import ChildProcess
import Foundation

/// kcat (the same librdkafka, in C) reading a topic to its end, or producing a file to it: the practical
/// ceilings for our binding.
struct KcatBaseline {
    var bootstrapServers: String

    static func locate() -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/kcat" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Seconds kcat takes to produce every line of `file` to `topic` with the producer settings Herald uses
    /// (idempotent, 5 ms linger) and wait for every delivery.
    func timeToProduce(topic: String, file: URL) async throws -> Double {
        let arguments = [
            "-P", "-b", bootstrapServers, "-t", topic, "-l", file.path, "-q",
            "-X", "enable.idempotence=true", "-X", "linger.ms=5",
        ]
        return try await time(arguments, what: "producing to \(topic)")
    }

    /// Seconds kcat takes to read `topic` from the beginning to the end of every partition.
    func timeToReadToEnd(topic: String) async throws -> Double {
        // A short fetch wait, so reaching the end of each partition is not dominated by idle fetch waits.
        let arguments = [
            "-C", "-b", bootstrapServers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\n",
            "-X", "fetch.wait.max.ms=10",
        ]
        return try await time(arguments, what: "reading \(topic)")
    }

    private func time(_ arguments: [String], what: String) async throws -> Double {
        guard let kcat = Self.locate() else {
            throw BenchError("kcat is not installed (apt-get install kcat), or pass --skip-kcat")
        }
        let start = ContinuousClock.now
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: kcat), arguments, timeout: .seconds(600), collectOutput: false)
        let elapsed = ContinuousClock.now - start
        guard result.status == 0, !result.termination.signalled else {
            throw BenchError("kcat exited with status \(result.status) \(what)")
        }
        return seconds(elapsed)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
