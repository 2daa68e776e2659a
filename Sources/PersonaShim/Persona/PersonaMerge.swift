/// How a persona is merged on top of the persona it extends, key by key. The rule for every key is to never widen
/// what the base allows:
///
/// - `tools`, `prompts`, `resources`: `deny` patterns accumulate; a child's `allow` replaces the base's, and each of
///   its patterns must lie within one of the base's allow patterns (every name it matches, a base pattern matches),
///   so a call is allowed only where both files allow it. A section with no `allow` inherits the base's.
/// - `mode`: a base that says `enforce` cannot be loosened to `monitor`.
/// - `expires`, `reviewBy`: the earlier date. `timeouts`, `transport`: the smaller number, key by key.
/// - `serverRequests`: a permission holds only if no file turns it off. `audit.fsync`, `readOnly`: on if any file
///   turns it on; `audit.path` and the scalar fields (`persona`, `purpose`, `owner`): the child's.
/// - `servers`: merged by name, the child's entry replacing the base's.
/// - `rules`, `limits`, `flows`: accumulate (every file's rules apply). `labels`: accumulate. `annotations`: merged by
///   pattern, the base's hint holding where both set one. `behaviour`: key by key, the smaller number.
/// - `dataClasses`: `allow` only narrows; labels accumulate; `unlabelled: "refuse"` holds; one classification file.
/// - `approval`: what the base sets holds (a child cannot change how a person is asked); the shorter timeout.
/// - `masking`: what the base sets holds, and a child cannot add exemptions to it; a child may add masking to a base
///   without any. `secrets.outbound`: the stricter (`deny`, then `ask`, then `off`).
/// - Anything else (a key the decoder will reject, or a later section): the child's value.
///
/// Where two values are not of the shape a rule merges, the unexpected one is kept, so the decoder reports it at
/// its own place instead of a base's mistake being silently dropped.
struct PersonaMerge {
    let layers: [PersonaInheritance.Layer]
    var diagnostics: [Diagnostic] = []

    init(layers: [PersonaInheritance.Layer]) { self.layers = layers }

    mutating func merge(base: Placed, child: Placed, childLayer: Int) -> Placed {
        guard case .object(let baseObject) = base.value, case .object(let childObject) = child.value else {
            return child
        }
        var members: [(String, Placed)] = []
        var keys = baseObject.keys
        for key in childObject.keys where !keys.contains(key) { keys.append(key) }
        for key in keys where key != "extends" {
            let baseValue = base.member(key)
            let childValue = child.member(key)
            guard let baseValue, let childValue else {
                members.append((key, (childValue ?? baseValue)!))
                continue
            }
            members.append((key, mergeKey(key, baseValue, childValue, childLayer: childLayer)))
        }
        return Placed.object(members, origin: child.origins[""])
    }

    private mutating func mergeKey(_ key: String, _ base: Placed, _ child: Placed, childLayer: Int) -> Placed {
        switch key {
        case "mode":
            if base.value == .string("enforce") && child.value == .string("monitor") {
                report(
                    child,
                    "this persona says \"monitor\" but the persona it extends says \"enforce\"; a persona can only make its base stricter, so remove \"mode\" here or change the base"
                )
            }
            return base.value == .string("enforce") ? base : child
        case "expires", "reviewBy":
            guard case .string(let baseDate) = base.value, case .string(let childDate) = child.value else {
                return Self.misshapen(base, child) { $0.stringValue != nil }
            }
            return baseDate < childDate ? base : child
        case "tools", "prompts", "resources":
            return mergeScope(key, base, child, childLayer: childLayer)
        case "servers":
            return mergeObjects(base, child) { _, _, child in child }
        case "serverRequests":
            return mergeObjects(base, child) { _, base, child in
                base.value == .bool(false) ? base : child
            }
        case "audit":
            return mergeObjects(base, child) { key, base, child in
                key == "fsync" && base.value == .bool(true) ? base : child
            }
        case "timeouts", "transport", "behaviour":
            return mergeObjects(base, child) { _, base, child in Self.smaller(base, child) }
        case "readOnly":
            return base.value == .bool(true) ? base : child
        case "rules", "limits", "flows":
            return concatenate(base, child)
        case "labels":
            return mergeObjects(base, child) { _, base, child in
                Self.objectsOf(base, child) { _, base, child in Self.concatenateUnique(base, child) }
            }
        case "annotations":
            return mergeObjects(base, child) { _, base, child in
                Self.objectsOf(base, child) { _, base, _ in base }
            }
        case "dataClasses":
            return mergeDataClasses(base, child)
        case "approval":
            return mergeApproval(base, child)
        case "masking":
            return mergeMasking(base, child)
        case "secrets":
            return mergeObjects(base, child) { key, base, child in
                key == "outbound" ? Self.stricterOutbound(base, child) : child
            }
        default:
            return child
        }
    }

