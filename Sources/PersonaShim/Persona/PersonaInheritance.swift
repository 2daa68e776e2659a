/// `"extends": "base.json"`: a persona read on top of the files it extends, flattened into one persona document
/// that the ordinary decoder then reads. Every value of the flat document remembers the file and place it came
/// from, so a problem anywhere in the chain is reported at its own `file:line:column`.
///
/// Merging never widens: denies accumulate, a child's allow patterns must each lie within one of its base's, limits
/// and rules accumulate, and a base's `enforce` mode holds (`PersonaMerge` has every key's rule).
enum PersonaInheritance {
    /// Chains longer than this are surely a mistake (and keep a runaway chain from reading the disk without end).
    static let maxDepth = 16

    /// One file of a chain, as read.
    struct Layer {
        /// The path as it was named (the persona's as given; a base's resolved against the file naming it).
        let path: String
        let bytes: [UInt8]
        var top: JSONObject
        let locations: JSONLocations
        let lines: LineTable
    }

    /// The flat document, where each of its values came from, and the chain it was read from.
    struct Flattened {
        var document: JSONObject
        var origins: PersonaOrigins
        /// Persona first, then each file it extends, nearest first.
        var files: [String]
        /// `sha256:` over the files' own digests, in `files` order (see README, "Persona inheritance").
        var digest: String
    }

    /// Reads the chain that `top` (the persona at `path`) starts, and merges it.
    static func flatten(
        top: JSONObject, bytes: [UInt8], locations: JSONLocations, path: String
    ) -> Result<Flattened, DiagnosticList> {
        var layers = [Layer(path: path, bytes: bytes, top: top, locations: locations, lines: LineTable(bytes))]
        var failures: [Diagnostic] = []
        var seen = [PersonaLoader.absolute(path)]
        while let extends = layers.last!.top["extends"] {
            let naming = layers.last!
            func fail(_ message: String) {
                let position = naming.locations.offsets["/extends"].map { naming.lines.position(of: $0) }
                failures.append(
                    Diagnostic(.error, message, file: naming.path, line: position?.line, column: position?.column))
            }
            guard case .string(let relative) = extends, !relative.isEmpty else {
                fail("\"extends\" must be the path of one persona file, as a string, not \(extends.typeName)")
                break
            }
            let basePath = PersonaLoader.resolvePath(
                relative, base: Paths.directory(of: PersonaLoader.absolute(naming.path)))
            let chain = (layers.map(\.path) + [basePath]).joined(separator: " → ")
            if seen.contains(basePath) {
                fail("the persona inheritance chain is a cycle (\(chain)); remove one of the \"extends\" keys")
                break
            }
            guard layers.count < maxDepth else {
                fail("the persona inheritance chain is longer than \(maxDepth) files (\(chain)); shorten it")
                break
            }
            guard let baseBytes = Files.read(basePath) else {
                let reason = Files.exists(basePath) ? "it could not be read" : "no such file"
                fail("cannot open the base persona \"\(relative)\" (\(basePath)): \(reason); chain: \(chain)")
                break
            }
            let root: JSONValue
            let baseLocations: JSONLocations
            do {
                (root, baseLocations) = try JSONValue.parseWithLocations(baseBytes)
            } catch {
                let position = LineTable(baseBytes).position(of: error.offset)
                failures.append(
                    Diagnostic(
                        .error, "the base persona is not valid JSON: \(error.message); chain: \(chain)", file: basePath,
                        line: position.line, column: position.column))
                break
            }
            guard case .object(let baseTop) = root else {
                fail("the base persona \(basePath) must be a JSON object, not \(root.typeName); chain: \(chain)")
                break
            }
            seen.append(basePath)
            layers.append(
                Layer(
                    path: basePath, bytes: baseBytes, top: baseTop, locations: baseLocations,
                    lines: LineTable(baseBytes)))
        }
        guard failures.isEmpty else { return .failure(DiagnosticList(failures)) }
        let home = Paths.directory(of: PersonaLoader.absolute(path))
        for index in layers.indices.dropFirst() {
            layers[index].top = PersonaMerge.anchoringPaths(
                layers[index].top, from: Paths.directory(of: layers[index].path), to: home)
        }
        // The most distant base first; each nearer file is merged on top of what it extends.
        var merge = PersonaMerge(layers: layers)
        var flat = Placed(layers.last!.top, layer: layers.count - 1)
        for index in layers.indices.dropLast().reversed() {
            flat = merge.merge(base: flat, child: Placed(layers[index].top, layer: index), childLayer: index)
        }
        guard merge.diagnostics.isEmpty else { return .failure(DiagnosticList(merge.diagnostics)) }
        guard case .object(var document) = flat.value else { return .failure(DiagnosticList([])) }
        document.members.removeAll { $0.key == "extends" }
        let digests = layers.map { "sha256:" + SHA256.hash($0.bytes).hexString }
        return .success(
            Flattened(
                document: document, origins: PersonaOrigins(layers: layers, origins: flat.origins),
                files: layers.map(\.path),
                digest: "sha256:" + SHA256.hash(Array(digests.joined(separator: "\n").utf8)).hexString))
    }
}

