import Kafka
import Testing

@Test func linksDebianLibrdkafka2() {
    #expect(librdkafkaVersion.hasPrefix("2."))
}
