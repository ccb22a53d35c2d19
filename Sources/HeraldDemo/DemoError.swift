/// Why the demo could not run, one line for the terminal.
package struct DemoError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
