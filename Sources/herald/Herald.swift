import ArgumentParser

@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Turns events on Kafka into Microsoft Teams proactive messages.",
        subcommands: [
            BenchCommand.self,
            RunCommand.self,
            GatewayCommand.self,
            DemoCommand.self,
            KafkaDevCommand.self,
            ValidateCommand.self,
            EmulatorCommand.self,
            ReferencesCommand.self,
            OptOutCommand.self,
            ReportCommand.self,
            StoreCommand.self,
            DirectoryCommand.self,
        ]
    )
}
