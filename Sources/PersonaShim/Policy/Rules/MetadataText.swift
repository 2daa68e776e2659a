/// Cleans text servers write for the agent to read (tool descriptions, titles, schema descriptions) of what a
/// person reviewing it cannot see but a model can: ANSI escape sequences, bidirectional controls
/// (U+202A–202E, U+2066–2069), zero-width characters (U+200B–200D, U+2060, U+FEFF) and Unicode tag characters
/// (U+E0000–E007F), which can spell out hidden instructions.
public enum MetadataText {
    /// The cleaned text, and whether anything was removed. Text with none of these costs one scan and no copy.
    public static func clean(_ text: String) -> (text: String, cleaned: Bool) {
        // Every character removed starts with one of these bytes in UTF-8 (ESC, C1 CSI, U+2xxx, U+FEFF, tags).
        guard text.utf8.contains(where: { $0 == 0x1B || $0 == 0xC2 || $0 == 0xE2 || $0 == 0xEF || $0 == 0xF3 })
        else { return (text, false) }
        let input = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        while index < input.count {
            let scalar = input[index]
            index += 1
            switch scalar.value {
            case 0x1B: index = endOfEscape(input, from: index)
            case 0x9B: index = endOfControlSequence(input, from: index)
            case 0x200B...0x200D, 0x2060, 0xFEFF, 0x202A...0x202E, 0x2066...0x2069, 0xE0000...0xE007F: continue
            default: output.append(scalar)
            }
        }
        return output.count == input.count ? (text, false) : (String(output), true)
    }

    /// Where what follows an ESC ends: a CSI (`ESC [` … final byte), a string (OSC, DCS, SOS, PM, APC; ended
    /// by BEL, ST or `ESC \`), or a single character.
    private static func endOfEscape(_ input: [Unicode.Scalar], from start: Int) -> Int {
        guard start < input.count else { return start }
        switch input[start] {
        case "[":
            return endOfControlSequence(input, from: start + 1)
        case "]", "P", "X", "^", "_":
            var index = start + 1
            while index < input.count {
                let scalar = input[index]
                index += 1
                if scalar == "\u{07}" || scalar == "\u{9C}" { return index }
                if scalar == "\u{1B}" { return index < input.count && input[index] == "\\" ? index + 1 : index }
            }
            return index
        default:
            return start + 1
        }
    }

    /// Past the parameter and intermediate bytes and the final byte (0x40–0x7E) of a CSI sequence; anything
    /// else ends the sequence early and is kept.
    private static func endOfControlSequence(_ input: [Unicode.Scalar], from start: Int) -> Int {
        var index = start
        while index < input.count {
            switch input[index].value {
            case 0x20...0x3F: index += 1
            case 0x40...0x7E: return index + 1
            default: return index
            }
        }
        return index
    }
}