    /// Deny patterns accumulate; the child's allow patterns must each lie within one of the base's.
    private mutating func mergeScope(_ section: String, _ base: Placed, _ child: Placed, childLayer: Int) -> Placed {
        guard case .object = base.value, case .object = child.value else {
            return Self.misshapen(base, child, fits: Self.isObject)
        }
        if let childAllow = child.member("allow"), let baseAllow = base.member("allow"),
            case .array(let narrow) = childAllow.value, case .array(let wide) = baseAllow.value
        {
            let widePatterns = wide.compactMap(\.stringValue)
            for (index, pattern) in narrow.enumerated() {
                guard let pattern = pattern.stringValue,
                    !widePatterns.contains(where: { GlobContainment.isWithin(pattern, $0) })
                else { continue }
                let baseFile = baseAllow.origins[""].map { layers[$0.layer].path } ?? "its base"
                report(
                    childAllow.element(index) ?? childAllow,
                    "\(section).allow pattern \"\(pattern)\" allows more than the persona it extends (\(baseFile): \(section).allow \(JSONWriter.string(baseAllow.value))); a persona that extends another can only narrow what it allows, so name a pattern within one of those"
                )
            }
        }
        return mergeObjects(base, child) { key, base, child in
            key == "deny" ? Self.concatenate(base, child) : child
        }
    }

    /// `allow` only narrows (a child's classes must all be the base's); labels accumulate; `unlabelled: "refuse"`
    /// holds; one `classification` file for the chain.
    private mutating func mergeDataClasses(_ base: Placed, _ child: Placed) -> Placed {
        if let childAllow = child.member("allow"), let baseAllow = base.member("allow"),
            case .array(let narrow) = childAllow.value, case .array(let wide) = baseAllow.value
        {
            for (index, name) in narrow.enumerated() where !wide.contains(name) {
                report(
                    childAllow.element(index) ?? childAllow,
                    "dataClasses.allow \(JSONWriter.string(name)) is not allowed by the persona it extends (dataClasses.allow \(JSONWriter.string(baseAllow.value))); a persona that extends another can only narrow the data classes it allows"
                )
            }
        }
        if let baseFile = base.member("classification"), let childFile = child.member("classification"),
            baseFile.value != childFile.value
        {
            report(
                childFile,
                "the persona it extends already names a classification file (\(JSONWriter.string(baseFile.value))); a chain has one, so add these labels under \"servers\", \"tools\" or \"resources\" instead"
            )
        }
        return mergeObjects(base, child) { key, base, child in
            switch key {
            case "servers", "tools", "resources":
                Self.objectsOf(base, child) { _, base, child in Self.concatenateUnique(base, child) }
            case "unlabelled": base.value == .string("refuse") ? base : child
            default: child
            }
        }
    }

