// Benchmarks measure other processes through Linux's /proc; a port reads the same numbers elsewhere (proc_pidinfo,
// getrusage) behind these two calls.

/// What the kernel says about a process: memory high-water marks and CPU time consumed.
public enum ProcessStats {
    /// A `kB` field of /proc/PID/status, e.g. "VmHWM" (peak resident set) or "VmRSS" (current), in kB.
    public static func statusKilobytes(_ pid: pid_t, _ field: String) -> Int? {
        guard let text = readSmallFile("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let digits = line.dropFirst(field.count + 1).filter { $0.isNumber }
            return Int(digits)
        }
        return nil
    }

    /// CPU time (user + system) used so far by all threads of `pid`, in nanoseconds.
    ///
    /// Sums the first field of /proc/PID/task/*/schedstat (nanosecond resolution); falls back to utime + stime of
    /// /proc/PID/stat (clock ticks, usually 10 ms) when schedstat is not available.
    public static func cpuNanoseconds(_ pid: pid_t) -> UInt64? {
        if let total = schedstatNanoseconds(pid) { return total }
        guard let text = readSmallFile("/proc/\(pid)/stat"),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after "comm)": state is field 3, utime 14 and stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        let ticks = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        return (user + system) * (1_000_000_000 / ticks)
    }

    private static func schedstatNanoseconds(_ pid: pid_t) -> UInt64? {
        guard let directory = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(directory) }
        var total: UInt64 = 0
        var found = false
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard !name.hasPrefix("."),
                let text = readSmallFile("/proc/\(pid)/task/\(name)/schedstat"),
                let first = text.split(separator: " ").first,
                let nanoseconds = UInt64(first)
            else { continue }
            total += nanoseconds
            found = true
        }
        return found ? total : nil
    }

    /// The whole of a small file (procfs files report size 0, so read until end of file).
    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes += chunk[..<count]
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
