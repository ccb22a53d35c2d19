import Foundation

/// What the tenant's directory said about a person named by email or UPN, as the directory cache keeps it.
///
/// The cache holds answers, not people: a miss (nobody has the address) is kept too, for a shorter time, so an
/// event stream naming someone who left does not ask Graph for every event.
public struct DirectoryEntry: Sendable, Hashable {
    /// Lower-cased.
    public var tenantId: String
    /// `email:<address>` or `upn:<upn>`, lower-cased: ``DirectoryEntry/key(kind:value:)``.
    public var name: String
    /// The Entra object id; nil when nobody has the name.
    public var objectId: String?
    public var accountEnabled: Bool
    public var resolvedAt: Date

    public init(tenantId: String, name: String, objectId: String?, accountEnabled: Bool, resolvedAt: Date) {
        self.tenantId = tenantId.lowercased()
        self.name = name
        self.objectId = objectId
        self.accountEnabled = accountEnabled
        self.resolvedAt = resolvedAt
    }

    /// The cache's key for a name: directories compare addresses and UPNs case-insensitively.
    public static func key(kind: String, value: String) -> String {
        kind + ":" + value.lowercased()
    }
}
