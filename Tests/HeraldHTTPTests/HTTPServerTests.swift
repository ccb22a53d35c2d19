import Foundation
import HeraldHTTP
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// Writes raw bytes to `port` and reads until `done` says the answer is complete or the server closes.
func exchange(
    port: Int, _ request: String, until done: @escaping (String) -> Bool = { _ in false }
) async throws
    -> String
{
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    return try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(string: request))
        var text = ""
        for try await chunk in inbound {
            text += String(buffer: chunk)
            if done(text) { break }
        }
        return text
    }
}

/// Runs `body` with a server on a random loopback port, then shuts it down gracefully.
func withServer(
    maxBodySize: Int = 1024,
    handler: @escaping HTTPServer.Handler,
    _ body: (HTTPServer) async throws -> Void
) async throws {
    let server = try await HTTPServer.bind(
        configuration: .init(port: 0, maxBodySize: maxBodySize),
        logger: Logger(label: "test.http"),
        handler: handler
    )
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        try await body(server)
        server.shutdown()
        try await group.waitForAll()
    }
}

let echo: HTTPServer.Handler = { request in
    let text =
        "\(request.method.rawValue) \(request.path) q=\(request.queryValue("q") ?? "-") "
        + "h=\(request.headers.first(name: "x-test") ?? "-") body=\(String(buffer: request.body))"
    return .text(.ok, text)
}

@Suite("HTTPServer")
struct HTTPServerTests {
    @Test("pipelined requests on one keep-alive connection are answered in order with what was sent")
    func keepAlive() async throws {
        try await withServer(handler: echo) { server in
            #expect(server.port > 0)
            let requests =
                "POST /a/b?q=x%20y HTTP/1.1\r\nHost: t\r\nX-Test: one\r\nContent-Length: 5\r\n\r\nhello"
                + "GET /second HTTP/1.1\r\nHost: t\r\n\r\n"
            let text = try await exchange(port: server.port, requests) {
                $0.components(separatedBy: "HTTP/1.1 200 OK").count == 3 && $0.hasSuffix("body=")
            }
            #expect(text.contains("POST /a/b q=x y h=one body=hello"))
            #expect(text.contains("GET /second q=- h=- body="))
            #expect(text.range(of: "POST /a/b")!.lowerBound < text.range(of: "GET /second")!.lowerBound)
            #expect(!text.lowercased().contains("connection: close"))
        }
    }

    @Test("Expect: 100-continue gets an interim answer, so the client sends its body at once")
    func expectContinue() async throws {
        try await withServer(handler: echo) { server in
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: server.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            let text = try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(
                    ByteBuffer(
                        string: "POST /c HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"))
                var text = ""
                var sentBody = false
                for try await chunk in inbound {
                    text += String(buffer: chunk)
                    if !sentBody && text.contains("HTTP/1.1 100 Continue\r\n\r\n") {
                        sentBody = true
                        try await outbound.write(ByteBuffer(string: "data"))
                    }
                    if text.hasSuffix("body=data") { break }
                }
                return text
            }
            #expect(text.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"))
            #expect(text.hasSuffix("POST /c q=- h=- body=data"))
        }
    }

    @Test("Connection: close is honoured: the answer is sent, then the server closes")
    func connectionClose() async throws {
        try await withServer(handler: echo) { server in
            let text = try await exchange(
                port: server.port, "GET /bye HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(text.hasPrefix("HTTP/1.1 200 OK"))
            #expect(text.lowercased().contains("connection: close"))
            #expect(text.hasSuffix("GET /bye q=- h=- body="))
        }
    }

    @Test("a body over the limit gets 413 without reaching the handler")
    func bodyTooLarge() async throws {
        try await withServer(maxBodySize: 16, handler: echo) { server in
            let body = String(repeating: "z", count: 64)
            let text = try await exchange(
                port: server.port, "POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 64\r\n\r\n\(body)")
            #expect(text.hasPrefix("HTTP/1.1 413"))
            #expect(!text.contains("POST /big"))
        }
    }

    @Test("a handler can drop the connection without answering")
    func dropConnection() async throws {
        try await withServer(handler: { _ in .dropConnection }) { server in
            let text = try await exchange(port: server.port, "GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(text.isEmpty)
        }
    }

    @Test("graceful shutdown finishes the request in flight, then run() returns and new connections are refused")
    func gracefulShutdown() async throws {
        let (entered, enteredContinuation) = AsyncStream<Void>.makeStream()
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        let server = try await HTTPServer.bind(logger: Logger(label: "test.http")) { _ in
            enteredContinuation.yield()
            for await _ in release { break }
            return .text(.ok, "finished")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            async let answer = exchange(port: server.port, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
            for await _ in entered { break }
            server.shutdown()
            releaseContinuation.yield()
            let text = try await answer
            #expect(text.hasPrefix("HTTP/1.1 200 OK"))
            #expect(text.hasSuffix("finished"))
            try await group.waitForAll()
        }
        await #expect(throws: (any Error).self) {
            _ = try await exchange(port: server.port, "GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        }
    }

    @Test("cancelling run() stops the server and closes its connections")
    func cancellation() async throws {
        let server = try await HTTPServer.bind(logger: Logger(label: "test.http"), handler: echo)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let first = try await exchange(
                port: server.port, "GET /one HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(first.hasSuffix("GET /one q=- h=- body="))
            group.cancelAll()
            while (try? await group.next()) != nil {}
        }
        await #expect(throws: (any Error).self) {
            _ = try await exchange(port: server.port, "GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        }
    }
}
