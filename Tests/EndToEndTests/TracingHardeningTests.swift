import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// The shim holds approval codes and the persona in force: another process of the same user (the agent's shell
    /// tool) may not trace it or read its memory, environment or descriptors through /proc.
    @Suite struct TracingHardening {
        /// root keeps CAP_SYS_PTRACE, which no same-user check stops (the README says so): nothing to see as root.
        @Test(.enabled(if: geteuid() != 0))
        func anotherProcessOfTheUserCannotReadTheShimsMemoryOrEnvironment() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            let pid = shim.client.pid
            // Readable to all, and what the approver checks read: still there.
            let stat = open("/proc/\(pid)/stat", O_RDONLY)
            #expect(stat >= 0)
            if stat >= 0 { close(stat) }
            for file in ["environ", "mem"] {
                let fd = open("/proc/\(pid)/\(file)", O_RDONLY)
                if fd >= 0 { close(fd) }
                #expect(fd < 0, "/proc/\(pid)/\(file) of the shim opened for another process of its user")
            }
        }
    }
}
