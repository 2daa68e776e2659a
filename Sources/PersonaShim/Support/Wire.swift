// The wire format lives in its own target so the example servers, the fixture and the benchmark share it without
// depending on the shim. Re-exported so every file of the library sees it as if it were still here.
@_exported import MCPWire
