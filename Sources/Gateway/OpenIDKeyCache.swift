import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOFoundationCompat
import Synchronization

/// The Bot Framework's signing keys, read from its OpenID metadata document and the `jwks_uri` it names.
///
/// Keys are fetched on first use and again once ``refreshEvery`` has passed (Microsoft rolls them). A key id
/// that is not known fetches them again, but at most once per ``unknownKeyRefetchAfter`` whatever happened in
/// between: a flood of tokens with invented key ids cannot make the gateway hammer the metadata endpoint. One
/// fetch serves every request waiting for it. When a refresh fails the keys already known stay in use; with none
/// known, lookups fail with ``Unavailable`` (the gateway answers 503, Teams retries) and the next attempt waits
/// ``retryAfterFailure``.
public actor OpenIDKeyCache {
    /// One signing key: its verifier and the channels it is endorsed for.
    struct Key: Sendable {
        let collection: JWTKeyCollection
        let endorsements: Set<String>
    }

    /// The keys could not be read and none are known.
    public struct Unavailable: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public nonisolated let metadataURL: String
    let http: HTTPClient
    let logger: Logger
    let refreshEvery: Duration
    let unknownKeyRefetchAfter: Duration
    let retryAfterFailure: Duration
    let now: @Sendable () -> ContinuousClock.Instant

    private var keys: [String: Key] = [:]
    private var fetchedAt: ContinuousClock.Instant?
    private var lastAttempt: ContinuousClock.Instant?
    private var lastFailure: ContinuousClock.Instant?
    private var inFlight: Task<Void, any Error>?
    /// Metadata documents fetched (successfully or not).
    public private(set) var fetches = 0

    private let ready = Atomic<Bool>(false)

    /// Keys have been read at least once.
    public nonisolated var isReady: Bool { ready.load(ordering: .relaxed) }

    /// Largest metadata document or key set read.
    static let maxDocumentBytes = 1 << 20

    public init(
        metadataURL: String, http: HTTPClient, logger: Logger, refreshEvery: Duration = .seconds(86_400),
        unknownKeyRefetchAfter: Duration = .seconds(300), retryAfterFailure: Duration = .seconds(5),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.metadataURL = metadataURL
        self.http = http
        self.logger = logger
        self.refreshEvery = refreshEvery
        self.unknownKeyRefetchAfter = unknownKeyRefetchAfter
        self.retryAfterFailure = retryAfterFailure
        self.now = now
    }

    /// The key `kid`, nil when the metadata does not list it.
    func key(_ kid: String) async throws(Unavailable) -> Key? {
        let now = self.now()
        if let fetchedAt, now - fetchedAt < refreshEvery {
            if let key = keys[kid] { return key }
            guard let lastAttempt, now - lastAttempt >= unknownKeyRefetchAfter else { return nil }
            try? await refresh()
            return keys[kid]
        }
        if fetchedAt == nil, let lastFailure, now - lastFailure < retryAfterFailure {
            throw Unavailable(description: "the Bot Framework signing keys could not be read; retrying shortly")
        }
        do {
            try await refresh()
        } catch {
            guard fetchedAt != nil else {
                throw Unavailable(description: "the Bot Framework signing keys could not be read: \(error)")
            }
            logger.warning(
                "cannot refresh the Bot Framework signing keys; using the ones read before",
                metadata: ["error": "\(error)"])
        }
        return keys[kid]
    }

    /// Fetches the keys until a fetch succeeds, one attempt per ``retryAfterFailure``, or the task is cancelled.
    func readUntilKnown() async {
        while !isReady, !Task.isCancelled {
            do {
                try await refresh()
            } catch {
                logger.warning(
                    "cannot read the Bot Framework signing keys; trying again",
                    metadata: ["error": "\(error)", "url": "\(metadataURL)"])
                try? await Task.sleep(for: retryAfterFailure)
            }
        }
    }

    /// Fetches the keys now (one fetch for every caller waiting).
    func refresh() async throws {
        if let inFlight { return try await inFlight.value }
        let task = Task { try await self.fetchAndStore() }
        inFlight = task
        defer { inFlight = nil }
        try await task.value
    }

    private func fetchAndStore() async throws {
        let started = now()
        lastAttempt = started
        fetches += 1
        do {
            let metadata = try JSONDecoder().decode(Metadata.self, from: try await get(metadataURL))
            guard let jwksURI = metadata.jwksURI, jwksURI.hasPrefix("https://") || jwksURI.hasPrefix("http://")
            else { throw Unavailable(description: "the OpenID metadata names no http(s) jwks_uri") }
            let document = try await get(jwksURI)
            let parsed = try await Self.parse(document)
            guard !parsed.isEmpty else { throw Unavailable(description: "the key set holds no usable RS256 key") }
            keys = parsed
            fetchedAt = started
            lastFailure = nil
            ready.store(true, ordering: .relaxed)
            logger.info("Bot Framework signing keys read", metadata: ["keys": "\(parsed.count)"])
        } catch {
            lastFailure = now()
            throw error
        }
    }

    private func get(_ url: String) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "accept", value: "application/json")
        let response = try await http.execute(request, timeout: .seconds(10))
        guard response.status == .ok else {
            throw Unavailable(description: "GET \(url) answered \(response.status.code)")
        }
        let body = try await response.body.collect(upTo: Self.maxDocumentBytes)
        return Data(buffer: body)
    }

    /// The RSA keys with a `kid` of a JWKS document, each with its `endorsements`.
    static func parse(_ document: Data) async throws -> [String: Key] {
        let set = try JSONDecoder().decode(JWKS.self, from: document)
        let endorsements = try JSONDecoder().decode(Endorsements.self, from: document)
        var byKid: [String: Set<String>] = [:]
        for entry in endorsements.keys {
            if let kid = entry.kid { byKid[kid] = Set(entry.endorsements ?? []) }
        }
        var keys: [String: Key] = [:]
        for jwk in set.keys where jwk.keyType == .rsa {
            guard let kid = jwk.keyIdentifier?.string else { continue }
            let collection = JWTKeyCollection()
            do {
                try await collection.add(jwk: jwk)
            } catch {
                continue
            }
            keys[kid] = Key(collection: collection, endorsements: byKid[kid] ?? [])
        }
        return keys
    }

    private struct Metadata: Decodable {
        var jwksURI: String?

        enum CodingKeys: String, CodingKey {
            case jwksURI = "jwks_uri"
        }
    }

    /// The Bot Framework's extension of a JWK: the channels the key may sign for.
    private struct Endorsements: Decodable {
        struct Entry: Decodable {
            var kid: String?
            var endorsements: [String]?
        }
        var keys: [Entry]
    }
}
