import Testing

@testable import KonnectSecurity

@Suite struct SecretsTests {
    @Test(
        "SHA-256 matches the published test vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
        ])
    func sha256(_ input: String, _ expected: String) {
        #expect(Secrets.sha256Hex(input) == expected)
        #expect(Secrets.sha256Hex(Array(input.utf8)) == expected)
        #expect(Secrets.hex(Secrets.sha256Bytes(Array(input.utf8))) == expected)
    }

    @Test(
        "MD5 matches the RFC 1321 test vectors",
        arguments: [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("The quick brown fox jumps over the lazy dog", "9e107d9d372bb6826bd81d3542a419d6"),
        ])
    func md5(_ input: String, _ expected: String) {
        #expect(Secrets.md5Hex(Array(input.utf8)) == expected)
    }

    @Test("hex is lowercase, two digits per byte")
    func hex() {
        #expect(Secrets.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(Secrets.hex([]) == "")
    }

    @Test("a token is its prefix and 43 base62 characters, unique, with every character of the alphabet in use")
    func tokens() {
        let alphabet = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var seen = Set<String>()
        var characters = Set<Character>()
        for _ in 0..<2000 {
            let token = Secrets.token(prefix: "kpat_")
            #expect(token.hasPrefix("kpat_"))
            let body = token.dropFirst(5)
            #expect(body.count == 43)
            #expect(body.allSatisfy { alphabet.contains($0) })
            characters.formUnion(body)
            seen.insert(token)
        }
        #expect(seen.count == 2000)
        #expect(characters == alphabet)
        #expect(Secrets.token(prefix: "").count == 43)
    }

    @Test("random bytes have the length asked for and differ between calls")
    func randomBytes() {
        #expect(Secrets.randomBytes(0).isEmpty)
        #expect(Secrets.randomBytes(32).count == 32)
        #expect(Secrets.randomBytes(32) != Secrets.randomBytes(32))
    }

    @Test(
        "constant-time comparison: equal only when every byte and the length match",
        arguments: [
            ("same", "same", true), ("", "", true), ("abcd", "abce", false), ("xbcd", "abcd", false),
            ("abc", "abcd", false), ("abcd", "abc", false), ("", "a", false), ("é", "e\u{301}", false),
        ])
    func constantTimeEquals(_ left: String, _ right: String, _ equal: Bool) {
        #expect(Secrets.constantTimeEquals(left, right) == equal)
    }

    @Test("password hashes are salted yescrypt and verify only the right password")
    func passwords() {
        let hash = PasswordHasher.hash("Correct-Horse-42!")
        #expect(hash.hasPrefix("$y$"))
        #expect(hash != PasswordHasher.hash("Correct-Horse-42!"))
        #expect(PasswordHasher.verify("Correct-Horse-42!", hash: hash))
        #expect(!PasswordHasher.verify("correct-horse-42!", hash: hash))
        #expect(!PasswordHasher.verify("Correct-Horse-42!", hash: "not a hash"))
    }
}
