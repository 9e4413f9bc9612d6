// swift-tools-version: 6.2
import PackageDescription

/// Every Sokoni target builds in Swift 6 language mode with these settings.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

/// The six services: (library target, executable product, folder).
let services: [(library: String, product: String)] = [
    ("Gateway", "gateway"),
    ("Messaging", "messaging"),
    ("Vouchers", "vouchers"),
    ("MarketplaceWallet", "marketplace-wallet"),
    ("AgentCore", "agent-core"),
    ("CalendarBooking", "calendar-booking"),
]

let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let postgres: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")
let webSocket: Target.Dependency = .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket")
let webSocketClient: Target.Dependency = .product(name: "HummingbirdWSClient", package: "hummingbird-websocket")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "NIOFoundationCompat", package: "swift-nio"),
    .product(name: "HTTPTypes", package: "swift-http-types"),
]

var targets: [Target] = [
    // C libraries from Debian (libqrencode-dev, libpng-dev), for the vouchers' QR images
    .systemLibrary(name: "CQRencode", path: "Shared/CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
    .systemLibrary(name: "CPNG", path: "Shared/CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    .target(
        name: "Models",
        path: "Shared/Models",
        swiftSettings: swiftSettings
    ),
    .target(
        name: "Contracts",
        dependencies: ["Models", "ServiceClient"],
        path: "Shared/Contracts",
        swiftSettings: swiftSettings
    ),
    .target(
        name: "ServiceKit",
        dependencies: [
            "Models", "ServiceClient", "Contracts",
            hummingbird,
            .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
            webSocket,
            postgres,
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            logging,
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Configuration", package: "swift-configuration"),
        ] + nio,
        path: "Shared/ServiceKit",
        swiftSettings: swiftSettings
    ),
    .target(
        name: "ServiceClient",
        dependencies: [
            "Models",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            logging,
        ] + nio,
        path: "Shared/ServiceClient",
        swiftSettings: swiftSettings
    ),
    .target(
        name: "TestSupport",
        dependencies: [
            "Models", "ServiceKit", "ServiceClient", "Contracts",
            "Gateway", "Messaging", "Vouchers", "MarketplaceWallet", "AgentCore", "CalendarBooking",
            hummingbird,
            postgres,
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            webSocketClient,
            logging,
        ],
        path: "Tests/TestSupport",
        swiftSettings: swiftSettings
    ),
    .executableTarget(
        name: "sokoni-bench",
        dependencies: [
            "Models", "ServiceKit", "ServiceClient", "TestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ],
        path: "Benchmarks/Sources",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "ModelsTests",
        dependencies: ["Models"],
        path: "Tests/ModelsTests",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "ServiceKitTests",
        dependencies: [
            "Models", "ServiceKit", "ServiceClient", "TestSupport", hummingbird,
            postgres, logging,
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "JWTKit", package: "jwt-kit"),
        ],
        path: "Tests/ServiceKitTests",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "GatewayTests",
        dependencies: [
            "Models", "ServiceKit", "ServiceClient", "Contracts", "TestSupport", "Gateway", "Vouchers", hummingbird, postgres,
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ] + nio,
        path: "Tests/GatewayTests",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "VouchersTests",
        dependencies: [
            "Models", "ServiceKit", "ServiceClient", "Contracts", "TestSupport", "Vouchers", "Gateway", hummingbird, postgres,
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ] + nio,
        path: "Tests/VouchersTests",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "MessagingTests",
        dependencies: [
            "Models", "ServiceKit", "ServiceClient", "Contracts", "TestSupport", "Messaging", "Gateway", "Vouchers", hummingbird, postgres,
            webSocketClient,
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
        ] + nio,
        path: "Tests/MessagingTests",
        exclude: ["Fixtures"],
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "AgentCoreTests",
        dependencies: [
            "Models", "ServiceKit", "ServiceClient", "Contracts", "TestSupport", "AgentCore", "Messaging", "Gateway", "Vouchers", "CalendarBooking",
            hummingbird, postgres,
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ] + nio,
        path: "Tests/AgentCoreTests",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "MarketplaceWalletTests",
        dependencies: [
            "Models", "ServiceKit", "ServiceClient", "Contracts", "TestSupport", "MarketplaceWallet", "Gateway", hummingbird, postgres,
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ] + nio,
        path: "Tests/MarketplaceWalletTests",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "CalendarBookingTests",
        dependencies: [
            "Models", "ServiceKit", "ServiceClient", "Contracts", "TestSupport", "CalendarBooking", "Gateway", "Messaging", hummingbird, postgres,
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ] + nio,
        path: "Tests/CalendarBookingTests",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "EndToEndTests",
        dependencies: [
            "Models", "ServiceKit", "ServiceClient", "TestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ],
        path: "Tests/EndToEndTests",
        swiftSettings: swiftSettings
    ),
]
let extraDependencies: [String: [Target.Dependency]] = [
    "Vouchers": [
        "CQRencode", "CPNG", .product(name: "Crypto", package: "swift-crypto"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    ],
    "AgentCore": [
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    ],
    "Messaging": [
        webSocket,
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    ],
    "MarketplaceWallet": [.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
    "CalendarBooking": [
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    ],
    "Gateway": [
        .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
        webSocketClient,
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    ],
]
var products: [Product] = [
    .executable(name: "sokoni-bench", targets: ["sokoni-bench"])
]
for service in services {
    targets.append(
        .target(
            name: service.library,
            dependencies: ["Models", "ServiceKit", "ServiceClient", "Contracts", hummingbird, postgres, logging] + nio
                + (extraDependencies[service.library] ?? []),
            path: "Services/\(service.library)/Sources",
            // the service's OpenAPI document, served at GET /openapi.json
            resources: [.copy("openapi.json")],
            swiftSettings: swiftSettings
        )
    )
    targets.append(
        .executableTarget(
            name: "\(service.library)Main",
            dependencies: [.target(name: service.library), "ServiceKit"],
            path: "Services/\(service.library)/Main",
            swiftSettings: swiftSettings
        )
    )
    products.append(.executable(name: service.product, targets: ["\(service.library)Main"]))
}

let package = Package(
    name: "Sokoni",
    platforms: [.macOS(.v15)],
    products: products,
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: targets,
    swiftLanguageModes: [.v6]
)
