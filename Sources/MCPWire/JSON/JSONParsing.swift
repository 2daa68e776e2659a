extension JSONValue {
    /// Parses one complete JSON text.
    public init<Bytes: Sequence>(parsing bytes: Bytes) throws(JSONSyntaxError) where Bytes.Element == UInt8 {
        let array = Array(bytes)
        self = try withBytes(array) { (raw) throws(JSONSyntaxError) in try JSONValue.parse(raw) }
    }

    /// Parses one complete JSON text from a string.
    public init(parsing text: String) throws(JSONSyntaxError) {
        try self.init(parsing: Array(text.utf8))
    }

    /// Parses the bytes in `range` (the whole buffer by default) as one complete JSON text.
    public static func parse(_ bytes: UnsafeRawBufferPointer, range: Range<Int>? = nil) throws(JSONSyntaxError)
        -> JSONValue
    {
        var reader = JSONReader(bytes, range: range)
        let value = try reader.parseValue()
        try reader.expectEnd()
        return value
    }

    /// Parses `bytes`, also returning where each value and key starts (by JSON Pointer).
    package static func parseWithLocations(_ bytes: [UInt8]) throws(JSONSyntaxError) -> (JSONValue, JSONLocations) {
        let locations = JSONLocations()
        let value = try withBytes(bytes) { (raw) throws(JSONSyntaxError) -> JSONValue in
            var reader = JSONReader(raw)
            let value = try reader.parseValue(locations: locations)
            try reader.expectEnd()
            return value
        }
        return (value, locations)
    }
}

/// `withUnsafeBytes` for a body with a typed error (the standard one only rethrows `any Error`).
package func withBytes<Result, Failure: Error>(
    _ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
) throws(Failure) -> Result {
    var outcome: Swift.Result<Result, Failure>?
    bytes.withUnsafeBytes { raw in
        do throws(Failure) { outcome = .success(try body(raw)) } catch { outcome = .failure(error) }
    }
    return try outcome!.get()
}
