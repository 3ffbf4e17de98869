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
        if let kafka = configuration.kafka {
            let input = try KafkaInput(configuration: kafka, pipeline: daemon.pipeline, gate: daemon.gate, logger: logger)
            daemon.health.register(try KafkaHealthCheck(configuration: kafka, input: input))
            inputs.append(input)
        }
        return inputs
    }
}
