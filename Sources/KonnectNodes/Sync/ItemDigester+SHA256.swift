import KonnectCore
import KonnectSecurity

extension ItemDigester {
    /// Items hashed with SHA-256 from OpenSSL's libcrypto, on the geo and on its subscribers alike.
    static let sha256 = ItemDigester(sha256: { Secrets.sha256Bytes($0) })
}

extension ConfigurationContent {
    /// Kong's hash of the build: MD5 of its canonical bytes, fed piece by piece; 32 zeros when it holds
    /// no item (C1). The same value as `DeclarativeConfig.kongHash` over the same content.
    var kongHash: String {
        isEmpty ? DeclarativeConfig.emptyHash : Secrets.md5Hex { update in write(update) }
    }
}
