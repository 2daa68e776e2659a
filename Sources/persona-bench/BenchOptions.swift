// Command-line options of persona-bench.

/// What one run measures and how much, from the command line.
struct BenchOptions {
    var smoke = false
    var rounds = 7
    var plan = Plan()
    /// Run the 1,000,000-call memory check.
    var million = false
    var millionCalls = 1_000_000
    var millionEvery = 100_000
    /// Run the audit durability comparison.
    var fsync = false
    var fsyncCalls = 1_000
    var fsyncPipelined = 2_000
    var jsonPath: String?
    /// Setup ids to run (all when empty).
    var only: [String] = []
    /// Run only the masking scan section (no sessions).
    var maskingOnly = false
    var maskingBytes = 8 * 1_048_576
    var maskingRepeats = 5

    static let usage = """
        usage: persona-bench [options]

        Measures persona-shim against the fixture server alone (direct) and behind a byte-copy relay (relay), in
        interleaved rounds, and checks the figures against the performance bars. Runs the release binaries built
        next to it: swift run -c release persona-bench

          --smoke          tiny counts: proves every setup and metric works in a few seconds; asserts no speed
          --rounds N       rounds per setup (default 7); medians are over rounds
          --calls N        sequential tools/call requests per session (default 5000)
          --pipelined N    pipelined tools/call requests per session (default 20000)
          --fsync          also compare the audit's plain append with fdatasync after every audit write
          --million        also make 1,000,000 calls through shim ×3, sampling its RSS every 100,000
          --only A,B       run only these setups (direct, relay, shim, rules, masking, maskingHits,
                           shimModern, shim3, shim5)
          --masking-only   run only the masking scan section: detector MB/s on 8 MiB texts, POSIX against Swift
                           Regex for a persona's pattern, and the Python reference masker if python3 runs
          --json FILE      write every raw figure to FILE
          -h, --help       show this help
        """

    /// Parses `arguments` (without the program name); nil message in the error means help was asked for.
    static func parse(_ arguments: [String]) -> Result<BenchOptions, OptionError> {
        var options = BenchOptions()
        var remaining = arguments[...]
        func value(_ option: String) throws(OptionError) -> String {
            guard let value = remaining.popFirst() else { throw OptionError(message: "\(option) needs a value") }
            return value
        }
        func count(_ option: String, minimum: Int = 1) throws(OptionError) -> Int {
            let text = try value(option)
            guard let number = Int(text), number >= minimum else {
                throw OptionError(message: "\(option) needs an integer >= \(minimum), not \"\(text)\"")
            }
            return number
        }
        var explicitRounds: Int?
        var explicitCalls: Int?
        var explicitPipelined: Int?
        do throws(OptionError) {
            while let option = remaining.popFirst() {
                switch option {
                case "--smoke": options.smoke = true
                case "--rounds": explicitRounds = try count(option)
                case "--calls": explicitCalls = try count(option)
                case "--pipelined": explicitPipelined = try count(option)
                case "--fsync": options.fsync = true
                case "--million": options.million = true
                case "--json": options.jsonPath = try value(option)
                case "--masking-only": options.maskingOnly = true
                case "--only":
                    options.only = try value(option).split(separator: ",").map(String.init)
                case "--help", "-h": throw OptionError(message: nil)
                default: throw OptionError(message: "unknown option \(option)")
                }
            }
        } catch {
            return .failure(error)
        }
        if options.smoke { options.applySmokeCounts() }
        if let explicitRounds { options.rounds = explicitRounds }
        if let explicitCalls { options.plan.calls = explicitCalls }
        if let explicitPipelined { options.plan.pipelined = explicitPipelined }
        return .success(options)
    }

    /// Tiny counts that still run every setup, every phase and both extra sections.
    private mutating func applySmokeCounts() {
        rounds = 1
        plan.calls = 50
        plan.warmup = 10
        plan.pipelined = 256
        plan.listRepeats = 3
        plan.blobRepeats = 1
        million = true
        millionCalls = 5_000
        millionEvery = 1_000
        fsync = true
        fsyncCalls = 20
        fsyncPipelined = 64
        maskingBytes = 512 * 1024
        maskingRepeats = 1
    }
}

/// A command-line mistake; a nil message means help was asked for.
struct OptionError: Error {
    var message: String?
}
