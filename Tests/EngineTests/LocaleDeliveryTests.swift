import Foundation
import Kafka
import Routing
import Store
import TestSupport
import Testing

@testable import Engine

/// What a recipient reads is in their own language: their Teams locale from the stored reference, else the route's
/// `locale`, else the default, falling back from `de-AT` to `de`.
@Suite("Messages in each recipient's language", .serialized)
struct LocaleDeliveryTests {
    static let routes = """
        routes:
          - name: notify
            match: { type: "test.notify" }
            to:
              - user: { aadObjectId: "${data.user}", tenantId: "t" }
            message:
              text: "hello ${data.user}"
              locales: { de: "hallo ${data.user}", pt-BR: "olá ${data.user}" }
            locale: "${data.locale}"
        """

    static func publish(_ kafka: EmbeddedKafka, _ events: [(id: String, user: String, locale: String?)]) async throws {
        let producer = try KafkaProducer(
            configuration: .init(cluster: .init(bootstrapServers: kafka.bootstrapServers)), logger: WorkerTests.logger)
        let messages = events.map { event in
            let locale = event.locale.map { #","locale":"\#($0)""# } ?? ""
            let value =
                #"{"specversion":"1.0","id":"\#(event.id)","type":"test.notify","source":"/t","data":{"user":"\#(event.user)"\#(locale)}}"#
            return ProducerMessage(topic: "events", key: Array(event.user.utf8), value: Array(value.utf8))
        }
        for result in await producer.send(messages) { _ = try result.get() }
        try await producer.shutdown()
    }

    @Test func theStoredLocaleThenTheRoutesThenTheDefaultDecideTheLanguage() async throws {
        try await WorkerTests.withSetup(emulatorLatency: .zero, routes: Self.routes) {
            kafka, makeWorker, store, emulator in
            let worker = try makeWorker("w") { _ in }
            let running = Task { try await worker.run() }
            // First contact: no reference yet, so the helpdesk's locale (pt-BR) or the default decides.
            try await Self.publish(
                kafka, [("e1", "u-austrian", nil), ("e2", "u-brazilian", "pt-BR"), ("e3", "u-english", "de")])
            try await eventually(within: .seconds(60), "the first three were delivered") {
                worker.stats.snapshot().outcomes["delivered", default: 0] == 3
            }
            // Teams then tells the gateway each user's client locale; the references keep it.
            for (user, locale) in [("u-austrian", "de-AT"), ("u-english", "en-US")] {
                var reference = try #require(try await store.reference(tenantId: "t", aadObjectId: user))
                reference.locale = locale
                try await store.upsertReferences([reference])
            }
            try await Self.publish(
                kafka, [("e4", "u-austrian", nil), ("e5", "u-english", "de"), ("e6", "u-brazilian", "de-DE")])
            try await eventually(within: .seconds(60), "the second three were delivered") {
                worker.stats.snapshot().outcomes["delivered", default: 0] == 6
            }
            worker.drain()
            try await running.value
            let texts = emulator.conversations().flatMap(\.activities).compactMap { activity in
                activity.body.flatMap { body in
                    (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["text"] as? String
                }
            }
            #expect(
                texts.sorted()
                    == [
                        "hallo u-austrian",  // de-AT from Teams falls back to de
                        "hallo u-brazilian",  // no stored locale: the route's de-DE, falling back to de
                        "hallo u-english",  // first contact: the route's de
                        "hello u-austrian",  // first contact: neither knew a locale
                        "hello u-english",  // Teams says en-US, which has no variant: the default, not the route's guess
                        "olá u-brazilian",
                    ].sorted(), "\(texts)")
        }
    }

    @Test func aDeferredDeliveryKeepsItsLanguages() throws {
        let router = Router(
            routes: try #require(RouteSet.parse(yaml: Self.routes, file: "routes.yaml") { _ in ("", nil) }.0).routes)
        let event = NotificationEvent(
            id: "e", type: "test.notify", source: "/t", time: nil,
            data: ["user": "u", "locale": "pt-BR"],
            input: InputPosition(topic: "events", partition: 0, offset: 0))
        let delivery = try #require(router.route(event, now: Date()).deliveries.first)
        let item = WorkItem(delivery: delivery, event: event, origin: .deferred(id: "d"), now: Date())
        let stored = try DeferredPayload.decode(try DeferredPayload(item).encoded()).workItem(deferralId: "d")
        #expect(stored.delivery.message(forRecipientLocale: nil).body == .text("olá u"))
        #expect(stored.delivery.message(forRecipientLocale: "de-AT").body == .text("hallo u"))
        #expect(stored.delivery.message(forRecipientLocale: "fr").body == .text("hello u"))
    }
}
