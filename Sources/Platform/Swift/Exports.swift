// Every other target imports this module instead of the C library, so a port changes these lines, not ~60 files.
// Plain C functions (read, write, memchr, malloc) come through unwrapped: the hot path keeps calling them directly.

@_exported import CPersonaShim

#if canImport(Glibc)
    @_exported import Glibc
#elseif canImport(Musl)
    @_exported import Musl
#elseif canImport(Darwin)
    @_exported import Darwin
#endif
