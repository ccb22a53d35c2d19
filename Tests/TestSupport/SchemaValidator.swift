import ChildProcess
import Foundation

/// Validates JSON documents against the project's schemas with an independent implementation: Python's
/// `jsonschema` (Debian's python3-jsonschema, installed by scripts/bootstrap.sh --test), Draft 2020-12.
public enum SchemaValidator {
    static let python = "/usr/bin/python3"

    /// The package's root folder (this file is `Tests/TestSupport/SchemaValidator.swift`).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let script = """
        import json, sys
        from jsonschema import Draft202012Validator, RefResolver
        failures = 0
        for arg in sys.argv[1:]:
            schema_ref, instance_path = arg.split("=", 1)
            schema_path, _, pointer = schema_ref.partition("#")
            full = json.load(open(schema_path))
            Draft202012Validator.check_schema(full)
            schema = full
            for part in [p for p in pointer.split("/") if p]:
                schema = schema[part]
            validator = Draft202012Validator(schema, resolver=RefResolver.from_schema(full))
            errors = sorted(validator.iter_errors(json.load(open(instance_path))), key=lambda e: list(e.path))
            for e in errors:
                print(instance_path + ": " + "/".join(str(p) for p in e.path) + ": " + e.message)
            if errors:
                failures += 1
            else:
                print(instance_path + ": valid")
        sys.exit(1 if failures else 0)
        """

    public struct Outcome: Sendable {
        public var exitCode: Int32
        public var output: String
    }

    /// Runs the validator over (schema file [#/json/pointer], JSON document) pairs.
    public static func run(_ pairs: [(schema: String, document: [UInt8])]) async throws -> Outcome {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw SchemaValidatorError(message: "\(python) not found: run scripts/bootstrap.sh --test")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var args = ["-c", script]
        for (i, pair) in pairs.enumerated() {
            let file = dir.appendingPathComponent("doc-\(i).json")
            try Data(pair.document).write(to: file)
            let schema = pair.schema.split(separator: "#", maxSplits: 1)
            let schemaPath = packageRoot.appendingPathComponent("Schemas/\(schema[0])").path
            args.append(schemaPath + (schema.count > 1 ? "#" + schema[1] : "") + "=" + file.path)
        }
        let result = try await ChildProcess.run(URL(fileURLWithPath: python), args)
        let text = result.stdout + result.stderr
        if text.contains("ModuleNotFoundError") || text.contains("ImportError") {
            throw SchemaValidatorError(message: "python3-jsonschema with Draft 2020-12 is missing: \(text)")
        }
        return Outcome(exitCode: result.status, output: text)
    }

    public struct SchemaValidatorError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}
