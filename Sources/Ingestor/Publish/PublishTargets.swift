/// Turns `sluice publish --to` into a target.
///
/// - `http://HOST:PORT` : Sluice's ingest port (`--mode structured|batch|binary|dapr`)
/// - `redis://HOST:PORT/STREAM` : XADD with a `data` field, as Dapr's Redis pub/sub does
/// - `kafka://BOOTSTRAP/TOPIC` : structured-mode records keyed by event id
/// - `file:///DIR` : batch bodies written to files, for replay by a load tool
public enum PublishTargets {
    public struct UnsupportedTarget: Error, CustomStringConvertible {
        public let description: String
    }

    public static func make(url: String, httpMode: HTTPPublishTarget.Mode, headers: [(String, String)]) throws -> any PublishTarget {
        if url.hasPrefix("http://") || url.hasPrefix("https://") {
            return HTTPPublishTarget(baseURL: url, mode: httpMode, headers: headers)
        }
        if url.hasPrefix("file://") {
            let path = String(url.dropFirst("file://".count))
            guard path.hasPrefix("/") else { throw UnsupportedTarget(description: "--to \(url): expected file:///ABSOLUTE/DIR") }
            do {
                return try FilePublishTarget(directory: path)
            } catch {
                throw UnsupportedTarget(description: "--to \(url): cannot create the directory: \(error)")
            }
        }
        if url.hasPrefix("redis://") {
            do {
                return try RedisPublishTarget(url: url)
            } catch {
                throw UnsupportedTarget(description: "--to \(url): \(error.message)")
            }
        }
        if url.hasPrefix("kafka://") {
            return try KafkaPublishTarget(url: url, mode: httpMode)
        }
        throw UnsupportedTarget(description: "--to \(url): expected http://HOST:PORT, redis://HOST:PORT/STREAM or kafka://BOOTSTRAP/TOPIC")
    }
}
