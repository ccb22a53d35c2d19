import BotConnector
import Glibc
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A TCP listener that only counts connections and bytes: proof that nothing reached it.
final class CountingListener: Sendable {
    final class Counter: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let connections = Atomic<Int>(0)
        let bytes = Atomic<Int>(0)

        func channelActive(context: ChannelHandlerContext) {
            self.connections.add(1, ordering: .relaxed)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.bytes.add(self.unwrapInboundIn(data).readableBytes, ordering: .relaxed)
        }
    }

    let counter = Counter()
    let channel: any Channel

    init() async throws {
        let counter = self.counter
        self.channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(counter) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    var port: Int { self.channel.localAddress!.port! }

    func close() async throws { try await self.channel.close() }
}

/// A loopback TCP port bound but never listening: the kernel refuses every connection to it, and while it is
/// held no other listener (an emulator started by a test running in parallel) can be given the same port.
final class RefusingPort: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard descriptor >= 0, bound else {
            let failure = errno
            if descriptor >= 0 { _ = Glibc.close(descriptor) }
            throw SocketError(errno: failure)
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { _ = Glibc.close(self.descriptor) }

    struct SocketError: Error { let errno: Int32 }
}

@Suite("The bearer token only goes to allowed service hosts")
struct AllowListTests {
    @Test("a serviceUrl outside the allow-list is refused before any connection is made")
    func refusesOtherHosts() async throws {
        let listener = try await CountingListener()
        try await withEmulator { emulator in
            try await withClient(for: emulator) { client in
                let conversationId = try await chat(client)
                let refusedURLs = [
                    "http://127.0.0.1:\(listener.port)/teams/",
                    "http://localhost:\(listener.port)/teams/",
                    "https://127.0.0.1:\(listener.port)/teams/",
                    "http://127.0.0.1:\(emulator.port)@127.0.0.1:\(listener.port)/teams/",
                    "https://smba.trafficmanager.net.evil.example/teams/",
                    "http://smba.trafficmanager.net/teams/",
                ]
                // Twice: an allowed URL is remembered once parsed, a refused one never is.
                for serviceUrl in refusedURLs + refusedURLs {
                    let error = await botConnectorError {
                        _ = try await client.sendActivity(
                            serviceUrl: serviceUrl, conversationId: conversationId, .text("x"))
                    }
                    #expect(
                        error?.code == .serviceUrlNotAllowed || error?.code == .invalidServiceUrl,
                        "\(serviceUrl) was not refused"
                    )
                    #expect(error?.isRetryable == false)
                }
                #expect(listener.counter.connections.load(ordering: .relaxed) == 0)
                #expect(listener.counter.bytes.load(ordering: .relaxed) == 0)
            }
        }
        try await listener.close()
    }

    @Test("the cloud's Teams hosts are allowed over https only; extras need listing")
    func cloudHosts() throws {
        let publicList = ServiceHostAllowList(cloud: .public, extras: [])
        #expect(publicList.allows(try ServiceUrl("https://smba.trafficmanager.net/amer/")))
        #expect(publicList.allows(try ServiceUrl("https://SMBA.trafficmanager.net/teams")))
        #expect(!publicList.allows(try ServiceUrl("http://smba.trafficmanager.net/amer/")))
        #expect(!publicList.allows(try ServiceUrl("https://smba.infra.gov.teams.microsoft.us/teams")))
        #expect(!publicList.allows(try ServiceUrl("http://127.0.0.1:8080/teams/")))

        let gcch = ServiceHostAllowList(cloud: .gcch, extras: ["http://127.0.0.1:8080", "teams.example.com:8443"])
        #expect(gcch.allows(try ServiceUrl("https://smba.infra.gov.teams.microsoft.us/teams")))
        #expect(!gcch.allows(try ServiceUrl("https://smba.trafficmanager.net/teams/")))
        #expect(gcch.allows(try ServiceUrl("http://127.0.0.1:8080/teams/")))
        #expect(!gcch.allows(try ServiceUrl("http://127.0.0.1:8081/teams/")))
        #expect(gcch.allows(try ServiceUrl("https://teams.example.com:8443/x/")))
        #expect(!gcch.allows(try ServiceUrl("http://teams.example.com:8443/x/")))
    }
}
