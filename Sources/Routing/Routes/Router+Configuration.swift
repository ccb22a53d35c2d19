import HeraldConfig
import HeraldJSON

extension EventDecodingOptions {
    /// Options from the `routing` configuration section.
    public init(configuration routing: HeraldConfiguration.Routing) {
        self.init()
        maxEventBytes = routing.maxEventBytes
        plainTypeField = routing.events.typeField.isEmpty ? nil : JSONPath(parsing: routing.events.typeField)
        plainTypeHeader = routing.events.typeHeader
        plainIdField = routing.events.idField.isEmpty ? nil : JSONPath(parsing: routing.events.idField)
        plainSourceField = routing.events.sourceField.isEmpty ? nil : JSONPath(parsing: routing.events.sourceField)
        plainTimeField = routing.events.timeField.isEmpty ? nil : JSONPath(parsing: routing.events.timeField)
    }
}

extension RenderLimits {
    /// Limits from the `routing` configuration section.
    public init(configuration routing: HeraldConfiguration.Routing) {
        self.init(maxValueBytes: routing.maxValueBytes, maxMessageBytes: routing.maxMessageBytes)
    }
}
