import PersonaShim

#if canImport(Glibc)
    import Glibc
#endif

exit(PersonaShimCLI.main(CommandLine.arguments))