extension PersonaInheritance {
    /// The digest a persona read now from `files` would have (as `flatten` and the loader compute it), or nil if
    /// one cannot be read: a cheap look at whether anything changed before reading the persona again.
    static func digest(of files: [String]) -> String? {
        var digests: [String] = []
        for file in files {
            guard let bytes = Files.read(file) else { return nil }
            digests.append("sha256:" + SHA256.hash(bytes).hexString)
        }
        guard digests.count > 1 else { return digests.first }
        return "sha256:" + SHA256.hash(Array(digests.joined(separator: "\n").utf8)).hexString
    }
}

/// Diagnostics as an `Error`, for `Result`.
struct DiagnosticList: Error {
    let diagnostics: [Diagnostic]
    init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
}

/// Where one value of a flattened persona was written: the chain's layer and its JSON pointer there.
struct Origin: Sendable {
    let layer: Int
    let pointer: String
}

/// A JSON value with the origin of every value inside it, by pointer relative to the value itself.
struct Placed {
    var value: JSONValue
    var origins: [String: Origin]

    init(value: JSONValue, origins: [String: Origin]) {
        self.value = value
        self.origins = origins
    }

    /// `value` as layer `layer` wrote it at `pointer`.
    init(_ value: JSONValue, layer: Int, pointer: String = "") {
        self.value = value
        var origins: [String: Origin] = [:]
        func walk(_ value: JSONValue, relative: String, original: String) {
            origins[relative] = Origin(layer: layer, pointer: original)
            switch value {
            case .object(let object):
                for (key, member) in object.members {
                    let step = "/" + JSONReader.escapePointer(key)
                    walk(member, relative: relative + step, original: original + step)
                }
            case .array(let elements):
                for (index, element) in elements.enumerated() {
                    walk(element, relative: "\(relative)/\(index)", original: "\(original)/\(index)")
                }
            default: break
            }
        }
        walk(value, relative: "", original: pointer)
        self.origins = origins
    }

    init(_ object: JSONObject, layer: Int) { self.init(.object(object), layer: layer) }

    /// The member `key` of an object value, with its origins.
    func member(_ key: String) -> Placed? {
        guard case .object(let object) = value, let member = object[key] else { return nil }
        return sub(member, step: "/" + JSONReader.escapePointer(key))
    }

    func element(_ index: Int) -> Placed? {
        guard case .array(let elements) = value, index < elements.count else { return nil }
        return sub(elements[index], step: "/\(index)")
    }

    private func sub(_ value: JSONValue, step: String) -> Placed {
        var origins: [String: Origin] = [:]
        for (pointer, origin) in self.origins where pointer == step || pointer.hasPrefix(step + "/") {
            origins[String(pointer.dropFirst(step.count))] = origin
        }
        return Placed(value: value, origins: origins)
    }

    /// The object made of `members`, in order.
    static func object(_ members: [(String, Placed)], origin: Origin?) -> Placed {
        var object = JSONObject()
        var origins: [String: Origin] = [:]
        if let origin { origins[""] = origin }
        for (key, member) in members {
            object.members.append((key, member.value))
            let step = "/" + JSONReader.escapePointer(key)
            for (pointer, origin) in member.origins { origins[step + pointer] = origin }
        }
        return Placed(value: .object(object), origins: origins)
    }

    static func array(_ elements: [Placed], origin: Origin?) -> Placed {
        var origins: [String: Origin] = [:]
        if let origin { origins[""] = origin }
        for (index, element) in elements.enumerated() {
            for (pointer, origin) in element.origins { origins["/\(index)" + pointer] = origin }
        }
        return Placed(value: .array(elements.map(\.value)), origins: origins)
    }
}

/// Finds, for a pointer into the flattened persona, the file, line and column that wrote it.
struct PersonaOrigins {
    let files: [String]
    let locations: [JSONLocations]
    let lines: [LineTable]
    let origins: [String: Origin]

    init(layers: [PersonaInheritance.Layer], origins: [String: Origin]) {
        self.files = layers.map(\.path)
        self.locations = layers.map(\.locations)
        self.lines = layers.map(\.lines)
        self.origins = origins
    }

    /// The nearest enclosing value with a known origin answers; the persona file itself if none does.
    func locate(_ pointer: String, key: Bool) -> (file: String, line: Int?, column: Int?) {
        var current = pointer
        while true {
            if let origin = origins[current] {
                let table = locations[origin.layer]
                let offset = (key ? table.keyOffsets[origin.pointer] : nil) ?? table.offsets[origin.pointer]
                let position = offset.map { lines[origin.layer].position(of: $0) }
                return (files[origin.layer], position?.line, position?.column)
            }
            guard let slash = current.lastIndex(of: "/") else { return (files[0], nil, nil) }
            current = String(current[..<slash])
        }
    }
}
