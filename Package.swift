// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "sftplog",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sftplog", targets: ["sftplog"]),
        .executable(name: "sftplog-bench", targets: ["sftplog-bench"]),
        .library(name: "SFTPLogKit", targets: ["SFTPLogKit"]),
        .library(name: "SFTPLogPostgres", targets: ["SFTPLogPostgres"]),
        .library(name: "SFTPLogWatch", targets: ["SFTPLogWatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        // Already under postgres-nio; named for the webhook client of `watch`.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // zlib, libbz2 and liblzma from the system, for compressed inputs.
        .systemLibrary(
            name: "CCompression",
            pkgConfig: "liblzma",
            providers: [.apt(["zlib1g-dev", "libbz2-dev", "liblzma-dev"]), .brew(["xz"])]
        ),
        // sqlite3_config (variadic C) for the one setting Swift cannot reach.
        .target(name: "CSQLiteConfig", linkerSettings: [.linkedLibrary("sqlite3")]),
        // The engine, one target per stage; each may use only the stages before it
        // (docs/architecture.md draws the graph).
        .target(name: "SFTPLogRecords", dependencies: ["CCompression"]),
        .target(name: "SFTPLogCatalog", dependencies: ["SFTPLogRecords"]),
        .target(name: "SFTPLogSFTPPlus", dependencies: ["SFTPLogRecords"]),
        .target(name: "SFTPLogOpenSSH", dependencies: ["SFTPLogRecords", "SFTPLogCatalog"]),
        .target(
            name: "SFTPLogSessions",
            dependencies: ["SFTPLogRecords", "SFTPLogCatalog", "SFTPLogOpenSSH", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "SFTPLogStore",
            dependencies: [
                "SFTPLogRecords", "SFTPLogCatalog", "SFTPLogSessions", "CSQLiteConfig",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // The PostgreSQL store (`--db postgres://…`), apart from SFTPLogStore so that
        // the engine builds without the network stack for programs that need only SQLite.
        .target(
            name: "SFTPLogPostgres",
            dependencies: [
                "SFTPLogRecords", "SFTPLogCatalog", "SFTPLogSessions", "SFTPLogStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .target(name: "SFTPLogReport", dependencies: ["SFTPLogRecords", "SFTPLogCatalog", "SFTPLogSessions", "SFTPLogStore"]),
        .target(
            name: "SFTPLogPipeline",
            dependencies: ["SFTPLogRecords", "SFTPLogCatalog", "SFTPLogSFTPPlus", "SFTPLogOpenSSH", "SFTPLogSessions", "SFTPLogStore"]
        ),
        // Alerts from records and sessions (`watch`): rules are data, catalog/alert-rules.json.
        .target(name: "SFTPLogAlerts", dependencies: ["SFTPLogRecords", "SFTPLogCatalog", "SFTPLogOpenSSH", "SFTPLogSessions"]),
        // `watch`: syslog listeners, following, and alert delivery (stdout, syslog, webhooks).
        .target(
            name: "SFTPLogWatch",
            dependencies: [
                "SFTPLogRecords", "SFTPLogCatalog", "SFTPLogSessions", "SFTPLogStore", "SFTPLogReport", "SFTPLogPipeline", "SFTPLogAlerts",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The engine re-exported, with the catalogue as resources. PostgreSQL and
        // `watch` are libraries of their own (they bring SwiftNIO and BoringSSL).
        .target(
            name: "SFTPLogKit",
            dependencies: [
                "SFTPLogRecords", "SFTPLogCatalog", "SFTPLogSFTPPlus", "SFTPLogOpenSSH", "SFTPLogSessions", "SFTPLogStore",
                "SFTPLogReport", "SFTPLogPipeline", "SFTPLogAlerts",
            ],
            resources: [.copy("Resources/catalog")]
        ),
        .executableTarget(
            name: "sftplog",
            dependencies: [
                "SFTPLogKit", "SFTPLogPostgres", "SFTPLogWatch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "sftplog-bench",
            dependencies: ["SFTPLogKit"]
        ),
        // Paths, the CLI runner and scratch directories, for both test targets.
        .target(name: "SFTPLogTestSupport", dependencies: ["SFTPLogKit"], path: "Tests/SFTPLogTestSupport"),
        .testTarget(
            name: "SFTPLogKitTests",
            // Each stage too, for @testable imports of its internals.
            dependencies: ["SFTPLogKit", "SFTPLogTestSupport", .product(name: "Yams", package: "Yams"), "SFTPLogRecords", "SFTPLogCatalog", "SFTPLogSFTPPlus", "SFTPLogOpenSSH", "SFTPLogSessions", "SFTPLogStore", "SFTPLogReport", "SFTPLogPipeline", "SFTPLogAlerts", "SFTPLogWatch"],
            exclude: ["Fixtures"]
        ),
        // Tests that run the built `sftplog` as a user would: depending on the
        // executable makes SwiftPM build it first.
        .testTarget(
            name: "sftplogCLITests",
            dependencies: [
                "sftplog",
                "SFTPLogKit",
                "SFTPLogTestSupport",
                "SFTPLogRecords", "SFTPLogCatalog", "SFTPLogSFTPPlus", "SFTPLogOpenSSH", "SFTPLogSessions", "SFTPLogStore",
                "SFTPLogReport", "SFTPLogPipeline", "SFTPLogAlerts", "SFTPLogWatch",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
