/// Incremental SHA-256 (FIPS 180-4).
///
/// Feed input with any of the `update` overloads, in chunks of any size, then call `finalize()` once to obtain the
/// 32-byte digest. The value is a plain struct with no heap storage, so copying it forks the hash state.
public struct SHA256: Sendable {
    /// Size in bytes of one SHA-256 message block.
    private static let blockSize = 64

    /// Size in bytes of a SHA-256 digest.
    private static let digestSize = 32

    /// The eight 32-bit working hash values H0...H7.
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
        0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )

    /// Storage for a partial block (64 bytes) awaiting more input.
    private var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

    /// Number of valid bytes currently held in `buffer` (always `< blockSize`).
    private var bufferedCount = 0

    /// Total number of message bytes fed so far.
    private var totalLength: UInt64 = 0

    /// Creates a hasher in the FIPS 180-4 initial state.
    public init() {}

    /// Appends the bytes of a raw buffer to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var input = base
        var remaining = bytes.count
        totalLength &+= UInt64(remaining)
        var hashState = state

        // Top up a previously buffered partial block first.
        if bufferedCount > 0 {
            let take = min(Self.blockSize - bufferedCount, remaining)
            let filled = bufferedCount
            withUnsafeMutableBytes(of: &buffer) { block in
                (block.baseAddress! + filled).copyMemory(from: input, byteCount: take)
                if filled + take == Self.blockSize {
                    Self.compress(&hashState, blocks: UnsafeRawPointer(block.baseAddress!), count: 1)
                }
            }
            bufferedCount = (filled + take) % Self.blockSize
            input += take
            remaining -= take
        }

        // Process whole blocks straight from the caller's memory.
        let wholeBlocks = remaining / Self.blockSize
        if wholeBlocks > 0 {
            Self.compress(&hashState, blocks: input, count: wholeBlocks)
            input += wholeBlocks * Self.blockSize
            remaining -= wholeBlocks * Self.blockSize
        }

        // Stash the tail for later.
        if remaining > 0 {
            let tail = remaining
            withUnsafeMutableBytes(of: &buffer) { block in
                block.baseAddress!.copyMemory(from: input, byteCount: tail)
            }
            bufferedCount = tail
        }
        state = hashState
    }

    /// Appends a sequence of bytes to the message, using contiguous storage directly when it is available.
    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { contiguous in
            update(UnsafeRawBufferPointer(contiguous))
        }
        if handled != nil { return }

        // Slow path for non-contiguous sequences: gather into a fixed stack chunk, then hash that chunk.
        let chunkSize = 1024
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: chunkSize) { chunk in
            var count = 0
            for byte in bytes {
                chunk[count] = byte
                count += 1
                if count == chunkSize {
                    update(UnsafeRawBufferPointer(chunk))
                    count = 0
                }
            }
            if count > 0 {
                update(UnsafeRawBufferPointer(start: chunk.baseAddress, count: count))
            }
        }
    }

    /// Appends the UTF-8 encoding of a string to the message.
    public mutating func update(_ string: String) {
        var string = string
        string.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// A digest as a value: 32 bytes inline, no allocation.
    public struct Digest: Sendable, Equatable {
        /// The eight hash words, in order.
        public let words: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)

        public static func == (lhs: Digest, rhs: Digest) -> Bool {
            withUnsafeBytes(of: lhs.words) { left in
                withUnsafeBytes(of: rhs.words) { right in left.elementsEqual(right) }
            }
        }

        /// The 32 digest bytes.
        public var bytes: [UInt8] {
            var output: [UInt8] = []
            output.reserveCapacity(32)
            withUnsafeBytes(of: words) { raw in
                for index in 0..<8 {
                    let word = raw.load(fromByteOffset: index * 4, as: UInt32.self)
                    output.append(UInt8(truncatingIfNeeded: word >> 24))
                    output.append(UInt8(truncatingIfNeeded: word >> 16))
                    output.append(UInt8(truncatingIfNeeded: word >> 8))
                    output.append(UInt8(truncatingIfNeeded: word))
                }
            }
            return output
        }

        /// Writes the 64 lowercase hex digits to `output`, which must have room for them.
        public func writeHex(to output: UnsafeMutableRawPointer) {
            Self.hexPairs.withUnsafeBufferPointer { pairs in
                withUnsafeBytes(of: words) { raw in
                    for index in 0..<8 {
                        let word = raw.load(fromByteOffset: index * 4, as: UInt32.self)
                        for byte in 0..<4 {
                            let value = Int(truncatingIfNeeded: word >> (24 - 8 * UInt32(byte))) & 0xFF
                            output.storeBytes(
                                of: pairs[value].littleEndian, toByteOffset: index * 8 + byte * 2, as: UInt16.self)
                        }
                    }
                }
            }
        }

        /// The two hex digits of every byte value, the first in the low byte: `00` `01` … `ff`.
        private static let hexPairs: [UInt16] = (0..<256).map { value in
            let digits = Array("0123456789abcdef".utf8)
            return UInt16(digits[value >> 4]) | UInt16(digits[value & 0xF]) << 8
        }
    }

    /// Applies the final padding and returns the 32-byte digest.
    public consuming func finalize() -> [UInt8] { finalizeDigest().bytes }

    /// Applies the final padding and returns the digest as a value.
    public consuming func finalizeDigest() -> Digest {
        let bitLength = totalLength &* 8
        var hashState = state
        let filled = bufferedCount
        withUnsafeMutableBytes(of: &buffer) { block in
            let base = block.baseAddress!
            base.storeBytes(of: 0x80, toByteOffset: filled, as: UInt8.self)
            var position = filled + 1
            if position > Self.blockSize - 8 {
                // No room for the length field: pad out this block and start another.
                (base + position).initializeMemory(as: UInt8.self, repeating: 0, count: Self.blockSize - position)
                Self.compress(&hashState, blocks: UnsafeRawPointer(base), count: 1)
                position = 0
            }
            (base + position).initializeMemory(as: UInt8.self, repeating: 0, count: Self.blockSize - 8 - position)
            base.storeBytes(of: bitLength.bigEndian, toByteOffset: Self.blockSize - 8, as: UInt64.self)
            Self.compress(&hashState, blocks: UnsafeRawPointer(base), count: 1)
        }

        return Digest(words: hashState)
    }

    /// Returns the SHA-256 digest of a sequence of bytes.
    public static func hash<S: Sequence>(_ bytes: S) -> [UInt8] where S.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Returns the SHA-256 digest of the UTF-8 encoding of a string.
    public static func hash(_ string: String) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(string)
        return hasher.finalize()
    }

    // MARK: - Compression

    /// The 64 round constants K0...K63 (FIPS 180-4 §4.2.2).
    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    @inline(__always)
    private static func rotr(_ value: UInt32, _ amount: UInt32) -> UInt32 {
        (value &>> amount) | (value &<< (32 &- amount))
    }

    /// One round (FIPS 180-4 §6.2.2 step 3) with the new `a` written to `h` and the new `e` to `d`; the caller
    /// rotates the roles.
    @inline(__always)
    private static func round(
        _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32, _ e: UInt32, _ f: UInt32, _ g: UInt32,
        _ h: inout UInt32, _ constantPlusWord: UInt32
    ) {
        let temp1 = h &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ constantPlusWord
        let temp2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
        d &+= temp1
        h = temp1 &+ temp2
    }

    /// Runs the compression function over `count` consecutive 64-byte blocks starting at `blocks` (any alignment).
    private static func compress(
        _ hashState: inout (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32),
        blocks: UnsafeRawPointer,
        count: Int
    ) {
        roundConstants.withUnsafeBufferPointer { constants in
            let k = constants.baseAddress!
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
                let w = schedule.baseAddress!
                var (h0, h1, h2, h3, h4, h5, h6, h7) = hashState
                var block = blocks
                for _ in 0..<count {
                    for t in 0..<16 {
                        w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: t &* 4, as: UInt32.self))
                    }
                    for t in 16..<64 {
                        let x = w[t &- 15]
                        let y = w[t &- 2]
                        let sigma0 = rotr(x, 7) ^ rotr(x, 18) ^ (x &>> 3)
                        let sigma1 = rotr(y, 17) ^ rotr(y, 19) ^ (y &>> 10)
                        w[t] = sigma1 &+ w[t &- 7] &+ sigma0 &+ w[t &- 16]
                    }

                    var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
                    // Eight rounds per pass with the roles of the variables rotated, instead of shifting all eight
                    // values every round.
                    var t = 0
                    while t < 64 {
                        round(a, b, c, &d, e, f, g, &h, k[t] &+ w[t])
                        round(h, a, b, &c, d, e, f, &g, k[t &+ 1] &+ w[t &+ 1])
                        round(g, h, a, &b, c, d, e, &f, k[t &+ 2] &+ w[t &+ 2])
                        round(f, g, h, &a, b, c, d, &e, k[t &+ 3] &+ w[t &+ 3])
                        round(e, f, g, &h, a, b, c, &d, k[t &+ 4] &+ w[t &+ 4])
                        round(d, e, f, &g, h, a, b, &c, k[t &+ 5] &+ w[t &+ 5])
                        round(c, d, e, &f, g, h, a, &b, k[t &+ 6] &+ w[t &+ 6])
                        round(b, c, d, &e, f, g, h, &a, k[t &+ 7] &+ w[t &+ 7])
                        t &+= 8
                    }

                    h0 &+= a
                    h1 &+= b
                    h2 &+= c
                    h3 &+= d
                    h4 &+= e
                    h5 &+= f
                    h6 &+= g
                    h7 &+= h
                    block += 64
                }
                hashState = (h0, h1, h2, h3, h4, h5, h6, h7)
            }
        }
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hex.
    public var hexString: String {
        let digits: StaticString = "0123456789abcdef"
        var characters: [UInt8] = []
        characters.reserveCapacity(underestimatedCount * 2)
        digits.withUTF8Buffer { table in
            for byte in self {
                characters.append(table[Int(byte &>> 4)])
                characters.append(table[Int(byte & 0x0f)])
            }
        }
        return String(decoding: characters, as: UTF8.self)
    }
}
