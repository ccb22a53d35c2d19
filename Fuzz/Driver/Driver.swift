import Foundation
import FuzzChecks

#if HERALD_FUZZING
    // Built by scripts/fuzz.sh with `-sanitize=fuzzer,address`: libFuzzer's main calls this for every input.
    // HERALD_FUZZ_TARGET names the target (see FuzzTarget).
    let target: FuzzTarget = {
        let name = getenv("HERALD_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("HERALD_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue))")
        }
        return target
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
        do throws(PropertyViolation) {
            try target.check(bytes)
        } catch {
            fatalError("property violated: \(error)")
        }
        return 0
    }

    /// libFuzzer's own driver, given the per-input callback (its `main` is not used: the package manager links an
    /// executable's entry point as `herald_fuzz_main`).
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    @_cdecl("herald_fuzz_main")
    func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments) { data, size in fuzzOne(data, size) }
    }
#else
    /// Without the fuzzer: `herald-fuzz TARGET FILE...` runs each file through the target's check, to reproduce a
    /// finding in an ordinary build.
    @main
    enum Replay {
        static func main() {
            let arguments = CommandLine.arguments.dropFirst()
            guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
                print("usage: herald-fuzz TARGET FILE...   (targets: \(FuzzTarget.allCases.map(\.rawValue)))")
                exit(2)
            }
            var failed = false
            for path in arguments.dropFirst() {
                guard let file = fopen(path, "rb") else {
                    print("\(path): cannot read")
                    failed = true
                    continue
                }
                var bytes: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                while case let count = fread(&buffer, 1, buffer.count, file), count > 0 {
                    bytes += buffer.prefix(count)
                }
                fclose(file)
                do throws(PropertyViolation) {
                    try target.check(bytes)
                    print("\(path): ok")
                } catch {
                    print("\(path): \(error)")
                    failed = true
                }
            }
            exit(failed ? 1 : 0)
        }
    }
#endif
