import Foundation
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
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(UInt8(ascii: "{"))
        Self.member("timestamp", RFC3339.format(Date()), &out)
        out.append(UInt8(ascii: ","))
        Self.member("level", level.rawValue, &out)
        out.append(UInt8(ascii: ","))
        Self.member("message", message.description, &out)
        out.append(UInt8(ascii: ","))
        Self.member("component", component, &out)
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) where !Self.reserved.contains(key) {
            out.append(UInt8(ascii: ","))
            JSONWriter.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.append(Self.json(value), to: &out)
        }
        out.append(contentsOf: "}\n".utf8)
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

    private static func member(_ key: String, _ value: String, _ out: inout [UInt8]) {
        JSONWriter.appendString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        JSONWriter.appendString(value, to: &out)
    }

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
