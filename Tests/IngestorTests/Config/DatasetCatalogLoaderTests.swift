import Foundation
import Ingestor
import Pipeline
import Testing

@Suite struct DatasetCatalogLoaderTests {
    static var presetsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config/datasets").path
    }

    @Test func presetsLoadAndValidate() throws {
        let datasets = try DatasetCatalogLoader.load(paths: [Self.presetsDirectory])
        #expect(datasets.map(\.name) == ["gateway", "inference", "metrics"])
        let metrics = try #require(datasets.first { $0.name == "metrics" })
        #expect(metrics.routes == ["metric"])
        #expect(metrics.dedupKey == [.attribute("source"), .attribute("id")])
        #expect(metrics.field(named: "timestamp")?.type == .dateTime64(precision: 3, timezone: "UTC"))
        #expect(metrics.field(named: "timestamp")?.sources == [.data(["timestamp"]), .attribute("time"), .receivedAt])
        #expect(metrics.rollup?.measures.map(\.name) == ["count", "sum", "min", "max", "quantiles"])
        let inference = try #require(datasets.first { $0.name == "inference" })
        #expect(inference.dedupKey == [.data(["inference_id"])])
    }

    @Test func unknownKeyIsNamed() {
        let yaml = """
            name: x
            routes: [x]
            dedup_key: [ce.id]
            order_by: [t]
            time_column: t
            fields:
              - {name: t, type: DateTime, from: received_at, requierd: true}
            """
        #expect(throws: ConfigurationError.self) { try DatasetCatalogLoader.parse(yaml: yaml, file: "x.yaml") }
        do {
            _ = try DatasetCatalogLoader.parse(yaml: yaml, file: "x.yaml")
        } catch {
            #expect(error.key == "x.yaml: fields[0].requierd")
        }
    }

    @Test func badTypeAndBadReferenceAreNamed() {
        let badType = """
            name: x
            routes: [x]
            dedup_key: [ce.id]
            order_by: [t]
            time_column: t
            fields:
              - {name: t, type: DateTime(, from: received_at}
            """
        do {
            _ = try DatasetCatalogLoader.parse(yaml: badType, file: "x.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "x.yaml: fields[0].type")
        }
        let badOrder = """
            name: x
            routes: [x]
            dedup_key: [ce.id]
            order_by: [nope]
            time_column: t
            fields:
              - {name: t, type: DateTime, from: received_at}
            """
        do {
            _ = try DatasetCatalogLoader.parse(yaml: badOrder, file: "x.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "x.yaml: order_by[0]")
            #expect(error.reason.contains("nope"))
        }
    }
}
