/// The `# HELP` text of every metric Sluice exports. Prometheus tooling (`promtool check
/// metrics`, Grafana's metric browser) expects one per family, and an operator reading
/// `/metrics` should not need the source to know what a series means.
enum MetricHelp {
    static let text: [String: String] = [
        // Accounting (DESIGN.md §2): received = inserted + duplicate + dead_lettered + in flight.
        "sluice_events_received_total": "Events read from a source, per source and stream (partition for Kafka).",
        "sluice_events_inserted_total": "Events whose rows are durable in ClickHouse.",
        "sluice_events_duplicate_total": "Events settled as duplicates of rows already written or in flight.",
        "sluice_events_dead_lettered_total": "Events written to the dead-letter table instead of their dataset.",
        "sluice_events_in_flight": "Events received and not yet settled (inserted, duplicate or dead-lettered).",
        "sluice_events_rejected_total": "Events rejected by decoding or validation (they go to the dead-letter table).",
        // Stages.
        "sluice_stage_received_total": "Rows or events that entered a stage (decode, dedup, sink).",
        "sluice_stage_emitted_total": "Rows a stage passed on (decode: routed rows; dedup: fresh rows; sink: inserted rows).",
        "sluice_stage_dropped_total": "Rows a stage settled without passing them on, by reason (duplicate, dead_letter).",
        "sluice_stage_errors_total": "Failures in a stage, by type (decode: rejection class; sink: ClickHouse code or error kind).",
        // Tables and the sink.
        "sluice_rows_inserted_total": "Rows inserted into a table.",
        "sluice_rows_dead_lettered_total": "Rows of a table sent to the dead-letter table.",
        "sluice_dedup_hits_total": "Rows of a table found to be duplicates.",
        "sluice_dedup_window_keys": "Event keys held in a table's in-memory dedup window.",
        "sluice_batch_rows": "Rows per batch flushed to a table.",
        "sluice_batch_bytes": "Bytes of column data per batch flushed to a table.",
        "sluice_batch_pending_rows": "Rows waiting in a table's open and queued batches.",
        "sluice_flush_duration_seconds": "Time from a batch's first INSERT attempt until it is durable.",
        "sluice_insert_errors_total": "Failed INSERTs by ClickHouse error code or kind; every one is retried or isolated, never acknowledged.",
        // Memory.
        "sluice_inflight_bytes": "Bytes of events held in the pipeline, counted against the memory budget.",
        "sluice_memory_budget_bytes": "The memory budget (pipeline.memory_budget).",
        "sluice_process_resident_memory_bytes": "Resident set size of the Sluice process.",
        // Configuration.
        "sluice_config_reloads_total": "Configuration reloads applied (SIGHUP or file change).",
        "sluice_config_reload_failures_total": "Configuration reloads refused; the previous values stay in force.",
        "sluice_config_batch_max_rows": "pipeline.batch.max_rows in force.",
        "sluice_config_batch_max_bytes": "pipeline.batch.max_bytes in force.",
        "sluice_config_batch_max_age_seconds": "pipeline.batch.max_age in force, in seconds.",
        "sluice_config_dedup_window_seconds": "pipeline.dedup.window in force, in seconds.",
        "sluice_config_dedup_max_keys": "pipeline.dedup.max_keys in force.",
        // HTTP access control.
        "sluice_http_authenticated_total": "Requests admitted with a valid API key, by role.",
        "sluice_http_denied_total": "Requests refused by access control or rate limits, by reason.",
        // Redis input.
        "sluice_redis_entries_read_total": "Stream entries read with XREADGROUP.",
        "sluice_redis_entries_acked_total": "Stream entries acknowledged with XACK after they were settled.",
        "sluice_redis_entries_already_acked_total": "Entries whose XACK found them no longer pending (claimed or acknowledged elsewhere).",
        "sluice_redis_entries_claimed_total": "Entries claimed from idle consumers with XAUTOCLAIM.",
        "sluice_redis_entries_trimmed_total": "Pending entries that were trimmed from the stream before they could be read.",
        "sluice_redis_entries_unreadable_total": "Entries in neither supported layout (dead-lettered).",
        "sluice_redis_errors_total": "Redis command and connection errors.",
        "sluice_redis_reconnects_total": "Reconnections to Redis.",
        "sluice_redis_stream_lag": "Entries in a stream not yet delivered to the consumer group (XINFO GROUPS lag).",
        "sluice_redis_stream_pending": "Entries delivered to the group and not yet acknowledged.",
        // Kafka input.
        "sluice_kafka_records_received_total": "Records consumed from Kafka.",
        "sluice_kafka_chunks_total": "Chunks of records handed to the pipeline.",
        "sluice_kafka_commits_total": "Offset commits sent.",
        "sluice_kafka_commit_failures_total": "Offset commits that failed (retried at the next commit).",
        "sluice_kafka_consumer_lag": "Records between the committed offset and the high watermark, per partition.",
        "sluice_kafka_errors_total": "librdkafka errors reported to the consumer.",
        "sluice_kafka_paused": "1 while partitions are paused because the memory budget is full.",
        "sluice_kafka_pauses_total": "Times partitions were paused for the memory budget.",
        "sluice_kafka_rebalances_total": "Consumer group rebalances (assignments and revocations).",
        "sluice_kafka_assigned_partitions": "Partitions assigned to this consumer.",
        "sluice_kafka_records_dropped_on_revoke_total": "Unsettled records abandoned when their partition was revoked (the new owner reads them again).",
    ]
}
