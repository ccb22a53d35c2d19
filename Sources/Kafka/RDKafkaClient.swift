import CRdKafka
import Dispatch
import Logging
import Synchronization

/// Owns one `rd_kafka_t`, destroyed in `deinit`, and the Swift state its C callbacks reach.
///
/// librdkafka handles are thread-safe; this class is `@unchecked Sendable` because the raw pointer is
/// only reached through ``withHandle(_:)`` and is never freed before the last reference goes away.
final class RDKafkaClient: @unchecked Sendable {
    enum Kind {
        case producer
        case consumer
    }

    /// State the C callbacks reach through the opaque pointer. Set up before `rd_kafka_new`, then read-only
    /// apart from the locked fields.
    final class Context: @unchecked Sendable {
        let logger: Logger
        let fatalError = Mutex<KafkaError?>(nil)
        /// Consumer only: invoked on the polling thread inside a poll call.
        var rebalance:
            ((OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?

        init(logger: Logger) {
            self.logger = logger
        }
    }

    private let handle: OpaquePointer
    let context: Context
    let kind: Kind
    /// When true, `deinit` destroys a consumer without the blocking group leave (it was closed already, or
    /// closing it from `deinit` could deadlock).
    let skipConsumerCloseOnDestroy = Atomic<Bool>(false)

    /// Takes ownership of `conf`.
    init(kind: Kind, conf: OpaquePointer, context: Context) throws(KafkaError) {
        self.kind = kind
        self.context = context
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf, rdKafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, rdKafkaErrorCallback)
        if kind == .producer {
            rd_kafka_conf_set_dr_msg_cb(conf, rdKafkaDeliveryReportCallback)
        }
        if context.rebalance != nil {
            rd_kafka_conf_set_rebalance_cb(conf, rdKafkaRebalanceCallback)
        }
        var errstr = [CChar](repeating: 0, count: 512)
        let type = kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            let reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(code: .clientCreation, message: "cannot create Kafka \(kind): \(reason)")
        }
        self.handle = rk
    }

    deinit {
        let skipClose = kind == .consumer && skipConsumerCloseOnDestroy.load(ordering: .acquiring)
        let flags = skipClose ? Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE) : 0
        // rd_kafka_destroy joins librdkafka's threads (and may first leave the group), so it does not run on the
        // releasing thread, which may be one of Swift's few cooperative threads. The context its callbacks
        // reach stays alive until the handle is gone.
        let doomed = Doomed(handle: handle, context: context)
        Self.destroyQueue.async {
            rd_kafka_destroy_flags(doomed.handle, flags)
            withExtendedLifetime(doomed.context) {}
        }
    }

    /// Where librdkafka objects are destroyed, off the threads that release them.
    static let destroyQueue = DispatchQueue(label: "herald.kafka.destroy", attributes: .concurrent)

    private struct Doomed: @unchecked Sendable {
        let handle: OpaquePointer
        let context: Context
    }

    func withHandle<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        try body(handle)
    }

    /// The fatal error this client raised, if any (idempotent producer guarantees lost, fenced member).
    var fatalError: KafkaError? {
        context.fatalError.withLock { $0 }
    }
}

private func context(of opaque: UnsafeMutableRawPointer?) -> RDKafkaClient.Context? {
    guard let opaque else { return nil }
    return Unmanaged<RDKafkaClient.Context>.fromOpaque(opaque).takeUnretainedValue()
}

private let rdKafkaLogCallback:
    @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) ->
        Void = { rk, level, facility, message in
            guard let rk, let context = context(of: rd_kafka_opaque(rk)) else { return }
            let text = message.map { String(cString: $0) } ?? ""
            // kafka.properties is shared by consumer and producer: each ignores the other's properties, as it should.
            let ignoredForOtherClient = text.contains("property and will be ignored by this")
            let swiftLevel: Logger.Level =
                switch level {
                case _ where ignoredForOtherClient: .debug
                case ...2: .critical
                case 3: .error
                case 4: .warning
                case 5, 6: .info
                default: .debug
                }
            context.logger.log(
                level: swiftLevel,
                "\(text)",
                metadata: ["librdkafka.facility": "\(facility.map { String(cString: $0) } ?? "")"]
            )
        }

private let rdKafkaErrorCallback:
    @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) ->
        Void = { rk, err, reason, opaque in
            guard let rk, let context = context(of: opaque) else { return }
            let text = reason.map { String(cString: $0) } ?? ""
            if err == RD_KAFKA_RESP_ERR__FATAL.rawValue {
                var errstr = [CChar](repeating: 0, count: 512)
                let underlying = rd_kafka_fatal_error(rk, &errstr, errstr.count)
                let detail = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let error = KafkaError(
                    code: .fatal,
                    message:
                        "Kafka client hit a fatal error (\(String(cString: rd_kafka_err2name(underlying)))): \(detail)"
                )
                context.fatalError.withLock { if $0 == nil { $0 = error } }
                context.logger.critical("\(error.message)")
            } else {
                // Transport errors and "all brokers down" are retried by librdkafka on its own.
                context.logger.warning(
                    "Kafka client error: \(text)",
                    metadata: ["kafka.error": "\(String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(err))))"]
                )
            }
        }

private let rdKafkaRebalanceCallback:
    @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
        UnsafeMutableRawPointer?
    ) -> Void = { rk, err, partitions, opaque in
        guard let rk, let partitions, let context = context(of: opaque) else { return }
        context.rebalance?(rk, err, partitions)
    }

private let rdKafkaDeliveryReportCallback:
    @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
        _, message, _ in
        guard let message, let opaque = message.pointee._private else { return }
        if BatchDeliveries.isSlot(opaque) {
            BatchDeliveries.complete(opaque: opaque, message: message)
        } else {
            DeliveryCompletion.complete(opaque: opaque, message: message)
        }
    }
