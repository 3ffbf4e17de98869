public import Logging
public import ServiceLifecycle

/// Builds the enabled inputs (an input is enabled when its config section is present).
public enum InputFactory {
    public static func makeInputs(configuration: SluiceConfiguration, daemon: SluiceDaemon, logger: Logger) throws -> [any Service] {
        var inputs: [any Service] = []
        if let redis = configuration.redis {
            let input = try RedisStreamInput(configuration: redis, pipeline: daemon.pipeline, gate: daemon.gate, logger: logger)
            daemon.health.register(input.healthCheck)
            inputs.append(input)
        }
        if configuration.kafka != nil {
            logger.warning("inputs.kafka is configured but this build has no Kafka input yet; ignoring it")
        }
        return inputs
    }
}
