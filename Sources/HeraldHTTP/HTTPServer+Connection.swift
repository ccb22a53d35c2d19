import Logging
import NIOCore
import NIOHTTP1

extension HTTPServer {
    /// Reads requests off one connection and answers them in order until the peer closes, a request
    /// asks for `Connection: close`, or the handler asks to drop the connection.
    func serve(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                var bodyTooLarge = false
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body = ByteBuffer()
                        bodyTooLarge = false
                        if Self.expectsContinue(requestHead) {
                            // Clients such as curl wait for this before sending a larger body.
                            let interim = HTTPResponseHead(version: requestHead.version, status: .continue)
                            try await outbound.write(.head(interim))
                        }
                    case .body(var chunk):
                        if body.readableBytes + chunk.readableBytes > self.maxBodySize {
                            bodyTooLarge = true
                        } else if body.readableBytes == 0 {
                            body = chunk
                        } else {
                            body.writeBuffer(&chunk)
                        }
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        let response: HTTPResponse
                        if bodyTooLarge {
                            response = .text(.payloadTooLarge, "request body too large\n")
                        } else {
                            let request = HTTPRequest(
                                method: requestHead.method,
                                uri: requestHead.uri,
                                headers: requestHead.headers,
                                body: body
                            )
                            response = await self.handler(request)
                        }
                        if response.dropsConnection { return }
                        let keepAlive = requestHead.isKeepAlive && !bodyTooLarge
                        do {
                            try await outbound.write(
                                contentsOf: Self.parts(of: response, version: requestHead.version, keepAlive: keepAlive)
                            )
                        } catch {
                            self.onUnanswered?()
                            throw error
                        }
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            self.logger.debug("HTTP connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    private static func expectsContinue(_ head: HTTPRequestHead) -> Bool {
        head.version.minor >= 1 && head.headers["expect"].contains { $0.lowercased() == "100-continue" }
    }

    private static func parts(
        of response: HTTPResponse,
        version: HTTPVersion,
        keepAlive: Bool
    ) -> [HTTPServerResponsePart] {
        var headers = response.headers
        headers.replaceOrAdd(name: "content-length", value: String(response.body.readableBytes))
        if !keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if version == .http1_0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(version: version, status: response.status, headers: headers)
        return [.head(head), .body(.byteBuffer(response.body)), .end(nil)]
    }
}
