import Foundation
import XCTest
@testable import SFTPLogStore
import SFTPLogTestSupport

final class PostgresLocationTests: TemporaryDirectoryTestCase {
    private let noEnv: [String: String] = ["HOME": "/nonexistent"]

    func testAFileIsSQLiteAndBothSchemesArePostgres() throws {
        XCTAssertEqual(try StoreLocation.parse("./sftplog.db", environment: noEnv), .sqlite("./sftplog.db"))
        XCTAssertEqual(try StoreLocation.parse("postgres-notes.db", environment: noEnv), .sqlite("postgres-notes.db"))
        for scheme in ["postgres", "postgresql"] {
            guard case .postgres(let l) = try StoreLocation.parse("\(scheme)://ann@db.example:6432/logs", environment: noEnv) else {
                return XCTFail("\(scheme) is not PostgreSQL")
            }
            XCTAssertEqual([l.user, l.host, String(l.port), l.database], ["ann", "db.example", "6432", "logs"])
        }
    }

    func testURLPartsParametersAndDefaults() throws {
        let l = try PostgresLocation(url: "postgres://a%40b:p%3Ass@[::1]:7000/my%20db?sslmode=require&application_name=fleet&connect_timeout=3",
                                     environment: noEnv)
        XCTAssertEqual(l.user, "a@b")
        XCTAssertEqual(l.password, "p:ss")
        XCTAssertEqual(l.host, "::1")
        XCTAssertEqual(l.port, 7000)
        XCTAssertEqual(l.database, "my db")
        XCTAssertEqual(l.sslMode, .require)
        XCTAssertEqual(l.applicationName, "fleet")
        XCTAssertEqual(l.connectTimeout, 3)
        // Query parameters win over the URL's parts, as in libpq.
        let q = try PostgresLocation(url: "postgres://x@h1/d1?host=h2&port=5999&user=y&dbname=d2", environment: noEnv)
        XCTAssertEqual([q.host, String(q.port), q.user, q.database], ["h2", "5999", "y", "d2"])
        // The PG* variables fill what the URL leaves out; the database defaults to the user.
        let e = try PostgresLocation(url: "postgres://", environment: ["PGHOST": "envhost", "PGPORT": "5433", "PGUSER": "envuser", "PGSSLMODE": "disable"])
        XCTAssertEqual([e.host, String(e.port), e.user, e.database, e.sslMode.rawValue], ["envhost", "5433", "envuser", "envuser", "disable"])
        XCTAssertEqual(try PostgresLocation(url: "postgres:///x?host=/run/postgresql", environment: noEnv).socketPath, "/run/postgresql/.s.PGSQL.5432")
    }

    func testBadURLsAreRefusedWithTheReason() {
        for (url, words) in [("postgres://h/d?sslmode=always", "sslmode"), ("postgres://h:99999/d", "port"),
                             ("postgres://h/d?bogus=1", "unknown connection parameter"), ("postgres://h/d?connect_timeout=soon", "connect_timeout"),
                             ("postgres://h1,h2/d", "several hosts")] {
            XCTAssertThrowsError(try PostgresLocation(url: url, environment: noEnv), url) { e in
                XCTAssertTrue("\(e)".contains(words), "\(url): \(e)")
            }
        }
    }

    func testThePasswordIsNeverInTheRedactedForm() throws {
        let l = try PostgresLocation(url: "postgres://ann:S3cret-pw@db:5432/logs", environment: noEnv)
        XCTAssertEqual(l.redacted, "postgres://ann@db:5432/logs")
        XCTAssertFalse(StoreLocation.postgres(l).displayName.contains("S3cret"))
        XCTAssertEqual(l.passwordSource, "the URL")
    }

    func testPasswordFromTheEnvironmentThenThePasswordFile() throws {
        let file = dir.appendingPathComponent("pgpass").path
        try """
            # comment
            other:5432:logs:ann:wrong-host
            db:5432:logs:ann:pa\\:ss\\\\word
            *:*:*:ann:fallback
            """.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        let env = ["PGPASSFILE": file, "HOME": "/nonexistent"]
        let fromFile = try PostgresLocation(url: "postgres://ann@db/logs", environment: env)
        XCTAssertEqual(fromFile.password, "pa:ss\\word")
        XCTAssertEqual(fromFile.passwordSource, file)
        XCTAssertEqual(try PostgresLocation(url: "postgres://ann@elsewhere:6000/x", environment: env).password, "fallback")
        XCTAssertNil(try PostgresLocation(url: "postgres://bob@db/logs", environment: env).password)
        // $PGPASSWORD comes before the file; the URL before both.
        XCTAssertEqual(try PostgresLocation(url: "postgres://ann@db/logs", environment: env.merging(["PGPASSWORD": "envpw"]) { $1 }).password, "envpw")
        XCTAssertEqual(try PostgresLocation(url: "postgres://ann:urlpw@db/logs", environment: env.merging(["PGPASSWORD": "envpw"]) { $1 }).password, "urlpw")
        // A file others can read is ignored, as libpq does.
        chmod(file, 0o644)
        XCTAssertNil(try PostgresLocation(url: "postgres://ann@db/logs", environment: env).password)
    }
}
