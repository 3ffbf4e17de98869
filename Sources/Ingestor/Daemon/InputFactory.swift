public import Logging
public import ServiceLifecycle

/// Builds the enabled inputs (an input is enabled when its config section is present).
public enum InputFactory {
    public static func makeInputs(configuration: SluiceConfiguration, daemon: SluiceDaemon, logger: Logger) throws -> [any Service] {
        var inputs: [any Service] = []
        if configuration.redis != nil {
            logger.warning("inputs.redis is configured but this build has no Redis input yet; ignoring it")
        }
        if configuration.kafka != nil {
            logger.warning("inputs.kafka is configured but this build has no Kafka input yet; ignoring it")
        }
        _ = daemon
        inputs.reserveCapacity(2)
        return inputs
    }
}
