// Every ServiceKit user works with the shared value types (ids, Money, roles, ServiceName).
@_exported import Models