    /// What the base sets holds (the way a person is asked, the approval command, the terminal): a child may only
    /// add what the base left out, and shorten the timeout.
    private mutating func mergeApproval(_ base: Placed, _ child: Placed) -> Placed {
        mergeObjects(base, child) { key, base, child in
            if key == "timeoutSeconds" { return Self.smaller(base, child) }
            if base.value != child.value {
                report(
                    child,
                    "approval.\(key) differs from the persona it extends (\(JSONWriter.string(base.value))); a persona cannot change how its base asks for approval, so remove it here"
                )
            }
            return base
        }
    }

    /// What the base sets holds: a child may add keys the base left out, except `exempt`, which would unmask.
    private mutating func mergeMasking(_ base: Placed, _ child: Placed) -> Placed {
        if base.member("exempt") == nil, let exempt = child.member("exempt") {
            report(
                exempt,
                "masking.exempt cannot be added by a persona that extends another (it would unmask what the base masks); ask the base's owner to add the exemption there"
            )
        }
        return mergeObjects(base, child) { key, base, child in
            if base.value != child.value {
                report(
                    child,
                    "masking.\(key) differs from the persona it extends (\(JSONWriter.string(base.value))); a persona cannot change the masking of its base, so remove it here"
                )
            }
            return base
        }
    }

    static func stricterOutbound(_ base: Placed, _ child: Placed) -> Placed {
        let order = ["off": 0, "ask": 1, "deny": 2]
        let baseRank = base.value.stringValue.flatMap { order[$0] } ?? 3
        let childRank = child.value.stringValue.flatMap { order[$0] } ?? 3
        return childRank >= baseRank ? child : base
    }

    private mutating func report(_ placed: Placed, _ message: String) {
        guard let origin = placed.origins[""] else {
            return diagnostics.append(Diagnostic(.error, message, file: layers[0].path))
        }
        let layer = layers[origin.layer]
        let offset = layer.locations.offsets[origin.pointer]
        let position = offset.map { layer.lines.position(of: $0) }
        diagnostics.append(
            Diagnostic(.error, message, file: layer.path, line: position?.line, column: position?.column))
    }

    // MARK: Shapes

    private func mergeObjects(_ base: Placed, _ child: Placed, _ both: (String, Placed, Placed) -> Placed) -> Placed {
        Self.objectsOf(base, child, both)
    }

    /// Two objects merged key by key (base order, then the child's new keys); `both` decides a key both have.
    static func objectsOf(_ base: Placed, _ child: Placed, _ both: (String, Placed, Placed) -> Placed) -> Placed {
        guard case .object(let baseObject) = base.value, case .object(let childObject) = child.value else {
            return misshapen(base, child, fits: isObject)
        }
        var keys = baseObject.keys
        for key in childObject.keys where !keys.contains(key) { keys.append(key) }
        let members = keys.map { key -> (String, Placed) in
            switch (base.member(key), child.member(key)) {
            case (let base?, let child?): (key, both(key, base, child))
            case (let only?, nil), (nil, let only?): (key, only)
            case (nil, nil): (key, child)
            }
        }
        return Placed.object(members, origin: child.origins[""])
    }

    private func concatenate(_ base: Placed, _ child: Placed) -> Placed { Self.concatenate(base, child) }

    static func concatenate(_ base: Placed, _ child: Placed) -> Placed {
        guard case .array(let baseElements) = base.value, case .array(let childElements) = child.value else {
            return misshapen(base, child, fits: isArray)
        }
        let elements =
            baseElements.indices.compactMap { base.element($0) }
            + childElements.indices.compactMap { child.element($0) }
        return Placed.array(elements, origin: child.origins[""])
    }

    static func concatenateUnique(_ base: Placed, _ child: Placed) -> Placed {
        let joined = concatenate(base, child)
        guard case .array(let elements) = joined.value else { return joined }
        var kept: [Placed] = []
        for index in elements.indices where !elements[..<index].contains(elements[index]) {
            kept.append(joined.element(index)!)
        }
        return Placed.array(kept, origin: child.origins[""])
    }

