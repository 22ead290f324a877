// swift-tools-version:5.4
// 5.4 on purpose: from 5.5 SwiftPM renames an executable's entry point to
// `<Target>_main` and links `--defsym main=<Target>_main`, which breaks
// libFuzzer's own main() ("undefined symbol 'FuzzX_main'").
// libFuzzer harnesses for the sftplog parsers. Not part of the main package:
// build and run with Fuzz/run.sh (see Fuzz/README.md).
import Foundation
import PackageDescription

let fuzzTargets = [
    "FuzzSFTPPlusText", "FuzzJSONEvents", "FuzzCSVEvents", "FuzzOpenSSH", "FuzzRecordStream", "FuzzEntryFormat",
    "FuzzSyslogFrames",
]

let package = Package(
    name: "sftplog-fuzz",
    platforms: [.macOS("13.0")],
    // SFTPLOG_FUZZ_PACKAGE: build against a snapshot of the main package (run.sh --snapshot)
    // instead of the live tree, which other work may be changing mid-build.
    dependencies: [.package(name: "sftplog", path: ProcessInfo.processInfo.environment["SFTPLOG_FUZZ_PACKAGE"] ?? "..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "SFTPLogKit", package: "sftplog")]),
    ] + fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzSupport", .product(name: "SFTPLogKit", package: "sftplog")],
            // libFuzzer supplies main(); the target only defines LLVMFuzzerTestOneInput.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    },
    swiftLanguageVersions: [.v5]
)
