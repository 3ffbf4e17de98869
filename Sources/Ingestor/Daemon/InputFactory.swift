public import Logging
public import ServiceLifecycle

/// Builds the enabled inputs (an input is enabled when its config section is present).
public enum InputFactory {
    public static func makeInputs(configuration: SluiceConfiguration, daemon: SluiceDaemon, logger: Logger) throws -> [any Service] {
        var inputs: [any Service] = []
        if configuration.redis != nil {
            logger.warning("inputs.redis is configured but this build has no Redis input yet; ignoring it")
        }
        if let kafka = configuration.kafka {
            let input = try KafkaInput(configuration: kafka, pipeline: daemon.pipeline, gate: daemon.gate, logger: logger)
            daemon.health.register(try KafkaHealthCheck(configuration: kafka, input: input))
            inputs.append(input)
        }
        _ = daemon
        inputs.reserveCapacity(2)
        return inputs
    }
}