    static func smaller(_ base: Placed, _ child: Placed) -> Placed {
        if case .object = base.value, case .object = child.value {
            return objectsOf(base, child) { _, base, child in smaller(base, child) }
        }
        guard let baseNumber = base.value.doubleValue, let childNumber = child.value.doubleValue else {
            return misshapen(base, child) { $0.doubleValue != nil }
        }
        return baseNumber < childNumber ? base : child
    }

    /// Of two values a rule cannot merge, the one not of the shape the rule expects (the base's first), so the
    /// decoder reports it at its own place; if both fit, the base's, so its stricter intent holds.
    static func misshapen(_ base: Placed, _ child: Placed, fits: (JSONValue) -> Bool) -> Placed {
        !fits(base.value) ? base : (!fits(child.value) ? child : base)
    }

    static func isObject(_ value: JSONValue) -> Bool { value.objectValue != nil }
    static func isArray(_ value: JSONValue) -> Bool { value.arrayValue != nil }

    // MARK: Paths

    /// A base in another folder than the persona has its relative paths (server commands with a `/`, `cwd`,
    /// `audit.path`) made absolute, since the flat persona resolves paths against the persona's own folder.
    static func anchoringPaths(_ top: JSONObject, from folder: String, to home: String) -> JSONObject {
        guard folder != home else { return top }
        func anchor(_ value: JSONValue, onlyWithSlash: Bool) -> JSONValue {
            guard case .string(let path) = value, !path.hasPrefix("/"), !path.hasPrefix("~"),
                !onlyWithSlash || path.contains("/")
            else { return value }
            return .string(PersonaLoader.resolvePath(path, base: folder))
        }
        var top = top
        if case .object(var servers)? = top["servers"] {
            for index in servers.members.indices {
                guard case .object(var server) = servers.members[index].value else { continue }
                if let command = server["command"] { server["command"] = anchor(command, onlyWithSlash: true) }
                if let cwd = server["cwd"] { server["cwd"] = anchor(cwd, onlyWithSlash: false) }
                servers.members[index].value = .object(server)
            }
            top["servers"] = .object(servers)
        }
        if case .object(var audit)? = top["audit"], let path = audit["path"] {
            audit["path"] = anchor(path, onlyWithSlash: false)
            top["audit"] = .object(audit)
        }
        if case .object(var classes)? = top["dataClasses"], let path = classes["classification"] {
            classes["classification"] = anchor(path, onlyWithSlash: false)
            top["dataClasses"] = .object(classes)
        }
        if case .object(var approval)? = top["approval"], case .array(var command)? = approval["command"],
            let program = command.first
        {
            command[0] = anchor(program, onlyWithSlash: true)
            approval["command"] = .array(command)
            top["approval"] = .object(approval)
        }
        return top
    }
}

/// Whether every name one glob matches, another matches too. Read as patterns over patterns: the wide glob's `*`
/// takes any run of the narrow glob's symbols (its `*` and `?` included), `?` one character or `?`, a character
/// itself. That is sound (a yes is always right); the rare containment it misses (`?*` within `*?`) is refused
/// with a message, which fails closed.
enum GlobContainment {
    static func isWithin(_ narrow: String, _ wide: String) -> Bool {
        let narrow = Array(narrow.unicodeScalars)
        let wide = Array(wide.unicodeScalars)
        var memo: [Int: Bool] = [:]
        func within(_ n: Int, _ w: Int) -> Bool {
            let key = n * (wide.count + 1) + w
            if let known = memo[key] { return known }
            let result: Bool
            if w == wide.count {
                result = n == narrow.count
            } else if wide[w] == "*" {
                result = within(n, w + 1) || (n < narrow.count && within(n + 1, w))
            } else if n == narrow.count || narrow[n] == "*" {
                result = false
            } else if wide[w] == "?" {
                result = within(n + 1, w + 1)
            } else {
                result = narrow[n] == wide[w] && within(n + 1, w + 1)
            }
            memo[key] = result
            return result
        }
        return within(0, 0)
    }
}
