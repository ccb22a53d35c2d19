/// A problem in a template or expression found at start-up (compile) or while rendering.
public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// `${` without `}`, a bad operator, a bad path.
        public static let syntax = Code("TemplateSyntax")
        /// A call to a function that does not exist.
        public static let unknownFunction = Code("UnknownFunction")
        /// Not an Adaptive Card Herald can send (type, version above 1.5).
        public static let invalidCard = Code("InvalidCard")
        /// A rendered value is over `routing.maxValueBytes`.
        public static let valueTooLarge = Code("ValueTooLarge")
        /// The rendered card or text is over `routing.maxMessageBytes`.
        public static let messageTooLarge = Code("MessageTooLarge")
    }

    public var code: Code
    public var message: String
    /// Where in the template: a JSON path such as `$.body[2].text`, or empty.
    public var location: String

    public init(_ code: Code, _ message: String, location: String = "") {
        self.code = code
        self.message = message
        self.location = location
    }

    public var description: String { location.isEmpty ? message : "\(location): \(message)" }
}
