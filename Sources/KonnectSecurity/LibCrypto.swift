import CCrypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The libcrypto calls behind certificates and their keys, each checked, each object freed by the
/// caller that owns it. These functions leave the error queue alone: public entry points call
/// `ERR_clear_error()` first so that messages only carry their own failures.
enum LibCrypto {
    /// The largest PEM text read: a cluster's certificates are under 1 KiB.
    static let maximumPEMBytes = 16 * 1024
    /// The longest validity a certificate may be issued with (100 years).
    static let maximumDays = 36_500

    // MARK: Keys

    /// A fresh EC P-256 key; the caller frees it with `EVP_PKEY_free`.
    static func generateKey() throws(CertificateError) -> OpaquePointer {
        guard let key = ccrypto_generate_p256_key() else { throw .libcrypto("generating an EC P-256 key") }
        return key
    }

    /// A private key as unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").
    static func privateKeyPEM(_ key: OpaquePointer) throws(CertificateError) -> String {
        try writePEM("writing the private key as PKCS#8 PEM") {
            PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil)
        }
    }

    /// Reads an unencrypted PEM private key; the caller frees it with `EVP_PKEY_free`.
    static func readPrivateKey(pem: String) throws(CertificateError) -> OpaquePointer {
        let bio = try memoryBIO(holding: pem, what: "private key")
        defer { BIO_free(bio) }
        // A callback that gives no passphrase: an encrypted key fails instead of prompting on a terminal.
        guard let key = PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) else {
            throw .libcrypto("reading the private key PEM", "expected an unencrypted -----BEGIN PRIVATE KEY----- block")
        }
        return key
    }

    // MARK: Certificates

    static func certificatePEM(_ certificate: OpaquePointer) throws(CertificateError) -> String {
        try writePEM("writing the certificate as PEM") { PEM_write_bio_X509($0, certificate) }
    }

    /// The first CERTIFICATE block of PEM text, decoded; the caller frees it with `X509_free`.
    static func readCertificate(pem: String) throws(CertificateError) -> OpaquePointer {
        let bio = try memoryBIO(holding: pem, what: "certificate")
        defer { BIO_free(bio) }
        var skipped: [String] = []
        while true {
            var name: UnsafeMutablePointer<CChar>? = nil
            var header: UnsafeMutablePointer<CChar>? = nil
            var data: UnsafeMutablePointer<UInt8>? = nil
            var length = 0
            guard PEM_read_bio(bio, &name, &header, &data, &length) == 1 else {
                let code = ERR_peek_last_error()
                let noMoreBlocks = ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE
                if noMoreBlocks && !skipped.isEmpty {
                    ERR_clear_error()
                    throw CertificateError(
                        "the PEM text holds \(skipped.map { "a \($0)" }.joined(separator: ", ")) but no certificate: "
                            + "expected a -----BEGIN CERTIFICATE----- block")
                }
                if noMoreBlocks {
                    throw .libcrypto(
                        "reading the certificate", "the text is not PEM, expected a -----BEGIN CERTIFICATE----- line")
                }
                throw .libcrypto("reading the certificate", "its PEM block is cut short or damaged")
            }
            defer {
                ccrypto_free(name)
                ccrypto_free(header)
                ccrypto_free(data)
            }
            let type = name.map { String(cString: $0) } ?? ""
            guard type == "CERTIFICATE" else {
                skipped.append("PEM \(type.isEmpty ? "block" : "\(type) block")")
                continue
            }
            guard let data, length > 0 else { throw CertificateError("the PEM CERTIFICATE block is empty") }
            var cursor: UnsafePointer<UInt8>? = UnsafePointer(data)
            guard let certificate = d2i_X509(nil, &cursor, length) else {
                throw .libcrypto("decoding the CERTIFICATE block's DER", "it is not an X.509 certificate")
            }
            guard cursor == UnsafePointer(data + length) else {
                X509_free(certificate)
                throw CertificateError("the CERTIFICATE block has bytes after the certificate's DER")
            }
            return certificate
        }
    }

    /// The certificate's DER encoding.
    static func derBytes(_ certificate: OpaquePointer) throws(CertificateError) -> [UInt8] {
        let length = i2d_X509(certificate, nil)
        guard length > 0 else { throw .libcrypto("encoding the certificate as DER") }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return i2d_X509(certificate, &cursor)
        }
        guard written == length else { throw .libcrypto("encoding the certificate as DER") }
        return der
    }

    /// SHA-256 over the DER bytes, lowercase hex: what pinning compares.
    static func fingerprint(_ certificate: OpaquePointer) throws(CertificateError) -> String {
        Secrets.sha256Hex(try derBytes(certificate))
    }

    static func isAuthority(_ certificate: OpaquePointer) -> Bool {
        X509_get_extension_flags(certificate) & UInt32(EXFLAG_CA) != 0
    }

    /// The first subject entry with `nid` (e.g. `NID_commonName`) as UTF-8, nil when there is none.
    static func subjectEntry(_ certificate: OpaquePointer, nid: Int32, what: String) throws(CertificateError)
        -> String?
    {
        guard let name = X509_get_subject_name(certificate) else { return nil }
        let index = X509_NAME_get_index_by_NID(name, nid, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index), let value = X509_NAME_ENTRY_get_data(entry)
        else { return nil }
        var utf8: UnsafeMutablePointer<UInt8>? = nil
        let length = ASN1_STRING_to_UTF8(&utf8, value)
        guard length >= 0, let utf8 else { throw .libcrypto("reading the subject's \(what) as UTF-8") }
        defer { ccrypto_free(utf8) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }

    /// An ASN.1 time as Unix seconds.
    static func unixSeconds(_ time: UnsafePointer<ASN1_TIME>?, what: String) throws(CertificateError) -> Int64 {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else {
            throw .libcrypto("reading the certificate's \(what)")
        }
        return Int64(timegm(&parts))
    }

    /// A subject alternative name, checked before it reaches libcrypto.
    enum AlternativeName {
        case ipAddress(String)
        case dnsName(String)
    }

    /// Builds and signs an X.509 v3 certificate for `publicKey`: random 127-bit serial, valid from one hour
    /// ago for `days` days, subject CN (and OU), the `extensions` given in OpenSSL's configuration syntax
    /// (fixed strings only, never user text), and `alternativeNames`. `issuer` nil makes it self-signed.
    /// The caller frees the result with `X509_free`.
    static func makeCertificate(
        commonName: String, organizationalUnit: String?, publicKey: OpaquePointer, issuer: OpaquePointer?,
        signingKey: OpaquePointer, days: Int, extensions: [(nid: Int32, value: String)],
        alternativeNames: [AlternativeName]
    ) throws(CertificateError) -> OpaquePointer {
        guard (1...maximumDays).contains(days) else {
            throw CertificateError("a certificate's validity must be 1 to \(maximumDays) days, not \(days)")
        }
        guard !commonName.isEmpty else { throw CertificateError("the certificate's common name (CN) is empty") }
        if let organizationalUnit, organizationalUnit.isEmpty {
            throw CertificateError("the certificate's organizational unit (OU) is empty: pass nil for none")
        }
        for name in alternativeNames { try check(name) }

        guard let certificate = X509_new() else { throw .libcrypto("allocating a certificate (X509_new)") }
        var built = false
        defer { if !built { X509_free(certificate) } }

        guard X509_set_version(certificate, Int(X509_VERSION_3)) == 1 else { throw .libcrypto("setting version 3") }
        try setRandomSerial(certificate)
        guard X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nil else {
            throw .libcrypto("setting notBefore")
        }
        guard X509_time_adj_ex(X509_getm_notAfter(certificate), Int32(days), 0, nil) != nil else {
            throw .libcrypto("setting notAfter to \(days) days from now")
        }
        try setSubject(certificate, commonName: commonName, organizationalUnit: organizationalUnit)
        let issuerName = X509_get_subject_name(issuer ?? certificate)
        guard X509_set_issuer_name(certificate, issuerName) == 1 else { throw .libcrypto("setting the issuer name") }
        guard X509_set_pubkey(certificate, publicKey) == 1 else { throw .libcrypto("setting the public key") }

        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer ?? certificate, certificate, nil, nil, 0)
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw .libcrypto("making the \(String(cString: OBJ_nid2sn(nid))) extension '\(value)'")
            }
            defer { X509_EXTENSION_free(ext) }
            guard X509_add_ext(certificate, ext, -1) == 1 else {
                throw .libcrypto("adding the \(String(cString: OBJ_nid2sn(nid))) extension")
            }
        }
        if !alternativeNames.isEmpty { try addAlternativeNames(certificate, alternativeNames) }

        guard X509_sign(certificate, signingKey, EVP_sha256()) > 0 else {
            throw .libcrypto("signing the certificate with ECDSA SHA-256")
        }
        built = true
        return certificate
    }

    private static func check(_ name: AlternativeName) throws(CertificateError) {
        switch name {
        case .ipAddress(let text):
            var address = in_addr()
            guard inet_pton(AF_INET, text, &address) == 1 else {
                throw CertificateError(
                    "'\(text)' is not an IPv4 address: write it as four dotted numbers, e.g. 127.0.0.1")
            }
        case .dnsName(let text):
            let allowed = text.utf8.allSatisfy { byte in
                (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == 0x2D || byte == 0x2E || byte == 0x2A || byte == 0x5F
            }
            guard !text.isEmpty, text.utf8.count <= 253, allowed else {
                throw CertificateError(
                    "'\(text)' is not a DNS name: use 1 to 253 ASCII letters, digits, '-', '.', '_' or '*'")
            }
        }
    }

    private static func setRandomSerial(_ certificate: OpaquePointer) throws(CertificateError) {
        var bytes = Secrets.randomBytes(16)
        bytes[0] &= 0x7F  // a positive INTEGER whose DER stays 16 bytes
        guard let number = BN_bin2bn(bytes, Int32(bytes.count), nil) else { throw .libcrypto("making the serial") }
        defer { BN_free(number) }
        guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil else {
            throw .libcrypto("setting the serial number")
        }
    }

    private static func setSubject(_ certificate: OpaquePointer, commonName: String, organizationalUnit: String?)
        throws(CertificateError)
    {
        guard let name = X509_NAME_new() else { throw .libcrypto("allocating a subject name") }
        defer { X509_NAME_free(name) }
        var entries: [(nid: Int32, label: String, value: String)] = []
        if let organizationalUnit {
            entries.append((NID_organizationalUnitName, "organizational unit (OU)", organizationalUnit))
        }
        entries.append((NID_commonName, "common name (CN)", commonName))
        for (nid, label, value) in entries {
            let bytes = Array(value.utf8)
            guard X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, bytes, Int32(bytes.count), -1, 0) == 1 else {
                throw .libcrypto("setting the \(label) '\(value)'", "it may have at most 64 characters")
            }
        }
        guard X509_set_subject_name(certificate, name) == 1 else { throw .libcrypto("setting the subject name") }
    }

    private static func addAlternativeNames(_ certificate: OpaquePointer, _ alternativeNames: [AlternativeName])
        throws(CertificateError)
    {
        guard let names = GENERAL_NAMES_new() else { throw .libcrypto("allocating subjectAltName") }
        defer { GENERAL_NAMES_free(names) }
        for alternativeName in alternativeNames {
            let (type, text) =
                switch alternativeName {
                case .ipAddress(let text): (GEN_IPADD, text)
                case .dnsName(let text): (GEN_DNS, text)
                }
            guard let name = a2i_GENERAL_NAME(nil, nil, nil, type, text, 0) else {
                throw .libcrypto("making the subjectAltName entry '\(text)'")
            }
            guard OPENSSL_sk_push(names, name) > 0 else {
                GENERAL_NAME_free(name)
                throw .libcrypto("adding the subjectAltName entry '\(text)'")
            }
        }
        guard X509_add1_ext_i2d(certificate, NID_subject_alt_name, UnsafeMutableRawPointer(names), 0, 0) == 1 else {
            throw .libcrypto("adding the subjectAltName extension")
        }
    }

    // MARK: Verification

    /// Checks that `leaf` chains to `authority` (the only trusted certificate) now; the error says why not.
    static func verify(leaf: OpaquePointer, authority: OpaquePointer) throws(CertificateError) {
        guard let store = X509_STORE_new() else { throw .libcrypto("allocating a certificate store") }
        defer { X509_STORE_free(store) }
        guard X509_STORE_add_cert(store, authority) == 1 else { throw .libcrypto("trusting the authority") }
        guard let context = X509_STORE_CTX_new() else { throw .libcrypto("allocating a verification context") }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, leaf, nil) == 1 else {
            throw .libcrypto("starting the verification")
        }
        guard X509_verify_cert(context) == 1 else {
            let reason = String(cString: X509_verify_cert_error_string(Int(X509_STORE_CTX_get_error(context))))
            ERR_clear_error()
            throw CertificateError("the certificate does not verify against the authority: \(reason)")
        }
    }

    // MARK: Memory BIOs

    /// A memory BIO holding a copy of `text`, after checking it is neither empty nor too long.
    private static func memoryBIO(holding text: String, what: String) throws(CertificateError) -> OpaquePointer {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else {
            throw CertificateError(
                "the \(what) PEM text is empty: expected a -----BEGIN \(what.uppercased())----- block")
        }
        guard bytes.count <= maximumPEMBytes else {
            throw CertificateError(
                "the \(what) PEM text is \(bytes.count) bytes, more than the \(maximumPEMBytes) (16 KiB) allowed")
        }
        guard let bio = BIO_new(BIO_s_mem()) else { throw .libcrypto("allocating a memory BIO") }
        let written = bytes.withUnsafeBytes { BIO_write(bio, $0.baseAddress, Int32($0.count)) }
        guard written == bytes.count else {
            BIO_free(bio)
            throw .libcrypto("copying the \(what) PEM text into a memory BIO")
        }
        return bio
    }

    private static func writePEM(_ step: String, _ write: (OpaquePointer) -> Int32) throws(CertificateError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw .libcrypto("allocating a memory BIO for \(step)") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw .libcrypto(step) }
        var start: UnsafeMutablePointer<CChar>? = nil
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &start)
        guard length > 0, let start else { throw .libcrypto("\(step) (no output)") }
        return String(decoding: UnsafeRawBufferPointer(start: start, count: length), as: UTF8.self)
    }
}
