import Foundation
import Kafka
import Store

/// Records what an activity means: Kafka first (references, tombstones, events, all acknowledged), then the
/// store's blocked marks.
struct ActivityRecorder: Sendable {
    let producer: KafkaProducer
    let store: any HeraldStore
    let topics: MessagingEndpoint.Topics
    let produceTimeout: Duration
    let metrics: GatewayMetrics

    func record(_ work: GatewayWork) async throws {
        var messages: [ProducerMessage] = []
        for reference in work.references {
            messages.append(
                ProducerMessage(topic: topics.references, key: Array(reference.key.utf8), value: reference.json))
        }
        for key in work.tombstones {
            messages.append(ProducerMessage(topic: topics.references, key: Array(key.utf8), value: nil))
        }
        for event in work.events {
            messages.append(
                ProducerMessage(
                    topic: topics.interactions, key: Array(event.key.utf8), value: event.encoded(),
                    headers: [KafkaHeader(name: "content-type", value: Array("application/cloudevents+json".utf8))]))
        }
        if !messages.isEmpty {
            let producer = self.producer
            let batch = messages
            let started = ContinuousClock.now
            let results = try await abandoning(after: produceTimeout) {
                await producer.send(batch)
            } timedOut: {
                MessagingEndpoint.ProduceTimedOut()
            }
            metrics.produce.record(duration: ContinuousClock.now - started)
            for result in results { _ = try result.get() }
        }
        let now = Date()
        if !work.blocked.isEmpty {
            try await store.markBlocked(keys: work.blocked, code: "AppUninstalled", at: now)
        }
        if !work.unblocked.isEmpty {
            try await store.markUnblocked(keys: work.unblocked)
        }
    }
}
