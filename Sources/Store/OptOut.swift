import Foundation

/// A recipient who asked not to be notified: by tenant and Teams user id or Entra object id, for every route
/// (``route`` nil) or one route.
public struct OptOut: Sendable, Hashable, Codable {
    /// Who opted out.
    public enum Subject: Sendable, Hashable, Codable {
        case userId(String)
        /// Compared lower-cased.
        case aadObjectId(String)

        var kind: String {
            switch self {
            case .userId: "id"
            case .aadObjectId: "aad"
            }
        }

        var value: String {
            switch self {
            case .userId(let id): id
            case .aadObjectId(let id): id.lowercased()
            }
        }

        init?(kind: String, value: String) {
            switch kind {
            case "id": self = .userId(value)
            case "aad": self = .aadObjectId(value)
            default: return nil
            }
        }
    }

    /// Lower-cased.
    public var tenantId: String
    public var subject: Subject
    /// Nil: every route.
    public var route: String?
    public var createdAt: Date

    public init(tenantId: String, subject: Subject, route: String? = nil, createdAt: Date = Date()) {
        self.tenantId = tenantId.lowercased()
        self.subject = subject
        self.route = route.flatMap { $0.isEmpty ? nil : $0 }
        self.createdAt = createdAt
    }
}

/// A recipient to check against the opt-outs: a user known by id, object id or both.
public struct OptOutCheck: Sendable, Hashable {
    public var tenantId: String
    public var userId: String?
    public var aadObjectId: String?

    public init(tenantId: String, userId: String? = nil, aadObjectId: String? = nil) {
        self.tenantId = tenantId.lowercased()
        self.userId = userId
        self.aadObjectId = aadObjectId?.lowercased()
    }

    var subjects: [OptOut.Subject] {
        (userId.map { [OptOut.Subject.userId($0)] } ?? []) + (aadObjectId.map { [.aadObjectId($0)] } ?? [])
    }
}

/// A delivery parked until `dueAt` (deliverAt, quiet hours, a long retry delay), claimable by any worker.
public struct DeferredDelivery: Sendable, Hashable {
    /// Usually the delivery id.
    public var id: String
    /// The serialized delivery, opaque to the store.
    public var payload: [UInt8]
    public var dueAt: Date
    /// Times it was claimed (so a poison deferral can be spotted).
    public var attempts: Int

    public init(id: String, payload: [UInt8], dueAt: Date, attempts: Int = 0) {
        self.id = id
        self.payload = payload
        self.dueAt = dueAt
        self.attempts = attempts
    }
}
