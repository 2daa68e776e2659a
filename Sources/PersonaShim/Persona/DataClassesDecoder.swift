/// Decodes a persona's `dataClasses` section and the shared classification file it may name.
enum DataClassesDecoder {
    static let sectionKeys = ["allow", "unlabelled", "classification", "servers", "tools", "resources"]
    static let classificationKeys = ["$schema", "version", "servers", "tools", "resources"]

    /// The section, or nil when the persona has none (then no request pays for data classes).
    static func decode(_ decoder: inout PersonaDecoder, _ value: JSONValue?, base: String) -> DataClassPolicy? {
        let pointer = "/dataClasses"
        guard let object = decoder.object(value, at: pointer, what: "\"dataClasses\"") else { return nil }
        decoder.rejectUnknownKeys(object, at: pointer, allowed: sectionKeys, context: "\"dataClasses\"")
        guard object["allow"] != nil else {
            decoder.error(
                at: pointer,
                "missing required key \"allow\" in \"dataClasses\" (the classes of data this job may touch; [] for none)"
            )
            return nil
        }
        let allow = decoder.stringArray(object, "allow", at: pointer) ?? []
        for (index, name) in allow.enumerated() where !DataClassPolicy.isValidClass(name) {
            decoder.error(at: "\(pointer)/allow/\(index)", invalidClassSentence(name))
        }
        var unlabelled = DataClassPolicy.Unlabelled.refuse
        if let text = decoder.string(object, "unlabelled", at: pointer) {
            if let parsed = DataClassPolicy.Unlabelled(rawValue: text) {
                unlabelled = parsed
            } else {
                decoder.error(
                    at: pointer + "/unlabelled",
                    "\"dataClasses.unlabelled\" must be \"allow\" or \"refuse\", not \"\(text)\"")
            }
        }
        var policy = DataClassPolicy(allow: Array(Set(allow)).sorted(), unlabelled: unlabelled)
        if let path = decoder.string(object, "classification", at: pointer) {
            let file = PersonaLoader.resolvePath(path, base: base)
            policy.classificationFile = file
            decodeClassificationFile(file, into: &policy, diagnostics: &decoder.diagnostics)
        }
        decodeLabels(&decoder, object, at: pointer, source: decoder.file, into: &policy)
        return policy
    }

    /// The `servers`, `tools` and `resources` label maps of `object`: pattern → list of classes.
    private static func decodeLabels(
        _ decoder: inout PersonaDecoder, _ object: JSONObject, at pointer: String, source: String,
        into policy: inout DataClassPolicy
    ) {
        for key in ["servers", "tools", "resources"] {
            let mapPointer = pointer + "/" + key
            guard let map = decoder.object(object[key], at: mapPointer, what: "\"\(key)\" (pattern to classes)")
            else { continue }
            for (pattern, classes) in map.members {
                let entryPointer = mapPointer + "/" + JSONReader.escapePointer(pattern)
                guard case .array(let elements) = classes else {
                    decoder.error(
                        at: entryPointer,
                        "the classes of \"\(pattern)\" must be an array of class names, not \(classes.typeName)")
                    continue
                }
                var names: [String] = []
                for (index, element) in elements.enumerated() {
                    guard case .string(let name) = element, DataClassPolicy.isValidClass(name) else {
                        let shown = element.stringValue.map { "\"\($0)\"" } ?? element.typeName
                        decoder.error(at: "\(entryPointer)/\(index)", invalidClassSentence(shown))
                        continue
                    }
                    names.append(name)
                }
                if pattern.isEmpty {
                    decoder.error(
                        at: entryPointer, key: true, "an empty pattern labels nothing; write a name or a glob")
                    continue
                }
                let label = DataClassPolicy.Label(pattern: Glob(pattern), classes: names, source: source)
                switch key {
                case "servers": policy.servers.append(label)
                case "tools": policy.tools.append(label)
                default: policy.resources.append(label)
                }
            }
        }
    }

    /// Reads the shared classification file; its mistakes are reported at their own line in that file.
    private static func decodeClassificationFile(
        _ path: String, into policy: inout DataClassPolicy, diagnostics: inout [Diagnostic]
    ) {
        guard let bytes = Files.read(path) else {
            let reason = Files.exists(path) ? "it could not be read" : "no such file"
            diagnostics.append(
                Diagnostic(
                    .error,
                    "cannot open the classification file named by \"dataClasses.classification\": \(reason); check its path",
                    file: path))
            return
        }
        let root: JSONValue
        let locations: JSONLocations
        do {
            (root, locations) = try JSONValue.parseWithLocations(bytes)
        } catch {
            let position = LineTable(bytes).position(of: error.offset)
            diagnostics.append(
                Diagnostic(
                    .error, "the classification file is not valid JSON: \(error.message)", file: path,
                    line: position.line, column: position.column))
            return
        }
        var decoder = PersonaDecoder(file: path, bytes: bytes, locations: locations)
        if let top = decoder.object(root, at: "", what: "a classification file") {
            decoder.rejectUnknownKeys(top, at: "", allowed: classificationKeys, context: "the classification file")
            if let version = top["version"], version.intValue != 1 {
                decoder.error(
                    at: "/version", "unsupported classification file version \(version); this persona-shim reads 1")
            }
            decodeLabels(&decoder, top, at: "", source: path, into: &policy)
        }
        diagnostics += decoder.diagnostics
    }

    private static func invalidClassSentence(_ shown: String) -> String {
        let name = shown.hasPrefix("\"") ? shown : "\"\(shown)\""
        return
            "data class \(name) is not a valid class name; use letters, digits, '.', '_' and '-' (at most 64 characters), e.g. \"pii.customer\""
    }
}
