import Foundation
import HeraldJSON
import Logging
import Routing
import Synchronization

/// One JSON object per line on stderr: `timestamp`, `level`, `message`, `component`, then the record's metadata
/// (`eventId`, `deliveryId`, `traceparent` ... where the code gives them). For log collectors: nothing to parse
/// but JSON, and a message can never break out of its line.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    private static let output = Mutex(())

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = self.metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let explicit = event.metadata { fields.merge(explicit) { $1 } }
        if let error = event.error { fields["error"] = .string("\(error)") }
        let (level, message) = (event.level, event.message)
        let component = fields.removeValue(forKey: "component").map { "\($0)" } ?? label
        var object = JSONObjectWriter(capacity: 256)
        object.string("timestamp", RFC3339.format(Date()))
        object.string("level", level.rawValue)
        object.string("message", message.description)
        object.string("component", component)
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) where !Self.reserved.contains(key) {
            object.value(key, Self.json(value))
        }
        var out = object.finish()
        out.append(UInt8(ascii: "\n"))
        Self.output.withLock { _ in
            out.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0, errno == EINTR {
                        continue
                    } else {
                        return  // stderr is gone: nothing else to tell
                    }
                }
            }
        }
    }

    /// Keys the handler writes itself; metadata under these names is not repeated.
    private static let reserved: Set<String> = ["timestamp", "level", "message"]

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let string): .string(string)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let dictionary):
            .object(dictionary.sorted { $0.key < $1.key }.map { JSONMember($0.key, json($0.value)) })
        }
    }
}
