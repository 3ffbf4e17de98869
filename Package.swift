// swift-tools-version: 6.2
import PackageDescription

/// Swift 6 language mode everywhere, with the upcoming features that make
/// concurrency mistakes compile errors rather than runtime surprises.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
        // librdkafka's mock cluster as a process, for tests and benchmarks.
        .executable(name: "sluice-kafka-mock", targets: ["KafkaMockCluster"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Sinks", targets: ["Sinks"]),
        .library(name: "Ingestor", targets: ["Ingestor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: [.defaults, "YAML", "Reloading"]),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // System libraries. Each wraps one Debian -dev package; shim.h adds
        // static inline wrappers for variadic functions and macros.
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CRdkafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .systemLibrary(name: "CPrefetch", path: "Sources/CPrefetch"),

        .target(
            name: "Pipeline",
            dependencies: [
                "CPrefetch",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Sinks",
            dependencies: [
                "Pipeline", "CCurl", "CZstd", "CLZ4",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Ingestor",
            dependencies: [
                "Pipeline", "Sinks", "CHiredis", "CRdkafka", "CMalloc",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "Ingestor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "SluiceQueryBenchmark",
            dependencies: [
                "Ingestor", "Sinks", "Pipeline",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "benchmarks/Query",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "KafkaMockCluster",
            dependencies: ["CRdkafka"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "SluiceKafkaBench",
            dependencies: ["Ingestor"],
            path: "benchmarks/kafka/KafkaBench",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "SluiceBenchmarks",
            dependencies: ["Pipeline", "Sinks"],
            path: "benchmarks/Micro",
            swiftSettings: strictSettings
        ),

        .target(
            name: "TestSupport",
            dependencies: [
                "Sinks",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SinksTests",
            dependencies: ["Sinks", "Pipeline", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "IngestorTests",
            dependencies: ["Ingestor", "Sinks", "Pipeline", "TestSupport"],
            swiftSettings: strictSettings
        ),
    ]
)
