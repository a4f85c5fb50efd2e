import Foundation
import KonnectCore
import Testing

@testable import KonnectSecurity

/// Issue 17: a cluster's certificate authority, the leaf certificates it issues for TLS links, self-signed
/// certificates for pinning, and reading any PEM text without crashing.
@Suite struct CertificateTests {
    static let day: Int64 = 86_400
    let authority: CertificateAuthority

    init() throws {
        authority = try CertificateAuthority.create(commonName: "konnect-sim cluster CA")
    }

    func issueNode(_ authority: CertificateAuthority? = nil) throws -> IssuedCertificate {
        try (authority ?? self.authority).issue(
            commonName: "geo-eu", organizationalUnit: "geo", ipAddresses: ["127.0.0.1", "10.0.0.7"],
            dnsNames: ["geo-eu.konnect.local"], usage: .serverAndClient)
    }

    /// The DER bytes inside a PEM certificate, decoded here with Foundation, independently of libcrypto.
    func der(_ pem: String) throws -> [UInt8] {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return Array(try #require(Data(base64Encoded: body)))
    }

    @Test func anAuthorityIsASelfSignedCAValidForTenYears() throws {
        let now = Int64(Date().timeIntervalSince1970)
        let info = try CertificateInfo(pem: authority.certificatePEM)
        #expect(info.commonName == "konnect-sim cluster CA")
        #expect(info.organizationalUnit == nil)
        #expect(info.isAuthority)
        #expect(abs(info.notBefore - (now - 3600)) <= 60, "valid from one hour ago")
        #expect(abs(info.notAfter - (now + 3650 * Self.day)) <= 60, "valid for 10 years")
        #expect(authority.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8")
    }

    @Test func anIssuedLeafSaysItsNamesValidityAndThatItIsNoAuthority() throws {
        let now = Int64(Date().timeIntervalSince1970)
        let leaf = try issueNode()
        let info = try CertificateInfo(pem: leaf.certificatePEM)
        #expect(info.commonName == "geo-eu")
        #expect(info.organizationalUnit == "geo")
        #expect(!info.isAuthority)
        #expect(abs(info.notBefore - (now - 3600)) <= 60)
        #expect(abs(info.notAfter - (now + 825 * Self.day)) <= 60, "825 days by default")
        #expect(leaf.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----\n"))
        #expect(leaf.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))

        let short = try authority.issue(
            commonName: "dp-1", organizationalUnit: nil, ipAddresses: [], dnsNames: [], usage: .client, days: 2)
        let shortInfo = try CertificateInfo(pem: short.certificatePEM)
        #expect(shortInfo.organizationalUnit == nil)
        #expect(abs(shortInfo.notAfter - (now + 2 * Self.day)) <= 60)
    }

    @Test func aLeafsSubjectAltNamesCoverItsAddressesAndNamesOnly() throws {
        let leaf = try issueNode()
        #expect(try CertificateAuthority.names(of: leaf.certificatePEM, cover: "127.0.0.1", host: nil))
        #expect(
            try CertificateAuthority.names(of: leaf.certificatePEM, cover: "10.0.0.7", host: "geo-eu.konnect.local"))
        #expect(try !CertificateAuthority.names(of: leaf.certificatePEM, cover: "127.0.0.2", host: nil))
        #expect(try !CertificateAuthority.names(of: leaf.certificatePEM, cover: nil, host: "geo-us.konnect.local"))
    }

    @Test func theFingerprintIsTheSHA256OfTheDERAndStable() throws {
        let leaf = try issueNode()
        #expect(leaf.fingerprint.count == 64)
        #expect(leaf.fingerprint.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(leaf.fingerprint == Secrets.sha256Hex(try der(leaf.certificatePEM)))
        #expect(try CertificateInfo(pem: leaf.certificatePEM).fingerprint == leaf.fingerprint)
        #expect(try CertificateInfo(pem: leaf.certificatePEM).fingerprint == leaf.fingerprint, "read twice, same")
        let authorityInfo = try CertificateInfo(pem: authority.certificatePEM)
        #expect(authorityInfo.fingerprint == Secrets.sha256Hex(try der(authority.certificatePEM)))
        #expect(try issueNode().fingerprint != leaf.fingerprint, "each issue is a new certificate and key")
    }

    @Test func anAuthorityLoadsBackAndIssuesLeavesThatVerifyAgainstIt() throws {
        let loaded = try CertificateAuthority(
            certificatePEM: authority.certificatePEM, privateKeyPEM: authority.privateKeyPEM)
        #expect(loaded.certificatePEM == authority.certificatePEM)
        #expect(loaded.privateKeyPEM == authority.privateKeyPEM)
        let leaf = try issueNode(loaded)
        try authority.verify(leafPEM: leaf.certificatePEM)
        try loaded.verify(leafPEM: try issueNode().certificatePEM)
    }

    @Test func aLeafDoesNotVerifyAgainstAnotherAuthority() throws {
        let other = try CertificateAuthority.create(commonName: "another cluster CA")
        let leaf = try issueNode()
        let error = #expect(throws: CertificateError.self) { try other.verify(leafPEM: leaf.certificatePEM) }
        #expect(error?.message.contains("does not verify") == true, "\(String(describing: error))")
        let selfSigned = try IssuedCertificate.selfSigned(commonName: "dp-pinned")
        #expect(throws: CertificateError.self) { try authority.verify(leafPEM: selfSigned.certificatePEM) }
    }

