import Foundation
import PersonaShim
import Testing

/// Parses a hex string (whitespace ignored) into bytes; test-vector helper.
private func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.filter { !$0.isWhitespace }.utf8)
    precondition(digits.count.isMultiple(of: 2), "odd-length hex literal")
    return stride(from: 0, to: digits.count, by: 2).map { index in
        UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16)!
    }
}

@Suite("SHA-256")
struct SHA256Tests {
    /// FIPS 180-4 / NIST CSRC example and CAVS short-message vectors.
    static let nistVectors: [(message: String, digest: String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                + "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ]

    @Test("NIST vectors", arguments: nistVectors)
    func nist(message: String, digest: String) {
        #expect(SHA256.hash(message).hexString == digest)
        #expect(SHA256.hash(Array(message.utf8)).hexString == digest)
    }

    /// Padding boundary lengths for a message of repeated "a" bytes.
    /// Expected digests came from Python's hashlib: `hashlib.sha256(b'a' * n).hexdigest()`.
    static let boundaryVectors: [(length: Int, digest: String)] = [
        (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
        (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
        (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
        (127, "c57e9278af78fa3cab38667bef4ce29d783787a2f731d4e12200270f0c32320a"),
        (128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"),
        (129, "c12cb024a2e5551cca0e08fce8f1c5e314555cc3fef6329ee994a3db752166ae"),
    ]

    @Test("Padding boundary lengths", arguments: boundaryVectors)
    func boundary(length: Int, digest: String) {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: length)
        #expect(SHA256.hash(message).hexString == digest)

        // Same message one byte at a time, through the raw-buffer overload.
        var hasher = SHA256()
        for byte in message {
            withUnsafeBytes(of: byte) { hasher.update($0) }
        }
        #expect(hasher.finalize().hexString == digest)
    }

    static let millionADigest = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

    @Test("One million 'a' in one shot")
    func millionAOneShot() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hash(message).hexString == Self.millionADigest)
    }

    @Test(
        "One million 'a' in uneven chunks", arguments: [[1], [3, 61, 64, 65, 127, 1000], [7, 13, 4099], [63, 1, 64]])
    func millionAChunked(chunkSizes: [Int]) {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        var hasher = SHA256()
        var offset = 0
        var turn = 0
        while offset < message.count {
            let end = min(offset + chunkSizes[turn % chunkSizes.count], message.count)
            hasher.update(message[offset..<end])
            offset = end
            turn += 1
        }
        #expect(hasher.finalize().hexString == Self.millionADigest)
    }

    @Test("Every update overload agrees")
    func overloads() {
        let text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        let expected = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"

        var fromString = SHA256()
        fromString.update(text)
        #expect(fromString.finalize().hexString == expected)

        var fromData = SHA256()
        fromData.update(Data(text.utf8))
        #expect(fromData.finalize().hexString == expected)

        // A lazy map has no contiguous storage, so this exercises the generic gather path.
        var fromLazy = SHA256()
        fromLazy.update(text.utf8.lazy.map { $0 })
        #expect(fromLazy.finalize().hexString == expected)

        var fromRaw = SHA256()
        Array(text.utf8).withUnsafeBytes { fromRaw.update($0) }
        #expect(fromRaw.finalize().hexString == expected)

        // Mixing overloads across a call sequence.
        var mixed = SHA256()
        mixed.update("abcdbcde")
        mixed.update(Data("cdefdefgefghfghighijhijk".utf8))
        mixed.update(Array("ijkljklmklmnlmnomnopnopq".utf8)[...])
        #expect(mixed.finalize().hexString == expected)
    }

    @Test("Non-contiguous sequence longer than the internal gather chunk")
    func longNonContiguous() {
        let sequence = (0..<1_000_000).lazy.map { _ in UInt8(ascii: "a") }
        #expect(SHA256.hash(sequence).hexString == Self.millionADigest)
    }

    @Test("Copying a hasher forks its state")
    func copyForks() {
        var base = SHA256()
        base.update("ab")
        var fork = base
        base.update("c")
        fork.update("c")
        #expect(base.finalize() == fork.finalize())
        #expect(SHA256.hash("abc").count == 32)
    }

    @Test("8 MiB buffer matches hashlib")
    func largeBuffer() {
        // Expected digest came from Python's hashlib:
        // `hashlib.sha256(bytes(i % 251 for i in range(8 * 1024 * 1024 + 13))).hexdigest()`.
        let message = (0..<(8 * 1024 * 1024 + 13)).map { UInt8($0 % 251) }
        #expect(SHA256.hash(message).hexString == "f9cf8e24e7f07f24e5f3e62d7e5dd884bbc00a4ba173d697e88bb60efbd33809")
    }

    @Test("hexString is lowercase and two digits per byte")
    func hex() {
        #expect([0x00, 0x0f, 0xa0, 0xff].hexString == "000fa0ff")
        #expect([UInt8]().hexString == "")
        #expect(Data([0xde, 0xad, 0xbe, 0xef]).hexString == "deadbeef")
    }
}

@Suite("HMAC-SHA-256")
struct HMACTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let key: [UInt8]
        let message: [UInt8]
        let tag: String
        /// RFC 4231 truncates test case 5 to the leftmost 128 bits.
        var truncatedLength: Int? = nil

        var testDescription: String { name }
    }

    /// RFC 4231 §4.2–4.8, HMAC-SHA-256 results.
    static let rfc4231Vectors: [Vector] = [
        Vector(
            name: "Test Case 1",
            key: [UInt8](repeating: 0x0b, count: 20),
            message: Array("Hi There".utf8),
            tag: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        ),
        Vector(
            name: "Test Case 2",
            key: Array("Jefe".utf8),
            message: Array("what do ya want for nothing?".utf8),
            tag: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
        Vector(
            name: "Test Case 3",
            key: [UInt8](repeating: 0xaa, count: 20),
            message: [UInt8](repeating: 0xdd, count: 50),
            tag: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
        ),
        Vector(
            name: "Test Case 4",
            key: bytes(hex: "0102030405060708090a0b0c0d0e0f10111213141516171819"),
            message: [UInt8](repeating: 0xcd, count: 50),
            tag: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
        ),
        Vector(
            name: "Test Case 5 (truncated to 128 bits)",
            key: [UInt8](repeating: 0x0c, count: 20),
            message: Array("Test With Truncation".utf8),
            tag: "a3b6167473100ee06e0c796c2955552b",
            truncatedLength: 16
        ),
        Vector(
            name: "Test Case 6",
            key: [UInt8](repeating: 0xaa, count: 131),
            message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
            tag: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        ),
        Vector(
            name: "Test Case 7",
            key: [UInt8](repeating: 0xaa, count: 131),
            message: Array(
                ("This is a test using a larger than block-size key and a larger than block-size data. "
                    + "The key needs to be hashed before being used by the HMAC algorithm.").utf8
            ),
            tag: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        ),
    ]

    @Test("RFC 4231", arguments: rfc4231Vectors)
    func rfc4231(vector: Vector) {
        let tag = HMAC.sha256(key: vector.key, message: vector.message)
        #expect(tag.count == 32)
        let compared = vector.truncatedLength.map { Array(tag.prefix($0)) } ?? tag
        #expect(compared.hexString == vector.tag)
    }

    @Test("Empty inputs and block-size key boundaries")
    func edgeInputs() {
        // Expected tags came from Python: `hmac.new(key, msg, hashlib.sha256).hexdigest()`.
        #expect(
            HMAC.sha256(key: [], message: []).hexString
                == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"
        )
        #expect(
            HMAC.sha256(key: [UInt8](repeating: 0x01, count: 64), message: [UInt8](repeating: 0x02, count: 64))
                .hexString == "49374fe0c21ccb43faeaa55d497176711cdc0e5673e37ecd55afabb929360dee"
        )
        // A 65-byte key is one past the block size, so it must be hashed first.
        #expect(
            HMAC.sha256(key: [UInt8](repeating: 0x01, count: 65), message: [UInt8](repeating: 0x02, count: 64))
                .hexString == "9b08e8e811987fead0b6acadaccc47fee6f64f37facaf83dd6d19f66ea15da0d"
        )
    }
}
