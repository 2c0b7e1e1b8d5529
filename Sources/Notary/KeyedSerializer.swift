/// Runs critical sections one at a time per key (a service id), across suspension points.
public actor KeyedSerializer {
    private var busy: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    public func run<T: Sendable, E: Error>(_ key: String, _ body: @Sendable () async throws(E) -> T) async throws(E) -> T {
        await acquire(key)
        let result: Result<T, E>
        do throws(E) {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        release(key)
        return try result.get()
    }

    private func acquire(_ key: String) async {
        if busy.insert(key).inserted { return }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
    }

    private func release(_ key: String) {
        if var queue = waiting[key], !queue.isEmpty {
            // The key stays busy: it passes straight to the next waiter.
            queue.removeFirst().resume()
            waiting[key] = queue.isEmpty ? nil : queue
        } else {
            busy.remove(key)
        }
    }
}
