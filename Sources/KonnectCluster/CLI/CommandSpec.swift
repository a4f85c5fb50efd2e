import KonnectCore

/// One option of a command: `--name value`, or a flag without a value.
public struct OptionSpec: Sendable {
    public var name: String
    public var valueName: String?
    public var help: String
    public var defaultValue: String?

    public static func option(_ name: String, _ valueName: String, _ help: String, default value: String? = nil)
        -> OptionSpec
    {
        OptionSpec(name: name, valueName: valueName, help: help, defaultValue: value)
    }

    public static func flag(_ name: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, help: help, defaultValue: nil)
    }

    public var isFlag: Bool { valueName == nil }
}

/// A positional argument.
public struct ArgumentSpec: Sendable {
    public var name: String
    public var help: String
    public var optional: Bool
    public var repeating: Bool

    public init(_ name: String, _ help: String, optional: Bool = false, repeating: Bool = false) {
        self.name = name
        self.help = help
        self.optional = optional
        self.repeating = repeating
    }
}

/// A command or a group of subcommands, in the shape swift-argument-parser users know:
/// `konnect-sim <command> [<subcommand>] [--kebab-case-options] [arguments]`.
public struct CommandSpec: Sendable {
    public var name: String
    public var abstract: String
    public var discussion: String
    public var options: [OptionSpec]
    public var arguments: [ArgumentSpec]
    public var subcommands: [CommandSpec]
    /// Hidden commands (`node`) work but are not listed.
    public var hidden: Bool

    public init(
        _ name: String, abstract: String, discussion: String = "", options: [OptionSpec] = [],
        arguments: [ArgumentSpec] = [],
        subcommands: [CommandSpec] = [], hidden: Bool = false
    ) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.options = options
        self.arguments = arguments
        self.subcommands = subcommands
        self.hidden = hidden
    }

    public func subcommand(_ name: String) -> CommandSpec? { subcommands.first { $0.name == name } }
}

/// A command line turned into values.
public struct ParsedCommand: Sendable, Equatable {
    public var path: [String]
    public var options: [String: String]
    public var flags: Set<String>
    public var arguments: [String]

    public func option(_ name: String) -> String? { options[name] }
    public func flag(_ name: String) -> Bool { flags.contains(name) }
}

/// The outcome of parsing: run a command, show help, or a usage error (exit 64).
public enum CommandLineParse: Sendable, Equatable {
    case run(ParsedCommand)
    case help(path: [String])
    case usageError(path: [String], message: String)
}

/// Parses arguments against a command tree. Pure: tested without running anything.
public enum CommandLineParser {
    public static func parse(_ arguments: [String], root: CommandSpec) -> CommandLineParse {
        var path: [String] = []
        var command = root
        var remaining = arguments[...]

        // `help <command> [<subcommand>]` is the same as `<command> [<subcommand>] --help`.
        if remaining.first == "help" {
            remaining = remaining.dropFirst()
            var helpPath: [String] = []
            var node = root
            for word in remaining {
                guard let sub = node.subcommand(word) else {
                    return .usageError(path: helpPath, message: "unknown command '\(word)'\(suggestion(word, node))")
                }
                helpPath.append(word)
                node = sub
            }
            return .help(path: helpPath)
        }

        while let word = remaining.first, !command.subcommands.isEmpty {
            if word == "--help" || word == "-h" { return .help(path: path) }
            guard let sub = command.subcommand(word) else {
                if word.hasPrefix("-") {
                    return .usageError(
                        path: path,
                        message:
                            "'\(path.isEmpty ? root.name : path.joined(separator: " "))' needs a subcommand before options"
                    )
                }
                return .usageError(path: path, message: "unknown command '\(word)'\(suggestion(word, command))")
            }
            path.append(word)
            command = sub
            remaining = remaining.dropFirst()
        }
        if !command.subcommands.isEmpty {
            return .usageError(
                path: path,
                message:
                    "missing subcommand; choose one of \(command.subcommands.filter { !$0.hidden }.map(\.name).joined(separator: ", "))"
            )
        }

        var options: [String: String] = [:]
        var flags: Set<String> = []
        var positionals: [String] = []
        var onlyPositionals = false
        while let word = remaining.popFirst() {
            if onlyPositionals || !word.hasPrefix("--") || word == "-" {
                if word == "-h" { return .help(path: path) }
                positionals.append(word)
                continue
            }
            if word == "--" {
                onlyPositionals = true
                continue
            }
            if word == "--help" { return .help(path: path) }
            var name = String(word.dropFirst(2))
            var inlineValue: String? = nil
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let spec = command.options.first(where: { $0.name == name }) else {
                return .usageError(path: path, message: "unknown option '--\(name)'\(optionSuggestion(name, command))")
            }
            if spec.isFlag {
                if inlineValue != nil {
                    return .usageError(path: path, message: "'--\(name)' is a flag and takes no value")
                }
                flags.insert(name)
            } else {
                guard let value = inlineValue ?? remaining.popFirst() else {
                    return .usageError(
                        path: path, message: "missing value for '--\(name) <\(spec.valueName ?? "value")>'")
                }
                if options[name] != nil { return .usageError(path: path, message: "'--\(name)' given twice") }
                options[name] = value
            }
        }
        let required = command.arguments.filter { !$0.optional }.count
        let repeating = command.arguments.last?.repeating ?? false
        if positionals.count < required {
            let missing = command.arguments[positionals.count]
            return .usageError(path: path, message: "missing argument <\(missing.name)>")
        }
        if !repeating && positionals.count > command.arguments.count {
            return .usageError(path: path, message: "unexpected argument '\(positionals[command.arguments.count])'")
        }
        for spec in command.options where !spec.isFlag {
            if options[spec.name] == nil, let value = spec.defaultValue { options[spec.name] = value }
        }
        return .run(ParsedCommand(path: path, options: options, flags: flags, arguments: positionals))
    }

