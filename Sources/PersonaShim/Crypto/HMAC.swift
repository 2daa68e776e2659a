/// Keyed-hash message authentication codes.
public enum HMAC {
    /// HMAC-SHA256 (RFC 2104).
    ///
    /// Keys longer than the 64-byte SHA-256 block are first hashed, as the RFC requires; the result is the full
    /// 32-byte tag (truncate it yourself if a protocol calls for a shorter one).
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        let blockSize = 64
        var blockKey = key.count > blockSize ? SHA256.hash(key) : key
        blockKey.append(contentsOf: repeatElement(0, count: blockSize - blockKey.count))

        var inner = SHA256()
        inner.update(blockKey.map { $0 ^ 0x36 })
        inner.update(message)
        let innerDigest = inner.finalize()

        var outer = SHA256()
        outer.update(blockKey.map { $0 ^ 0x5c })
        outer.update(innerDigest)
        return outer.finalize()
    }
}
