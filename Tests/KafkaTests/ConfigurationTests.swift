import Kafka
import Testing

@Suite("librdkafka properties")
struct ConfigurationTests {
    let bootstrap = "127.0.0.1:1"

    @Test func anUnknownPropertyIsNamedInTheError() {
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(
                configuration: .init(cluster: .init(bootstrapServers: bootstrap, properties: ["linger.msec": "5"])),
                logger: testLogger
            )
        }
        #expect(error?.code == .invalidProperty)
        #expect(error?.message.contains("\"linger.msec\"") == true)
        #expect(error?.message.contains("No such configuration property") == true)
    }

    @Test func aBadValueIsNamedInTheError() {
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaConsumer(
                configuration: .init(
                    cluster: .init(bootstrapServers: bootstrap, properties: ["fetch.wait.max.ms": "soon"]),
                    groupId: "g", topics: ["t"]
                ),
                logger: testLogger
            )
        }
        #expect(error?.code == .invalidProperty)
        #expect(error?.message.contains("fetch.wait.max.ms") == true)
    }

    @Test func propertiesHeraldManagesCannotBeOverridden() {
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaConsumer(
                configuration: .init(
                    cluster: .init(bootstrapServers: bootstrap, properties: ["enable.auto.commit": "true"]),
                    groupId: "g", topics: ["t"]
                ),
                logger: testLogger
            )
        }
        #expect(
            error?.message
                == "kafka.properties: \"enable.auto.commit\" must be \"false\" (Herald commits only what has an outcome)"
        )
        #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(
                configuration: .init(
                    cluster: .init(bootstrapServers: bootstrap, properties: ["enable.idempotence": "false"])),
                logger: testLogger
            )
        }
    }

    @Test func settingsLibrdkafkaRejectsAsAWholeGiveAClearError() {
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(
                configuration: .init(
                    cluster: .init(
                        bootstrapServers: bootstrap,
                        properties: ["security.protocol": "ssl", "ssl.ca.location": "/nonexistent/ca.pem"]
                    )
                ),
                logger: testLogger
            )
        }
        #expect(error?.code == .clientCreation)
        #expect(error?.message.hasPrefix("cannot create Kafka producer: ") == true)
        #expect(error?.message.contains("ssl.ca.location") == true, "\(error?.message ?? "")")
    }

    @Test func secretValuesNeverAppearInErrors() {
        let secret = "hunter2-not-a-number"
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(
                configuration: .init(
                    cluster: .init(
                        bootstrapServers: bootstrap, properties: ["ssl.key.password": secret, "linger.ms": "x"])),
                logger: testLogger
            )
        }
        #expect(error?.message.contains(secret) == false)
    }

    @Test func validPassThroughPropertiesAreAccepted() throws {
        let producer = try KafkaProducer(
            configuration: .init(
                cluster: .init(
                    bootstrapServers: bootstrap,
                    properties: ["security.protocol": "plaintext", "compression.type": "lz4", "linger.ms": "20"]
                )
            ),
            logger: testLogger
        )
        #expect(producer.fatalError == nil)
    }
}
