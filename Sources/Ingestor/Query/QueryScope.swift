/// Whose rows a query may see.
///
/// The query service never reads a tenant from the request body: the route layer builds a
/// scope from the caller's API key when the key is tenant-scoped (``QueryAPI/grantScope``;
/// an `X-Tenant-ID` naming another tenant is refused), and from `X-Tenant-ID` otherwise
/// (an unscoped key, or access control off). A scoped query gets
/// `<tenant_column> = '<tenant>'` ANDed onto every statement it runs (the main query, the
/// top-k subquery, the comparison query), and no request parameter can remove or widen it.
public struct QueryScope: Sendable, Hashable {
    /// The tenant whose rows are visible; nil means every tenant (an unscoped, operator
    /// query).
    public let tenant: String?

    public init(tenant: String?) {
        self.tenant = tenant
    }

    /// Every tenant's rows.
    public static let unrestricted = QueryScope(tenant: nil)

    public static func tenant(_ id: String) -> QueryScope { QueryScope(tenant: id) }
}
