import Logging
import ServiceLifecycle

/// The worker as a swift-service-lifecycle `Service`, run in one `ServiceGroup` with the store and the operations
/// endpoint (`herald run`, `herald demo`).
extension Worker: Service {
    /// Runs the worker (``consume()``) until the group shuts down gracefully or the task is cancelled, then drains
    /// as ``drain()`` describes and returns. Outside a service group it runs until ``drain()`` or cancellation.
    ///
    /// A graceful shutdown drains rather than cancels: cancellation would cut in-flight requests short. A group
    /// shuts its services down in reverse order, so list the store before the worker: it stays open until every
    /// delivery has finished or been parked.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await self.consume()
        } onGracefulShutdown: {
            self.drain()
        }
    }
}

extension Readiness {
    /// Checks `worker`, its store and its Teams token every ``interval`` (see ``Readiness``), as a service to run
    /// beside the worker until the group shuts it down gracefully. List it before the worker: `/readyz` then says
    /// `worker: draining` while the worker drains. Until it runs, `/readyz` says `worker: starting`.
    public func checks(of worker: Worker, logger: Logger) -> some Service {
        ClosureService {
            await cancelWhenGracefulShutdown {
                await self.monitor(worker, store: worker.store, client: worker.client, logger: logger)
            }
        }
    }
}
