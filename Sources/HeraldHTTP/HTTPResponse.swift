import NIOCore
import NIOHTTP1

/// The answer to one ``HTTPRequest``.
public struct HTTPResponse: Sendable {
    /// The response status.
    public var status: HTTPResponseStatus
    /// The response headers; `content-length` is set by the server.
    public var headers: HTTPHeaders
    /// The response body.
    public var body: ByteBuffer
    /// When true the server closes the connection without answering (to simulate a dropped connection).
    public var dropsConnection: Bool

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
        self.dropsConnection = false
    }

    /// A response with a JSON body (`content-type: application/json; charset=utf-8`).
    public static func json(_ status: HTTPResponseStatus, _ body: ByteBuffer, headers: HTTPHeaders = [:]) -> Self {
        var response = HTTPResponse(status: status, headers: headers, body: body)
        response.headers.replaceOrAdd(name: "content-type", value: "application/json; charset=utf-8")
        return response
    }

    /// A response with a JSON body given as a string.
    public static func json(_ status: HTTPResponseStatus, _ body: String, headers: HTTPHeaders = [:]) -> Self {
        .json(status, ByteBuffer(string: body), headers: headers)
    }

    /// A plain-text response.
    public static func text(_ status: HTTPResponseStatus, _ body: String) -> Self {
        HTTPResponse(
            status: status, headers: ["content-type": "text/plain; charset=utf-8"], body: ByteBuffer(string: body))
    }

    /// No response at all: the connection is closed.
    public static var dropConnection: Self {
        var response = HTTPResponse(status: .internalServerError)
        response.dropsConnection = true
        return response
    }
}
