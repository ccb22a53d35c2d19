import NIOCore
import NIOHTTP1

/// One HTTP request, fully received (head and body).
public struct HTTPRequest: Sendable {
    /// The request method.
    public var method: HTTPMethod
    /// The request target as sent, path and query (`/v3/conversations?x=1`).
    public var uri: String
    /// The request headers.
    public var headers: HTTPHeaders
    /// The request body; empty when none was sent.
    public var body: ByteBuffer

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }

    /// The path part of ``uri``, still percent-encoded.
    public var path: Substring {
        guard let question = self.uri.firstIndex(of: "?") else { return self.uri[...] }
        return self.uri[..<question]
    }

    /// The query part of ``uri`` after `?`, still percent-encoded; empty when there is none.
    public var query: Substring {
        guard let question = self.uri.firstIndex(of: "?") else { return "" }
        return self.uri[self.uri.index(after: question)...]
    }

    /// The first value of the query parameter `name`, percent-decoded (`+` means a space).
    public func queryValue(_ name: String) -> String? {
        for pair in self.query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if PercentEncoding.decode(parts[0], plusAsSpace: true) == name {
                return parts.count > 1 ? PercentEncoding.decode(parts[1], plusAsSpace: true) : ""
            }
        }
        return nil
    }

    /// The body as bytes.
    public var bodyBytes: [UInt8] {
        self.body.getBytes(at: self.body.readerIndex, length: self.body.readableBytes) ?? []
    }
}
