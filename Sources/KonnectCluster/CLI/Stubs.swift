enum FaultCommands { static func run(_ command: ParsedCommand) throws { throw UsageError("not yet") } }
enum OperatorCommands {
    static func clock(_ command: ParsedCommand) throws { throw UsageError("not yet") }
    static func billing(_ command: ParsedCommand) throws { throw UsageError("not yet") }
    static func support(_ command: ParsedCommand) throws { throw UsageError("not yet") }
}
enum EdgeCommands {
    static func dataPlane(_ command: ParsedCommand) throws { throw UsageError("not yet") }
    static func upstream(_ command: ParsedCommand) throws { throw UsageError("not yet") }
    static func zone(_ command: ParsedCommand) throws { throw UsageError("not yet") }
}
enum NodeCommandsEdge { static func run(_ command: ParsedCommand, directory: String) throws { throw UsageError("not yet") } }
