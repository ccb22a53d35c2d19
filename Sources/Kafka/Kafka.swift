import CRdKafka

/// The version of the librdkafka library Herald is linked against, e.g. "2.0.2".
public var librdkafkaVersion: String { String(cString: rd_kafka_version_str()) }