    private static func suggestion(_ word: String, _ command: CommandSpec) -> String {
        let names = command.subcommands.filter { !$0.hidden }.map(\.name)
        if let close = names.first(where: { $0.hasPrefix(word.prefix(2)) }) {
            return "; did you mean '\(close)'? (valid: \(names.joined(separator: ", ")))"
        }
        return "; valid commands: \(names.joined(separator: ", "))"
    }

    private static func optionSuggestion(_ name: String, _ command: CommandSpec) -> String {
        let names = command.options.map { "--\($0.name)" }
        return names.isEmpty ? "; this command takes no options" : "; valid options: \(names.joined(separator: ", "))"
    }

    /// The help text for a command path.
    public static func help(_ path: [String], root: CommandSpec) -> String {
        var command = root
        for word in path { command = command.subcommand(word) ?? command }
        let full = ([root.name] + path).joined(separator: " ")
        var text = "OVERVIEW: \(command.abstract)\n"
        if !command.discussion.isEmpty { text += "\n\(command.discussion)\n" }
        var usage = "USAGE: \(full)"
        if !command.subcommands.isEmpty { usage += " <subcommand>" }
        if !command.options.isEmpty { usage += " [<options>]" }
        for argument in command.arguments {
            usage += argument.optional ? " [<\(argument.name)>]" : " <\(argument.name)>"
            if argument.repeating { usage += " ..." }
        }
        text += "\n\(usage)\n"
        if !command.arguments.isEmpty {
            text += "\nARGUMENTS:\n"
            for argument in command.arguments { text += pad("  <\(argument.name)>", argument.help) }
        }
        text += "\nOPTIONS:\n"
        for option in command.options {
            let label = option.isFlag ? "  --\(option.name)" : "  --\(option.name) <\(option.valueName!)>"
            var help = option.help
            if let value = option.defaultValue { help += " (default: \(value))" }
            text += pad(label, help)
        }
        text += pad("  -h, --help", "Show help information.")
        let visible = command.subcommands.filter { !$0.hidden }
        if !visible.isEmpty {
            text += "\nSUBCOMMANDS:\n"
            for sub in visible { text += pad("  \(sub.name)", sub.abstract) }
            text +=
                "\n  See '\(root.name) help \(path.isEmpty ? "" : path.joined(separator: " ") + " ")<subcommand>' for detailed help.\n"
        }
        return text
    }

    private static func pad(_ label: String, _ help: String) -> String {
        if label.count >= 30 { return "\(label)\n" + String(repeating: " ", count: 30) + "\(help)\n" }
        return label + String(repeating: " ", count: 30 - label.count) + help + "\n"
    }
}