    @Test func anAuthorityWithAnotherAuthoritysKeyDoesNotLoad() throws {
        let other = try CertificateAuthority.create(commonName: "another cluster CA")
        let error = #expect(throws: CertificateError.self) {
            try CertificateAuthority(certificatePEM: authority.certificatePEM, privateKeyPEM: other.privateKeyPEM)
        }
        #expect(error?.message.contains("does not belong") == true, "\(String(describing: error))")
    }

    @Test func aLeafDoesNotLoadAsAnAuthority() throws {
        let leaf = try issueNode()
        let error = #expect(throws: CertificateError.self) {
            try CertificateAuthority(certificatePEM: leaf.certificatePEM, privateKeyPEM: leaf.privateKeyPEM)
        }
        #expect(error?.message.contains("not a certificate authority") == true, "\(String(describing: error))")
        let garbageKey = #expect(throws: CertificateError.self) {
            try CertificateAuthority(certificatePEM: authority.certificatePEM, privateKeyPEM: "not a key")
        }
        #expect(garbageKey?.message.contains("private key") == true, "\(String(describing: garbageKey))")
    }

    @Test func aSelfSignedCertificateIsNoAuthority() throws {
        let pinned = try IssuedCertificate.selfSigned(commonName: "dp-pinned", days: 30)
        let info = try CertificateInfo(pem: pinned.certificatePEM)
        #expect(info.commonName == "dp-pinned")
        #expect(!info.isAuthority)
        #expect(info.fingerprint == pinned.fingerprint)
        #expect(abs(info.notAfter - (Int64(Date().timeIntervalSince1970) + 30 * Self.day)) <= 60)
        #expect(throws: CertificateError.self) {
            try CertificateAuthority(certificatePEM: pinned.certificatePEM, privateKeyPEM: pinned.privateKeyPEM)
        }
    }

    enum BadPEM: CaseIterable, Sendable {
        case empty, garbage, truncated, privateKey, tooLong, notACertificateInside, trailingBytes
    }

    @Test(arguments: BadPEM.allCases) func badPEMIsAnErrorSayingWhatIsWrong(_ bad: BadPEM) throws {
        let leaf = try issueNode()
        let (pem, expected): (String, String) =
            switch bad {
            case .empty: ("", "empty")
            case .garbage: ("hello, I am not a certificate\n", "not PEM")
            case .truncated: (String(leaf.certificatePEM.prefix(leaf.certificatePEM.count / 2)), "cut short")
            case .privateKey: (leaf.privateKeyPEM, "PRIVATE KEY block but no certificate")
            case .tooLong: (leaf.certificatePEM + String(repeating: "A", count: 20 * 1024), "16 KiB")
            case .notACertificateInside:
                ("-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n", "not an X.509 certificate")
            case .trailingBytes:
                (
                    "-----BEGIN CERTIFICATE-----\n" + Data(try der(leaf.certificatePEM) + [0, 0]).base64EncodedString()
                        + "\n-----END CERTIFICATE-----\n", "bytes after"
                )
            }
        let error = #expect(throws: CertificateError.self) { try CertificateInfo(pem: pem) }
        #expect(error?.message.contains(expected) == true, "\(bad): \(String(describing: error))")
    }

    @Test func aKeyThenACertificateReadsTheCertificate() throws {
        let leaf = try issueNode()
        let info = try CertificateInfo(pem: leaf.privateKeyPEM + leaf.certificatePEM)
        #expect(info.fingerprint == leaf.fingerprint)
    }

    @Test func damagedCertificatesNeverCrash() throws {
        // Seeded byte flips and cuts of a real certificate's DER: each either reads or is a CertificateError.
        let original = try der(try issueNode().certificatePEM)
        var generator = SeededRandom(seed: 17)
        var rejected = 0
        for _ in 0..<500 {
            var bytes = original
            for _ in 0..<Int(generator.next() % 4 + 1) {
                let index = Int(generator.next() % UInt64(bytes.count))
                bytes[index] = UInt8(truncatingIfNeeded: generator.next())
            }
            if generator.next() % 3 == 0 { bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count)))) }
            let pem = "-----BEGIN CERTIFICATE-----\n\(Data(bytes).base64EncodedString())\n-----END CERTIFICATE-----\n"
            do { _ = try CertificateInfo(pem: pem) } catch { rejected += 1 }
        }
        #expect(rejected > 0, "some damage must be detected")
    }

    @Test(arguments: ["1.2.3", "256.0.0.1", "127.0.0.1x", "", "localhost", "::1"])
    func aBadIPAddressIsAnError(_ address: String) throws {
        let error = #expect(throws: CertificateError.self) {
            try authority.issue(
                commonName: "geo-eu", organizationalUnit: nil, ipAddresses: [address], dnsNames: [], usage: .server)
        }
        #expect(error?.message.contains("'\(address)' is not an IPv4 address") == true, "\(String(describing: error))")
    }

    @Test func badNamesAndValiditiesAreErrors() throws {
        let cases: [(String?, String, [String], Int, String)] = [
            (nil, "", [], 825, "common name (CN) is empty"),
            (nil, String(repeating: "x", count: 65), [], 825, "common name (CN)"),
            ("", "geo", [], 825, "organizational unit (OU) is empty"),
            (nil, "geo", ["bad name"], 825, "'bad name' is not a DNS name"),
            (nil, "geo", [], 0, "1 to 36500 days, not 0"),
            (nil, "geo", [], -5, "not -5"),
        ]
        for (unit, commonName, dnsNames, days, expected) in cases {
            let error = #expect(throws: CertificateError.self) {
                try authority.issue(
                    commonName: commonName, organizationalUnit: unit, ipAddresses: [], dnsNames: dnsNames,
                    usage: .server, days: days)
            }
            #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
        }
        #expect(throws: CertificateError.self) { try IssuedCertificate.selfSigned(commonName: "dp", days: 0) }
    }
}
