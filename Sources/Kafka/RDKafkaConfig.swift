import CRdKafka

/// Builds an `rd_kafka_conf_t` from Herald's defaults, the user's properties and the properties Herald
/// must control, reporting any property librdkafka rejects by name.
enum RDKafkaConfig {
    /// A property Herald sets itself; the user may repeat it only with the same value.
    struct Managed {
        var name: String
        var value: String
        var reason: String
    }

    /// Returns a new `rd_kafka_conf_t` the caller owns (until `rd_kafka_new` takes it).
    static func make(
        defaults: [String: String], user: [String: String], managed: [Managed]
    ) throws(KafkaError) -> OpaquePointer {
        for rule in managed {
            if let given = user[rule.name], given != rule.value {
                throw KafkaError(
                    code: .invalidProperty,
                    message: "kafka.properties: \"\(rule.name)\" must be \"\(rule.value)\" (\(rule.reason))"
                )
            }
        }
        let conf = rd_kafka_conf_new()!
        do {
            for (name, value) in defaults where user[name] == nil {
                try set(conf, name, value)
            }
            // Sorted, so the first error reported is the same on every run.
            for name in user.keys.sorted() {
                try set(conf, name, user[name]!)
            }
            for rule in managed {
                try set(conf, rule.name, rule.value)
            }
        } catch {
            rd_kafka_conf_destroy(conf)
            throw error
        }
        return conf
    }

    private static func set(_ conf: OpaquePointer, _ name: String, _ value: String) throws(KafkaError) {
        var errstr = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, name, value, &errstr, errstr.count)
        guard result != RD_KAFKA_CONF_OK else { return }
        var reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if isSecret(name), !value.isEmpty {
            reason = reason.replacing(value, with: "***")
        }
        throw KafkaError(code: .invalidProperty, message: "kafka.properties: \"\(name)\": \(reason)")
    }

    /// Names whose values must never appear in an error or a log line.
    static func isSecret(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.contains("password") || lower.contains("secret") || lower.contains("key")
            || lower.contains("jaas") || lower.contains("token")
    }
}
