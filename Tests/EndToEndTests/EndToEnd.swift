import Testing

/// Every suite that starts `herald` processes, one suite at a time: on two cores, several of them at once
/// starve each other (and the emulator) of CPU, and timing-sensitive checks such as Teams' rate limits would
/// measure the machine rather than Herald.
@Suite("Processes", .serialized)
enum EndToEnd {}
