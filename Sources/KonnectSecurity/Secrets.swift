import CCrypt
import CCrypto

/// Cryptography from the system's libraries, never hand-rolled: random bytes from OpenSSL's CSPRNG,
/// SHA-256 and MD5 from libcrypto, and password hashing with yescrypt from libcrypt.
public enum Secrets {
    /// Bytes from OpenSSL's CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let status = bytes.withUnsafeMutableBytes {
            RAND_bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(count))
        }
        precondition(status == 1, "OpenSSL's RAND_bytes failed: the system has no entropy source")
        return bytes
    }

    /// A random token: `prefix` followed by 43 base62 characters (256 bits).
    public static func token(prefix: String) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var result = prefix
        // Rejection sampling keeps every character uniformly likely.
        while result.count < prefix.count + 43 {
            for byte in randomBytes(64) where byte < 248 {
                result.append(alphabet[Int(byte) % 62])
                if result.count == prefix.count + 43 { break }
            }
        }
        return result
    }

    /// SHA-256 as lowercase hex: how tokens are stored (never in clear).
    public static func sha256Hex(_ bytes: [UInt8]) -> String { hex(digest(bytes, EVP_sha256(), length: 32)) }
    public static func sha256Bytes(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha256(), length: 32) }
    public static func sha256Hex(_ text: String) -> String { sha256Hex(Array(text.utf8)) }

    /// MD5 as lowercase hex: Kong's configuration hash format (a content fingerprint, not a secret).
    public static func md5Hex(_ bytes: [UInt8]) -> String { hex(digest(bytes, EVP_md5(), length: 16)) }

    /// MD5 as lowercase hex of bytes handed over in pieces: `feed` calls its argument with each piece
    /// in order (a configuration's build, hashed without being assembled).
    public static func md5Hex(feeding feed: (_ update: ([UInt8]) -> Void) -> Void) -> String {
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("OpenSSL cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        precondition(EVP_DigestInit_ex(context, EVP_md5(), nil) == 1, "OpenSSL's EVP_DigestInit_ex failed")
        feed { piece in
            let status = piece.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
            precondition(status == 1, "OpenSSL's EVP_DigestUpdate failed")
        }
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var size: UInt32 = 0
        let status = output.withUnsafeMutableBytes {
            EVP_DigestFinal_ex(context, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), &size)
        }
        precondition(status == 1, "OpenSSL's EVP_DigestFinal_ex failed")
        return hex(Array(output[0..<Int(size)]))
    }

    private static func digest(_ bytes: [UInt8], _ type: OpaquePointer?, length: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var size: UInt32 = 0
        let status = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                EVP_Digest(
                    input.baseAddress, input.count, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &size, type,
                    nil)
            }
        }
        precondition(status == 1, "OpenSSL's EVP_Digest failed")
        return Array(output[0..<Int(size)])
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Compares two strings in time independent of where they differ.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        return left.withUnsafeBytes { l in
            right.withUnsafeBytes { r in CRYPTO_memcmp(l.baseAddress, r.baseAddress, left.count) == 0 }
        }
    }
}

/// Salted, slow password hashes (yescrypt through libcrypt), as Konnect stores them.
public enum PasswordHasher {
    /// yescrypt's cost factor. libcrypt's default is 5; the simulator uses a lower one so that tests
    /// that sign up hundreds of users stay fast, while keeping a real salted, memory-hard hash.
    public static let cost: UInt = 3

    public static func hash(_ password: String) -> String {
        let entropy = Secrets.randomBytes(32)
        var setting = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        let generated = entropy.withUnsafeBytes { random in
            crypt_gensalt_rn(
                "$y$", cost, random.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(random.count), &setting,
                Int32(setting.count))
        }
        precondition(generated != nil, "libcrypt cannot generate a yescrypt salt")
        return crypt(password, setting: setting)
    }

    public static func verify(_ password: String, hash: String) -> Bool {
        let setting = Array(hash.utf8CString)
        let computed = crypt(password, setting: setting)
        return !computed.isEmpty && !computed.hasPrefix("*") && Secrets.constantTimeEquals(computed, hash)
    }

    private static func crypt(_ password: String, setting: [CChar]) -> String {
        var data = crypt_data()
        let result = withUnsafeMutableBytes(of: &data) { raw -> String in
            let pointer = raw.baseAddress!.assumingMemoryBound(to: crypt_data.self)
            guard let output = crypt_r(password, setting, pointer) else { return "" }
            return String(cString: output)
        }
        return result
    }
}
