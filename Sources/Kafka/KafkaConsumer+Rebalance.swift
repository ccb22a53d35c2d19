import CRdKafka
import Dispatch
import Logging

extension KafkaConsumer {
    /// Runs on the polling thread inside a poll: tells the handler first, then applies the change, so
    /// revoked partitions stay assigned (and committable) while the handler finishes its work.
    static func rebalance(
        rk: OpaquePointer, err: rd_kafka_resp_err_t, list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>,
        state: ConsumerState, handler: RebalanceHandler?, logger: Logger
    ) {
        let partitions = TopicPartitionList.partitions(list)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            logger.info("Kafka partitions assigned", metadata: ["kafka.partitions": "\(partitions.map(\.description))"])
            state.assigned(partitions)
            run(handler, .assigned(partitions))
            if cooperative {
                report(rd_kafka_incremental_assign(rk, list), "incremental assign", logger)
            } else {
                report(rd_kafka_assign(rk, list), "assign", logger)
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(rk) != 0
            logger.info(
                lost ? "Kafka partitions lost" : "Kafka partitions revoked",
                metadata: ["kafka.partitions": "\(partitions.map(\.description))"]
            )
            run(handler, lost ? .lost(partitions) : .revoked(partitions))
            if cooperative {
                report(rd_kafka_incremental_unassign(rk, list), "incremental unassign", logger)
                state.unassigned(partitions)
            } else {
                report(rd_kafka_assign(rk, nil), "unassign", logger)
                state.unassignAll()
            }
        default:
            logger.error("Kafka rebalance failed: \(String(cString: rd_kafka_err2str(err)))")
            let current = Array(state.assignment)
            run(handler, .lost(current))
            if cooperative {
                report(rd_kafka_incremental_unassign(rk, list), "incremental unassign", logger)
            } else {
                report(rd_kafka_assign(rk, nil), "unassign", logger)
            }
            state.unassignAll()
        }
    }

    /// Waits, on the polling thread (never the cooperative pool), for the async handler to finish.
    private static func run(_ handler: RebalanceHandler?, _ event: RebalanceEvent) {
        guard let handler, !event.partitions.isEmpty else { return }
        let done = DispatchSemaphore(value: 0)
        Task {
            await handler(event)
            done.signal()
        }
        done.wait()
    }

    private static func report(_ error: OpaquePointer?, _ what: String, _ logger: Logger) {
        guard let error else { return }
        logger.error("Kafka \(what) failed: \(KafkaError(consuming: error, context: what).message)")
    }

    private static func report(_ err: rd_kafka_resp_err_t, _ what: String, _ logger: Logger) {
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return }
        logger.error("Kafka \(what) failed: \(KafkaError(err, context: what).message)")
    }
}
