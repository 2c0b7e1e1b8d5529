// swift-tools-version: 6.2
//
// Notarium: evidence notarization and electronic service on open standards.
// Dependencies point one way: C modules ← wrappers (RocksDBStore, Sodium, OpenSSLKit) ← Appliance
// ← NotariumServer / NotariumCLI ← executables. Only the wrappers import C modules.

import PackageDescription

let package = Package(
    name: "Notarium",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "notarium", targets: ["notarium"]),
        .executable(name: "notariumd", targets: ["notariumd"]),
        .executable(name: "notarium-bench", targets: ["notarium-bench"]),
        .executable(name: "notarium-vectors", targets: ["notarium-vectors"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["JSON", "YAML"]),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.5.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // MARK: C libraries from Debian
        .systemLibrary(name: "CRocksDB", pkgConfig: "rocksdb", providers: [.apt(["librocksdb-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        /// OpenSSL's function-like macros (`sk_X509_push` …) as static inline functions Swift can call.
        .target(name: "COpenSSLShims", dependencies: ["COpenSSL"]),
        /// RocksDB's C API has no version call; this C++ shim asks the linked library itself.
        .target(name: "CRocksDBVersion", dependencies: ["CRocksDB"]),

        // MARK: Owning Swift wrappers over the C libraries
        .target(name: "RocksDBStore", dependencies: ["CRocksDB", "CRocksDBVersion"]),
        .target(name: "Sodium", dependencies: ["CSodium"]),
        .target(name: "OpenSSLKit", dependencies: ["COpenSSL", "COpenSSLShims"]),

        // MARK: Formats and the ledger
        /// RFC 8785 canonical JSON and strict base64: the encoding of every long-lived record.
        .target(name: "CanonicalJSON"),
        /// Getting notices to recipients: an SMTP client (STARTTLS, AUTH), Internet messages with
        /// MIME, and RFC 3464 delivery status notifications. Knows nothing of ledgers or services.
        .target(
            name: "DeliveryTransport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        /// The hash-chained RFC 9162 Merkle ledger, its signed checkpoints and its audit.
        .target(name: "Ledger", dependencies: ["CanonicalJSON", "RocksDBStore", "Sodium"]),
        /// The X.509 CA: hierarchy, profiles, issuance from CSRs, revocation, CRLs, OCSP.
        .target(
            name: "CertificateAuthority",
            dependencies: [
                "OpenSSLKit", "Ledger", "CanonicalJSON", "RocksDBStore", "Sodium",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        /// The RFC 3161 time-stamp authority: tokens over HTTP, for ledger entries and checkpoints.
        .target(
            name: "TimeStamping",
            dependencies: [
                "OpenSSLKit", "CertificateAuthority", "Ledger", "RocksDBStore", "Sodium",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),

        /// The records people act on (evidence, service events, awards), their bundles and trust
        /// files: schemas and strict parsing, no storage.
        .target(name: "Records", dependencies: ["CanonicalJSON", "Ledger", "OpenSSLKit"]),
        /// The write side of records: check and record evidence, keep the validation data
        /// captured at signing, export bundles and trust files.
        .target(
            name: "Notary",
            dependencies: ["Records", "Ledger", "CertificateAuthority", "TimeStamping", "OpenSSLKit", "CanonicalJSON", "RocksDBStore", "Sodium"]
        ),
        /// Serving documents: delivery plans, the outbox (at least once on the wire, exactly once
        /// in the ledger), notice templates, and each transport's outcome as a service event.
        .target(
            name: "Delivery",
            dependencies: [
                "DeliveryTransport", "Notary", "Records", "Ledger", "RocksDBStore", "CanonicalJSON", "OpenSSLKit", "Sodium",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        /// Who may use the API: client certificates and their roles (the access list), and the
        /// API's own TLS server certificate.
        .target(
            name: "Access",
            dependencies: [
                "CertificateAuthority", "Records", "Ledger", "OpenSSLKit", "CanonicalJSON", "RocksDBStore", "Sodium",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        /// `notarium verify`: every check of a bundle, offline, with its verdict and report.
        .target(name: "Verification", dependencies: ["Records", "Ledger", "OpenSSLKit", "CanonicalJSON"]),

        // MARK: The appliance: configuration, data directory, logging
        .target(
            name: "Appliance",
            dependencies: [
                "RocksDBStore", "Sodium", "OpenSSLKit", "CanonicalJSON", "Ledger", "CertificateAuthority", "TimeStamping", "Notary", "Access", "Delivery", "DeliveryTransport",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // MARK: Front ends
        .target(
            name: "NotariumServer",
            dependencies: [
                "Appliance", "Ledger", "CanonicalJSON", "CertificateAuthority", "OpenSSLKit", "TimeStamping", "Records", "Notary", "Access", "RocksDBStore", "Delivery", "DeliveryTransport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "NotariumCLI",
            dependencies: [
                "Appliance", "RocksDBStore", "Sodium", "Ledger", "CanonicalJSON", "CertificateAuthority", "OpenSSLKit", "TimeStamping",
                "Records", "Notary", "Verification", "Access",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "notarium", dependencies: ["NotariumCLI"]),
        .executableTarget(
            name: "notariumd",
            dependencies: [
                "NotariumServer", "Appliance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "notarium-bench",
            dependencies: [
                "RocksDBStore", "Appliance", "Ledger", "CanonicalJSON", "Sodium", "CertificateAuthority", "OpenSSLKit", "TimeStamping",
                "Records", "Notary", "Verification", "Delivery", "DeliveryTransport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Writes Vectors/bundles/ (valid and broken bundles, manifest.json, trust.json).
        .executableTarget(
            name: "notarium-vectors",
            dependencies: [
                "Appliance", "Ledger", "CanonicalJSON", "Sodium", "CertificateAuthority", "OpenSSLKit", "TimeStamping", "Records", "Notary", "RocksDBStore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Tests
        /// Temporary directories, built executables, background processes, curl: for tests only.
        .target(name: "NotariumTestKit", path: "Tests/NotariumTestKit"),
        .testTarget(name: "RocksDBStoreTests", dependencies: ["RocksDBStore", "NotariumTestKit"]),
        .testTarget(name: "SodiumTests", dependencies: ["Sodium", "NotariumTestKit"], exclude: ["open_sealed_key.py"]),
        .testTarget(name: "OpenSSLKitTests", dependencies: ["OpenSSLKit", "NotariumTestKit"]),
        .testTarget(name: "CanonicalJSONTests", dependencies: ["CanonicalJSON", "NotariumTestKit"]),
        .testTarget(
            name: "LedgerTests",
            dependencies: ["Ledger", "CanonicalJSON", "RocksDBStore", "Sodium", "NotariumTestKit"],
            exclude: ["GoVerifier"]),
        .testTarget(
            name: "CertificateAuthorityTests",
            dependencies: [
                "CertificateAuthority", "OpenSSLKit", "Ledger", "RocksDBStore", "Sodium", "CanonicalJSON", "NotariumTestKit",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["check_chain.py"]),
        .testTarget(
            name: "TimeStampingTests",
            dependencies: [
                "TimeStamping", "CertificateAuthority", "OpenSSLKit", "Ledger", "RocksDBStore", "Sodium", "NotariumTestKit",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["rfc3161_client_check.py"]),
        .testTarget(name: "RecordsTests", dependencies: ["Records", "CanonicalJSON", "OpenSSLKit", "NotariumTestKit"]),
        .testTarget(name: "NotaryTests", dependencies: ["Notary", "RocksDBStore", "Sodium", "NotariumTestKit"]),
        .testTarget(
            name: "VerificationTests", dependencies: ["Verification", "Records", "CanonicalJSON", "Ledger", "Sodium", "NotariumTestKit"],
            exclude: ["check_schemas.py"]),
        .testTarget(
            name: "AccessTests",
            dependencies: [
                "Access", "CertificateAuthority", "Ledger", "OpenSSLKit", "Records", "RocksDBStore", "Sodium", "CanonicalJSON", "NotariumTestKit",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "ApplianceTests", dependencies: ["Appliance", "RocksDBStore", "NotariumTestKit"]),
        .testTarget(name: "NotariumServerTests", dependencies: ["Appliance", "NotariumServer", "NotariumTestKit"], exclude: ["api_e2e.py", "contract_check.py", "schemathesis.toml", "schemathesis_hooks.py", "portal_browser.py"]),
        .testTarget(
            name: "DeliveryTransportTests", dependencies: ["DeliveryTransport", "NotariumTestKit"],
            exclude: ["mail_relay.py", "read_maildir.py", "read_dsn.py", "postfix.sh", "sms_gateway.py", "injecting_relay.py"]),
        .testTarget(
            name: "DeliveryTests", dependencies: ["Delivery", "DeliveryTransport", "Appliance", "Notary", "Records", "Sodium", "CanonicalJSON", "Ledger", "Verification", "RocksDBStore", "TimeStamping", "NotariumTestKit"],
            exclude: ["open_vault_value.py"]),
        .testTarget(name: "NotariumCLITests", dependencies: ["Appliance", "Sodium", "NotariumTestKit"]),
    ]
)
