import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A small HTTP/1.1 server with keep-alive: every request, once fully received, is handed to an async
/// handler whose response is written back on the same connection.
///
/// `bind` opens the listening socket (so the port is known at once, also with port 0); `run` serves
/// until the task is cancelled, `shutdown()` is called, or a service group shuts down gracefully.
/// A graceful shutdown stops accepting, closes idle connections and lets each busy connection finish
/// the response it is working on.
public final class HTTPServer: Service, Sendable {
    /// Answers one request.
    public typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse

    /// Where and how the server listens.
    public struct Configuration: Sendable {
        /// The address to bind. Default: `127.0.0.1`
        public var host: String
        /// The port to bind; 0 picks a free port, see ``HTTPServer/port``. Default: 0
        public var port: Int
        /// Requests with larger bodies get 413 and the connection is closed. Default: 4 MiB
        public var maxBodySize: Int
        /// Pending connections the kernel queues. Default: 256
        public var backlog: Int32
        /// Checks every response header for characters HTTP forbids. Turn off only when the handler never
        /// puts outside input into headers (it saves a pipeline step per response). Default: true
        public var validatesResponseHeaders: Bool

        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            maxBodySize: Int = 4 << 20,
            backlog: Int32 = 256,
            validatesResponseHeaders: Bool = true
        ) {
            self.host = host
            self.port = port
            self.maxBodySize = maxBodySize
            self.backlog = backlog
            self.validatesResponseHeaders = validatesResponseHeaders
        }
    }

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// The port the server listens on (the one picked by the system when configured with 0).
    public let port: Int
    /// The host the server was bound to.
    public let host: String

    private let serverChannel: NIOAsyncChannel<Connection, Never>
    private let quiescing: ServerQuiescingHelper
    let handler: Handler
    /// Called for each response that could not be written because the client had gone.
    let onUnanswered: (@Sendable () -> Void)?
    let maxBodySize: Int
    let logger: Logger

    private init(
        serverChannel: NIOAsyncChannel<Connection, Never>,
        quiescing: ServerQuiescingHelper,
        configuration: Configuration,
        logger: Logger,
        onUnanswered: (@Sendable () -> Void)?,
        handler: @escaping Handler
    ) {
        self.onUnanswered = onUnanswered
        self.serverChannel = serverChannel
        self.quiescing = quiescing
        self.host = configuration.host
        self.port = serverChannel.channel.localAddress?.port ?? configuration.port
        self.maxBodySize = configuration.maxBodySize
        self.handler = handler
        var logger = logger
        logger[metadataKey: "http.port"] = "\(self.port)"
        self.logger = logger
    }

    /// Opens the listening socket. Requests are served once ``run()`` is called.
    /// - Parameter onUnanswered: called for each request whose response could not be written because the
    ///   client closed the connection (or died) first.
    public static func bind(
        configuration: Configuration = Configuration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        onUnanswered: (@Sendable () -> Void)? = nil,
        handler: @escaping Handler
    ) async throws -> HTTPServer {
        let quiescing = ServerQuiescingHelper(group: eventLoopGroup)
        let channel = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: configuration.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        quiescing.makeServerChannelHandler(channel: channel)
                    )
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withErrorHandling: true,
                        withOutboundHeaderValidation: configuration.validatesResponseHeaders
                    )
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        return HTTPServer(
            serverChannel: channel,
            quiescing: quiescing,
            configuration: configuration,
            logger: logger,
            onUnanswered: onUnanswered,
            handler: handler
        )
    }

    /// Serves connections until cancelled, ``shutdown()``, or a graceful shutdown of the service group.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await self.serverChannel.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Starts a graceful shutdown: no new connections, idle ones closed, busy ones closed after their
    /// current response. ``run()`` returns once every connection is closed.
    public func shutdown() {
        self.quiescing.initiateShutdown(promise: nil)
    }
}
